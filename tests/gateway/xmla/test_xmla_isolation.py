"""Tenant isolation and the uniform denial through XMLA: the catalog list, Discover restrictions,
the Catalog property, FROM and DMV WHERE all pass the one gate, and every request is exactly one
audit event. Person-level levels stay out of sight without an individual grant."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from lxml import etree

from tests.gateway.api.api_world import World, audit_events_for
from xmla_client import DENIAL, Answer, axis_tuples, cells, discover, execute, number, post

DENIED = ("FLIS Ukraine-147", "FLIS Ukraine-999", "FLIS Borger-101", "FLIS KL Databank", "FLIS Nothing")
PLACEHOLDER = "\u2063DATABASE\u2063"


def _denial_shape(answer: Answer, name: str) -> tuple[int, bytes]:
    """Status and body with the asked-for name replaced: the rest must be byte-identical."""
    body = answer.response.content.decode()
    assert name in body
    return answer.response.status_code, body.replace(name, PLACEHOLDER).encode()


def test_catalog_lists_hold_only_the_callers_readable_databases(world: World) -> None:
    for user_name, own, foreign in (("exact101", "101", "147"), ("full147", "147", "101")):
        with world.client(world.user(user_name)) as client:
            names = [r["CATALOG_NAME"] for r in discover(client, "DBSCHEMA_CATALOGS").rows()]
        assert any(name.endswith(own) for name in names)
        assert not any(name.endswith(foreign) for name in names), names
    with world.client(world.user("some101")) as client:
        names = {r["CATALOG_NAME"] for r in discover(client, "DBSCHEMA_CATALOGS").rows()}
    # Ukraine and Voksenhandicap granted: those and their benchmarks; no Borger, no KL Databank
    assert names == {"FLIS Ukraine-101", "FLIS Ukraine Benchmark", "FLIS Voksne Handicappede-101",
                     "FLIS Voksne Handicappede Benchmark"}


@pytest.mark.parametrize(
    "ask",
    [
        lambda c, n: discover(c, "MDSCHEMA_CUBES", {"CATALOG_NAME": n}),
        lambda c, n: discover(c, "DBSCHEMA_CATALOGS", {"CATALOG_NAME": n}),
        lambda c, n: discover(c, "MDSCHEMA_MEMBERS", {"CATALOG_NAME": n, "CUBE_NAME": "Ukraine Statistik"}),
        lambda c, n: discover(c, "MDSCHEMA_DIMENSIONS", {}, {"Catalog": n}),
        lambda c, n: execute(c, "SELECT {[Measures].[Indrejste]} ON 0 FROM [Ukraine Statistik]", {"Catalog": n}),
        lambda c, n: execute(c, f"SELECT {{[Measures].[Indrejste]}} ON 0 FROM [{n}].[Ukraine Statistik]", {}),
        lambda c, n: execute(c, f"SELECT {{[Measures].[Indrejste]}} ON 0 FROM [{n}].[Ukraine Statistik]",
                             {"Catalog": "FLIS Ukraine-101"}),
        lambda c, n: execute(c, f"SELECT {{[Measures].[Indrejste]}} ON 0 FROM [{n}]", {}),
        lambda c, n: execute(c, f"SELECT [CUBE_NAME] FROM $system.MDSCHEMA_CUBES WHERE CATALOG_NAME = '{n}'", {}),
    ],
    ids=["restriction", "catalogs-restriction", "members", "property", "execute-property", "execute-from",
         "execute-from-beside-own-catalog", "execute-from-database", "dmv-where"],
)
def test_denied_and_missing_databases_get_the_same_fault_everywhere(
    world: World, ask: Callable[[httpx.Client, str], Answer]
) -> None:
    user = world.user("some101")
    with world.client(user) as client:
        answers = {name: ask(client, name) for name in DENIED}
    for name, answer in answers.items():
        assert answer.fault == DENIAL.format(login=user.login, database=name)
        assert answer.fault_description == answer.fault
        assert answer.response.status_code == 200
        events = audit_events_for(world, answer.response.headers["x-request-id"])
        assert len(events) == 1 and events[0].event.outcome == "denied", events
        assert name in (events[0].event.database or "")
    shapes = {_denial_shape(answer, name) for name, answer in answers.items()}
    assert len(shapes) == 1, shapes


MAX_NOISE = 2  # schema/ukraine.yaml disclosure.max_noise


def test_no_number_from_another_kommune_comes_back(world: World) -> None:
    mdx = "SELECT {[Measures].[Indrejste]} ON 0 FROM [Ukraine Statistik]"
    totals = {}
    for user_name, catalog in (("exact101", "FLIS Ukraine-101"), ("full147", "FLIS Ukraine-147")):
        with world.client(world.user(user_name)) as client:
            answer = execute(client, mdx, {"Catalog": catalog})
        assert answer.fault is None, answer.fault
        totals[catalog] = number(cells(answer.mddataset()).get(0)) or 0
        # the database's own number: exact with exact101's individual grant, within the
        # disclosure noise (max_noise 2) for full147's aggregated one
        assert abs(totals[catalog] - world.oracle(catalog, "select sum(indrejst) from haendelser")) <= MAX_NOISE
    assert abs(totals["FLIS Ukraine-101"] - totals["FLIS Ukraine-147"]) > 2 * MAX_NOISE  # a neighbour's would show


def test_person_level_levels_need_an_individual_grant(world: World) -> None:
    restrict = {"CATALOG_NAME": "FLIS Voksne Handicappede-101"}
    persons = {**restrict, "LEVEL_UNIQUE_NAME": "[Borger].[Borger].[Personnummer]"}
    with world.client(world.user("exact101")) as client:  # individual grant
        individual = {r["LEVEL_NAME"] for r in discover(client, "MDSCHEMA_LEVELS", restrict).rows()}
        seen = discover(client, "MDSCHEMA_MEMBERS", persons).rows()
    with world.client(world.user("some101")) as client:  # aggregated grant
        aggregated = {r["LEVEL_NAME"] for r in discover(client, "MDSCHEMA_LEVELS", restrict).rows()}
        hidden = discover(client, "MDSCHEMA_MEMBERS", persons)
        mdx = execute(client, "SELECT {[Measures].[Ydelsesmodtagere]} ON 0, [Borger].[Borger].[Personnummer].Members "
                              "ON 1 FROM [Voksne Handicappede]", {"Catalog": "FLIS Voksne Handicappede-101"})
    assert "Personnummer" in individual and len(seen) > 1
    assert "Personnummer" not in aggregated and aggregated < individual
    assert hidden.fault is None and hidden.rows() == []  # not there to list
    assert mdx.fault is not None and "CellData" not in mdx.response.text  # an error, no cells


def test_every_request_is_exactly_one_audit_event(world: World) -> None:
    user = world.user("exact101")
    bodies = [
        ("discover", lambda c: discover(c, "MDSCHEMA_CUBES", {"CATALOG_NAME": "FLIS Ukraine-101"}), "served",
         "xmla.discover", "MDSCHEMA_CUBES CATALOG_NAME=FLIS Ukraine-101"),
        ("execute", lambda c: execute(c, "SELECT  {[Measures].[Indrejste]}\n ON 0 FROM [Ukraine Statistik]",
                                      {"Catalog": "FLIS Ukraine-101"}), "served", "xmla.execute",
         "# Catalog: FLIS Ukraine-101\nSELECT {[Measures].[Indrejste]} ON 0 FROM [Ukraine Statistik]"),
        ("bad-mdx", lambda c: execute(c, "SELEKT nothing", {"Catalog": "FLIS Ukraine-101"}), "failed",
         "xmla.execute", "# Catalog: FLIS Ukraine-101\nSELEKT nothing"),
        ("malformed", lambda c: post(c, "<soap:Envelope"), "failed", "xmla", None),
        ("unknown-rowset", lambda c: discover(c, "DISCOVER_NOTHING"), "failed", "xmla.discover", "DISCOVER_NOTHING"),
    ]
    with world.client(user) as client:
        for name, ask, outcome, operation, query in bodies:
            answer = ask(client)
            events = audit_events_for(world, answer.response.headers["x-request-id"])
            assert len(events) == 1, (name, events)
            event = events[0].event
            assert (event.outcome, event.operation, event.query) == (outcome, operation, query), name
            assert event.login == user.login and event.cert_fingerprint == user.fingerprint
    cells = audit_events_for(world, answer.response.headers["x-request-id"])[0].event.cells
    assert cells == 0


def test_mdx_cells_are_counted_in_the_audit_event(world: World) -> None:
    with world.client(world.user("exact101")) as client:
        answer = execute(client, "SELECT {[Measures].[Indrejste]} ON 0, [Køn].[Køn].[Køn].Members ON 1 FROM [Ukraine Statistik]",
                         {"Catalog": "FLIS Ukraine-101"})
    event = audit_events_for(world, answer.response.headers["x-request-id"])[0].event
    assert event.outcome == "served" and event.database == "FLIS Ukraine-101" and (event.cells or 0) >= 2


def test_mdx_errors_are_clear_faults_not_500s(world: World) -> None:
    with world.client(world.user("exact101")) as client:
        syntax = execute(client, "SELECT {[Measures].[Indrejste] ON 0 FROM [Ukraine Statistik]", {"Catalog": "FLIS Ukraine-101"})
        unknown = execute(client, "SELECT {[Measures].[Nope]} ON 0 FROM [Ukraine Statistik]", {"Catalog": "FLIS Ukraine-101"})
        no_catalog = execute(client, "SELECT {[Measures].[Indrejste]} ON 0 FROM [Ukraine Statistik]", {})
        bad_format = execute(client, "SELECT {[Measures].[Indrejste]} ON 0 FROM [Ukraine Statistik]",
                             {"Catalog": "FLIS Ukraine-101", "Format": "Sideways"})
    for answer in (syntax, unknown, no_catalog, bad_format):  # all 200 with a fault the client shows
        assert answer.response.status_code == 200 and answer.fault, etree.tostring(answer.root)[:300]
        assert "Traceback" not in answer.response.text
    assert "line 1" in syntax.fault
    assert "Nope" in unknown.fault
    # without a Catalog property, FROM names the database: it passes the same gate
    assert no_catalog.fault == DENIAL.format(login=world.user("exact101").login, database="Ukraine Statistik")
    assert "Sideways" in bad_format.fault


def test_a_kept_mdx_answer_is_still_behind_the_gate_and_counted(world: World) -> None:
    from tests.gateway.api.api_world import OPERATOR

    user = world.new_user("101", (("ukraine", "aggregated"),), prefix="xmla")
    mdx = "SELECT {[Measures].[Udrejste]} ON 0, [Køn].[Køn].[Køn].Members ON 1 FROM [Ukraine Statistik]"
    with world.client(user) as client:
        first = execute(client, mdx, {"Catalog": "FLIS Ukraine-101"})
        again = execute(client, mdx, {"Catalog": "FLIS Ukraine-101"})  # the kept answer
        assert first.fault is None and again.fault is None
        assert cells(first.mddataset()) == cells(again.mddataset())
        counted = [audit_events_for(world, a.response.headers["x-request-id"])[0].event.cells for a in (first, again)]
        assert counted[1] == 2 and counted[0] >= 2  # the kept answer's cells are on its audit event too
        (grant,) = world.store.list_grants(OPERATOR, login=user.login)
        world.store.revoke_grant(OPERATOR, grant.id)
        refused = execute(client, mdx, {"Catalog": "FLIS Ukraine-101"})
    assert refused.fault == DENIAL.format(login=user.login, database="FLIS Ukraine-101")
    assert "CellData" not in refused.response.text


UKRAINE_BENCHMARK = "FLIS Ukraine Benchmark"


def test_the_ukraine_benchmark_is_protected_even_for_an_individual_grant(world: World) -> None:
    """Excel on the national picture: every kommune a row, no count from 1 to 4, near the truth."""
    mdx = ("SELECT {[Measures].[Indrejste]} ON 0, [Bopælskommune].[Bopælskommune].[Kommune].Members ON 1 "
           "FROM [Ukraine Statistik]")
    with world.client(world.user("exact101")) as client:  # an individual Ukraine grant: exact at home only
        answer = execute(client, mdx, {"Catalog": UKRAINE_BENCHMARK})
    assert answer.fault is None, answer.fault
    md = answer.mddataset()
    rows = [t[0]["UName"] for t in axis_tuples(md, "Axis1")]
    assert len(rows) == 98
    values = cells(md)
    for ordinal, unique_name in enumerate(rows):
        value = number(values.get(ordinal)) or 0
        kode = unique_name[-4:-1]
        true = world.oracle(UKRAINE_BENCHMARK, f"select coalesce(sum(indrejst), 0) from haendelser where kommune = '{kode}'")
        assert value == 0 or value >= 5, (kode, value)
        assert abs(value - true) <= max(MAX_NOISE, 5), (kode, value, true)
        if kode in ("101", "147"):
            assert true == world.oracle(f"FLIS Ukraine-{kode}", "select sum(indrejst) from haendelser") and value >= 5


def test_without_a_ukraine_grant_the_benchmark_is_the_uniform_denial(world: World) -> None:
    user = world.new_user("147", (("borger", "aggregated"),), prefix="xmla")
    mdx = "SELECT {[Measures].[Indrejste]} ON 0 FROM [Ukraine Statistik]"
    with world.client(user) as client:
        names = {r["CATALOG_NAME"] for r in discover(client, "DBSCHEMA_CATALOGS").rows()}
        answers = {name: execute(client, mdx, {"Catalog": name}) for name in (UKRAINE_BENCHMARK, "FLIS Ukraine-999")}
    assert UKRAINE_BENCHMARK not in names and "FLIS Borger Benchmark" in names
    for name, answer in answers.items():
        assert answer.fault == DENIAL.format(login=user.login, database=name)
        (event,) = audit_events_for(world, answer.response.headers["x-request-id"])
        assert event.event.outcome == "denied" and event.event.database == name
    assert _denial_shape(answers[UKRAINE_BENCHMARK], UKRAINE_BENCHMARK) == _denial_shape(
        answers["FLIS Ukraine-999"], "FLIS Ukraine-999")
