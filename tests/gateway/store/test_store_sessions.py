"""Portal sessions in the store: idle and absolute timeouts, logout, one-time downloads."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.principal import Role
from gateway.store import Actor, MetadataStore

IDLE, ABSOLUTE = dt.timedelta(minutes=15), dt.timedelta(hours=8)


@pytest.fixture
def officer_view(store: MetadataStore, operator: Actor):
    store.onboard_kommune(operator, "101")
    return store.add_user(operator, kommune_kode="101", login="komb-fli-prod\\k101_so", roles=frozenset({Role.SECURITY_OFFICER}))


def _live(store: MetadataStore, token: str):
    return store.portal_session(token, idle=IDLE, absolute=ABSOLUTE)


def test_a_session_lives_while_used_and_dies_when_idle(store: MetadataStore, officer_view, clock) -> None:
    token, started = store.start_portal_session(officer_view, method="certificate", cert_fingerprint="a" * 64)
    assert started.id != token and len(started.csrf_token) >= 32  # only the token's hash is stored
    for _ in range(4):
        clock.advance(minutes=14)
        assert _live(store, token) is not None
    clock.advance(minutes=15)
    assert _live(store, token) is None


def test_a_session_ends_absolutely_however_busy(store: MetadataStore, officer_view, clock) -> None:
    token, _ = store.start_portal_session(officer_view, method="certificate", cert_fingerprint="a" * 64)
    for _ in range(8 * 6 - 1):
        clock.advance(minutes=10)
        assert _live(store, token) is not None
    clock.advance(minutes=10)
    assert _live(store, token) is None


def test_logout_ends_it_for_every_worker_and_drops_its_downloads(store: MetadataStore, officer_view) -> None:
    token, session = store.start_portal_session(officer_view, method="certificate", cert_fingerprint="a" * 64)
    download = store.offer_download(session.id, filename="x.p12", content=b"secret")
    actor = Actor(officer_view.login, officer_view.roles, "101")
    store.end_portal_session(actor, session.id)
    assert _live(store, token) is None
    assert store.take_download(actor, session.id, download) is None
    operations = [r.event.operation for r in store.audit_log().query()][-2:]
    assert operations == ["admin.session.login", "admin.session.logout"]


def test_a_download_is_given_once_to_its_own_session_within_ten_minutes(store: MetadataStore, officer_view, clock) -> None:
    _, mine = store.start_portal_session(officer_view, method="certificate", cert_fingerprint="a" * 64)
    _, other = store.start_portal_session(officer_view, method="certificate", cert_fingerprint="b" * 64)
    actor = Actor(officer_view.login, officer_view.roles, "101")
    token = store.offer_download(mine.id, filename="x.p12", content=b"bundle")
    assert store.take_download(actor, other.id, token) is None
    assert store.take_download(actor, mine.id, token) == ("x.p12", b"bundle")
    assert store.take_download(actor, mine.id, token) is None
    late = store.offer_download(mine.id, filename="y.p12", content=b"bundle")
    clock.advance(minutes=10)
    assert store.take_download(actor, mine.id, late) is None
    downloads = [r.event for r in store.audit_log().query() if r.event.operation == "admin.certificate.download"]
    assert [(e.login, e.kommune_kode, e.query, e.outcome) for e in downloads] == [
        (officer_view.login, "101", "downloaded x.p12", "served")
    ]


def test_unknown_tokens_find_nothing(store: MetadataStore, officer_view) -> None:
    assert _live(store, "not-a-token") is None
