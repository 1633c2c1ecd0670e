"""What the command modules share: settings, the store, the acting operator, times and tables."""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Sequence

import click

from gateway.settings import Settings
from gateway.store import Actor, MetadataStore


def settings_of(ctx: click.Context) -> Settings:
    settings = ctx.find_object(Settings)
    return settings if settings is not None else Settings.from_env()


def open_store(ctx: click.Context) -> MetadataStore:
    """The migrated store at ``settings.resolved_metadata_url``, closed when the command ends."""
    store = ctx.with_resource(MetadataStore(settings_of(ctx).resolved_metadata_url))
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
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        click.echo("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())
