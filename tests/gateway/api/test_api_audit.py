"""The audit trail under load, and failing closed when it cannot be written."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
import sqlite3
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import sqlalchemy as sa
from api_world import World, post

from gateway.app import build_gateway, create_app
from gateway.audit import AuditEvent, AuditLog, AuditWriteError
from gateway.store.store import MetadataStore

QUERIES = (
    "{ me { login } }",
    '{ catalog(name: "FLIS Ukraine-101") { name dataAsOf } }',
    '{ catalog(name: "FLIS Ukraine-147") { name } }',  # denied
    '{ execute(catalog: "FLIS Ukraine-101", query: {cube: "Ukraine Statistik", measures: ["[Measures].[Indrejste]"],'
    ' rows: [{level: "[Køn].[Køn].[Køn]"}]}) { cellSet { cells { value } } } }',
    "{ catalogs { name } }",
)
EXECUTE = QUERIES[3]


def test_every_request_under_concurrent_load_has_exactly_one_audit_event(world: World) -> None:
    users = [world.user("some101"), world.user("full147")]
    before = len(world.gateway.audit.query())

    def worker(index: int) -> list[tuple[str, int]]:
        seen = []
        with world.client(users[index % 2]) as client:
            for n in range(25):
                query = QUERIES[(index + n) % len(QUERIES)]
                response = post(client, query)
                seen.append((response.headers["x-request-id"], response.status_code))
        return seen

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [item for chunk in pool.map(worker, range(8)) for item in chunk]
    assert len(results) == 200
    assert {status for _, status in results} == {200}
    sent = {request_id for request_id, _ in results}
    assert len(sent) == 200  # request ids are unique
    records = world.gateway.audit.query()
    counts = Counter(record.event.request_id for record in records)
    assert all(counts[request_id] == 1 for request_id in sent)
    assert len(records) == before + 200
    check = world.gateway.audit.verify()
    assert check.ok, check.problem


class BrokenAuditLog(AuditLog):
    """An audit log whose every write fails, as a full disk or a lost database would."""

    def record(self, event: AuditEvent) -> int:
        raise AuditWriteError("audit event could not be written: disk full")

    def record_many(self, events: Sequence[AuditEvent]) -> list[int]:
        raise AuditWriteError("audit events could not be written: disk full")


UNAVAILABLE = {"errors": [{"message": "The service is temporarily unavailable.", "extensions": {"code": "SERVICE_UNAVAILABLE"}}]}


def _assert_refused_without_data(response: httpx.Response) -> None:
    assert response.status_code == 503
    assert response.json() == UNAVAILABLE
    assert response.headers["x-request-id"]


def test_when_the_audit_write_fails_the_client_gets_503_and_no_data(world: World) -> None:
    gateway = dataclasses.replace(world.gateway, audit=BrokenAuditLog(world.store.database, world.store.seal))
    app = create_app(world.settings, gateway=gateway)
    user = world.user("some101")  # made first: making a user is itself on the trail
    before = len(world.gateway.audit.query())
    with world.serve(app) as server, world.client(user, url=server.url) as client:
        for query in (EXECUTE, QUERIES[2], "{ me { login } }", "{ nope "):
            _assert_refused_without_data(post(client, query))
    assert len(world.gateway.audit.query()) == before


def _copy_sqlite(source_url: str, target: Path) -> str:
    """A consistent copy of the metadata database (the WAL included), via SQLite's backup API."""
    source = sqlite3.connect(source_url.removeprefix("sqlite:///"))
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    return f"sqlite:///{target}"


def test_when_the_audit_table_is_gone_the_client_gets_503_and_no_data(world: World, tmp_path: Path) -> None:
    user = world.user("some101")  # made before the copy, so the copy knows the user and certificate
    url = _copy_sqlite(world.settings.resolved_metadata_url, tmp_path / "metadata.sqlite")
    store = MetadataStore(url, seal=world.store.seal)
    with store.database.write_engine.begin() as connection:
        connection.execute(sa.text("drop table audit_events"))
    settings = dataclasses.replace(world.settings, metadata_url=url)
    gateway = build_gateway(settings, store=store)
    try:
        with world.serve(create_app(settings, gateway=gateway)) as server, world.client(user, url=server.url) as client:
            _assert_refused_without_data(post(client, EXECUTE))
            _assert_refused_without_data(post(client, "{ me { login } }"))
    finally:
        gateway.registry.close()
        store.close()
