"""The refresh log: each ``dataadgang refresh`` run, and per database the input it was built from.

The input hash is what makes a second run over the same drop directory change nothing: a
database is rebuilt only when its input's content hash differs from the one its current
version was built from. The per-database row also keeps how the last attempt went, which the
catalog shows users ("the last refresh failed; the data is as of ...").
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from gateway.store.db import Database
from gateway.store.tables import RefreshInputRow, RefreshRunRow

RUN_STATUSES = ("running", "unchanged", "changed", "partial", "failed")


@dataclass(frozen=True, slots=True)
class InputState:
    database: str
    loaded_hash: str | None
    loaded_version: int | None
    loaded_at: dt.datetime | None
    last_attempt_at: dt.datetime
    last_status: str  # loaded | failed
    last_error: str | None
    failed_hash: str | None


@dataclass(frozen=True, slots=True)
class RunView:
    id: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: str
    started_by: str
    drop_dir: str
    changed: int
    unchanged: int
    failed: int
    rows: int
    report: tuple[Mapping[str, object], ...]


def _state(row: RefreshInputRow) -> InputState:
    return InputState(row.database, row.loaded_hash, row.loaded_version, row.loaded_at, row.last_attempt_at,
                      row.last_status, row.last_error, row.failed_hash)


def _run(row: RefreshRunRow) -> RunView:
    report = tuple(json.loads(row.report)) if row.report else ()
    return RunView(row.id, row.started_at, row.finished_at, row.status, row.started_by, row.drop_dir, row.changed,
                   row.unchanged, row.failed, row.rows, report)


class RefreshLog:
    def __init__(self, database: Database) -> None:
        self._database = database

    def start_run(self, *, drop_dir: str, started_by: str) -> int:
        with self._database.write() as session:
            row = RefreshRunRow(started_at=self._database.clock(), status="running", started_by=started_by,
                                drop_dir=drop_dir, changed=0, unchanged=0, failed=0, rows=0)
            session.add(row)
            session.flush()
            return row.id

    def finish_run(self, run_id: int, *, status: str, changed: int, unchanged: int, failed: int, rows: int,
                   report: Sequence[Mapping[str, object]]) -> None:
        if status not in RUN_STATUSES:
            raise ValueError(f"unknown refresh run status {status!r}")
        with self._database.write() as session:
            row = session.get(RefreshRunRow, run_id)
            if row is None:
                raise ValueError(f"no refresh run {run_id}")
            row.finished_at = self._database.clock()
            row.status, row.changed, row.unchanged, row.failed, row.rows = status, changed, unchanged, failed, rows
            row.report = json.dumps(list(report), ensure_ascii=False, default=str)

    def record_loaded(self, run_id: int, database: str, *, content_hash: str, version: int) -> None:
        now = self._database.clock()
        with self._database.write() as session:
            row = session.get(RefreshInputRow, database) or RefreshInputRow(database=database)
            row.loaded_hash, row.loaded_version, row.loaded_at = content_hash, version, now
            row.last_attempt_at, row.last_status, row.last_error, row.failed_hash = now, "loaded", None, None
            row.last_run_id = run_id
            session.merge(row)

    def record_failed(self, run_id: int, database: str, *, content_hash: str, error: str) -> None:
        now = self._database.clock()
        with self._database.write() as session:
            row = session.get(RefreshInputRow, database) or RefreshInputRow(database=database)
            row.last_attempt_at, row.last_status, row.last_error, row.failed_hash = now, "failed", error, content_hash
            row.last_run_id = run_id
            session.merge(row)

    def inputs(self, databases: Collection[str] | None = None) -> dict[str, InputState]:
        with self._database.read() as session:
            statement = sa.select(RefreshInputRow)
            if databases is not None:
                statement = statement.where(RefreshInputRow.database.in_(list(databases)))
            return {row.database: _state(row) for row in session.scalars(statement)}

    def runs(self, *, limit: int = 10) -> list[RunView]:
        """The newest runs first."""
        with self._database.read() as session:
            rows = session.scalars(sa.select(RefreshRunRow).order_by(RefreshRunRow.id.desc()).limit(limit))
            return [_run(row) for row in rows]
