"""Every way of naming a database files its audit events under one (canonical) name; a name that
resolves to nothing is recorded as sent, and the client learns nothing from either."""

from __future__ import annotations

import json

import pytest
from api_world import World, audit_events_for, post

EXECUTE = (
    "query($n: String!) { execute(catalog: $n, query: {cube: \"Ukraine Statistik\", measures: [\"[Measures].[Indrejste]\"]})"
    " { cellSet { cells { value } } } }"
)
CATALOG = "query($n: String!) { catalog(name: $n) { name } }"

SPELLINGS_101 = (
    "FLIS Ukraine-101",
    "flis ukraine-101",
    "FLIS UKRAINE-101",
    "fLiS uKrAiNe-101",
    "\ufb02is Ukraine-101",  # the 'fl' ligature: case-folds to 'fl'
    "FLI\u017f Ukraine-101",  # long s: case-folds to 's'
)


@pytest.mark.parametrize("query", [EXECUTE, CATALOG], ids=["execute", "catalog"])
def test_every_spelling_of_a_readable_database_is_filed_under_its_canonical_name(world: World, query: str) -> None:
    user = world.user("some101")
    with world.client(user) as client:
        responses = {name: post(client, query, {"n": name}) for name in SPELLINGS_101}
    request_ids = set()
    for name, response in responses.items():
        body = response.json()
        assert "errors" not in body, (name, body)
        (record,) = audit_events_for(world, response.headers["x-request-id"])
        assert record.event.database == "FLIS Ukraine-101", name
        assert record.event.outcome == "served"
        assert json.dumps(name, ensure_ascii=False) in (record.event.query or "")  # the spelling sent stays on record
        request_ids.add(response.headers["x-request-id"])
    filed = {r.event.request_id for r in world.gateway.audit.query(database="FLIS Ukraine-101")}
    assert request_ids <= filed


def test_a_denied_database_is_filed_canonically_but_answered_in_the_clients_spelling(world: World) -> None:
    user = world.user("some101")
    spellings = ("FLIS Ukraine-147", "flis ukraine-147", "\ufb02is UKRAINE-147")
    with world.client(user) as client:
        responses = {name: post(client, EXECUTE, {"n": name}) for name in spellings}
    for name, response in responses.items():
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "ACCESS_DENIED"
        assert f"'{name}' database" in error["message"]  # never the canonical name: it would confirm existence
        assert "FLIS Ukraine-147" not in error["message"] or name == "FLIS Ukraine-147"
        (record,) = audit_events_for(world, response.headers["x-request-id"])
        assert record.event.database == "FLIS Ukraine-147" and record.event.outcome == "denied"


@pytest.mark.parametrize("name", ["flis ukraine-999", "FLIS Ukraine-101 ", "FLIS Nothing\nserved", "x\u202eabc"])
def test_a_name_that_resolves_to_nothing_is_recorded_as_sent(world: World, name: str) -> None:
    user = world.user("some101")
    with world.client(user) as client:
        response = post(client, EXECUTE, {"n": name})
        existing = post(client, EXECUTE, {"n": "FLIS Ukraine-147"})
    [error] = response.json()["errors"]
    [other] = existing.json()["errors"]
    assert error["message"] == other["message"].replace("FLIS Ukraine-147", name)  # the uniform denial
    (record,) = audit_events_for(world, response.headers["x-request-id"])
    assert record.event.database == name and record.event.outcome == "denied"
