"""Disclosure control as an attacker meets it: small cells read directly, derived from other
values of the same answer, from differences of several queries, and averaged over repeats.

The data: 400 persons spread over 12 places in 3 areas, 4 groups and 3 months, so most
place × group × month cells hold 0 to 6 persons. Each test compares the protected answer with
the exact one (the view an individual grant gets) and checks that the attack does not land on
the true small value. Runs on DuckDB and PostgreSQL (their own record-key hashes).
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gateway.engine.cellset import CellSet
from gateway.engine.disclosure import CELL_KEY, Protection
from gateway.engine.execute import Limits, run_query
from gateway.engine.plan import plan_query
from gateway.engine.query import CubeQuery, LevelItem, MemberSetItem
from gateway.errors import NotFoundError
from gateway.model.types import Cube, Dimension, DisclosureRule, Hierarchy, Level, Measure, MeasureKind
from gateway.model.view import exact_view, protected_view
from tests.support.databases import duckdb_with, postgres_schema_with

THRESHOLD = 3
NOISE = 2
RULE = DisclosureRule(record_key=("person",), distinct=True, threshold=THRESHOLD, max_noise=NOISE)
PLACES = [f"S{i:02d}" for i in range(12)]
GROUPS = ["A", "B", "C", "D"]
MONTHS = ["2024-01", "2024-02", "2024-03"]
LIMITS = Limits(cell_limit=100_000, timeout_seconds=30)


def _level(name: str, key: str, *, individual: bool = False) -> Level:
    return Level(name, key, key, key, individual)


MODEL = Cube(
    name="Ophold",
    fact_table="ophold",
    dimensions=(
        Dimension("Tid", "sdc_tid", "maaned", "maaned",
                  (Hierarchy("Tid", (_level("År", "aar"), _level("Måned", "maaned"))),), is_time=True, days_column="dage"),
        Dimension("Sted", "sdc_sted", "sted", "sted", (Hierarchy("Sted", (_level("Område", "omraade"), _level("Sted", "sted"))),)),
        Dimension("Gruppe", "sdc_gruppe", "gruppe", "gruppe", (Hierarchy("Gruppe", (_level("Gruppe", "gruppe"),)),)),
        Dimension("Person", "sdc_person", "person", "person",
                  (Hierarchy("Person", (_level("Personnummer", "person", individual=True),)),)),
    ),
    measures=(
        Measure("Modtagere", MeasureKind.DISTINCT_COUNT, column="person"),
        Measure("Forløb", MeasureKind.COUNT),
        Measure("Helårsmodtagere", MeasureKind.DAYS_WEIGHTED, column="dage", along="Tid"),
        Measure("Modtagere pr. forløb", MeasureKind.RATIO, numerator="Modtagere", denominator="Forløb", scale=100.0),
        Measure("Forløb uden første", MeasureKind.CALCULATED, expression="[Forløb] - [Modtagere]"),
        Measure("Forløb i alt", MeasureKind.RUNNING_TOTAL, of="Forløb", along="Tid", additive=False),
    ),
    disclosure=RULE,
)
PROTECTED = (protected_view(MODEL, b"a deployment's secret key"),)
EXACT = (exact_view(MODEL),)


def _rows() -> list[dict[str, object]]:
    generator = random.Random(20240101)
    rows = []
    for number in range(400):
        person = f"P{number:04d}"
        place, group = generator.choice(PLACES), generator.choice(GROUPS)
        for month in MONTHS:
            if generator.random() < 0.6:
                rows.append({"person": person, "maaned": month, "sted": place, "gruppe": group,
                             "dage": generator.randint(1, 30)})
    return rows


def _load(connection: Connection) -> None:
    metadata = sa.MetaData()
    text, integer = sa.String, sa.Integer
    tables = {
        "sdc_tid": [("maaned", text), ("aar", text), ("dage", integer)],
        "sdc_sted": [("sted", text), ("omraade", text)],
        "sdc_gruppe": [("gruppe", text)],
        "sdc_person": [("person", text)],
        "ophold": [("person", text), ("maaned", text), ("sted", text), ("gruppe", text), ("dage", integer)],
    }
    made = {name: sa.Table(name, metadata, *(sa.Column(c, t) for c, t in cols)) for name, cols in tables.items()}
    metadata.create_all(connection)
    facts = _rows()
    connection.execute(made["sdc_tid"].insert(), [{"maaned": m, "aar": "2024", "dage": 30} for m in MONTHS])
    connection.execute(made["sdc_sted"].insert(), [{"sted": p, "omraade": f"O{i % 3}"} for i, p in enumerate(PLACES)])
    connection.execute(made["sdc_gruppe"].insert(), [{"gruppe": g} for g in GROUPS])
    connection.execute(made["sdc_person"].insert(), [{"person": p} for p in sorted({str(r["person"]) for r in facts})])
    connection.execute(made["ophold"].insert(), facts)


@pytest.fixture(scope="module")
def sdc_duck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with duckdb_with(tmp_path_factory.mktemp("sdc") / "cube.duckdb", _load) as engine:
        yield engine

@pytest.fixture(scope="module")
def sdc_pg(postgres_url: str) -> Iterator[Engine]:
    with postgres_schema_with(postgres_url, "sdc", _load) as engine:
        yield engine

@pytest.fixture(params=["duckdb", "postgresql"])
def cube_db(request: pytest.FixtureRequest) -> Iterator[Connection]:
    engine: Engine = request.getfixturevalue("sdc_duck" if request.param == "duckdb" else "sdc_pg")
    with engine.connect() as connection:
        yield connection


def run(db: Connection, query: CubeQuery, cubes: tuple[Cube, ...] = PROTECTED) -> CellSet:
    return run_query(db, cubes, query, limits=LIMITS)


def cells(result: CellSet) -> dict[tuple[str, ...], list[float | int | None]]:
    """Row keys → the values of the row (one per column tuple)."""
    width = result.column_count
    return {
        tuple(m.key for m in row.members): [c.value for c in result.cells[i * width : (i + 1) * width]]
        for i, row in enumerate(result.axes[1].tuples)
    }


def _grid(measures: tuple[str, ...], *, slicers: tuple[str, ...] = ()) -> CubeQuery:
    rows = (LevelItem("[Sted].[Sted]"), LevelItem("[Gruppe].[Gruppe]"), LevelItem("[Tid].[Måned]"))
    return CubeQuery("Ophold", measures, rows=rows, slicers=slicers, non_empty=False)


def test_the_exact_view_answers_exactly_and_the_protected_view_differs(cube_db: Connection) -> None:
    exact = cells(run(cube_db, _grid(("Modtagere",)), EXACT))
    protected = cells(run(cube_db, _grid(("Modtagere",))))
    assert exact.keys() == protected.keys()
    assert sum(v[0] or 0 for v in exact.values()) == len(_rows())  # each person once a month, in one place and group
    assert any(exact[k] != protected[k] for k in exact)


def test_a_small_cell_read_directly_never_shows_its_value(cube_db: Connection) -> None:
    exact = cells(run(cube_db, _grid(("Modtagere", "Forløb")), EXACT))
    protected = cells(run(cube_db, _grid(("Modtagere", "Forløb"))))
    small = [k for k, v in exact.items() if v[0] is not None and 0 < v[0] < THRESHOLD]
    assert len(small) > 20  # the data really has the cells the issue found
    for values in protected.values():
        for value in values:
            assert value is None or value == 0 or value >= THRESHOLD  # 1 and 2 never appear
    for key, values in exact.items():
        for true, shown in zip(values, protected[key]):
            if true is None:
                assert shown is None  # no contributors: nothing to protect, nothing invented
            elif true >= THRESHOLD:
                assert abs(shown - true) <= NOISE and shown >= THRESHOLD


def test_small_cells_are_rounded_without_bias(cube_db: Connection) -> None:
    """A value v below the threshold shows as the threshold with probability v/threshold."""
    exact = cells(run(cube_db, _grid(("Modtagere",)), EXACT))
    protected = cells(run(cube_db, _grid(("Modtagere",))))
    small = [(exact[k][0], protected[k][0]) for k in exact if exact[k][0] and exact[k][0] < THRESHOLD]
    shown_total = sum(shown or 0 for _, shown in small)
    true_total = sum(true for true, _ in small)
    assert {shown for _, shown in small} <= {None, THRESHOLD}
    assert abs(shown_total - true_total) < 0.25 * true_total


def test_derived_values_in_the_same_answer_do_not_give_back_a_small_count(cube_db: Connection) -> None:
    """A ratio or a difference shown beside a count is computed from the protected counts, so
    multiplying or adding it back gives the protected count, never the true one."""
    measures = ("Modtagere", "Forløb", "Modtagere pr. forløb", "Forløb uden første")
    exact = cells(run(cube_db, _grid(measures), EXACT))
    protected = cells(run(cube_db, _grid(measures)))
    for key, (persons, courses, ratio, rest) in protected.items():
        true_persons = exact[key][0]
        if ratio is not None:
            assert ratio == pytest.approx(persons / courses * 100)
        if rest is not None:
            assert rest == courses - persons
        if true_persons is not None and 0 < true_persons < THRESHOLD and ratio is not None:
            assert round(ratio * courses / 100) != true_persons


def test_helaarsmodtagere_of_a_few_persons_are_not_shown(cube_db: Connection) -> None:
    exact = cells(run(cube_db, _grid(("Modtagere", "Helårsmodtagere")), EXACT))
    protected = cells(run(cube_db, _grid(("Helårsmodtagere",))))
    for key, (persons, true_weighted) in exact.items():
        shown = protected[key][0]
        if persons is None or persons < THRESHOLD:
            assert shown is None
        else:
            assert shown is not None and shown >= 0 and abs(shown - true_weighted) <= NOISE + 0.01
    differs = [k for k in exact if exact[k][0] and exact[k][0] >= THRESHOLD and protected[k][0] != round(exact[k][1], 2)]
    assert len(differs) > 0.8 * sum(1 for v in exact.values() if v[0] and v[0] >= THRESHOLD)


def test_a_total_minus_the_visible_breakdown_does_not_reveal_a_small_cell(cube_db: Connection) -> None:
    """Per group and month: the total over all places minus every other place's cell."""
    month = "[Tid].[Måned].&[2024-02]"
    totals = cells(run(cube_db, CubeQuery("Ophold", ("Modtagere",), rows=(LevelItem("[Gruppe].[Gruppe]"),),
                                          slicers=(month,), non_empty=False)))
    query = CubeQuery("Ophold", ("Modtagere",), rows=(LevelItem("[Gruppe].[Gruppe]"), LevelItem("[Sted].[Sted]")),
                      slicers=(month,), non_empty=False)
    breakdown = cells(run(cube_db, query))
    truth = cells(run(cube_db, query, EXACT))
    targets = hits = 0
    for (group, place), (true,) in truth.items():
        if true is None or not 0 < true < THRESHOLD:
            continue
        others = sum(v[0] or 0 for (g, p), v in breakdown.items() if g == group and p != place)
        estimate = (totals[(group,)][0] or 0) - others
        targets += 1
        hits += estimate == true
    assert targets >= 5
    assert hits <= targets // 2, f"differencing found {hits} of {targets} small cells"


def test_two_overlapping_filters_do_not_reveal_a_small_cell(cube_db: Connection) -> None:
    """(place P or place Q) minus (place Q), per group and month: P's small cell is not recovered."""
    exact = cells(run(cube_db, _grid(("Modtagere",)), EXACT))
    targets = hits = 0
    for (place, group, month), (true,) in sorted(exact.items()):
        if true is None or not 0 < true < THRESHOLD or targets >= 12:
            continue
        other = PLACES[(PLACES.index(place) + 1) % len(PLACES)]
        base = (f"[Gruppe].[Gruppe].&[{group}]", f"[Tid].[Måned].&[{month}]")
        both = run(cube_db, CubeQuery("Ophold", ("Modtagere",), slicers=(*base, f"[Sted].[Sted].&[{place}]",
                                                                         f"[Sted].[Sted].&[{other}]")))
        one = run(cube_db, CubeQuery("Ophold", ("Modtagere",), slicers=(*base, f"[Sted].[Sted].&[{other}]")))
        estimate = (both.cells[0].value or 0) - (one.cells[0].value or 0)
        targets += 1
        hits += estimate == true
    assert targets >= 5
    assert hits <= targets // 2, f"overlapping filters found {hits} of {targets} small cells"


def test_everything_minus_all_but_one_does_not_reveal_a_small_cell(cube_db: Connection) -> None:
    """An exclusion (``Sted <> P``) is one more filter: the total minus "all but P" is not P's cell."""
    exact = cells(run(cube_db, _grid(("Modtagere",)), EXACT))
    targets = hits = 0
    for (place, group, month), (true,) in sorted(exact.items()):
        if true is None or not 0 < true < THRESHOLD or targets >= 12:
            continue
        base = (f"[Gruppe].[Gruppe].&[{group}]", f"[Tid].[Måned].&[{month}]")
        everything = run(cube_db, CubeQuery("Ophold", ("Modtagere",), slicers=base))
        all_but = run(cube_db, CubeQuery("Ophold", ("Modtagere",), slicers=base,
                                         exclude_slicers=(f"[Sted].[Sted].&[{place}]",)))
        estimate = (everything.cells[0].value or 0) - (all_but.cells[0].value or 0)
        targets += 1
        hits += estimate == true
    assert targets >= 5
    assert hits <= targets // 2, f"exclusion differencing found {hits} of {targets} small cells"


def test_an_exclusion_in_the_exact_view_is_the_total_minus_the_member(cube_db: Connection) -> None:
    """Exact numbers: all places but S00 = every place's row minus S00's, per group and month."""
    rows = (LevelItem("[Gruppe].[Gruppe]"), LevelItem("[Tid].[Måned]"))
    total = cells(run(cube_db, CubeQuery("Ophold", ("Forløb",), rows=rows, non_empty=False), EXACT))
    s00 = cells(run(cube_db, CubeQuery("Ophold", ("Forløb",), rows=rows, slicers=("[Sted].[Sted].&[S00]",),
                                       non_empty=False), EXACT))
    others = cells(run(cube_db, CubeQuery("Ophold", ("Forløb",), rows=rows, exclude_slicers=("[Sted].[Sted].&[S00]",),
                                          non_empty=False), EXACT))
    assert total.keys() == others.keys()
    assert {k: (v[0] or 0) for k, v in others.items()} == {k: (total[k][0] or 0) - (s00[k][0] or 0) for k in total}


def test_repeating_or_rephrasing_a_query_gives_the_same_answer_so_averaging_gains_nothing(cube_db: Connection) -> None:
    place, group, month = "S03", "B", "2024-03"
    members = (f"[Sted].[Sted].&[{place}]", f"[Gruppe].[Gruppe].&[{group}]", f"[Tid].[Måned].&[{month}]")
    as_slicers = CubeQuery("Ophold", ("Modtagere", "Helårsmodtagere"), slicers=members)
    as_rows = CubeQuery("Ophold", ("Modtagere", "Helårsmodtagere"),
                        rows=tuple(MemberSetItem((m,)) for m in members))
    in_a_grid = cells(run(cube_db, _grid(("Modtagere", "Helårsmodtagere"))))[(place, group, month)]
    answers = {tuple(c.value for c in run(cube_db, as_slicers).cells) for _ in range(25)}
    answers |= {tuple(c.value for c in run(cube_db, as_rows).cells) for _ in range(5)}
    answers.add(tuple(in_a_grid))
    assert len(answers) == 1


def test_the_same_persons_in_another_cell_get_the_same_noise(cube_db: Connection) -> None:
    """A place's only group, asked with and without the group: the same contributors, so the same answer."""
    exact = cells(run(cube_db, CubeQuery("Ophold", ("Modtagere",), rows=(LevelItem("[Sted].[Sted]"),
                                                                          LevelItem("[Gruppe].[Gruppe]")),
                                         non_empty=True), EXACT))
    places = {}
    for (place, group), (value,) in exact.items():
        places.setdefault(place, []).append(group)
    only = [(place, groups[0]) for place, groups in places.items() if len(groups) == 1]
    protected_by_place = cells(run(cube_db, CubeQuery("Ophold", ("Modtagere",), rows=(LevelItem("[Sted].[Sted]"),))))
    protected_by_both = cells(run(cube_db, CubeQuery("Ophold", ("Modtagere",), rows=(LevelItem("[Sted].[Sted]"),
                                                                                     LevelItem("[Gruppe].[Gruppe]")))))
    for place, group in only:
        assert protected_by_place[(place,)] == protected_by_both[(place, group)]


def test_another_key_gives_other_noise_so_the_noise_cannot_be_recomputed_without_it(cube_db: Connection) -> None:
    other = (protected_view(MODEL, b"another deployment's key"),)
    mine = cells(run(cube_db, _grid(("Modtagere",))))
    theirs = cells(run(cube_db, _grid(("Modtagere",)), other))
    assert mine != theirs


def test_person_level_detail_is_not_in_the_protected_view(cube_db: Connection) -> None:
    query = CubeQuery("Ophold", ("Modtagere",), rows=(LevelItem("[Person].[Personnummer]"),))
    with pytest.raises(NotFoundError):
        run(cube_db, query)
    assert len(run(cube_db, query, EXACT).axes[1].tuples) == len({r["person"] for r in _rows()})


def test_a_protected_plan_compiles_the_cell_key_beside_the_measures(cube_db: Connection) -> None:
    plan = plan_query(cube_db, PROTECTED, _grid(("Modtagere pr. forløb",)), cell_limit=100_000)
    protection = Protection.for_plan(plan)
    assert protection is not None
    names = [m.name for m in protection.widened.measures]
    assert names[0] == "Modtagere pr. forløb" and {"Modtagere", "Forløb", CELL_KEY.name} <= set(names)
    assert Protection.for_plan(plan_query(cube_db, EXACT, _grid(("Modtagere",)), cell_limit=100_000)) is None


def test_a_running_total_neither_shows_a_small_count_nor_gives_one_back_by_differencing_months(
    cube_db: Connection,
) -> None:
    """The running total beside its monthly values: month m's total minus month m-1's is not
    month m's small count, and an accumulated count is protected like any count."""
    query = CubeQuery("Ophold", ("Forløb", "Forløb i alt"), columns=(LevelItem("[Tid].[Måned]"),),
                      rows=(LevelItem("[Sted].[Sted]"), LevelItem("[Gruppe].[Gruppe]")), non_empty=False)
    exact = cells(run(cube_db, query, EXACT))
    shown = cells(run(cube_db, query))
    targets = hits = 0
    for key, values in exact.items():
        monthly_true = values[0::2]
        totals_shown = shown[key][1::2]
        assert all(v is None or v == 0 or v >= THRESHOLD for v in shown[key])
        for month in range(1, len(MONTHS)):
            true = monthly_true[month]
            if true is None or not 0 < true < THRESHOLD:
                continue
            targets += 1
            hits += (totals_shown[month] or 0) - (totals_shown[month - 1] or 0) == true
    assert targets >= 10
    assert hits <= targets // 2, f"differencing months found {hits} of {targets} small cells"


@pytest.mark.parametrize(
    ("cell_key", "measure", "true"),
    [(0, "Folketal", 1), (123456789, "Folketal", 2), (4294967295, "Modtagere", 7), (42, "Helårsmodtagere", 12.5)],
)
def test_the_draw_is_the_documented_keyed_blake2b_so_answers_stay_the_same_across_versions(
    cell_key: int, measure: str, true: int | float
) -> None:
    """docs/disclosure-control.md: u = BLAKE2b('cell key|measure|true value') keyed with the
    deployment's key. A faster implementation must give bit-for-bit the same draws, or every
    protected answer would change once (and two versions' answers could be averaged)."""
    import hashlib

    from gateway.engine.disclosure import _Draw, _keyed

    secret = b"a deployment's disclosure key"
    digest = hashlib.blake2b(f"{cell_key}|{measure}|{true!r}".encode(), key=secret, digest_size=16).digest()
    draw = _Draw(_keyed(secret), cell_key, measure, true)
    assert draw.uniform() == int.from_bytes(digest[:8], "big") / 2**64
    u, v = draw.uniform(), int.from_bytes(digest[8:], "big") / 2**64
    assert draw.continuous(2) == 2 * (u + v - 1.0)
    # triangular on -2..2 with weights 1, 2, 3, 2, 1 (of 9)
    expected = next(d for d, upper in ((-2, 1), (-1, 3), (0, 6), (1, 8), (2, 9)) if u * 9 < upper)
    assert draw.integer(2) == expected
