"""Run a cube query: plan, refuse what is too big, compile, execute, protect, pivot.

The cubes passed in are the caller's view (the service layer's pruned catalog): levels the
caller may not see are not in them, so naming one is an ordinary NotFoundError, and a cube
that carries a disclosure rule has every cell protected (``gateway.engine.disclosure``).

The query timeout is enforced by the database: DuckDB is interrupted from a timer thread
(``connection.interrupt()``), PostgreSQL gets ``statement_timeout`` for the current transaction
(``set_config(..., is_local => true)``, i.e. ``SET LOCAL``). Either way the client gets
QueryTimeoutError, and the aborted transaction is rolled back.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gateway.engine.cache import VersionMemo
from gateway.engine.cellset import CellSet, build_cellset, result_data
from gateway.engine.disclosure import Protection
from gateway.engine.plan import plan_query
from gateway.engine.query import CubeQuery
from gateway.engine.statements import STATEMENTS
from gateway.engine.watchdog import WATCHDOG
from gateway.errors import QueryTimeoutError
from gateway.model.types import Cube
from gateway.settings import Settings


@dataclass(frozen=True, slots=True)
class Limits:
    cell_limit: int = 500_000
    timeout_seconds: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(cell_limit=settings.cell_limit, timeout_seconds=settings.query_timeout_seconds)


def run_query(
    connection: Connection,
    cubes: Sequence[Cube],
    query: CubeQuery,
    *,
    limits: Limits,
    data_as_of: dt.date | dt.datetime | None = None,
    memo: VersionMemo | None = None,
) -> CellSet:
    """The whole engine for one request, over the cubes as the caller may see them.

    With a ``memo`` and a connection from the registry (which names its database version),
    member lookups of that version are reused; whole cell sets are cached by the caller
    (:class:`gateway.engine.cache.ResultCache`), which knows the version before connecting.
    """
    return _run(connection, cubes, query, limits=limits, data_as_of=data_as_of, memo=memo)


def _run(
    connection: Connection,
    cubes: Sequence[Cube],
    query: CubeQuery,
    *,
    limits: Limits,
    data_as_of: dt.date | dt.datetime | None,
    memo: VersionMemo | None = None,
) -> CellSet:
    with query_timeout(connection, limits.timeout_seconds):
        plan = plan_query(connection, cubes, query, cell_limit=limits.cell_limit, memo=memo)
        protection = Protection.for_plan(plan)
        compiled = STATEMENTS.compiled(connection, plan if protection is None else protection.widened)
        labels = compiled.labels
        result = compiled.execute(connection)
        columns = tuple(result.keys())
        rows: Sequence[Any] = result.all()
    data = result_data(labels, columns, rows)
    if protection is not None:
        data = protection.apply(data)
    members = [axis.members for axis in plan.axis_levels]
    return build_cellset(plan, data, members, data_as_of=data_as_of)


@contextmanager
def query_timeout(connection: Connection, seconds: float) -> Iterator[None]:
    dialect = connection.dialect.name
    if dialect == "postgresql":
        with _postgres_timeout(connection, seconds):
            yield
    elif dialect == "duckdb":
        with _duckdb_timeout(connection, seconds):
            yield
    else:
        yield


def _timeout_error(seconds: float) -> QueryTimeoutError:
    return QueryTimeoutError(f"The query ran longer than the {seconds:g} second limit and was stopped.")


@contextmanager
def _postgres_timeout(connection: Connection, seconds: float) -> Iterator[None]:
    milliseconds = max(1, int(seconds * 1000))
    connection.execute(sa.select(sa.func.set_config("statement_timeout", f"{milliseconds}ms", True)))
    try:
        yield
    except sa.exc.DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) == "57014":  # query_canceled
            connection.rollback()
            raise _timeout_error(seconds) from None
        raise


@contextmanager
def _duckdb_timeout(connection: Connection, seconds: float) -> Iterator[None]:
    raw = connection.connection.driver_connection
    lock = threading.Lock()
    state = {"done": False, "fired": False}

    def interrupt() -> None:
        with lock:
            if not state["done"]:
                state["fired"] = True
                raw.interrupt()  # type: ignore[union-attr]

    token = WATCHDOG.watch(seconds, interrupt)
    try:
        yield
    except Exception:
        with lock:
            state["done"] = True
            fired = state["fired"]
        if fired:
            connection.rollback()  # the interrupted transaction is aborted
            raise _timeout_error(seconds) from None
        raise
    finally:
        with lock:
            state["done"] = True
        WATCHDOG.cancel(token)
