"""Schemathesis fuzzes the live gateway over mTLS from the committed SDL: no input is a 5xx.

Schemathesis generates GraphQL documents for every query field (arbitrary strings, nulls, lists,
numbers in every argument); each is sent as generated, and again aimed at a database the user
may read (so the fuzz reaches the plan and the engine, not only the denial). Bounded: a fixed
number of examples, well under a minute.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import schemathesis
from api_world import World
from graphql import ArgumentNode, StringValueNode, parse, print_ast
from graphql.language import Visitor, visit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SDL = Path(__file__).resolve().parents[3] / "schema" / "gateway.graphql"
SCHEMA = schemathesis.graphql.from_file(SDL.read_text(encoding="utf-8"))
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
READABLE = {"catalog": "FLIS Ukraine-101", "name": "FLIS Ukraine-101", "cube": "Ukraine Statistik"}
BUDGET_SECONDS = 40.0


class _AimAtReadableDatabase(Visitor):
    """Point the database and cube arguments at ones the user may read; keep everything else fuzzed."""

    def enter_argument(self, node: ArgumentNode, *_args: object) -> ArgumentNode | None:
        if node.name.value in ("catalog", "name") and isinstance(node.value, StringValueNode):
            return ArgumentNode(name=node.name, value=StringValueNode(value=READABLE[node.name.value]))
        return None

    def enter_object_field(self, node, *_args: object):  # type: ignore[no-untyped-def]
        if node.name.value == "cube" and isinstance(node.value, StringValueNode):
            return node.__class__(name=node.name, value=StringValueNode(value=READABLE["cube"]))
        return None


def _aimed(document: str) -> str:
    return print_ast(visit(parse(document), _AimAtReadableDatabase()))


def test_the_sdl_gives_the_fuzzer_every_query_field() -> None:
    assert sorted(op.label for op in OPERATIONS) == ["Query.catalog", "Query.catalogs", "Query.execute", "Query.me"]


@pytest.mark.slow
def test_no_generated_request_gets_a_server_error(world: World) -> None:
    user = world.user("full101")
    before = world.gateway.audit.head().seq
    started = time.monotonic()
    seen: list[int] = []
    with world.client(user) as client:

        @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(st.sampled_from(OPERATIONS).flatmap(lambda operation: operation.as_strategy()))
        def fuzz(case: schemathesis.Case) -> None:
            if time.monotonic() - started > BUDGET_SECONDS:
                return  # the time bound: remaining examples pass without a request
            for document in (case.body, _aimed(case.body)):
                response = client.post("/graphql", json={"query": document})
                seen.append(response.status_code)
                assert response.status_code < 500, (document, response.text)
                assert response.headers["x-request-id"]
                body = response.json()
                assert "data" in body or "errors" in body

        fuzz()
    assert len(seen) >= 40  # it really ran
    assert world.gateway.audit.head().seq - before == len(seen)  # exactly one audit event per request
    assert time.monotonic() - started < 60
