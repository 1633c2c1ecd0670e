"""Every validation rule of the model format: a small broken file, and the error it gets.

Each error must name the file, the path inside it and what is wrong.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from model_fixtures import WriteModel, small_area

from gateway.errors import ModelError
from gateway.model import MeasureKind, load_area
from gateway.model.types import DisclosureRule

Area = dict[str, Any]
CUBE = "kommune_cubes[0]"
RULE = {"record_key": ["person"], "distinct": True, "threshold": 3, "max_noise": 2}
AGG = {"name": "maaned_koen", "levels": {"Tid": "Måned", "Køn": "Køn"}, "measures": ["Ind", "Netto"]}
M = f"{CUBE}.measures"
D = f"{CUBE}.dimensions"


def cube(area: Area) -> Area:
    return area["kommune_cubes"][0]


def measure(area: Area, index: int) -> Area:
    return cube(area)["measures"][index]


def dim(area: Area, index: int) -> Area:
    return cube(area)["dimensions"][index]


def level(area: Area, d: int, lv: int) -> Area:
    return dim(area, d)["hierarchies"][0]["levels"][lv]


def second_cube(area: Area) -> None:
    other = copy.deepcopy(cube(area))
    other["name"] = "hændelser"  # differs only in case
    area["kommune_cubes"].append(other)


def add_dimension(area: Area, name: str, **changes: Any) -> None:
    extra = copy.deepcopy(dim(area, 1))
    extra.update(name=name, **changes)
    cube(area)["dimensions"].append(extra)


CASES: list[tuple[str, Callable[[Area], None], str, str]] = [
    # --- names
    ("duplicate_cube_name_any_case", second_cube, "kommune_cubes[1].name", "duplicate cube name 'hændelser'"),
    ("duplicate_dimension_name", lambda a: add_dimension(a, "Køn"), f"{D}[2].name", "duplicate dimension name"),
    (
        "duplicate_hierarchy_name",
        lambda a: dim(a, 1)["hierarchies"].append(copy.deepcopy(dim(a, 1)["hierarchies"][0])),
        f"{D}[1].hierarchies[1].name",
        "duplicate hierarchy name 'Køn'",
    ),
    (
        "duplicate_level_name",
        lambda a: level(a, 0, 1).update(name="År"),
        f"{D}[0].hierarchies[0].levels[1].name",
        "duplicate level name 'År'",
    ),
    (
        "duplicate_level_key",
        lambda a: level(a, 0, 1).update(key="aar"),
        f"{D}[0].hierarchies[0].levels[1].key",
        "key column 'aar' is already the key of level 'År'",
    ),
    (
        "duplicate_measure_name",
        lambda a: measure(a, 1).update(name="IND"),
        f"{M}[1].name",
        "duplicate measure name 'IND' (also 'Ind')",
    ),
    ("dimension_named_measures", lambda a: dim(a, 1).update(name="Measures"), f"{D}[1].name", "reserved"),
    ("bracket_in_name", lambda a: measure(a, 0).update(name="Ind [antal]"), f"{M}[0].name", "must not contain '['"),
    ("closing_bracket_in_name", lambda a: dim(a, 1).update(name="Køn]"), f"{D}[1].name", "must not contain ']'"),
    ("ampersand_in_name", lambda a: level(a, 0, 0).update(name="År & dag"), f"{D}[0].hierarchies[0].levels[0].name", "'&'"),
    ("control_char_in_name", lambda a: cube(a).update(name="Hænd\x07elser"), f"{CUBE}.name", "control characters"),
    ("padded_name", lambda a: measure(a, 0).update(name=" Ind"), f"{M}[0].name", "whitespace"),
    ("empty_name", lambda a: a.update(name=""), "name", "must not be empty"),
    # --- SQL identifiers
    ("upper_case_table", lambda a: cube(a).update(fact_table="Fakta"), f"{CUBE}.fact_table", "not a valid SQL identifier"),
    (
        "sql_in_column",
        lambda a: measure(a, 0).update(column='ind"; drop table x; --'),
        f"{M}[0].column",
        "not a valid SQL identifier",
    ),
    ("digit_first_key", lambda a: dim(a, 1).update(key="1koen"), f"{D}[1].key", "not a valid SQL identifier"),
    ("bad_level_caption", lambda a: level(a, 0, 1).update(caption="måned"), f"{D}[0].hierarchies[0].levels[1].caption", "identifier"),
    ("bad_area_id", lambda a: a.update(id="Omr-1"), "id", "not a valid SQL identifier"),
    ("too_long_identifier", lambda a: dim(a, 1).update(table="t" * 64), f"{D}[1].table", "longer than 63"),
    # --- shape
    ("unknown_key", lambda a: measure(a, 0).update(colum="ind"), f"{M}[0].colum", "unknown key"),
    ("missing_key", lambda a: cube(a).pop("fact_table"), f"{CUBE}.fact_table", "required key is missing"),
    ("number_as_name", lambda a: measure(a, 0).update(name=2022), f"{M}[0].name", "valid string"),
    ("string_as_bool", lambda a: dim(a, 0).update(time="yes"), f"{D}[0].time", "valid boolean"),
    ("unknown_kind", lambda a: measure(a, 0).update(kind="median"), f"{M}[0].kind", "'sum'"),
    ("no_levels", lambda a: dim(a, 1)["hierarchies"][0].update(levels=[]), f"{D}[1].hierarchies[0].levels", "at least 1"),
    ("no_measures", lambda a: cube(a).update(measures=[]), f"{CUBE}.measures", "at least 1"),
    # --- measures by kind
    ("sum_without_column", lambda a: measure(a, 0).pop("column"), f"{M}[0].column", "a sum measure needs 'column'"),
    (
        "sum_with_expression",
        lambda a: measure(a, 0).update(expression="[Ud]"),
        f"{M}[0].expression",
        "'expression' does not apply to a sum measure",
    ),
    ("calculated_without_expression", lambda a: measure(a, 2).pop("expression"), f"{M}[2].expression", "needs 'expression'"),
    (
        "calculated_unknown_measure",
        lambda a: measure(a, 2).update(expression="[Ind] - [Udrejst]"),
        f"{M}[2].expression",
        "unknown measure 'Udrejst'",
    ),
    ("calculated_syntax_error", lambda a: measure(a, 2).update(expression="[Ind] -"), f"{M}[2].expression", "not a valid expression"),
    ("calculated_call", lambda a: measure(a, 2).update(expression="[Ind](1)"), f"{M}[2].expression", "Call is not allowed"),
    ("ratio_without_denominator", lambda a: measure(a, 5).pop("denominator"), f"{M}[5].denominator", "needs 'denominator'"),
    ("ratio_unknown_numerator", lambda a: measure(a, 5).update(numerator="Befolkning"), f"{M}[5].numerator", "unknown measure 'Befolkning'"),
    ("ratio_zero_scale", lambda a: measure(a, 5).update(scale=0), f"{M}[5].scale", "positive"),
    ("running_total_unknown_of", lambda a: measure(a, 3).update(of="Nettotilvækst"), f"{M}[3].of", "unknown measure 'Nettotilvækst'"),
    ("running_total_without_along", lambda a: measure(a, 3).pop("along"), f"{M}[3].along", "needs 'along'"),
    ("running_total_along_unknown", lambda a: measure(a, 3).update(along="Dato"), f"{M}[3].along", "unknown dimension 'Dato'"),
    ("running_total_along_non_time", lambda a: measure(a, 3).update(along="Køn"), f"{M}[3].along", "is not the time dimension"),
    ("days_weighted_without_column", lambda a: measure(a, 4).pop("column"), f"{M}[4].column", "a days_weighted measure needs 'column'"),
    ("days_weighted_without_days", lambda a: dim(a, 0).pop("days"), f"{M}[4].along", "has no 'days' column"),
    ("count_with_of", lambda a: measure(a, 0).update(kind="count", of="Ud"), f"{M}[0].of", "does not apply to a count"),
    # --- cycles
    (
        "cycle_between_measures",
        lambda a: measure(a, 2).update(expression="[Ind] - [Akkumuleret]"),
        f"{M}[2]",
        "cycle: Netto -> Akkumuleret -> Netto",
    ),
    ("measure_refers_to_itself", lambda a: measure(a, 5).update(numerator="Pr. 10.000"), f"{M}[5]", "cycle: Pr. 10.000 -> Pr. 10.000"),
    # --- additivity
    (
        "distinct_count_claimed_additive",
        lambda a: measure(a, 1).update(kind="distinct_count", additive=True),
        f"{M}[1].additive",
        "a distinct_count measure is not additive",
    ),
    (
        "calculated_product_claimed_additive",
        lambda a: measure(a, 2).update(expression="[Ind] * 2", additive=True),
        f"{M}[2].additive",
        "adds and subtracts additive measures",
    ),
    # --- time dimension
    ("two_time_dimensions", lambda a: dim(a, 1).update(time=True), f"{D}[1].time", "at most one time dimension ('Tid'"),
    ("days_on_non_time_dimension", lambda a: dim(a, 1).update(days="dage"), f"{D}[1].days", "only a time dimension"),
    # --- databases
    ("template_without_kode", lambda a: a["databases"].update(kommune="FLIS Område"), "databases.kommune", "'{kode}' exactly once"),
    ("template_with_kode_twice", lambda a: a["databases"].update(kommune="FLIS {kode}-{kode}"), "databases.kommune", "exactly once"),
    ("template_other_placeholder", lambda a: a["databases"].update(kommune="FLIS {navn}-{kode}"), "databases.kommune", "only placeholder"),
    ("no_database_naming", lambda a: a["databases"].update(kommune=None), "databases", "at least one of 'kommune' and 'benchmark'"),
    ("benchmark_without_cubes", lambda a: a["databases"].update(benchmark="FLIS Område Benchmark"), "benchmark_cubes", "at least one cube"),
    (
        "kommune_cubes_without_kommune_naming",
        lambda a: a.update(databases={"benchmark": "FLIS Område Benchmark"}, benchmark_cubes=a["kommune_cubes"]),
        "kommune_cubes",
        "must be empty because databases.kommune is not set",
    ),
    ("padded_database_name", lambda a: a["databases"].update(kommune="FLIS Område-{kode} "), "databases.kommune", "whitespace"),
    ("id_differs_from_file_name", lambda a: a.update(id="andet"), "id", "must equal the file name 'omr'"),
    # --- disclosure control
    ("disclosure_without_record_key", lambda a: cube(a).update(disclosure={"threshold": 3, "max_noise": 2}),
     f"{CUBE}.disclosure.record_key", "required key is missing"),
    ("disclosure_empty_record_key", lambda a: cube(a).update(disclosure={**RULE, "record_key": []}),
     f"{CUBE}.disclosure.record_key", "at least 1"),
    ("disclosure_bad_column", lambda a: cube(a).update(disclosure={**RULE, "record_key": ["Person"]}),
     f"{CUBE}.disclosure.record_key[0]", "not a valid SQL identifier"),
    ("disclosure_column_twice", lambda a: cube(a).update(disclosure={**RULE, "record_key": ["p", "p"]}),
     f"{CUBE}.disclosure.record_key", "named twice"),
    ("disclosure_threshold_of_one", lambda a: cube(a).update(disclosure={**RULE, "threshold": 1}),
     f"{CUBE}.disclosure.threshold", "greater than or equal to 2"),
    ("disclosure_without_noise", lambda a: cube(a).update(disclosure={**RULE, "max_noise": 0}),
     f"{CUBE}.disclosure.max_noise", "greater than or equal to 1"),
    ("disclosure_unknown_key", lambda a: cube(a).update(disclosure={**RULE, "salt": "x"}),
     f"{CUBE}.disclosure.salt", "unknown key"),
    ("disclosure_threshold_as_text", lambda a: cube(a).update(disclosure={**RULE, "threshold": "3"}),
     f"{CUBE}.disclosure.threshold", "valid integer"),
    (
        "disclosure_with_an_average",
        lambda a: (cube(a).update(disclosure=RULE), cube(a)["measures"].append({"name": "Snit", "kind": "avg", "column": "x"})),
        f"{M}[6].kind",
        "a avg measure cannot be protected",
    ),
    # --- aggregations
    ("aggregation_unknown_dimension", lambda a: cube(a).update(aggregations=[{**AGG, "levels": {"Sted": "By"}}]),
     f"{CUBE}.aggregations[0].levels.Sted", "no dimension 'Sted'"),
    ("aggregation_unknown_level", lambda a: cube(a).update(aggregations=[{**AGG, "levels": {"Tid": "Uge"}}]),
     f"{CUBE}.aggregations[0].levels.Tid", "no level 'Uge'"),
    ("aggregation_unknown_measure", lambda a: cube(a).update(aggregations=[{**AGG, "measures": ["Ind", "Andet"]}]),
     f"{CUBE}.aggregations[0].measures[1]", "no measure 'Andet'"),
    ("aggregation_without_levels", lambda a: cube(a).update(aggregations=[{**AGG, "levels": {}}]),
     f"{CUBE}.aggregations[0].levels", "at least 1"),
    ("aggregation_bad_name", lambda a: cube(a).update(aggregations=[{**AGG, "name": "Måned"}]),
     f"{CUBE}.aggregations[0].name", "not a valid SQL identifier"),
    ("aggregation_name_twice", lambda a: cube(a).update(aggregations=[AGG, AGG]),
     f"{CUBE}.aggregations[1].name", "duplicate aggregation name"),
]


@pytest.mark.parametrize(("mutate", "where", "problem"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_model_is_refused_naming_file_path_and_problem(
    write_model: WriteModel, mutate: Callable[[Area], None], where: str, problem: str
) -> None:
    area = small_area()
    mutate(area)
    target = write_model(area, name="omr.yaml")
    with pytest.raises(ModelError) as caught:
        load_area(target, label="schema/omr.yaml")
    error = caught.value
    assert (error.file, error.path) == ("schema/omr.yaml", where), str(error)
    assert problem in error.problem
    assert str(error) == f"schema/omr.yaml: {where}: {error.problem}"


def test_an_aggregation_is_loaded_as_its_grain_and_measures(write_model: WriteModel) -> None:
    area = small_area()
    cube(area).update(aggregations=[AGG])
    loaded = load_area(write_model(area)).kommune_cubes[0]
    assert [(a.name, a.levels, a.measures) for a in loaded.aggregations] == [
        ("maaned_koen", (("Tid", "Måned"), ("Køn", "Køn")), ("Ind", "Netto"))
    ]


def test_small_area_is_valid_and_defaults_are_filled_in(write_model: WriteModel) -> None:
    area = load_area(write_model(small_area()))
    (hændelser,) = area.kommune_cubes
    tid = hændelser.dimension("Tid")
    assert tid is not None and tid.is_time and tid.days_column == "dage"
    år, måned = tid.hierarchies[0].levels
    assert (år.caption_column, år.order_column) == ("aar", "aar")  # caption and order default to the key
    assert (måned.caption_column, måned.order_column) == ("maaned_tekst", "maaned")
    kinds = {m.name: (m.kind, m.additive, m.format) for m in hændelser.measures}
    assert kinds["Ind"] == (MeasureKind.SUM, True, "#,##0")
    assert kinds["Netto"] == (MeasureKind.CALCULATED, False, "#,##0")
    assert kinds["Akkumuleret"] == (MeasureKind.RUNNING_TOTAL, False, "#,##0")
    assert kinds["Helårsmodtagere"] == (MeasureKind.DAYS_WEIGHTED, False, "#,##0.00")
    assert kinds["Pr. 10.000"] == (MeasureKind.RATIO, False, "#,##0.00")
    ratio = hændelser.measure("Pr. 10.000")
    assert ratio is not None and ratio.scale == 10000.0
    assert area.source_file == str(write_model(small_area()))


def test_additive_may_be_claimed_for_a_difference_of_additive_measures(write_model: WriteModel) -> None:
    area = small_area()
    measure(area, 2)["additive"] = True
    netto = load_area(write_model(area)).kommune_cubes[0].measure("Netto")
    assert netto is not None and netto.additive is True


def test_count_may_omit_its_column(write_model: WriteModel) -> None:
    area = small_area()
    measure(area, 0).update(kind="count")
    measure(area, 0).pop("column")
    ind = load_area(write_model(area)).kommune_cubes[0].measure("Ind")
    assert ind is not None and ind.kind is MeasureKind.COUNT and ind.column is None and ind.additive


def test_benchmark_only_area_loads(write_model: WriteModel) -> None:
    area = small_area()
    area["databases"] = {"benchmark": "FLIS Område Benchmark"}
    area["benchmark_cubes"], area["kommune_cubes"] = area["kommune_cubes"], []
    loaded = load_area(write_model(area))
    assert loaded.naming.kommune is None and loaded.naming.benchmark == "FLIS Område Benchmark"
    assert [c.name for c in loaded.benchmark_cubes] == ["Hændelser"]


def test_measure_may_share_a_name_with_a_dimension(write_model: WriteModel) -> None:
    area = small_area()
    measure(area, 0)["name"] = "Køn"
    measure(area, 2)["expression"] = "[Køn] - [Ud]"
    measure(area, 5)["numerator"] = "Køn"
    cube_ = load_area(write_model(area)).kommune_cubes[0]
    assert cube_.measure("Køn") is not None and cube_.dimension("Køn") is not None


def test_the_same_cube_name_may_appear_in_kommune_and_benchmark_databases(write_model: WriteModel) -> None:
    area = small_area()
    area["databases"]["benchmark"] = "FLIS Område Benchmark"
    area["benchmark_cubes"] = copy.deepcopy(area["kommune_cubes"])
    loaded = load_area(write_model(area))
    assert loaded.kommune_cubes[0].name == loaded.benchmark_cubes[0].name == "Hændelser"


def test_load_area_names_the_file_by_its_path_by_default(write_model: WriteModel) -> None:
    area = small_area()
    cube(area)["fact_table"] = "Fakta"
    target = write_model(area)
    with pytest.raises(ModelError) as caught:
        load_area(target)
    assert caught.value.file == str(target)
    assert str(caught.value).startswith(f"{target}: kommune_cubes[0].fact_table: ")


def test_missing_file_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as caught:
        load_area(tmp_path / "omr.yaml")
    assert "cannot read the file" in caught.value.problem


def test_a_disclosure_rule_is_loaded_with_its_defaults(write_model: WriteModel) -> None:
    area = small_area()
    cube(area)["disclosure"] = {"record_key": ["dato", "koen"], "threshold": 5, "max_noise": 3}
    (loaded,) = load_area(write_model(area)).kommune_cubes
    assert loaded.disclosure == DisclosureRule(record_key=("dato", "koen"), distinct=False, threshold=5, max_noise=3)
    assert load_area(write_model(small_area())).kommune_cubes[0].disclosure is None  # exact values unless stated
