"""Taking access away works from the very next request: revoked or expired grants, a suspended
user, a revoked certificate on a connection that stays open."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import time
from typing import Any

from api_world import AREAS, OPERATOR, ApiUser, World, post

from admin.revocation import revoke_certificate

EXECUTE = (
    '{ execute(catalog: "FLIS Ukraine-101", query: {cube: "Ukraine Statistik", measures: ["[Measures].[Indrejste]"]})'
    " { cellSet { cells { value } } } }"
)


def _code(response: Any) -> str | None:
    body = response.json()
    if "errors" not in body:
        return None
    return body["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


class KeptAlive:
    """One TLS connection for several requests, so a test can prove the connection was reused."""

    def __init__(self, world: World, user: ApiUser) -> None:
        self._connection = http.client.HTTPSConnection(
            world.server.host, world.server.port, context=user.ssl_context(world.ca_file), timeout=30
        )
        self.sockets: list[object] = []

    def post(self, query: str) -> tuple[int, dict[str, Any]]:
        self._connection.request(
            "POST", "/graphql", body=json.dumps({"query": query}).encode(), headers={"content-type": "application/json"}
        )
        response = self._connection.getresponse()
        body = json.loads(response.read())
        self.sockets.append(self._connection.sock)
        return response.status, body

    def close(self) -> None:
        self._connection.close()


def test_a_revoked_grant_stops_working_on_the_next_request(world: World) -> None:
    user = world.new_user("101", (("ukraine", "aggregated"),))
    (grant,) = world.store.list_grants(OPERATOR, login=user.login)
    with world.client(user) as client:
        assert _code(post(client, EXECUTE)) is None
        world.store.revoke_grant(OPERATOR, grant.id)
        assert _code(post(client, EXECUTE)) == "ACCESS_DENIED"
        assert post(client, "{ catalogs { name } }").json()["data"] == {"catalogs": []}
        assert post(client, "{ me { grants { dataArea } } }").json()["data"]["me"]["grants"] == []


def test_a_grant_stops_working_when_its_valid_to_passes(world: World) -> None:
    user = world.new_user("101", ())
    ends = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    world.store.add_grant(OPERATOR, login=user.login, area="ukraine", valid_areas=AREAS, purpose="short", valid_to=ends)
    with world.client(user) as client:
        assert _code(post(client, EXECUTE)) is None
        time.sleep(max(0.0, (ends - dt.datetime.now(dt.UTC)).total_seconds()) + 0.05)
        assert _code(post(client, EXECUTE)) == "ACCESS_DENIED"
        assert post(client, "{ catalogs { name } }").json()["data"] == {"catalogs": []}


def test_a_grant_not_yet_valid_gives_no_access(world: World) -> None:
    user = world.new_user("101", ())
    starts = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    world.store.add_grant(OPERATOR, login=user.login, area="ukraine", valid_areas=AREAS, purpose="later", valid_from=starts)
    with world.client(user) as client:
        assert _code(post(client, EXECUTE)) == "ACCESS_DENIED"


def test_a_suspended_user_is_refused_on_the_next_request_of_an_open_connection(world: World) -> None:
    user = world.new_user("101", (("ukraine", "aggregated"),))
    connection = KeptAlive(world, user)
    try:
        status, body = connection.post(EXECUTE)
        assert status == 200 and "errors" not in body
        world.store.suspend_user(OPERATOR, user.login)
        status, body = connection.post(EXECUTE)
        assert status == 401
        assert body == {
            "errors": [
                {
                    "message": "A valid client certificate issued by dataadgang is required.",
                    "extensions": {"code": "UNAUTHENTICATED"},
                }
            ]
        }
        assert connection.sockets[0] is connection.sockets[1]  # the same TLS connection, kept alive
        world.store.activate_user(OPERATOR, user.login)
        status, _ = connection.post(EXECUTE)
        assert status == 200
    finally:
        connection.close()


def test_a_revoked_certificate_is_refused_on_the_next_request_of_an_open_connection(world: World) -> None:
    user = world.new_user("101", (("ukraine", "aggregated"),))
    connection = KeptAlive(world, user)
    try:
        status, _ = connection.post(EXECUTE)
        assert status == 200
        revoke_certificate(world.store, world.ca, OPERATOR, user.serial, "key-compromise")
        status, body = connection.post(EXECUTE)
        assert status == 401 and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "data" not in body
        assert connection.sockets[0] is connection.sockets[1]
    finally:
        connection.close()
    refused = [r.event for r in world.gateway.audit.query(outcome="refused") if r.event.cert_fingerprint == user.fingerprint]
    # the refusal is filed under the certificate's user and kommune: their auditor sees the attempt
    assert refused and (refused[-1].login, refused[-1].kommune_kode) == (user.login, "101")
    assert refused[-1].reason is not None and "revoked" in refused[-1].reason


def test_a_cached_answer_is_never_served_after_the_grant_is_revoked(world: World) -> None:
    """The result cache saves the engine's work, never the access check."""
    user = world.new_user("101", (("ukraine", "aggregated"),))
    (grant,) = world.store.list_grants(OPERATOR, login=user.login)
    cache = world.gateway.sessions.cache
    assert cache is not None
    with world.client(user) as client:
        assert _code(post(client, EXECUTE)) is None
        hits = cache.results.hits + world.gateway.responses.hits
        assert _code(post(client, EXECUTE)) is None
        assert cache.results.hits + world.gateway.responses.hits == hits + 1  # the second answer came from a cache
        world.store.revoke_grant(OPERATOR, grant.id)
        assert _code(post(client, EXECUTE)) == "ACCESS_DENIED"
