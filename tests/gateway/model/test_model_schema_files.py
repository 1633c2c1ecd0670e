"""The real model files in schema/ load, and say what the domain says."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from model_fixtures import SCHEMA_DIR

from gateway.model import BinOp, MeasureKind, Ref, load_area, load_catalog

AREAS = {"ukraine", "borger", "voksenhandicap", "kl_databank"}


def test_ukraine_model_loads_as_the_domain_describes_it() -> None:
    area = load_area(SCHEMA_DIR / "ukraine.yaml", label="schema/ukraine.yaml")
    assert (area.id, area.grant_name) == ("ukraine", "FLIS DAP Ukraine")
    assert (area.naming.kommune, area.naming.benchmark) == ("FLIS Ukraine-{kode}", "FLIS Ukraine Benchmark")
    (cube,) = area.kommune_cubes
    (benchmark,) = area.benchmark_cubes
    assert cube.name == benchmark.name == "Ukraine Statistik"  # the standard report binds to it in both
    tid = cube.dimension("Tid")
    assert tid is not None and tid.is_time
    assert [lv.name for lv in tid.hierarchies[0].levels] == ["År", "Kvartal", "Måned", "Dag"]
    fra, til = cube.dimension("Fra kommune"), cube.dimension("Til kommune")
    assert fra is not None and til is not None and fra.table == til.table  # role-playing dimension
    netto = cube.measure("Nettoindvandring")
    assert netto is not None and netto.expression_tree == BinOp("-", Ref("Indrejste"), Ref("Udrejste"))
    akkumuleret = cube.measure("Akkumuleret tilvækst")
    assert akkumuleret is not None
    assert (akkumuleret.kind, akkumuleret.of, akkumuleret.along) == (MeasureKind.RUNNING_TOTAL, "Nettotilvækst", "Tid")
    assert akkumuleret.dependencies == ("Nettotilvækst",) and not akkumuleret.additive


def test_ukraine_databases_exist_for_every_kommune(tmp_path: Path) -> None:
    schema = tmp_path / "schema"
    schema.mkdir()
    shutil.copy(SCHEMA_DIR / "ukraine.yaml", schema)
    catalog = load_catalog(schema)
    ref = catalog.resolve_database("FLIS Ukraine-101")
    assert ref is not None and (ref.area, ref.kommune_kode, ref.grant_name) == ("ukraine", "101", "FLIS DAP Ukraine")
    assert len(catalog.databases_for("101")) == 2  # its own and the benchmark
    assert len(catalog.all_databases()) == 99
    benchmark = catalog.resolve_database("FLIS Ukraine Benchmark")
    assert benchmark is not None and (benchmark.area, benchmark.kommune_kode) == ("ukraine", None)


def test_the_whole_schema_directory_loads_with_the_four_areas() -> None:
    catalog = load_catalog(SCHEMA_DIR)
    assert AREAS <= set(catalog.areas)
    names = {ref.name for ref in catalog.all_databases()}
    assert "FLIS Ukraine-101" in names
    assert "FLIS Voksne Handicappede Benchmark" in names
    assert "FLIS Voksne Handicappede-101" in names
    voksen = catalog.resolve_database("FLIS Voksne Handicappede-147")
    assert voksen is not None and voksen.area == "voksenhandicap"


def test_loading_reads_the_model_files_and_the_kommune_list_and_nothing_else(tmp_path: Path) -> None:
    """No network, no writes, no other files: loading a model has no side effects."""
    schema = tmp_path / "schema"
    schema.mkdir()
    shutil.copy(SCHEMA_DIR / "ukraine.yaml", schema)
    load_catalog(schema)  # first load imports what it needs; imports are not what we watch
    events: list[tuple[str, tuple[Any, ...]]] = []
    watching = [True]

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if watching[0] and not event.startswith(("import", "compile", "exec", "object.", "sys._getframe", "code.")):
            events.append((event, args))

    sys.addaudithook(hook)  # audit hooks cannot be removed; this one goes quiet after the load
    try:
        load_catalog(schema)
    finally:
        watching[0] = False
    opened = [args for event, args in events if event == "open"]
    assert {Path(str(args[0])).name for args in opened} == {"ukraine.yaml", "kommuner.csv"}
    for file, mode, flags in opened:
        assert mode is None or set(str(mode)) <= set("rbt"), (file, mode)
        assert not int(flags) & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC), (file, flags)
        assert Path(str(file)).parent in (schema, Path(sys.modules["gateway.data"].__file__).parent)
    others = {event for event, _ in events if event != "open"}
    assert others <= {"os.scandir", "os.listdir", "glob.glob", "pathlib.Path.glob"}, others


def test_every_cube_about_persons_is_under_disclosure_control_and_published_figures_are_not() -> None:
    """docs/disclosure-control.md: persons in Ukraine, Borger and Voksenhandicap; KL Databank is published."""
    catalog = load_catalog(SCHEMA_DIR)
    rules = {
        (area.id, kind): tuple(cube.disclosure for cube in cubes)
        for area in catalog.areas.values()
        for kind, cubes in (("kommune", area.kommune_cubes), ("benchmark", area.benchmark_cubes))
        if cubes
    }
    assert rules[("kl_databank", "benchmark")] == (None,)
    for (area_id, kind), found in rules.items():
        if area_id == "kl_databank":
            continue
        for rule in found:
            assert rule is not None, (area_id, kind)
            assert rule.threshold >= (5 if kind == "benchmark" else 3)  # other kommuner's citizens: stricter
    (vh,) = rules[("voksenhandicap", "kommune")]
    assert vh is not None and vh.record_key == ("person_noegle",) and vh.distinct  # a person counts once
