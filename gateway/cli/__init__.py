"""The ``dataadgang`` command line: one group, one module per concern, every error one line.

Every command is a module-level click command or group, added here and nowhere else.
"""

from __future__ import annotations

from pathlib import Path

import click

from gateway.cli.pki import pki
from gateway.cli.admin import access, grant, kommune, user
from gateway.cli.audit import audit
from gateway.cli.data import build_demo, databases, generate_command, load
from gateway.cli.deliveries import datapakke
from gateway.cli.errors import OneLineErrorGroup
from gateway.cli.refresh import refresh
from gateway.cli.serve import demo, export_sdl_command, portal, serve
from gateway.settings import Settings


@click.group(cls=OneLineErrorGroup)
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
        settings = settings.with_home(Path(home).expanduser().resolve())
    ctx.obj = settings


for command in (pki, kommune, user, grant, access, audit, load, generate_command, build_demo, databases, refresh, datapakke,
                serve, portal, demo, export_sdl_command):
    main.add_command(command)
