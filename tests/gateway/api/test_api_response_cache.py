"""Whole answers to repeated requests: kept per user, sent again only after identity and a fresh
access decision on that very request, each time audited like the first, bounded in bytes."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from api_world import APPROVER, AREAS, OPERATOR, World, post

import gateway.api.endpoint as endpoint_module
from admin.revocation import revoke_certificate
from gateway.api.response_cache import ResponseCache
from gateway.app import create_app
from test_api_disclosure import _direct, _month
from test_api_revocation import KeptAlive

UKRAINE = (
    '{ execute(catalog: "FLIS Ukraine-101", query: {cube: "Ukraine Statistik", measures: ["[Measures].[Fraflyttede]"],'
    ' rows: [{level: "[Køn].[Køn]"}]}) { cellSet { cells { ordinal value } } } }'
)
OWN = "FLIS Voksne Handicappede-101"
BY_PLACE = (  # one month: small counts, which protection changes
    '{ execute(catalog: "FLIS Voksne Handicappede-101", query: {cube: "Voksne Handicappede", measures: '
    '["[Measures].[Unikke modtagere]"], rows: [{level: "[Målgruppe].[Målgruppe].[Målgruppe]"}], '
    'slicers: ["[Tid].[Tid].[Måned].&[MONTH]"]}) { rowset { rows } } }'
)
TRUTH_BY_PLACE = "SELECT count(DISTINCT person_noegle) FROM forloeb_maaned WHERE maaned = :m GROUP BY maalgruppe_kode"


@pytest.fixture
def executions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The documents the GraphQL executor really ran (a cached answer runs none)."""
    ran: list[str] = []
    original = endpoint_module.GraphQLEndpoint._execute

    async def counting(self: Any, graphql_request: Any, *args: Any, **kwargs: Any) -> Any:
        ran.append(graphql_request.query)
        return await original(self, graphql_request, *args, **kwargs)

    monkeypatch.setattr(endpoint_module.GraphQLEndpoint, "_execute", counting)
    return ran


def _audited(world: World, request_id: str) -> Any:
    (record,) = [r for r in world.gateway.audit.query() if r.event.request_id == request_id]
    return record.event


def test_a_repeated_request_is_answered_whole_and_audited_like_the_first(world: World, executions: list[str]) -> None:
    user = world.new_user("101", (("ukraine", "aggregated"),))
    with world.client(user) as client:
        first = post(client, UKRAINE)
        hits = world.gateway.responses.hits
        second = post(client, UKRAINE)
    assert executions == [UKRAINE]  # the second ran no GraphQL at all
    assert world.gateway.responses.hits == hits + 1
    assert second.status_code == 200 and second.content == first.content
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    miss, hit = _audited(world, first.headers["x-request-id"]), _audited(world, second.headers["x-request-id"])
    different = {"time", "duration_ms", "request_id"}
    assert {k: v for k, v in dataclasses.asdict(hit).items() if k not in different} == {
        k: v for k, v in dataclasses.asdict(miss).items() if k not in different
    }
    assert (hit.outcome, hit.operation, hit.database, hit.cells) == ("served", "execute", "FLIS Ukraine-101", 2)


def test_a_revoked_grant_gets_the_denial_on_the_next_request_though_the_answer_is_kept(
    world: World, executions: list[str]
) -> None:
    user = world.new_user("101", (("ukraine", "aggregated"),))
    (grant,) = world.store.list_grants(OPERATOR, login=user.login)
    with world.client(user) as client:
        post(client, UKRAINE)
        post(client, "{ me { login } }")  # the grants of this revision are in memory: a hit can decide there
        hits = world.gateway.responses.hits
        assert "errors" not in post(client, UKRAINE).json() and world.gateway.responses.hits == hits + 1
        world.store.revoke_grant(OPERATOR, grant.id)
        post(client, "{ me { login } }")  # the new revision's grants in memory too: the entry is checked
        denied = post(client, UKRAINE).json()
    assert denied["data"] is None and denied["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    events = [r.event for r in world.gateway.audit.query(login=user.login) if r.event.operation == "execute"]
    assert [e.outcome for e in events] == ["served", "served", "denied"]


def test_a_revoked_certificate_is_refused_on_the_next_request_though_the_answer_is_kept(world: World) -> None:
    user = world.new_user("101", (("ukraine", "aggregated"),))
    connection = KeptAlive(world, user)
    try:
        assert connection.post(UKRAINE)[0] == 200
        assert connection.post(UKRAINE)[0] == 200  # kept, and answered from the cache
        revoke_certificate(world.store, world.ca, OPERATOR, user.serial, "key-compromise")
        status, body = connection.post(UKRAINE)
        assert status == 401 and "data" not in body
        assert connection.sockets[0] is connection.sockets[2]  # the same TLS connection, kept alive
    finally:
        connection.close()


def test_a_changed_disclosure_is_never_answered_from_the_kept_answer(world: World) -> None:
    """The same user, the same document: protected while the grant is aggregated; exact (the
    database's own numbers) from the request after an individual grant replaces it."""
    user = world.new_user("101", (("voksenhandicap", "aggregated"),))
    (aggregated,) = world.store.list_grants(OPERATOR, login=user.login)
    month = _month(world, user, OWN, "Voksne Handicappede")
    query = BY_PLACE.replace("MONTH", month)
    truth = sorted(_direct(world, OWN, TRUTH_BY_PLACE, m=month))
    with world.client(user) as client:
        protected = [sorted(row[-1] for row in post(client, query).json()["data"]["execute"]["rowset"]["rows"])
                     for _ in range(2)]
        assert protected[0] == protected[1] != truth
        world.store.revoke_grant(OPERATOR, aggregated.id)
        grant = world.store.add_grant(OPERATOR, login=user.login, area="voksenhandicap", valid_areas=AREAS,
                                      level="individual", purpose="API tests")
        if grant.awaiting_approval:
            world.store.approve_grant(APPROVER, grant.id)
        post(client, "{ me { login } }")  # this revision's grants in memory: the kept entry is checked
        hits = world.gateway.responses.hits
        exact = sorted(row[-1] for row in post(client, query).json()["data"]["execute"]["rowset"]["rows"])
    assert exact == truth and world.gateway.responses.hits == hits


def test_two_users_never_share_a_kept_answer(world: World, executions: list[str]) -> None:
    first, second = world.new_user("101", (("ukraine", "aggregated"),)), world.new_user("101", (("ukraine", "aggregated"),))
    for user in (first, second):
        with world.client(user) as client:
            post(client, UKRAINE)
    assert executions == [UKRAINE, UKRAINE]  # the second user's request ran for itself


def test_only_answers_to_execute_are_kept(world: World) -> None:
    user = world.new_user("101", (("ukraine", "aggregated"),))
    kept = len(world.gateway.responses)
    with world.client(user) as client:
        for query in ("{ me { login grants { dataArea } } }", '{ catalogs { name } }', '{ catalog(name: "FLIS Ukraine-101") { name } }',
                      '{ execute(catalog: "FLIS Ukraine-147", query: {cube: "Ukraine Statistik", measures: ["[Measures].[Indrejste]"]})'
                      " { cellSet { cells { value } } } }"):
            post(client, query)
    assert len(world.gateway.responses) == kept


def test_the_kept_answers_stay_within_their_bound_in_bytes(world: World) -> None:
    bound = 16 * 1024
    gateway = dataclasses.replace(world.gateway, responses=ResponseCache(bound))
    user = world.new_user("101", (("ukraine", "aggregated"),))
    with world.serve(create_app(world.settings, gateway=gateway)) as server, world.client(user, url=server.url) as client:
        for measure in ("Indrejste", "Udrejste", "Tilflyttede", "Fraflyttede", "Nettotilvækst"):
            for level in ("[Køn].[Køn]", "[Tid].[År]", "[Aldersgruppe].[Aldersgruppe]"):
                query = UKRAINE.replace("Fraflyttede", measure).replace("[Køn].[Køn]", level)
                assert post(client, query).status_code == 200
                assert gateway.responses.size_bytes <= bound
    assert 0 < len(gateway.responses) < 15  # the oldest went out to make room
