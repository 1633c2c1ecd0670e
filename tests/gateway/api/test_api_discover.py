"""Discover over real mTLS: who am I, which catalogs, and the model down to members."""

from __future__ import annotations

from typing import Any

from api_world import World, gql_data, post

UKRAINE_101 = "FLIS Ukraine-101"
VH_101 = "FLIS Voksne Handicappede-101"
PERSONNUMMER = "[Borger].[Borger].[Personnummer]"


def _catalog_names(world: World, user: str) -> set[str]:
    with world.client(world.user(user)) as client:
        data = gql_data(client, "{ catalogs { name isBenchmark kommune { kode } dataAsOf } }")
    return {item["name"] for item in data["catalogs"]}


def test_me_names_the_caller_their_kommune_grants_and_certificate(world: World) -> None:
    user = world.user("full101")
    with world.client(user) as client:
        me = gql_data(
            client,
            "{ me { login kommune { kode navn region } roles grants { dataArea level validFrom validTo }"
            " certificateFingerprint certificateExpires } }",
        )["me"]
    assert me["login"] == user.login
    assert me["kommune"] == {"kode": "101", "navn": "København", "region": "Hovedstaden"}
    assert me["roles"] == ["user"]
    assert sorted((g["dataArea"], g["level"]) for g in me["grants"]) == [
        ("borger", "aggregated"),
        ("kl_databank", "aggregated"),
        ("ukraine", "aggregated"),
        ("voksenhandicap", "individual"),
    ]
    # aggregated grants are open-ended; a person-level one lasts at most the maximum (four-eyes)
    assert all((g["validTo"] is None) == (g["level"] == "aggregated") for g in me["grants"])
    assert me["certificateFingerprint"] == user.fingerprint
    assert me["certificateExpires"] > me["grants"][0]["validFrom"]


def test_catalogs_list_own_granted_databases_and_granted_benchmarks_only(world: World) -> None:
    assert _catalog_names(world, "full101") == {
        "FLIS Ukraine-101",
        "FLIS Ukraine Benchmark",
        "FLIS Borger-101",
        "FLIS Borger Benchmark",
        "FLIS Voksne Handicappede-101",
        "FLIS Voksne Handicappede Benchmark",
        "FLIS KL Databank",
    }
    # Ukraine + Voksenhandicap only: no Borger, no KL Databank, and never 147's databases
    assert _catalog_names(world, "some101") == {
        "FLIS Ukraine-101",
        "FLIS Ukraine Benchmark",
        "FLIS Voksne Handicappede-101",
        "FLIS Voksne Handicappede Benchmark",
    }
    assert _catalog_names(world, "full147") == {
        "FLIS Ukraine-147",
        "FLIS Ukraine Benchmark",
        "FLIS Borger-147",
        "FLIS Borger Benchmark",
        "FLIS Voksne Handicappede-147",
        "FLIS Voksne Handicappede Benchmark",
        "FLIS KL Databank",
    }


def test_a_user_without_grants_sees_no_catalogs(world: World) -> None:
    user = world.user("none101")
    with world.client(user) as client:
        assert gql_data(client, "{ catalogs { name } }") == {"catalogs": []}


def test_catalog_describes_the_database_and_its_data_date(world: World) -> None:
    with world.client(world.user("full101")) as client:
        catalog = gql_data(
            client,
            "query($n: String!) { catalog(name: $n) { name dataArea grantName isBenchmark description dataAsOf"
            " kommune { kode navn } } }",
            {"n": "flis ukraine-101"},  # names resolve case-insensitively to the canonical spelling
        )["catalog"]
        benchmark = gql_data(client, '{ catalog(name: "FLIS KL Databank") { isBenchmark kommune { kode } } }')
    assert catalog["name"] == UKRAINE_101
    assert catalog["dataArea"] == "ukraine"
    assert catalog["grantName"] == "FLIS DAP Ukraine"
    assert catalog["isBenchmark"] is False
    assert catalog["kommune"] == {"kode": "101", "navn": "København"}
    assert catalog["description"]
    assert catalog["dataAsOf"] is not None
    assert benchmark["catalog"] == {"isBenchmark": True, "kommune": None}


def test_catalog_walks_from_cubes_to_levels_and_measures(world: World) -> None:
    with world.client(world.user("full101")) as client:
        cubes = gql_data(
            client,
            '{ catalog(name: "FLIS Ukraine-101") { cubes { name description'
            " dimensions { name uniqueName isTime hierarchies { name uniqueName levels { name uniqueName depth individual } } }"
            " measures { name uniqueName kind formatString additive } } } }",
        )["catalog"]["cubes"]
    assert [cube["name"] for cube in cubes] == ["Ukraine Statistik"]
    dimensions = {d["name"]: d for d in cubes[0]["dimensions"]}
    assert {"Tid", "Aldersgruppe", "Køn", "Ægtefælle", "Fra kommune", "Til kommune"} <= set(dimensions)
    tid = dimensions["Tid"]
    assert tid["isTime"] is True and tid["uniqueName"] == "[Tid]"
    levels = tid["hierarchies"][0]["levels"]
    assert [(lv["name"], lv["uniqueName"], lv["depth"]) for lv in levels] == [
        ("År", "[Tid].[Tid].[År]", 0),
        ("Kvartal", "[Tid].[Tid].[Kvartal]", 1),
        ("Måned", "[Tid].[Tid].[Måned]", 2),
        ("Dag", "[Tid].[Tid].[Dag]", 3),
    ]
    measures = {m["name"]: m for m in cubes[0]["measures"]}
    assert {"Indrejste", "Udrejste", "Nettoindvandring", "Tilflyttede", "Fraflyttede"} <= set(measures)
    assert measures["Indrejste"]["uniqueName"] == "[Measures].[Indrejste]"
    assert measures["Indrejste"]["kind"] == "sum" and measures["Indrejste"]["additive"] is True


MEMBERS = """query($first: Int!, $offset: Int!) {
  catalog(name: "FLIS Ukraine-101") { cube(name: "Ukraine Statistik") { dimensions { hierarchies { levels {
    uniqueName
    members(first: $first, offset: $offset) { totalCount offset hasMore items { uniqueName caption key levelUniqueName depth } }
  } } } } }
}"""


def _level_members(client: Any, level: str, first: int, offset: int) -> dict[str, Any]:
    data = gql_data(client, MEMBERS, {"first": first, "offset": offset})
    for dimension in data["catalog"]["cube"]["dimensions"]:
        for hierarchy in dimension["hierarchies"]:
            for found in hierarchy["levels"]:
                if found["uniqueName"] == level:
                    return found["members"]  # type: ignore[no-any-return]
    raise AssertionError(f"level {level} not in the cube")


def test_members_are_paged_with_total_count_and_has_more(world: World) -> None:
    with world.client(world.user("full101")) as client:
        everything = _level_members(client, "[Tid].[Tid].[Måned]", 1000, 0)
        total = everything["totalCount"]
        assert total == len(everything["items"]) > 12
        assert everything["hasMore"] is False
        page = _level_members(client, "[Tid].[Tid].[Måned]", 5, 10)
        last = _level_members(client, "[Tid].[Tid].[Måned]", 5, total - 2)
    assert page["totalCount"] == total and page["offset"] == 10 and page["hasMore"] is True
    assert page["items"] == everything["items"][10:15]
    assert last["hasMore"] is False and last["items"] == everything["items"][-2:]
    first = everything["items"][0]
    assert first["uniqueName"].startswith("[Tid].[Tid].[Måned].&[")
    assert first["levelUniqueName"] == "[Tid].[Tid].[Måned]" and first["depth"] == 2


def test_member_parent_and_children_follow_the_hierarchy(world: World) -> None:
    query = """{ catalog(name: "FLIS Ukraine-101") { cube(name: "Ukraine Statistik") { dimensions { name hierarchies { levels {
      name members(first: 1) { items { uniqueName parent { uniqueName } children(first: 500) { totalCount hasMore items { uniqueName depth parent { uniqueName } } } } }
    } } } } } }"""
    with world.client(world.user("full101")) as client:
        dimensions = gql_data(client, query)["catalog"]["cube"]["dimensions"]
        paged = gql_data(
            client,
            '{ catalog(name: "FLIS Ukraine-101") { cube(name: "Ukraine Statistik") { dimensions { name hierarchies { levels {'
            " name members(first: 1) { items { children(first: 2, offset: 1) { hasMore items { uniqueName } } } } } } } } } }",
        )["catalog"]["cube"]["dimensions"]
    levels = {lv["name"]: lv for lv in next(d for d in dimensions if d["name"] == "Tid")["hierarchies"][0]["levels"]}
    year = levels["År"]["members"]["items"][0]
    assert year["parent"] is None
    quarters = year["children"]["items"]
    assert 1 <= len(quarters) <= 4 and year["children"]["hasMore"] is False
    assert year["children"]["totalCount"] is None
    assert all(q["depth"] == 1 and q["parent"] == {"uniqueName": year["uniqueName"]} for q in quarters)
    day = levels["Dag"]["members"]["items"][0]
    assert day["children"]["items"] == [] and day["parent"]["uniqueName"].startswith("[Tid].[Tid].[Måned].&[")
    paged_year = next(d for d in paged if d["name"] == "Tid")["hierarchies"][0]["levels"][0]["members"]["items"][0]
    assert [q["uniqueName"] for q in paged_year["children"]["items"]] == [q["uniqueName"] for q in quarters[1:3]]


def test_member_paging_arguments_out_of_range_are_client_errors(world: World) -> None:
    with world.client(world.user("full101")) as client:
        for first, offset in ((0, 0), (1001, 0), (5, -1)):
            response = post(client, MEMBERS, {"first": first, "offset": offset})
            body = response.json()
            assert response.status_code == 200
            assert body["errors"][0]["extensions"]["code"] == "INVALID_QUERY", body


def _level_names(world: World, user: str, catalog: str) -> set[str]:
    with world.client(world.user(user)) as client:
        data = gql_data(
            client,
            "query($n: String!) { catalog(name: $n) { cubes { dimensions { hierarchies { levels { uniqueName individual } } } } } }",
            {"n": catalog},
        )
    return {
        level["uniqueName"]
        for cube in data["catalog"]["cubes"]
        for dimension in cube["dimensions"]
        for hierarchy in dimension["hierarchies"]
        for level in hierarchy["levels"]
    }


def test_personnummer_level_is_invisible_without_an_individual_grant(world: World) -> None:
    assert PERSONNUMMER not in _level_names(world, "some101", VH_101)
    assert "[Ydelse].[Ydelse].[Ydelse]" in _level_names(world, "some101", VH_101)
    # and naming it anyway is an ordinary "not found", never a hint that it exists
    with world.client(world.user("some101")) as client:
        response = post(
            client,
            "query($q: CubeQueryInput!) { execute(catalog: \"FLIS Voksne Handicappede-101\", query: $q) { cube } }",
            {"q": {"cube": "Voksne Handicappede", "measures": ["[Measures].[Unikke modtagere]"], "rows": [{"level": PERSONNUMMER}]}},
        )
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert error["message"] == f"The level '{PERSONNUMMER}' was not found in the cube 'Voksne Handicappede'."


def test_personnummer_level_is_visible_and_queryable_with_an_individual_grant(world: World) -> None:
    assert PERSONNUMMER in _level_names(world, "full101", VH_101)
    with world.client(world.user("full101")) as client:
        data = gql_data(
            client,
            "query($q: CubeQueryInput!) { execute(catalog: \"FLIS Voksne Handicappede-101\", query: $q) { rowset { rows } } }",
            {"q": {"cube": "Voksne Handicappede", "measures": ["[Measures].[Unikke modtagere]"],
                   "rows": [{"level": PERSONNUMMER}], "limit": 3}},
        )
    rows = data["execute"]["rowset"]["rows"]
    assert len(rows) == 3 and all(row[1] == 1 for row in rows)


def test_benchmark_has_no_person_level_even_with_an_individual_grant(world: World) -> None:
    assert not any("Personnummer" in name for name in _level_names(world, "full101", "FLIS Voksne Handicappede Benchmark"))
