"""Disclosure control through the GraphQL door, over real mTLS on the demo's data.

The issue's own attack: an aggregated grant narrowed Voksenhandicap down to cells of one person
(Opholdssted × Målgruppe × Funktionsvurdering for one month), and the benchmark showed other
kommuner's single persons. Here the same queries show no small count; an individual grant in
the own kommune still gets the database's exact numbers; the result cache never hands one
caller's answer to the other.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from api_world import ApiUser, World, gql_data

OWN = "FLIS Voksne Handicappede-101"
BENCHMARK = "FLIS Voksne Handicappede Benchmark"
EXECUTE = """query($catalog: String!, $q: CubeQueryInput!) {
  execute(catalog: $catalog, query: $q) { rowset { rows } }
}"""
MONTHS = """query($catalog: String!, $cube: String!) {
  catalog(name: $catalog) { cube(name: $cube) { dimensions { name hierarchies { levels { name members(first: 1000) {
    items { key } } } } } } }
}"""
LEVELS = ("[Opholdssted].[Opholdssted]", "[Målgruppe].[Målgruppe].[Målgruppe]", "[Funktionsvurdering].[Funktionsvurdering]")
# the same grouping, straight from the database file: the exact answer an attacker wants
EXACT_SQL = """SELECT count(DISTINCT person_ydelse) FROM forloeb_maaned WHERE maaned = :m
               GROUP BY opholdssted, maalgruppe_kode, funktionsvurdering"""


def _month(world: World, user: ApiUser, catalog: str, cube: str) -> str:
    """The latest month with data: the issue asked for one month."""
    with world.client(user) as client:
        data = gql_data(client, MONTHS, {"catalog": catalog, "cube": cube})
    tid = next(d for d in data["catalog"]["cube"]["dimensions"] if d["name"] == "Tid")
    months = next(lv for lv in tid["hierarchies"][0]["levels"] if lv["name"] == "Måned")["members"]["items"]
    return str(months[-1]["key"])


def _values(world: World, user: ApiUser, catalog: str, query: dict[str, Any]) -> list[list[Any]]:
    with world.client(user) as client:
        rows = gql_data(client, EXECUTE, {"catalog": catalog, "q": query})["execute"]["rowset"]["rows"]
    return [list(row) for row in rows]


def _direct(world: World, catalog: str, sql: str, **params: object) -> list[int]:
    with world.gateway.registry.connect(catalog) as connection:
        return [int(row[0]) for row in connection.execute(sa.text(sql), params)]


def _grid(cube: str, month: str, measure: str = "[Measures].[Ydelsesmodtagere]") -> dict[str, Any]:
    return {
        "cube": cube,
        "measures": [measure],
        "rows": [{"level": level} for level in LEVELS],
        "slicers": [f"[Tid].[Tid].[Måned].&[{month}]"],
    }


def test_an_aggregated_grant_no_longer_narrows_its_own_kommune_down_to_one_person(world: World) -> None:
    user = world.user("some101")  # Voksenhandicap at the aggregated level
    month = _month(world, user, OWN, "Voksne Handicappede")
    truth = _direct(world, OWN, EXACT_SQL, m=month)
    assert sum(1 for v in truth if v < 3) > 5  # the attack has something to find
    shown = [row[-1] for row in _values(world, user, OWN, _grid("Voksne Handicappede", month))]
    assert shown and all(v is None or v == 0 or v >= 3 for v in shown)


def test_an_individual_grant_gets_the_exact_numbers_of_its_own_kommune(world: World) -> None:
    user = world.user("full101")  # Voksenhandicap at the individual level
    month = _month(world, user, OWN, "Voksne Handicappede")
    shown = sorted(row[-1] for row in _values(world, user, OWN, _grid("Voksne Handicappede", month)))
    assert shown == sorted(_direct(world, OWN, EXACT_SQL, m=month))


@pytest.mark.parametrize("who", ["full101", "some101"])
def test_the_benchmark_shows_no_other_kommunes_small_cells_whatever_the_grant(world: World, who: str) -> None:
    user = world.user(who)
    month = _month(world, user, BENCHMARK, "Voksne Handicappede Benchmark")
    truth = _direct(world, BENCHMARK, EXACT_SQL, m=month)
    assert sum(1 for v in truth if v < 5) > 5
    shown = [row[-1] for row in _values(world, user, BENCHMARK, _grid("Voksne Handicappede Benchmark", month))]
    assert shown and all(v is None or v == 0 or v >= 5 for v in shown)


def test_the_result_cache_never_crosses_between_exact_and_protected_callers(world: World) -> None:
    exact_user, protected_user = world.user("full101"), world.user("some101")
    cache = world.gateway.sessions.cache
    assert cache is not None
    month = _month(world, exact_user, OWN, "Voksne Handicappede")
    # two queries no other test asks, each asked first by one kind of caller and then by the other
    by_place = {"cube": "Voksne Handicappede", "measures": ["[Measures].[Unikke modtagere]"],
                "rows": [{"level": "[Opholdssted].[Opholdssted]"}], "slicers": [f"[Tid].[Tid].[Måned].&[{month}]"]}
    by_group = {**by_place, "rows": [{"level": "[Målgruppe].[Målgruppe].[Målgruppe]"}]}
    truth_place = sorted(_direct(world, OWN, "SELECT count(DISTINCT person_noegle) FROM forloeb_maaned "
                                             "WHERE maaned = :m GROUP BY opholdssted", m=month))
    truth_group = sorted(_direct(world, OWN, "SELECT count(DISTINCT person_noegle) FROM forloeb_maaned "
                                             "WHERE maaned = :m GROUP BY maalgruppe_kode", m=month))
    for first, second, query, truth in (
        (exact_user, protected_user, by_place, truth_place),
        (protected_user, exact_user, by_group, truth_group),
    ):
        answers = {}
        for user in (first, second, first, second):  # the repeats are answered from the cache
            hits = cache.results.hits + world.gateway.responses.hits
            answers.setdefault(user.login, []).append(sorted(row[-1] for row in _values(world, user, OWN, query)))
            if len(answers[user.login]) == 2:
                assert cache.results.hits + world.gateway.responses.hits > hits  # a cache is really in play
        exact, protected = answers[exact_user.login], answers[protected_user.login]
        assert exact[0] == exact[1] == truth
        assert protected[0] == protected[1] != truth


def test_discover_tells_each_caller_whether_their_answers_are_protected(world: World) -> None:
    query = "query($n: String!) { catalog(name: $n) { cubes { name disclosureControl } } }"
    seen = {}
    for who, catalog in (("full101", OWN), ("some101", OWN), ("full101", BENCHMARK), ("full101", "FLIS KL Databank")):
        with world.client(world.user(who)) as client:
            seen[(who, catalog)] = [c["disclosureControl"] for c in gql_data(client, query, {"n": catalog})["catalog"]["cubes"]]
    assert seen == {
        ("full101", OWN): [False],  # individual grant at home: exact
        ("some101", OWN): [True],
        ("full101", BENCHMARK): [True],  # other kommuner's citizens: protected whatever the grant
        ("full101", "FLIS KL Databank"): [False],  # published figures
    }
