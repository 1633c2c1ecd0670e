"""The ``dataadgang`` command line: one group, one module per concern."""

from __future__ import annotations

import click

from gateway.settings import Settings


@click.group()
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=str),
    envvar="DATAADGANG_HOME",
    default=None,
    help="Directory for data, CA and metadata (default ./var; env DATAADGANG_HOME).",
)
@click.pass_context
def main(ctx: click.Context, home: str | None) -> None:
    """dataadgang: data access gateway for kommuner."""
    settings = Settings.from_env()
    if home:
        from pathlib import Path

        settings = settings.with_home(Path(home).expanduser().resolve())
    ctx.obj = settings


def _register() -> None:
    from admin.pki.cli import pki
    from gateway.cli.admin import register as register_admin
    from gateway.cli.data import register as register_data
    from gateway.cli.deliveries import datapakke
    from gateway.cli.refresh import refresh
    from gateway.cli.serve import register as register_serve

    main.add_command(pki)
    main.add_command(datapakke)
    main.add_command(refresh)
    register_data(main)
    register_admin(main)
    register_serve(main)


_register()
