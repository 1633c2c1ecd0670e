"""The catalog and the database naming scheme: which names exist and what they resolve to."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pytest
from model_fixtures import WriteModel, small_area

from gateway.errors import ModelError
from gateway.model import Catalog, DatabaseRef, Kommune, load_area, load_catalog, load_kommuner


def two_areas(write_model: WriteModel) -> Path:
    """'omr' has kommune databases only; 'bench' has both kinds."""
    write_model(small_area())
    bench = small_area()
    bench.update(id="bench", name="Bench", grant="FLIS Bench")
    bench["databases"] = {"kommune": "FLIS Bench-{kode}", "benchmark": "FLIS Bench Benchmark"}
    bench["benchmark_cubes"] = copy.deepcopy(bench["kommune_cubes"])
    bench["benchmark_cubes"][0]["name"] = "Alle kommuner"
    write_model(bench)
    return write_model(small_area()).parent


@pytest.fixture
def catalog(write_model: WriteModel) -> Catalog:
    return load_catalog(two_areas(write_model))


def test_the_98_kommuner_are_known() -> None:
    kommuner = load_kommuner()
    assert len(kommuner) == 98
    assert len({k.kode for k in kommuner}) == 98
    assert kommuner[0] == Kommune("101", "København", "Hovedstaden", 654000)
    assert all(len(k.kode) == 3 and k.kode.isdigit() and k.indbyggere > 0 for k in kommuner)


def test_kommune_database_resolves_to_area_and_code(catalog: Catalog) -> None:
    assert catalog.resolve_database("FLIS Område-101") == DatabaseRef("FLIS Område-101", "omr", "FLIS DAP Område", "101")


def test_benchmark_database_resolves_without_code(catalog: Catalog) -> None:
    ref = catalog.resolve_database("FLIS Bench Benchmark")
    assert ref == DatabaseRef("FLIS Bench Benchmark", "bench", "FLIS Bench", None)
    assert ref is not None and ref.is_benchmark


def test_names_resolve_in_any_letter_case_to_the_canonical_name(catalog: Catalog) -> None:
    for typed in ("flis område-101", "FLIS OMRÅDE-101", "Flis OmRåde-101"):
        ref = catalog.resolve_database(typed)
        assert ref is not None and ref.name == "FLIS Område-101"
    ref = catalog.resolve_database("flis bench benchmark")
    assert ref is not None and ref.name == "FLIS Bench Benchmark"


def test_decomposed_unicode_resolves_like_composed(catalog: Catalog) -> None:
    decomposed = "FLIS Omra\u030ade-101"  # 'å' as a + combining ring, as some keyboards send it
    ref = catalog.resolve_database(decomposed)
    assert ref is not None and ref.name == "FLIS Område-101"


@pytest.mark.parametrize(
    "name",
    [
        "FLIS Område-999",  # three digits, not a kommune
        "FLIS Område-1010",  # one digit too many
        "FLIS Område-10",
        "FLIS Område-0101",
        "FLIS Område-101 ",  # trailing space
        " FLIS Område-101",
        "FLIS Område-101\n",
        "FLIS  Område-101",
        "FLIS Område-{kode}",  # the template itself
        "FLIS Område-",
        "FLIS Ukendt-101",  # unknown area
        "FLIS Område Benchmark",  # area without a benchmark
        "FLIS Bench Benchmark-101",
        "FLIS Bench Benchmark ",
        "",
    ],
)
def test_anything_else_resolves_to_nothing(catalog: Catalog, name: str) -> None:
    assert catalog.resolve_database(name) is None


def test_databases_for_a_kommune_are_its_own_and_the_benchmarks(catalog: Catalog) -> None:
    names = [ref.name for ref in catalog.databases_for("147")]
    assert names == ["FLIS Bench-147", "FLIS Bench Benchmark", "FLIS Område-147"]


def test_databases_for_an_unknown_kommune_is_empty(catalog: Catalog) -> None:
    assert catalog.databases_for("999") == []
    assert catalog.databases_for("") == []


def test_all_databases_is_every_kommune_times_every_kommune_area_plus_benchmarks(catalog: Catalog) -> None:
    refs = catalog.all_databases()
    assert len(refs) == 2 * 98 + 1
    assert len({r.name for r in refs}) == len(refs)
    assert all(catalog.resolve_database(r.name) == r for r in refs)


def test_cubes_for_a_database_are_the_kommune_or_benchmark_cubes(catalog: Catalog) -> None:
    kommune = catalog.resolve_database("FLIS Bench-101")
    benchmark = catalog.resolve_database("FLIS Bench Benchmark")
    assert kommune is not None and benchmark is not None
    assert [c.name for c in catalog.cubes_for(kommune)] == ["Hændelser"]
    assert [c.name for c in catalog.cubes_for(benchmark)] == ["Alle kommuner"]
    assert catalog.area_for(kommune).grant_name == "FLIS Bench"


def test_a_hand_made_ref_is_not_accepted(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="not a database of this catalog"):
        catalog.cubes_for(DatabaseRef("FLIS Område-999", "omr", "FLIS DAP Område", "999"))


def test_catalog_mappings_are_read_only(catalog: Catalog) -> None:
    with pytest.raises(TypeError):
        catalog.areas["x"] = catalog.areas["omr"]  # type: ignore[index]
    assert list(catalog.areas) == ["bench", "omr"]  # files in name order
    assert catalog.kommuner["101"].navn == "København"


def test_the_same_grant_in_two_areas_is_refused(write_model: WriteModel) -> None:
    write_model(small_area())
    other = small_area()
    other.update(id="zz", grant="flis dap område")
    other["databases"]["kommune"] = "FLIS ZZ-{kode}"
    schema = write_model(other).parent
    with pytest.raises(ModelError) as caught:
        load_catalog(schema)
    assert (caught.value.file, caught.value.path) == ("schema/zz.yaml", "grant")
    assert "also used by schema/omr.yaml" in caught.value.problem


def test_the_same_database_name_in_two_areas_is_refused(write_model: WriteModel) -> None:
    first = small_area()
    first["databases"]["benchmark"] = "FLIS Fælles"
    first["benchmark_cubes"] = copy.deepcopy(first["kommune_cubes"])
    write_model(first)
    other = small_area()
    other.update(id="zz", grant="FLIS ZZ", databases={"kommune": "FLIS ZZ-{kode}", "benchmark": "flis fælles"})
    other["benchmark_cubes"] = copy.deepcopy(other["kommune_cubes"])
    schema = write_model(other).parent
    with pytest.raises(ModelError) as caught:
        load_catalog(schema)
    assert (caught.value.file, caught.value.path) == ("schema/zz.yaml", "databases.benchmark")
    assert "'flis fælles' is also a database of area 'omr'" in caught.value.problem


def test_a_benchmark_name_that_looks_like_a_kommune_database_is_refused(write_model: WriteModel) -> None:
    write_model(small_area())
    other = small_area()
    other.update(id="zz", grant="FLIS ZZ", databases={"benchmark": "FLIS Område-101"}, kommune_cubes=[])
    other["benchmark_cubes"] = copy.deepcopy(small_area()["kommune_cubes"])
    schema = write_model(other).parent
    with pytest.raises(ModelError) as caught:
        load_catalog(schema)
    assert (caught.value.file, caught.value.path) == ("schema/zz.yaml", "databases.benchmark")


def test_the_first_broken_file_stops_the_load(write_model: WriteModel) -> None:
    write_model(small_area())
    broken = small_area()
    broken["id"] = "b_broken"
    broken["databases"]["kommune"] = "FLIS Broken-{kode}"
    broken["grant"] = "FLIS Broken"
    broken["kommune_cubes"][0]["measures"][2]["expression"] = "[Ind] - [Udrejst]"
    schema = write_model(broken).parent
    with pytest.raises(ModelError) as caught:
        load_catalog(schema)
    assert str(caught.value) == "schema/b_broken.yaml: kommune_cubes[0].measures[2].expression: unknown measure 'Udrejst'"


def test_empty_and_missing_schema_directories_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no model files"):
        load_catalog(tmp_path)
    with pytest.raises(ModelError, match="does not exist"):
        load_catalog(tmp_path / "missing")


def test_hidden_files_and_other_extensions_are_ignored(write_model: WriteModel) -> None:
    schema = write_model(small_area()).parent
    (schema / ".#omr.yaml").write_text("not: [valid", encoding="utf-8")
    (schema / "notes.txt").write_text("ignored", encoding="utf-8")
    assert list(load_catalog(schema).areas) == ["omr"]


def test_a_catalog_can_be_built_with_a_chosen_kommune_list(write_model: WriteModel) -> None:
    schema = write_model(small_area()).parent
    catalog = load_catalog(schema, kommuner=[Kommune("101", "København", "Hovedstaden", 1)])
    assert [r.name for r in catalog.all_databases()] == ["FLIS Område-101"]
    assert catalog.resolve_database("FLIS Område-147") is None


def test_two_areas_with_one_id_are_refused(write_model: WriteModel) -> None:
    area = load_area(write_model(small_area()))
    twin = dataclasses.replace(area, grant_name="FLIS Andet", source_file="schema/andet.yaml")
    with pytest.raises(ModelError) as caught:
        Catalog([area, twin], load_kommuner())
    assert (caught.value.file, caught.value.path) == ("schema/andet.yaml", "id")
    assert "area id 'omr' is also used by" in caught.value.problem
