"""Limits and audit detail found missing in review: member-lookup budget, person-level reads on
record, Discover naming its databases, deep JSON, the request deadline."""

from __future__ import annotations

import dataclasses
import time

import pytest
from api_world import World, audit_events_for, post

from gateway.api.context import RequestTrail
from gateway.api.execute_types import AxisItemInput, CubeQueryInput
from gateway.api.results import cube_query_from_input
from gateway.app import build_gateway, create_app
from gateway.errors import QueryTimeoutError

VH_101 = "FLIS Voksne Handicappede-101"
PERSONS = '{ catalog(name: "FLIS Voksne Handicappede-101") { cube(name: "Voksne Handicappede") { dimensions { hierarchies { levels { uniqueName members(first: 2) { totalCount } } } } } } }'


def test_a_request_may_look_up_members_only_so_many_times(world: World) -> None:
    settings = dataclasses.replace(world.settings, max_member_queries=3)
    gateway = build_gateway(settings, store=world.store)
    app = create_app(settings, gateway=gateway)
    try:
        with world.serve(app) as server, world.client(world.user("some101"), url=server.url) as client:
            body = post(client, PERSONS).json()
    finally:
        gateway.registry.close()
    codes = {error["extensions"]["code"] for error in body["errors"]}
    assert codes == {"LIMIT_EXCEEDED"}


def test_reading_person_level_members_is_on_record_with_its_database(world: World) -> None:
    with world.client(world.user("full101")) as client:
        response = post(client, PERSONS)
    assert response.status_code == 200 and "errors" not in response.json()
    (record,) = audit_events_for(world, response.headers["x-request-id"])
    assert "read_individual" in record.event.operation.split(",")
    assert record.event.database == VH_101


def test_listing_catalogs_names_every_database_it_showed(world: World) -> None:
    with world.client(world.user("some101")) as client:
        response = post(client, "{ catalogs { name } }")
    shown = {c["name"] for c in response.json()["data"]["catalogs"]}
    (record,) = audit_events_for(world, response.headers["x-request-id"])
    assert set((record.event.database or "").split(",")) == shown


def test_deeply_nested_json_is_a_clear_400_and_audited(world: World) -> None:
    deep = '{"query": "{ me { login } }", "variables": {"v": ' + "[" * 20000 + "]" * 20000 + "}}"
    with world.client(world.user("some101")) as client:
        response = client.post("/graphql", content=deep, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "MALFORMED_JSON"
    assert len(audit_events_for(world, response.headers["x-request-id"])) == 1


def test_work_left_after_the_request_deadline_is_not_started(world: World) -> None:
    user = world.user("some101")
    principal = world.store.principal_for(user.fingerprint)
    assert principal is not None
    trail = RequestTrail(deadline=time.monotonic() - 1)
    session = world.gateway.sessions(principal, trail)
    query = CubeQueryInput(cube="Ukraine Statistik", measures=["[Measures].[Indrejste]"], rows=[AxisItemInput(level="[Køn].[Køn]")])
    with pytest.raises(QueryTimeoutError):
        session.query("FLIS Ukraine-101", cube_query_from_input(query))
    assert trail.cells == 0
    assert trail.databases == ["FLIS Ukraine-101"]  # the attempt is still on record for the audit event
