"""The loader: valid files become a new version; bad files are refused by file, row and column
while the current version keeps answering; swaps never disturb a query in flight."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from data_sources import UKRAINE_HEADER, UKRAINE_ROWS, write_csv

from gateway.data.loader import LoadRequest, load_database
from gateway.errors import LoadError
from gateway.registry import DatabaseRegistry
from gateway.settings import Settings


AS_OF = date(2022, 12, 31)
NAME = "FLIS Ukraine-101"


def _load(settings: Settings, registry: DatabaseRegistry, source: Path, *, area: str = "ukraine",
          kommune: str | None = "101", target: str | None = None, as_of: date = AS_OF):  # type: ignore[no-untyped-def]
    return load_database(LoadRequest(area, kommune, source, as_of=as_of, target=target),
                         schema_dir=settings.schema_dir, registry=registry)


def _count(registry: DatabaseRegistry, name: str = NAME) -> int:
    with registry.connect(name) as connection:
        return int(connection.execute(sa.text("SELECT count(*) FROM haendelser")).scalar_one())


def test_load_builds_a_version_with_data_as_of(settings: Settings, registry: DatabaseRegistry,
                                               ukraine_source: Callable[..., Path]) -> None:
    result = _load(settings, registry, ukraine_source())
    entry = registry.get(NAME)
    assert entry is not None and entry.version == 1 and entry.data_as_of == AS_OF and entry.schema is None
    assert result.rows["haendelser"] == 3 and result.rows["dim_tid"] == 365
    with registry.connect(NAME) as connection:
        meta = connection.execute(sa.text("SELECT area, kommune_kode, version, data_as_of FROM _dataadgang")).one()
        assert tuple(meta) == ("ukraine", "101", 1, AS_OF)
        tables = {r[0] for r in connection.execute(sa.text("SELECT table_name FROM duckdb_tables()"))}
        assert not any(t.startswith("src_") for t in tables)
        with pytest.raises(sa.exc.DBAPIError):  # read-only
            connection.execute(sa.text("DELETE FROM haendelser"))


def _replace_line(path: Path, line: int, text: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[line - 1] = text
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _break_missing_column(d: Path) -> None:
    write_csv(d / "haendelser.csv", UKRAINE_HEADER[:-1], [r[:-1] for r in UKRAINE_ROWS])


def _break_extra_column(d: Path) -> None:
    write_csv(d / "haendelser.csv", (*UKRAINE_HEADER, "cpr"), [(*r, "x") for r in UKRAINE_ROWS])


def _break_type(d: Path) -> None:
    _replace_line(d / "haendelser.csv", 3, "2022-04-02,0-17,M,Nej,000,101,one,0,0,0")


def _break_date(d: Path) -> None:
    _replace_line(d / "haendelser.csv", 4, "2022-02-30,30-49,K,Ja,101,751,0,0,0,1")


def _break_foreign_key(d: Path) -> None:
    _replace_line(d / "haendelser.csv", 2, "2022-03-10,18-29,X,Nej,000,101,1,0,0,0")


def _break_duplicate_key(d: Path) -> None:
    with open(d / "dim_koen.csv", "a", encoding="utf-8") as handle:
        handle.write("K,Kvinde igen\n")


def _break_truncated_csv(d: Path) -> None:
    path = d / "haendelser.csv"
    path.write_bytes(path.read_bytes()[:-12])


def _break_truncated_parquet(d: Path) -> None:
    path = d / "dim_kommune.parquet"
    duckdb.connect().execute(f"COPY (SELECT * FROM read_csv('{d / 'dim_kommune.csv'}')) TO '{path}' (FORMAT parquet)")
    (d / "dim_kommune.csv").unlink()
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _break_wrong_kommune(d: Path) -> None:
    _replace_line(d / "haendelser.csv", 2, "2022-03-10,18-29,K,Nej,000,751,1,0,0,0")


def _break_date_after_as_of(d: Path) -> None:
    _replace_line(d / "haendelser.csv", 3, "2023-01-02,0-17,M,Nej,000,101,1,0,0,0")


BAD_INPUTS = [
    (_break_missing_column, "haendelser.csv", 1, "fraflyttet", "missing column"),
    (_break_extra_column, "haendelser.csv", 1, "cpr", "unexpected column"),
    (_break_type, "haendelser.csv", 3, "indrejst", "one"),
    (_break_date, "haendelser.csv", 4, "dato", "2022-02-30"),
    (_break_foreign_key, "haendelser.csv", 2, "koen", "has no row in dim_koen.csv"),
    (_break_duplicate_key, "dim_koen.csv", 4, "koen", "duplicate key 'K'"),
    (_break_truncated_csv, "haendelser.csv", 4, None, "too few values"),
    (_break_truncated_parquet, "dim_kommune.parquet", None, None, "not a readable Parquet file"),
    (_break_wrong_kommune, "haendelser.csv", 2, "fra_kommune", "does not involve kommune 101"),
    (_break_date_after_as_of, "haendelser.csv", 3, "dato", "outside"),
]


@pytest.mark.parametrize(("breaker", "file", "row", "column", "problem"), BAD_INPUTS, ids=[b[0].__name__[7:] for b in BAD_INPUTS])
def test_bad_input_is_refused_by_file_row_and_column_and_the_old_version_still_answers(
    settings: Settings, registry: DatabaseRegistry, ukraine_source: Callable[..., Path],
    breaker: Callable[[Path], None], file: str, row: int | None, column: str | None, problem: str,
) -> None:
    _load(settings, registry, ukraine_source("good"))
    bad = ukraine_source("bad")
    breaker(bad)
    with pytest.raises(LoadError) as caught:
        _load(settings, registry, bad)
    error = caught.value
    assert Path(error.file).name == file
    assert error.row == row
    if column is not None:
        assert error.column == column
    assert problem in str(error)
    entry = registry.get(NAME)
    assert entry is not None and entry.version == 1
    assert _count(registry) == 3
    assert not list((settings.data_dir / "flis-ukraine-101").glob("*.partial*"))


def test_missing_file_is_refused(settings: Settings, registry: DatabaseRegistry, ukraine_source: Callable[..., Path]) -> None:
    source = ukraine_source()
    (source / "dim_koen.csv").unlink()
    with pytest.raises(LoadError, match="dim_koen.csv: missing file"):
        _load(settings, registry, source)
    assert registry.get(NAME) is None


def test_swap_leaves_an_open_connection_on_its_version_and_old_versions_are_pruned(
    settings: Settings, registry: DatabaseRegistry, ukraine_source: Callable[..., Path]
) -> None:
    _load(settings, registry, ukraine_source("v1"))
    more = [*UKRAINE_ROWS, ("2022-06-01", "18-29", "M", "Nej", "000", "101", "1", "0", "0", "0")]
    with registry.connect(NAME) as in_flight:
        assert in_flight.execute(sa.text("SELECT count(*) FROM haendelser")).scalar_one() == 3
        _load(settings, registry, ukraine_source("v2", more))
        # the query in flight still sees version 1; a new one sees version 2
        assert in_flight.execute(sa.text("SELECT count(*) FROM haendelser")).scalar_one() == 3
        assert in_flight.execute(sa.text("SELECT version FROM _dataadgang")).scalar_one() == 1
        assert _count(registry) == 4
    assert registry.open_engine_count() == 1  # the idle engine of version 1 is gone
    _load(settings, registry, ukraine_source("v3"))
    files = sorted(p.name for p in (settings.data_dir / "flis-ukraine-101").glob("v*.duckdb"))
    assert files == ["v0002.duckdb", "v0003.duckdb"]  # current and previous kept
    assert _count(registry) == 3


SEED_ROWS = [
    ("10121", "2022", "09-11-2021", "340", "Sorø", "1072", "32032889", "29891"),
    ("10121", "2022", "09-11-2021", "326", "Kalundborg", "1075", "52004754", "48375"),
    ("10121", "2022", "09-11-2021", "250", "Frederikssund", "1096", "49713120", "45349"),
    ("10121", "2022", "09-11-2021", "746", "Skanderborg", "1141", "71836249", "62967"),
    ("10121", "2022", "09-11-2021", "741", "Samsø", "1156", "4226346", "3655"),
    ("10121", "2022", "09-11-2021", "727", "Odder", "1261", "28857011", "22883"),
]
KL_HEADER = ("ID", "Periode", "Udtræksdato", "Kommunenum", "Kommunenavn", "Resultat", "Tæller", "Nævner")


def _kl_source(d: Path, delimiter: str, rows: list[tuple[str, ...]] = SEED_ROWS) -> Path:
    write_csv(d / "kl_databank.csv", KL_HEADER, rows, delimiter=delimiter)
    from gateway.model.kommuner import load_kommuner

    write_csv(d / "dim_kommune.csv", ("kode", "navn", "region"), [(k.kode, k.navn, k.region) for k in load_kommuner()])
    return d


@pytest.mark.parametrize("delimiter", ["\t", ";"])
def test_kl_databank_seed_layout_is_accepted_as_is(settings: Settings, registry: DatabaseRegistry, tmp_path: Path,
                                                   delimiter: str) -> None:
    _load(settings, registry, _kl_source(tmp_path / "kl", delimiter), area="kl_databank", kommune=None)
    with registry.connect("FLIS KL Databank") as connection:
        row = connection.execute(sa.text(
            "SELECT resultat, taeller, naevner, udtraeksdato FROM noegletal_vaerdier WHERE kommune = '340'")).one()
        assert tuple(row) == (1072, 32032889, 29891, "2021-11-09")
        assert round(row.taeller / row.naevner) == row.resultat
        names = connection.execute(sa.text("SELECT noegletal_tekst FROM dim_noegletal")).scalars().all()
        assert names == ["Nøgletal 10121"]


def test_kl_databank_bad_date_and_wrong_kommune_name_are_refused(settings: Settings, registry: DatabaseRegistry,
                                                                 tmp_path: Path) -> None:
    rows = list(SEED_ROWS)
    rows[2] = ("10121", "2022", "2021-11-09", *SEED_ROWS[2][3:])
    with pytest.raises(LoadError) as caught:
        _load(settings, registry, _kl_source(tmp_path / "a", "\t", rows), area="kl_databank", kommune=None)
    assert (caught.value.row, caught.value.column) == (4, "Udtræksdato") and "dd-mm-yyyy" in str(caught.value)
    rows = list(SEED_ROWS)
    rows[1] = ("10121", "2022", "09-11-2021", "326", "Sorø", "1075", "52004754", "48375")
    with pytest.raises(LoadError) as caught:
        _load(settings, registry, _kl_source(tmp_path / "b", "\t", rows), area="kl_databank", kommune=None)
    assert (caught.value.row, caught.value.column) == (3, "Kommunenavn")


@pytest.mark.postgres
def test_load_into_postgresql_swaps_schemas(settings: Settings, registry: DatabaseRegistry,
                                            ukraine_source: Callable[..., Path], postgres_url: str) -> None:
    import uuid

    name_suffix = uuid.uuid4().hex[:6]
    schemas: list[str] = []
    try:
        first = _load(settings, registry, ukraine_source("pg1"), target=postgres_url)
        schemas.append(str(first.database.schema))
        assert first.database.url == postgres_url and first.database.schema.endswith("_flis_ukraine_101_v0001")
        assert _count(registry) == 3
        more = [*UKRAINE_ROWS, ("2022-06-01", "18-29", "M", "Nej", "000", "101", "1", "0", "0", "0")]
        second = _load(settings, registry, ukraine_source("pg2", more), target=postgres_url)
        schemas.append(str(second.database.schema))
        assert _count(registry) == 4
        with registry.connect(NAME) as connection:
            assert connection.execute(sa.text("SELECT data_as_of FROM _dataadgang")).scalar_one() == AS_OF
            with pytest.raises(sa.exc.DBAPIError):
                connection.execute(sa.text("CREATE TABLE x (a int)"))
    finally:
        registry.close()
        engine = sa.create_engine(postgres_url)
        with engine.begin() as connection:
            for schema in schemas:
                connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()
        del name_suffix


@pytest.mark.postgres
def test_two_homes_loading_into_one_postgresql_database_leave_each_other_alone(
    settings: Settings, ukraine_source: Callable[..., Path], postgres_url: str, tmp_path: Path
) -> None:
    """Staging and production (or two test runs) share a server: neither replaces nor prunes the other."""
    homes = [DatabaseRegistry(tmp_path / f"home{n}" / "data") for n in range(2)]
    schemas: list[str] = []
    try:
        first = _load(settings, homes[0], ukraine_source("a"), target=postgres_url)
        schemas.append(str(first.database.schema))
        for round_ in range(3):  # the other home loads repeatedly: replace + prune on its side
            other = _load(settings, homes[1], ukraine_source(f"b{round_}"), target=postgres_url)
            schemas.append(str(other.database.schema))
        assert first.database.schema != other.database.schema
        assert _count(homes[0]) == 3  # the first home's current version is untouched
    finally:
        for registry in homes:
            registry.close()
        engine = sa.create_engine(postgres_url)
        with engine.begin() as connection:
            for schema in schemas:
                connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


def _protected_answers(registry: DatabaseRegistry, settings: Settings, *, aggregations: bool) -> list[tuple]:
    """A protected month × age × sex query, answered with or without the model's aggregations."""
    import dataclasses

    from gateway.engine.execute import Limits, run_query
    from gateway.engine.plan import plan_query
    from gateway.engine.query import CubeQuery, LevelItem
    from gateway.model.load import load_area
    from gateway.model.view import protected_view

    cube = load_area(settings.schema_dir / "ukraine.yaml").kommune_cubes[0]
    if not aggregations:
        cube = dataclasses.replace(cube, aggregations=())
    query = CubeQuery("Ukraine Statistik", ("Indrejste", "Nettotilvækst", "Akkumuleret tilvækst"),
                      rows=(LevelItem("[Tid].[Måned]"), LevelItem("[Køn].[Køn]")), non_empty=True)
    view = protected_view(cube, b"test key")
    with registry.connect(NAME) as connection:
        chosen = plan_query(connection, (view,), query, cell_limit=1000).aggregation
        assert (chosen is not None) == aggregations
        cells = run_query(connection, (view,), query, limits=Limits())
    return list(cells.to_rowset().rows)


@pytest.mark.parametrize("target", ["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_load_builds_the_models_aggregations_hashed_by_the_serving_database(
    settings: Settings, registry: DatabaseRegistry, ukraine_source: Callable[..., Path], request: pytest.FixtureRequest,
    target: str,
) -> None:
    url = request.getfixturevalue("postgres_url") if target == "postgresql" else None
    result = _load(settings, registry, ukraine_source(), target=url)
    try:
        built = {t: n for t, n in result.rows.items() if t.startswith("agg_maaned_alder_koen_")}
        assert list(built.values()) == [3]  # three events in three month × age × sex cells
        answers = _protected_answers(registry, settings, aggregations=True)
        assert answers == _protected_answers(registry, settings, aggregations=False)
        assert answers[0][:2] == ("marts 2022", "Kvinde")  # the first event; the running total fills the rest
    finally:
        registry.close()
        if url is not None and result.database.schema:
            engine = sa.create_engine(url)
            with engine.begin() as connection:
                connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{result.database.schema}" CASCADE')
            engine.dispose()


def test_an_aggregation_the_data_cannot_fill_refuses_the_load_and_the_old_version_serves(
    settings: Settings, registry: DatabaseRegistry, ukraine_source: Callable[..., Path], tmp_path: Path
) -> None:
    _load(settings, registry, ukraine_source("good"))
    schema_dir = tmp_path / "schema"
    shutil.copytree(settings.schema_dir, schema_dir)
    model = schema_dir / "ukraine.yaml"
    model.write_text(model.read_text(encoding="utf-8").replace(
        "      - {name: Fraflyttede, kind: sum, column: fraflyttet, description: Flyttet herfra til en anden kommune.}",
        "      - {name: Fraflyttede, kind: sum, column: fraflyttet, description: Flyttet herfra til en anden kommune.}"
        "\n      - {name: Bortvist, kind: sum, column: bortvist}",
    ).replace("Akkumuleret tilvækst]", "Akkumuleret tilvækst, Bortvist]"), encoding="utf-8")
    with pytest.raises(LoadError, match="cannot build the aggregation 'maaned_alder_koen'"):
        load_database(LoadRequest("ukraine", "101", ukraine_source("next"), as_of=AS_OF),
                      schema_dir=schema_dir, registry=registry)
    assert registry.get(NAME).version == 1 and _count(registry) == 3  # type: ignore[union-attr]
