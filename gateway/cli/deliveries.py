"""``dataadgang datapakke ...``: the download door's packages, for operators at the shell."""

from __future__ import annotations

import time
from pathlib import Path

import click

from gateway.cli.common import cli_actor, echo_table, open_store
from gateway.settings import Settings


@click.group()
def datapakke() -> None:
    """Datapakker (the KL Databank delivery that replaces the FTP server), as users download them."""


@datapakke.command("list")
@click.pass_obj
def datapakke_list(settings: Settings) -> None:
    """The packages on offer, the database each is read from, and its current version."""
    from gateway.deliveries.packages import PACKAGES
    from gateway.registry import DatabaseRegistry

    registry = DatabaseRegistry.from_settings(settings)
    rows = []
    for package in PACKAGES:
        entry = registry.get(package.database)
        loaded = f"v{entry.version}, data as of {entry.data_as_of}" if entry else "not loaded"
        rows.append((package.id, package.number, package.database, loaded))
    echo_table(("PACKAGE", "NUMBER", "DATABASE", "CURRENT"), rows)


@datapakke.command("export")
@click.argument("package")
@click.option("--kommune", "kommune_kode", required=True, metavar="KODE", help="The kommune the file is named for.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Directory to write the zip into.")
@click.pass_context
def datapakke_export(ctx: click.Context, package: str, kommune_kode: str, out_dir: Path) -> None:
    """Write PACKAGE (id or number) as the zip a user of KODE downloads; the export is audited."""
    from gateway.audit import operator_event
    from gateway.deliveries.service import operator_package
    from gateway.engine.execute import Limits
    from gateway.files import write_atomic
    from gateway.model import load_catalog
    from gateway.registry import DatabaseRegistry

    settings: Settings = ctx.obj
    store = open_store(ctx)
    started = time.perf_counter()
    registry = DatabaseRegistry.from_settings(settings)
    try:
        found = operator_package(load_catalog(settings.schema_dir), registry, Limits.from_settings(settings),
                                 package, kommune_kode)
        data = b"".join(found.zip_chunks())
        target = out_dir / found.version.file_name
        store.audit_log().record(operator_event(
            cli_actor().login, operation="datapakke.export", kommune_kode=kommune_kode,
            database=found.version.package.database, query=f"datapakke export {package} --kommune {kommune_kode}",
            cells=found.cells, duration_ms=round((time.perf_counter() - started) * 1000, 3),
        ))  # on record before the file exists, as a download is before it leaves
        out_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(target, data, mode=0o644)
    finally:
        registry.close()
    click.echo(f"{target} ({target.stat().st_size:,} bytes, data as of {found.version.data_as_of})")
