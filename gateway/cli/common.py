"""What the command modules share: settings, the store, the acting operator, times and tables."""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Sequence

import click

from gateway.audit.formatters import text_table
from gateway.settings import Settings
from gateway.store import Actor, MetadataStore


def settings_of(ctx: click.Context) -> Settings:
    settings = ctx.find_object(Settings)
    return settings if settings is not None else Settings.from_env()


def open_store(ctx: click.Context) -> MetadataStore:
    """The migrated store of the settings (with its audit keys), closed when the command ends."""
    store = ctx.with_resource(MetadataStore.from_settings(settings_of(ctx)))
    store.migrate()
    return store


def cli_actor() -> Actor:
    """The CLI acts as an operator: whoever has a shell on the server is one."""
    return Actor.operator(f"cli:{getpass.getuser()}")


def parse_when(text: str | None) -> dt.datetime | None:
    """ISO date or date-time; without a zone it is UTC (a bare date means midnight UTC)."""
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.ClickException(f"'{text}' is not an ISO date or date-time (e.g. 2025-03-01 or 2025-03-01T08:00)") from None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def stamp(value: dt.datetime | None) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M}"


def echo_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Aligned columns; every cell escaped (a value may carry a newline or terminal escape)."""
    for line in text_table(header, rows):
        click.echo(line)
