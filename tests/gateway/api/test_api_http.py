"""GraphQL over HTTP: everything a client can get wrong is a clear 4xx (never a 500), and every
request, good or bad, leaves exactly one audit event carrying its x-request-id."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from api_world import World, audit_events_for

from gateway.identity.middleware import NO_CERTIFICATE_MESSAGE

JSON = {"content-type": "application/json"}
DEEP = (
    '{ catalog(name: "FLIS Ukraine-101") { cube(name: "Ukraine Statistik") { dimensions { hierarchies { levels { members {'
    " items { parent { parent { parent { children { items { parent { children { items { caption } } } } } } } } } } } } } } } }"
)


def _json(query: str, **extra: Any) -> bytes:
    return json.dumps({"query": query, **extra}).encode()


Send = Callable[[httpx.Client], httpx.Response]

CASES: dict[str, tuple[Send, int, str]] = {
    "malformed-json": (lambda c: c.post("/graphql", content=b"{not json", headers=JSON), 400, "MALFORMED_JSON"),
    "not-utf8": (lambda c: c.post("/graphql", content=b"\xff\xfe{}", headers=JSON), 400, "MALFORMED_JSON"),
    "json-array": (lambda c: c.post("/graphql", content=b"[1, 2]", headers=JSON), 400, "MALFORMED_REQUEST"),
    "no-query": (lambda c: c.post("/graphql", content=b"{}", headers=JSON), 400, "MALFORMED_REQUEST"),
    "variables-not-object": (
        lambda c: c.post("/graphql", content=_json("{ me { login } }", variables=[1]), headers=JSON),
        400,
        "MALFORMED_REQUEST",
    ),
    # GraphQL spec 6.1 GetOperation: no guessing which operation was meant, and never a 500
    "unknown-operation-name": (
        lambda c: c.post("/graphql", content=_json("query A { me { login } }", operationName="B"), headers=JSON),
        400,
        "OPERATION_NOT_FOUND",
    ),
    "operation-name-for-an-anonymous-document": (
        lambda c: c.post("/graphql", content=_json("{ me { login } }", operationName="A"), headers=JSON),
        400,
        "OPERATION_NOT_FOUND",
    ),
    "two-operations-and-no-name": (
        lambda c: c.post("/graphql", content=_json("query A { me { login } } query B { catalogs { name } }"), headers=JSON),
        400,
        "OPERATION_NAME_REQUIRED",
    ),
    "two-operations-and-no-name-over-get": (
        lambda c: c.get("/graphql", params={"query": "query A { me { login } } { catalogs { name } }"}),
        400,
        "OPERATION_NAME_REQUIRED",
    ),
    "query-string-too-long": (
        lambda c: c.get("/graphql", params={"query": "{ me { login } }" + " " * 17_000}),
        414,
        "URI_TOO_LONG",
    ),
    "malformed-graphql": (lambda c: c.post("/graphql", content=_json("{ me { login "), headers=JSON), 400, "GRAPHQL_PARSE_FAILED"),
    "too-deep": (lambda c: c.post("/graphql", content=_json(DEEP), headers=JSON), 400, "GRAPHQL_VALIDATION_FAILED"),
    "too-many-aliases": (
        lambda c: c.post("/graphql", content=_json("{ " + " ".join(f"a{i}: me {{ login }}" for i in range(20)) + " }"), headers=JSON),
        400,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "too-many-tokens": (
        lambda c: c.post("/graphql", content=_json("{ me { " + "login " * 2100 + "} }"), headers=JSON),
        400,
        "GRAPHQL_PARSE_FAILED",
    ),
    "oversized-body": (
        lambda c: c.post("/graphql", content=_json("{ me { login } }", padding="x" * 70_000), headers=JSON),
        413,
        "PAYLOAD_TOO_LARGE",
    ),
    "oversized-chunked-body": (
        lambda c: c.post("/graphql", content=iter([b'{"query": "', b"x" * 70_000, b'"}']), headers=JSON),
        413,
        "PAYLOAD_TOO_LARGE",
    ),
    "unsupported-media-type": (
        lambda c: c.post("/graphql", content=b"{ me { login } }", headers={"content-type": "text/plain"}),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    "mutation": (lambda c: c.post("/graphql", content=_json("mutation { me { login } }"), headers=JSON), 405, "OPERATION_NOT_ALLOWED"),
    "mutation-by-get": (lambda c: c.get("/graphql", params={"query": "mutation { x }"}), 405, "OPERATION_NOT_ALLOWED"),
    "subscription": (
        lambda c: c.post("/graphql", content=_json("subscription { me { login } }"), headers=JSON),
        405,
        "OPERATION_NOT_ALLOWED",
    ),
    "unknown-field": (lambda c: c.post("/graphql", content=_json("{ secrets }"), headers=JSON), 400, "GRAPHQL_VALIDATION_FAILED"),
    "variable-of-wrong-type": (
        lambda c: c.post(
            "/graphql", content=_json("query($n: String!) { catalog(name: $n) { name } }", variables={"n": 5}), headers=JSON
        ),
        400,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "variable-missing": (
        lambda c: c.post("/graphql", content=_json("query($n: String!) { catalog(name: $n) { name } }"), headers=JSON),
        400,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "get-without-query": (lambda c: c.get("/graphql"), 400, "MALFORMED_REQUEST"),
    "get-bad-variables": (
        lambda c: c.get("/graphql", params={"query": "{ me { login } }", "variables": "{nope"}),
        400,
        "MALFORMED_REQUEST",
    ),
    "put": (lambda c: c.put("/graphql", content=_json("{ me { login } }"), headers=JSON), 405, "METHOD_NOT_ALLOWED"),
    "delete": (lambda c: c.delete("/graphql"), 405, "METHOD_NOT_ALLOWED"),
    "unknown-path": (lambda c: c.get("/admin/users"), 404, "NOT_FOUND"),
    "post-to-health-check": (lambda c: c.post("/healthz", content=b"{}", headers=JSON), 404, "NOT_FOUND"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_client_mistakes_get_a_clear_4xx_and_exactly_one_audit_event(world: World, case: str) -> None:
    send, status, code = CASES[case]
    user = world.user("some101")
    before = len(world.gateway.audit.query())
    with world.client(user) as client:
        response = send(client)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert "data" not in body or body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == [code]
    assert "Internal server error" not in response.text
    (record,) = audit_events_for(world, response.headers["x-request-id"])
    assert len(world.gateway.audit.query()) == before + 1
    assert record.event.login == user.login and record.event.outcome == "failed"
    assert record.event.reason is not None and record.event.reason.startswith(code)


def test_the_named_operation_of_several_is_the_one_that_runs(world: World) -> None:
    document = "query A { me { login } } query B { catalogs { name } }"
    with world.client(world.user("some101")) as client:
        a = client.post("/graphql", content=_json(document, operationName="A"), headers=JSON)
        b = client.get("/graphql", params={"query": document, "operationName": "B"})
    assert a.status_code == 200 and set(a.json()["data"]) == {"me"}
    assert b.status_code == 200 and set(b.json()["data"]) == {"catalogs"}


def test_a_query_string_just_under_the_limit_is_served(world: World) -> None:
    query = "{ me { login } }"
    padding = world.settings.max_query_string_bytes - len("query=") - len(query) * 3 - 10  # spaces encode as '+'
    with world.client(world.user("some101")) as client:
        response = client.get("/graphql", params={"query": query + " " * padding})
    assert response.status_code == 200, response.text


def test_every_answer_carries_a_request_id_even_the_health_check(world: World) -> None:
    with world.client(world.user("some101")) as client:
        first, second = client.get("/healthz"), client.get("/healthz")
    assert first.status_code == 200 and first.json() == {"status": "ok"}
    assert len(first.headers["x-request-id"]) == 32 and first.headers["x-request-id"] != second.headers["x-request-id"]


def test_get_with_a_query_is_served_and_audited(world: World) -> None:
    user = world.user("some101")
    with world.client(user) as client:
        response = client.get("/graphql", params={"query": "{ me { login } }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"me": {"login": user.login}}}
    (record,) = audit_events_for(world, response.headers["x-request-id"])
    assert record.event.outcome == "served" and record.event.operation == "me"
    assert record.event.query == "{\n  me {\n    login\n  }\n}"


def test_introspection_is_served_and_audited(world: World) -> None:
    with world.client(world.user("some101")) as client:
        response = client.post("/graphql", content=_json("{ __schema { queryType { name } } }"), headers=JSON)
    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    (record,) = audit_events_for(world, response.headers["x-request-id"])
    assert record.event.outcome == "served"


def test_no_suggestions_leak_names_the_client_did_not_ask_for(world: World) -> None:
    with world.client(world.user("some101")) as client:
        response = client.post("/graphql", content=_json("{ catalog { nam } }"), headers=JSON)
    assert response.status_code == 400
    assert "Did you mean" not in response.text


def test_a_client_without_certificate_never_reaches_the_endpoint_and_is_told_one_is_required(world: World) -> None:
    """Not a connection reset: a 401 saying so, with a request id, and an identity audit event."""
    context = ssl.create_default_context(cafile=str(world.ca_file))  # trusts the server, presents nothing
    with httpx.Client(base_url=world.url, verify=context) as client:
        response = client.post("/graphql", content=_json("{ me { login } }"), headers=JSON)
    assert response.status_code == 401
    assert response.json() == {"errors": [{"message": NO_CERTIFICATE_MESSAGE, "extensions": {"code": "UNAUTHENTICATED"}}]}
    request_id = response.headers["x-request-id"]
    (record,) = [r for r in world.gateway.audit.query(outcome="refused") if r.event.request_id == request_id]
    assert record.event.reason == "no_certificate" and record.event.operation == "identity"
    assert record.event.login is None and record.event.client_address == "127.0.0.1"
