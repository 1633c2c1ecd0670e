"""A migrated metadata store per test, on SQLite and on PostgreSQL, with a clock the test can move."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest

from gateway.audit import AuditSeal
from gateway.principal import Role
from gateway.store import Actor, MetadataStore

T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


class ManualClock:
    """Time that moves only when the test says so."""

    def __init__(self, start: dt.datetime = T0) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(metadata_url: str, clock: ManualClock, audit_seal: AuditSeal) -> Iterator[MetadataStore]:
    with MetadataStore(metadata_url, seal=audit_seal, clock=clock) as metadata:
        metadata.migrate()
        yield metadata


@pytest.fixture
def operator() -> Actor:
    return Actor.operator("ops\\admin")


def _officer_of(kommune_kode: str) -> Actor:
    return Actor(login=f"komb-fli-prod\\k{kommune_kode}_so", roles=frozenset({Role.SECURITY_OFFICER}), kommune_kode=kommune_kode)


@pytest.fixture
def officer_of() -> Callable[[str], Actor]:
    """The security officer of a kommune, as an actor."""
    return _officer_of
