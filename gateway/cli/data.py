"""``dataadgang load`` and friends: build cube databases from source files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from gateway.data.layout import AREAS, has_kind
from gateway.errors import LoadError
from gateway.settings import Settings


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (yyyy-mm-dd)") from None


@click.command("load")
@click.argument("area", type=click.Choice(AREAS))
@click.argument("source_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--kommune", "kommune", metavar="KODE", help="Load the kommune database for this code.")
@click.option("--benchmark", is_flag=True, help="Load the area's benchmark (cross-kommune) database.")
@click.option("--as-of", "as_of", metavar="DATE", help="Data as of (yyyy-mm-dd); default manifest.json, else today.")
@click.option("--target", metavar="URL", help="Load into PostgreSQL (postgresql+psycopg://...), one schema per version.")
@click.pass_obj
def load(settings: Settings, area: str, source_dir: Path, kommune: str | None, benchmark: bool,
         as_of: str | None, target: str | None) -> None:
    """Build a new version of AREA's database from SOURCE_DIR and swap it in atomically."""
    from gateway.data.loader import LoadRequest, load_database
    from gateway.data.progress import progress_bar
    from gateway.registry import DatabaseRegistry

    if (kommune is None) == (not benchmark):
        raise click.UsageError("give exactly one of --kommune KODE and --benchmark")
    if not has_kind(area, benchmark=benchmark):
        raise click.UsageError(f"area {area} has no {'benchmark' if benchmark else 'kommune'} database")
    registry = DatabaseRegistry.from_settings(settings)
    request = LoadRequest(area, kommune, source_dir, as_of=_date(as_of), target=target)
    try:
        with progress_bar() as bar:
            task = bar.add_task(f"Loading {area}", total=None)
            result = load_database(request, schema_dir=settings.schema_dir, registry=registry,
                                   step=lambda text: bar.update(task, description=text))
    except LoadError as error:
        raise click.ClickException(f"load refused, the current version keeps serving: {error}") from None
    finally:
        registry.close()
    entry = result.database
    click.echo(f"{entry.name}: version {entry.version}, data as of {entry.data_as_of}, "
               f"{sum(result.rows.values()):,} rows")


@click.command("generate")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", default=2022, show_default=True, help="Same seed, same bytes.")
@click.option("--scale", default=1.0, show_default=True, help="Multiply Ukraine volumes (benchmarks).")
@click.option("--kommune", "kommuner", multiple=True, metavar="KODE", help="Only these kommuner (repeatable).")
@click.option("--area", "areas", multiple=True, type=click.Choice(AREAS), help="Only these areas (repeatable).")
@click.option("--as-of", "as_of", metavar="DATE", help="Data as of (yyyy-mm-dd); default yesterday.")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True)
def generate_command(out_dir: Path, seed: int, scale: float, kommuner: tuple[str, ...], areas: tuple[str, ...],
                     as_of: str | None, fmt: str) -> None:
    """Write deterministic synthetic source files to OUT_DIR/<area>/<kode|benchmark>/."""
    from gateway.data.demo import default_as_of
    from gateway.data.progress import progress_bar
    from gateway.data.synth import GenerateOptions, expected_dirs, generate
    from gateway.model.kommuner import load_kommuner

    options = GenerateOptions(seed=seed, as_of=_date(as_of) or default_as_of(), scale=scale,
                              kommuner=kommuner or None, fmt=fmt)
    chosen = areas or AREAS
    with progress_bar() as bar:
        task = bar.add_task("Generating", total=expected_dirs(options, chosen, [k.kode for k in load_kommuner()]))
        written = generate(out_dir, options, areas=chosen, tick=lambda: bar.advance(task))
    click.echo(f"{len(written)} source directories in {out_dir} (data as of {options.as_of})")


@click.command("build-demo")
@click.option("--seed", default=2022, show_default=True)
@click.option("--scale", default=1.0, show_default=True)
@click.option("--as-of", "as_of", metavar="DATE", help="Data as of (yyyy-mm-dd); default yesterday.")
@click.pass_obj
def build_demo(settings: Settings, seed: int, scale: float, as_of: str | None) -> None:
    """Generate and load every area for all 98 kommuner into the data directory."""
    from gateway.data.demo import build_demo_data

    try:
        names = build_demo_data(settings, seed=seed, scale=scale, as_of=_date(as_of))
    except LoadError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{len(names)} databases in {settings.data_dir}")


@click.command("databases")
@click.pass_obj
def databases(settings: Settings) -> None:
    """List the registered cube databases (version, data-as-of date) and their aggregations' sizes."""
    from gateway.engine.aggregations import aggregation_sizes
    from gateway.registry import DatabaseRegistry

    registry = DatabaseRegistry.from_settings(settings)
    for entry in registry.all():
        where = f"{entry.url.split('@')[-1]} schema {entry.schema}" if entry.schema else entry.url
        click.echo(f"{entry.name}\tv{entry.version}\t{entry.data_as_of}\t{where}")
        with registry.connect(entry) as connection:
            sizes = aggregation_sizes(connection)
        for table, rows in sizes.items():
            click.echo(f"  aggregation {table}\t{rows:,} rows")
