"""``dataadgang audit``: listing that cannot be forged, checkpoints, key rotation, verify's report."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from test_admin_cli import Cli

from gateway.audit import request_event

FORGED = "FLIS Ukraine-101\n4    2025-03-01 12:00:00  komb-fli-prod\\k147_x  execute  FLIS Ukraine-147  served  99  -"


@pytest.fixture
def cli(tmp_path: Path, metadata_url: str) -> Cli:
    return Cli(tmp_path / "home", metadata_url)


def _record(cli: Cli, *databases: str) -> None:
    with cli.store() as store:
        store.migrate()
        for n, database in enumerate(databases):
            store.audit_log().record(request_event(
                None, client_address="10.0.0.1", operation="execute", outcome="denied", database=database,
                query="{ x }", reason="no such database", time=dt.datetime(2025, 3, 1, 12, n, tzinfo=dt.UTC),
            ))


def test_a_newline_in_a_client_value_cannot_forge_a_listing_line(cli: Cli) -> None:
    _record(cli, FORGED, "FLIS Ukraine-\u202e741", "\x1b[2Kx\u2028y\rz")
    lines = cli("audit", "list").output.splitlines()
    assert len(lines) == 4  # the header and one line per event
    assert "FLIS Ukraine-101\\n4" in lines[1]
    assert "FLIS Ukraine-\\u202e741" in lines[2]
    assert "\\x1b[2Kx\\u2028y\\rz" in lines[3]
    assert not any(char in "".join(lines) for char in "\r\x1b\u2028\u202e")
    documents = [json.loads(line) for line in cli("audit", "list", "--json").output.splitlines()]
    assert documents[0]["database"] == FORGED  # the machine-readable form is exact


def test_checkpoint_rotate_and_verify(cli: Cli) -> None:
    _record(cli, "FLIS Ukraine-101")
    first = cli("audit", "verify").output
    assert "audit trail intact: 1 events" in first and "last verified intact: never" in first
    assert "row 1" in cli("audit", "checkpoint").output
    rotated = cli("audit", "rotate-key").output
    assert "2 generations kept" in rotated
    _record(cli, "FLIS Ukraine-147")
    second = cli("audit", "verify").output
    assert "audit trail intact: 2 events" in second and "last verified intact: 20" in second
    keys = cli.home / "audit" / "keys"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in keys.iterdir() if not p.name.startswith("."))


def test_verify_names_an_edited_and_rehashed_row_in_one_line(cli: Cli) -> None:
    """A database writer rehashes with SHA-256 (all they can do without the key)."""
    from gateway.audit.chain import chain_hash, row_fields
    from gateway.store.tables import AuditChainHeadRow, AuditEventRow

    _record(cli, "FLIS Ukraine-101", "FLIS Ukraine-147")
    with cli.store() as store, store.database.write() as session:
        prev = "0" * 64
        for row in session.scalars(sa.select(AuditEventRow).order_by(AuditEventRow.seq)).all():
            row.outcome, row.key_id, row.prev_hash = "served", None, prev
            row.hash = prev = chain_hash(prev, row.seq, row_fields(row), None)
        session.get(AuditChainHeadRow, 1).hash = prev  # type: ignore[union-attr]
    message = cli.fails("audit", "verify")
    assert "BROKEN" in message and "row 1 was modified" in message and "last verified intact: never" in message


def test_list_finds_a_database_by_any_spelling_the_gateway_accepts(cli: Cli) -> None:
    _record(cli, "FLIS Ukraine-101", "FLIS Ukraine-147", "flis ukraine-999")
    for spelling in ("FLIS Ukraine-101", "flis ukraine-101", "\ufb02is UKRAINE-101"):
        documents = [json.loads(line) for line in cli("audit", "list", "--json", "--database", spelling).output.splitlines()]
        assert [d["database"] for d in documents] == ["FLIS Ukraine-101"], spelling
    unknown = cli("audit", "list", "--json", "--database", "flis ukraine-999").output.splitlines()
    assert [json.loads(line)["database"] for line in unknown] == ["flis ukraine-999"]  # kept as sent, found as typed
