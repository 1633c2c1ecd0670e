"""The operator's pages: onboard and offboard kommuner, databases with version, data as of and
size, certificates expiring soon in every kommune; nobody else reaches them."""

from __future__ import annotations

import re

from admin.certificates import issue_user_certificate
from gateway.principal import Role
from tests.admin.portal.portal_world import make_person
from tests.admin.portal.test_portal_cli_parity import CLI_ACTOR, _cli, _events_since, _last_seq
from tests.gateway.api.api_world import OPERATOR


def test_onboard_and_offboard_a_kommune_like_the_cli(world, browser_for) -> None:
    operator = make_person(world, "101", Role.OPERATOR, name="ops")
    browser = browser_for(operator)
    page = browser.get("/admin/drift/kommuner")
    assert page.status_code == 200 and page.text.count("/onboard\"") + page.text.count("/offboard\"") == 98
    start = _last_seq(world)
    assert browser.submit("/admin/drift/kommuner/173/onboard").status_code == 303
    assert any(k.kode == "173" and k.onboarded for k in world.store.list_kommuner())
    assert browser.submit("/admin/drift/kommuner/173/offboard").status_code == 303
    assert not any(k.kode == "173" and k.onboarded for k in world.store.list_kommuner())
    portal_events = [e[:3] for e in _events_since(world, start, operator.login, "")]
    start = _last_seq(world)
    _cli(world, "kommune", "onboard", "173")
    _cli(world, "kommune", "offboard", "173")
    cli_events = [e[:3] for e in _events_since(world, start, CLI_ACTOR, "")]
    assert portal_events == cli_events == [("admin.kommune.onboard", "173", "served"), ("admin.kommune.offboard", "173", "served")]
    assert browser.submit("/admin/drift/kommuner/999/onboard").status_code == 404


def test_databases_show_version_data_as_of_and_size(world, browser_for) -> None:
    operator = make_person(world, "101", Role.OPERATOR, name="ops")
    page = browser_for(operator).get("/admin/drift/databaser")
    assert page.status_code == 200
    for name in world.databases:
        assert name in page.text
    sizes = re.findall(r"<td>([\d.,]+) MB</td>", page.text)
    assert len(sizes) == len(world.databases) and all(float(s.replace(".", "").replace(",", ".")) > 0 for s in sizes)
    assert re.search(r"<td>\d\d\.\d\d\.\d{4}</td>", page.text)  # data as of, Danish date


def test_certificates_expiring_soon_across_kommuner(world, browser_for) -> None:
    operator = make_person(world, "101", Role.OPERATOR, name="ops")
    soon = make_person(world, "147", Role.USER, name="soon")
    issued = issue_user_certificate(world.store, world.ca, OPERATOR, soon.login, world.users_dir / "soon147", valid_days=10)
    page = browser_for(operator).get("/admin/drift/certifikater")
    assert f"{issued.issued.serial:X}" in page.text and soon.login in page.text
    assert f"{soon.cert.serial:X}" not in page.text  # a year left: not expiring soon


def test_only_operators_reach_the_operator_pages(world, officer, browser_for) -> None:
    auditor = make_person(world, "101", Role.AUDITOR, name="rev")
    for person in (officer, auditor):
        browser = browser_for(person)
        for path in ("/admin/drift/kommuner", "/admin/drift/databaser", "/admin/drift/certifikater"):
            assert browser.get(path).status_code == 403
        assert browser.submit("/admin/drift/kommuner/173/onboard").status_code == 403
    assert not any(k.kode == "173" and k.onboarded for k in world.store.list_kommuner())
