"""The auditor's pages over real gateway traffic: own kommune only (operators all), filters,
reports, keyset paging, event detail, streamed CSV/JSONL export, chain verification status."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from admin.audit_review import AuditFilter, last_verification, search, verify_chain
from gateway.principal import Role
from gateway.store.store import MetadataStore
from gateway.store.views import Actor
from tests.admin.portal.portal_world import make_person
from tests.gateway.api.api_world import OPERATOR, post

UKRAINE = '{ execute(catalog: "%s", query: {cube: "Ukraine Statistik", measures: ["[Measures].[Indrejste]"]}) { rowset { rows } } }'


@pytest.fixture(scope="module")
def traffic(world):
    """Requests from 101 and 147 through the gateway: served and denied."""
    for name, database in (("full101", "FLIS Ukraine-101"), ("full101", "FLIS Ukraine-147"), ("full147", "FLIS Ukraine-147")):
        with world.client(world.user(name)) as client:
            post(client, UKRAINE % database)
    return world.user("full101"), world.user("full147")


@pytest.fixture(scope="module")
def auditor(world):
    return make_person(world, "101", Role.AUDITOR, name="rev")


def _seqs(html: str) -> list[int]:
    return [int(seq) for seq in re.findall(r'href="/admin/revision/(\d+)"', html)]


def test_an_auditor_sees_only_their_own_kommunes_events(world, traffic, auditor, browser_for) -> None:
    analyst101, analyst147 = traffic
    browser = browser_for(auditor)
    page = browser.get("/admin/revision", params={"orden": "aeldste"})
    assert page.status_code == 200
    shown = _seqs(page.text)
    assert shown
    kommuner = {r.seq: r.event.kommune_kode for r in world.store.audit_log().query()}
    assert {kommuner[seq] for seq in shown} == {"101"}
    assert analyst147.login not in page.text
    other = next(seq for seq, kode in kommuner.items() if kode == "147")
    assert browser.get(f"/admin/revision/{other}").status_code == 404
    own = next(seq for seq, kode in kommuner.items() if kode == "101")
    detail = browser.get(f"/admin/revision/{own}")
    assert detail.status_code == 200 and "prev_hash" in detail.text


def test_filters_and_reports(world, traffic, auditor, browser_for) -> None:
    analyst101, _ = traffic
    browser = browser_for(auditor)
    records = {r.seq: r.event for r in world.store.audit_log().query()}
    denied = _seqs(browser.get("/admin/revision", params={"rapport": "denied"}).text)
    assert denied and all(records[s].outcome == "denied" and records[s].kommune_kode == "101" for s in denied)
    assert any(records[s].database == "FLIS Ukraine-147" and records[s].login == analyst101.login for s in denied)
    by_user = _seqs(browser.get("/admin/revision", params={"login": analyst101.login, "database": "FLIS Ukraine-101"}).text)
    assert by_user and all(records[s].login == analyst101.login and records[s].database == "FLIS Ukraine-101" for s in by_user)
    admin = _seqs(browser.get("/admin/revision", params={"rapport": "admin"}).text)
    assert admin and all(records[s].operation.startswith("admin.") for s in admin)
    bad = browser.get("/admin/revision", params={"udfald": "maybe"})
    assert bad.status_code == 400


def test_keyset_pages_cover_every_event_once_in_order(world, traffic) -> None:
    actor = Actor(login="x", roles=frozenset({Role.AUDITOR}), kommune_kode="101")
    for newest_first in (True, False):
        seen, after = [], None
        while True:
            page = search(world.store, actor, AuditFilter(), newest_first=newest_first, after=after, page_size=3)
            seen.extend(r.seq for r in page.records)
            if page.next_after is None:
                break
            after = page.next_after
        expected = [r.seq for r in world.store.audit_log().query(kommune_kode="101")]
        assert seen == (expected[::-1] if newest_first else expected)


def test_the_next_page_link_continues_the_search(world, traffic, auditor, browser_for) -> None:
    browser = browser_for(auditor)
    first = browser.get("/admin/revision", params={"antal": "2"})
    link = re.search(r'id="next-page" href="([^"]+)"', first.text).group(1).replace("&amp;", "&")
    second = browser.get(link)
    assert len(_seqs(first.text)) == 2 and set(_seqs(first.text)).isdisjoint(_seqs(second.text))
    assert max(_seqs(second.text)) < min(_seqs(first.text))


def test_export_streams_the_search_as_csv_and_jsonl(world, traffic, auditor, browser_for) -> None:
    browser = browser_for(auditor)
    expected = [r.seq for r in world.store.audit_log().query(kommune_kode="101")]
    as_csv = browser.get("/admin/revision/eksport", params={"format": "csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [int(row["seq"]) for row in rows][: len(expected)] == expected
    assert {row["kommune_kode"] for row in rows} == {"101"}
    as_jsonl = browser.get("/admin/revision/eksport", params={"format": "jsonl", "rapport": "denied"})
    documents = [json.loads(line) for line in as_jsonl.text.splitlines()]
    assert documents and all(d["outcome"] == "denied" and d["kommune_kode"] == "101" for d in documents)


def test_chain_status_shows_when_it_was_last_verified(world, traffic, auditor, browser_for) -> None:
    browser = browser_for(auditor)
    verified = browser.submit("/admin/revision/verificer")
    assert verified.status_code == 303
    page = browser.get("/admin/revision").text
    status = re.search(r'id="chain-status"[^>]*>(.*?)</p>', page, flags=re.S).group(1)
    assert "intakt" in status and auditor.login in status


def test_a_broken_chain_is_reported_as_broken(tmp_path, audit_seal) -> None:
    with MetadataStore(f"sqlite:///{tmp_path / 'm.sqlite'}", seal=audit_seal) as store:
        store.migrate()
        store.onboard_kommune(OPERATOR, "101")
        store.add_user(OPERATOR, kommune_kode="101", login="komb-fli-prod\\a")
        assert verify_chain(store, OPERATOR).ok
        with store.database.write() as session:
            session.execute(__import__("sqlalchemy").text("UPDATE audit_events SET query = 'edited' WHERE seq = 1"))
        auditor = Actor(login="komb-fli-prod\\rev", roles=frozenset({Role.AUDITOR}), kommune_kode="101")
        broken = verify_chain(store, auditor)
        assert not broken.ok and "row 1" in broken.problem
        assert last_verification(store, auditor) == broken


def test_officers_and_users_have_no_audit_pages(world, officer, browser_for) -> None:
    assert browser_for(officer).get("/admin/revision").status_code == 403


def test_operators_see_every_kommune(world, traffic, browser_for) -> None:
    operator = make_person(world, "101", Role.OPERATOR, name="drift")
    page = browser_for(operator).get("/admin/revision", params={"kommune": "147"})
    records = {r.seq: r.event for r in world.store.audit_log().query()}
    shown = _seqs(page.text)
    assert shown and {records[s].kommune_kode for s in shown} == {"147"}
