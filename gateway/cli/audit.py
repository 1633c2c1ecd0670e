"""``dataadgang audit ...``: read, export and verify the tamper-evident audit trail."""

from __future__ import annotations

import io
import os
from pathlib import Path

import click

from gateway.cli.admin import echo_table, one_line_errors, open_store, parse_when

@click.group()
def audit() -> None:
    """Read, export and verify the tamper-evident audit trail."""


def _filters(function: click.decorators.FC) -> click.decorators.FC:
    for option in reversed([
        click.option("--since", default=None, help="From this time (ISO, UTC)."),
        click.option("--until", default=None, help="Before this time (ISO, UTC)."),
        click.option("--login", default=None),
        click.option("--database", default=None),
        click.option("--outcome", type=click.Choice(["served", "denied", "failed", "refused"]), default=None),
        click.option("--kommune", "kommune_kode", default=None),
    ]):
        function = option(function)
    return function


def _records(ctx: click.Context, filters: dict[str, str | None], limit: int | None = None) -> list:  # type: ignore[type-arg]
    store = open_store(ctx)
    with one_line_errors():
        return store.audit_log().query(
            since=parse_when(filters["since"]), until=parse_when(filters["until"]), login=filters["login"],
            database=filters["database"], outcome=filters["outcome"], kommune_kode=filters["kommune_kode"], limit=limit,
        )


@audit.command("list")
@_filters
@click.option("--limit", type=int, default=None)
@click.option("--json", "as_json", is_flag=True, help="One JSON document per line.")
@click.pass_context
def audit_list(ctx: click.Context, limit: int | None, as_json: bool, **filters: str | None) -> None:
    """List audit events, oldest first."""
    from gateway.audit import iter_lines

    records = _records(ctx, filters, limit)
    if as_json:
        for line in iter_lines(records):
            click.echo(line)
        return
    echo_table(
        ("SEQ", "TIME (UTC)", "LOGIN", "OPERATION", "DATABASE", "OUTCOME", "CELLS", "REASON"),
        [
            (str(r.seq), f"{r.event.time:%Y-%m-%d %H:%M:%S}", r.event.login or "-", r.event.operation, r.event.database or "-",
             r.event.outcome, "-" if r.event.cells is None else str(r.event.cells), r.event.reason or "-")
            for r in records
        ],
    )


@audit.command("export")
@_filters
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), required=True)
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to create (mode 0600); default standard output.")
@click.pass_context
def audit_export(ctx: click.Context, fmt: str, out_file: Path | None, **filters: str | None) -> None:
    """Export audit events as CSV or JSON lines, with their chain hashes."""
    records = _records(ctx, filters)
    buffer = io.StringIO()
    open_store(ctx).audit_log().export(buffer, format=fmt, records=records)
    if out_file is None:
        click.echo(buffer.getvalue(), nl=False)
        return
    with one_line_errors():
        write_private(out_file, buffer.getvalue())
    click.echo(f"wrote {len(records)} events to {out_file}", err=True)


@audit.command("verify")
@click.pass_context
def audit_verify(ctx: click.Context) -> None:
    """Check the hash chain; exit 1 naming the first row that was changed or removed.

    The result is kept (when, by whom, what it found): the portal's audit page shows the last."""
    from admin.audit_review import verify_chain
    from gateway.cli.admin import cli_actor

    store = open_store(ctx)
    with one_line_errors():
        check = verify_chain(store, cli_actor())
    if not check.ok:
        raise click.ClickException(f"audit trail BROKEN after {check.checked} good events: {check.problem}")
    click.echo(f"audit trail intact: {check.checked} events")


def write_private(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600 (exports hold logins and queries); refuse to overwrite."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


