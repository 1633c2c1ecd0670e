"""The resolver: per-process cache, emptied the moment the source's revision moves."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.identity.refusal import IdentityRefused, RefusalReason
from gateway.identity.resolver import IdentityResolver
from gateway.identity.source import IdentitySource
from tests.support.identity import InMemoryIdentitySource
from gateway.principal import Principal, Role


def _principal(fingerprint: str, login: str = "alice") -> Principal:
    return Principal(
        user_id=1,
        login=login,
        kommune_kode="101",
        roles=frozenset({Role.USER}),
        cert_fingerprint=fingerprint,
        cert_serial=7,
        cert_not_after=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc),
    )


class CountingSource(InMemoryIdentitySource):
    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0
        self.reloads = 0

    def principal_for(self, fingerprint: str) -> Principal | None:
        self.lookups += 1
        return super().principal_for(fingerprint)

    def revoked_fingerprints(self) -> frozenset[str]:
        self.reloads += 1
        return super().revoked_fingerprints()


def test_in_memory_source_satisfies_the_protocol() -> None:
    assert isinstance(InMemoryIdentitySource(), IdentitySource)


def test_principal_is_cached_while_revision_stands_still() -> None:
    source = CountingSource()
    source.add(_principal("aa"))
    resolver = IdentityResolver(source)
    assert resolver.resolve("aa").login == "alice"
    assert resolver.resolve("aa").login == "alice"
    assert source.lookups == 1
    assert source.reloads == 1
    assert source.revision_calls == 2  # asked on every request (interval 0)


def test_revocation_elsewhere_is_seen_on_the_next_resolve() -> None:
    source = CountingSource()
    source.add(_principal("aa"))
    resolver = IdentityResolver(source)
    resolver.resolve("aa")
    source.revoke("aa")
    with pytest.raises(IdentityRefused) as refused:
        resolver.resolve("aa")
    assert refused.value.reason is RefusalReason.REVOKED
    assert source.reloads == 2


def test_suspension_drops_the_cached_principal() -> None:
    source = CountingSource()
    source.add(_principal("aa"))
    resolver = IdentityResolver(source)
    resolver.resolve("aa")
    source.suspend("alice")
    with pytest.raises(IdentityRefused) as refused:
        resolver.resolve("aa")
    assert refused.value.reason is RefusalReason.UNKNOWN_OR_INACTIVE


def test_unknown_fingerprint_is_cached_as_unknown_until_the_revision_moves() -> None:
    source = CountingSource()
    resolver = IdentityResolver(source)
    for _ in range(3):
        with pytest.raises(IdentityRefused):
            resolver.resolve("bb")
    assert source.lookups == 1
    source.add(_principal("bb", login="bob"))
    assert resolver.resolve("bb").login == "bob"


def test_min_check_interval_limits_revision_queries() -> None:
    now = [100.0]
    source = CountingSource()
    source.add(_principal("aa"))
    resolver = IdentityResolver(source, min_check_interval=0.5, clock=lambda: now[0])
    resolver.resolve("aa")
    source.revoke("aa")
    now[0] += 0.4
    assert resolver.resolve("aa").login == "alice"  # within the interval: the old answer stands
    assert source.revision_calls == 1
    now[0] += 0.2
    with pytest.raises(IdentityRefused):
        resolver.resolve("aa")
    assert source.revision_calls == 2


def test_cache_is_bounded() -> None:
    source = CountingSource()
    resolver = IdentityResolver(source, max_cached=10)
    for number in range(25):
        with pytest.raises(IdentityRefused):
            resolver.resolve(f"{number:064x}")
    with pytest.raises(IdentityRefused):
        resolver.resolve(f"{0:064x}")
    assert source.lookups == 26  # the first entries were dropped when the cache filled


def test_negative_interval_is_refused() -> None:
    with pytest.raises(ValueError):
        IdentityResolver(InMemoryIdentitySource(), min_check_interval=-1)
