"""The served path is cheap: a repeated query is answered on the event loop, with no thread hop,
and still passes the same access check (a revoked grant stops it on the next request)."""

from __future__ import annotations

from typing import Any

import pytest
from api_world import OPERATOR, World, post

import gateway.api.schema as schema_module

EXECUTE = (
    '{ execute(catalog: "FLIS Ukraine-101", query: {cube: "Ukraine Statistik", measures: ["[Measures].[Udrejste]"],'
    ' rows: [{level: "[Køn].[Køn]"}]}) { cellSet { cells { ordinal value } } } }'
)


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the functions the GraphQL resolvers hand to the thread pool."""
    calls: list[str] = []
    original = schema_module.run_in_threadpool

    async def counting(func: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(func.__name__)
        return await original(func, *args, **kwargs)

    monkeypatch.setattr(schema_module, "run_in_threadpool", counting)
    return calls


def test_a_repeated_query_is_answered_without_a_thread_hop_until_the_grant_is_revoked(
    world: World, hops: list[str]
) -> None:
    user = world.new_user("101", (("ukraine", "aggregated"),))
    (grant,) = world.store.list_grants(OPERATOR, login=user.login)
    with world.client(user) as client:
        first = post(client, EXECUTE).json()
        assert "errors" not in first and hops == ["_execute"]  # computed in a worker thread
        hops.clear()
        assert post(client, EXECUTE).json() == first  # the same answer, from memory
        assert hops == []
        world.store.revoke_grant(OPERATOR, grant.id)
        refused = post(client, EXECUTE).json()
        assert refused["errors"][0]["extensions"]["code"] == "ACCESS_DENIED" and refused["data"] is None


def test_the_cells_of_an_answer_from_memory_count_against_the_request_limit(world: World, hops: list[str]) -> None:
    """Aliases cannot multiply the cell limit, whichever path answers them."""
    user = world.new_user("101", (("ukraine", "aggregated"),))
    body = EXECUTE[1:-1]
    with world.client(user) as client:
        post(client, EXECUTE)
        hops.clear()
        many = "{ " + " ".join(f"a{i}: {body}" for i in range(3)) + " }"
        answer = post(client, many).json()
        assert hops == [] and all(answer["data"][f"a{i}"] for i in range(3))
    audited = [r.event for r in world.gateway.audit.query(login=user.login)]
    assert audited[-1].cells == 3 * 2
