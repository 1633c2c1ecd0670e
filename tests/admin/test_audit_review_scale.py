"""The auditor's search stays fast on a trail of a million events: every filter the portal offers
answers its first page, and a page deep in the trail, within a bound (keyset paging over
``(column, seq)`` indexes, never OFFSET)."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import time

import pytest

from admin.audit_review import REPORTS, AuditFilter, search
from gateway.principal import Role
from gateway.audit import AuditSeal
from gateway.store.store import MetadataStore
from gateway.store.views import Actor

pytestmark = pytest.mark.slow

EVENTS = 1_000_000
BOUND_SECONDS = 0.5  # per page, generous for a shared 2-core machine
T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("audit-scale")
    path = home / "metadata.sqlite"
    with MetadataStore(f"sqlite:///{path}", seal=AuditSeal.in_directory(home / "audit-seal")) as store:
        store.migrate()
        kommuner = ("101", "147", "751", "461", "851")
        # shares like a real trail's: mostly reads, a few person-level reads, refusals, admin changes
        mix = ["execute"] * 60 + ["discover"] * 30 + ["execute,read_individual"] * 2 + ["admin.grant.add"] + ["identity"] * 7
        random.Random(7).shuffle(mix)
        rows = []
        for seq in range(1, EVENTS + 1):
            kode = kommuner[seq % len(kommuner)]
            operation = mix[(seq // len(kommuner)) % len(mix)]  # every kommune gets the whole mix
            outcome = "denied" if seq % 97 == 0 else ("refused" if operation == "identity" else "served")
            rows.append((
                # stored as SQLAlchemy stores UTCDateTime on SQLite, so comparisons with bound values hold
                seq, (T0 + dt.timedelta(seconds=seq * 30)).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds"),
                f"komb-fli-prod\\k{kode}_u{seq % 400}", None, kode, "10.0.0.1", operation,
                f"FLIS Ukraine-{kode}", "{ q }", outcome, None, 1, 1.0, f"r{seq}", "0" * 64, "0" * 64,
            ))
        connection = sqlite3.connect(path)
        connection.executemany(
            "INSERT INTO audit_events (seq, time, login, cert_fingerprint, kommune_kode, client_address, operation, database,"
            " query, outcome, reason, cells, duration_ms, request_id, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        connection.execute("UPDATE audit_chain_head SET seq = ?", (EVENTS,))
        connection.commit()
        connection.execute("ANALYZE")
        connection.close()
        yield store


AUDITOR = Actor(login="komb-fli-prod\\k101_rev", roles=frozenset({Role.AUDITOR}), kommune_kode="101")
FILTERS = {
    "everything": AuditFilter(),
    "one user": AuditFilter(login="komb-fli-prod\\k101_u5"),
    "one database": AuditFilter(database="FLIS Ukraine-101"),
    "a month": AuditFilter(since=T0 + dt.timedelta(days=100), until=T0 + dt.timedelta(days=130)),
    **{f"report {name}": wanted for name, wanted in REPORTS.items()},
}


@pytest.mark.parametrize("newest_first", [True, False], ids=["newest", "oldest"])
@pytest.mark.parametrize("name", list(FILTERS))
def test_every_search_pages_fast_on_a_million_events(big_store: MetadataStore, name: str, newest_first: bool) -> None:
    wanted = FILTERS[name]
    started = time.perf_counter()
    first = search(big_store, AUDITOR, wanted, newest_first=newest_first)
    elapsed_first = time.perf_counter() - started
    assert first.records and all(r.event.kommune_kode == "101" for r in first.records)
    deep_after = EVENTS // 2
    started = time.perf_counter()
    deep = search(big_store, AUDITOR, wanted, newest_first=newest_first, after=deep_after)
    elapsed_deep = time.perf_counter() - started
    assert all((r.seq < deep_after) if newest_first else (r.seq > deep_after) for r in deep.records)
    assert elapsed_first < BOUND_SECONDS and elapsed_deep < BOUND_SECONDS, (name, elapsed_first, elapsed_deep)
