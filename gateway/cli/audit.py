"""``dataadgang audit ...``: read, export, seal and verify the tamper-evident audit trail."""

from __future__ import annotations

import io
import os
from pathlib import Path

import click

from gateway.audit import AuditRecord, TrailCheck
from gateway.audit.formatters import TEXT_COLUMNS, json_line, text_rows, write_export
from gateway.cli.common import cli_actor, echo_table, open_store, parse_when, settings_of
from gateway.model import load_catalog


@click.group()
def audit() -> None:
    """Read, export, seal and verify the tamper-evident audit trail."""


def _filters(function: click.decorators.FC) -> click.decorators.FC:
    for option in reversed([
        click.option("--since", default=None, help="From this time (ISO, UTC)."),
        click.option("--until", default=None, help="Before this time (ISO, UTC)."),
        click.option("--login", default=None),
        click.option("--database", default=None, help="Database name, in any spelling the gateway accepts."),
        click.option("--outcome", type=click.Choice(["served", "denied", "failed", "refused"]), default=None),
        click.option("--kommune", "kommune_kode", default=None),
    ]):
        function = option(function)
    return function


def _records(ctx: click.Context, filters: dict[str, str | None], limit: int | None = None) -> list[AuditRecord]:
    store = open_store(ctx)
    return store.audit_log().query(
        since=parse_when(filters["since"]), until=parse_when(filters["until"]), login=filters["login"],
        database=_filed_name(ctx, filters["database"]), outcome=filters["outcome"],
        kommune_kode=filters["kommune_kode"], limit=limit,
    )


def _filed_name(ctx: click.Context, database: str | None) -> str | None:
    """The name the trail files ``database`` under: canonical when it resolves (any spelling
    the gateway accepts), else as typed (names that never resolved are kept as sent)."""
    if database is None:
        return None
    ref = load_catalog(settings_of(ctx).schema_dir).resolve_database(database)
    return ref.name if ref is not None else database


@audit.command("list")
@_filters
@click.option("--limit", type=click.IntRange(1, 10_000_000), default=None, help="At most this many events, oldest first.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document per line.")
@click.pass_context
def audit_list(ctx: click.Context, limit: int | None, as_json: bool, **filters: str | None) -> None:
    """List audit events, oldest first (client text escaped: \\n, \\x1b, \\u2028 ...)."""
    records = _records(ctx, filters, limit)
    if as_json:
        for record in records:
            click.echo(json_line(record))
        return
    echo_table(TEXT_COLUMNS, list(text_rows(records)))


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
    write_export(buffer, records, format=fmt)
    if out_file is None:
        click.echo(buffer.getvalue(), nl=False)
        return
    write_private(out_file, buffer.getvalue())
    click.echo(f"wrote {len(records)} events to {out_file}", err=True)


@audit.command("verify")
@click.pass_context
def audit_verify(ctx: click.Context) -> None:
    """Check the keyed chain and every signed checkpoint; exit 1 naming the first problem.

    The result is kept (when, by whom, what it found: the portal's audit page shows the last),
    and a successful verification is sealed as a signed checkpoint, so the next run can say
    when the trail was last found intact.
    """
    from admin.audit_review import verify_chain

    store = open_store(ctx)
    check = verify_chain(store, cli_actor()).trail
    if check is None:  # verify_chain always runs the check; a None here is a bug, not a result
        raise RuntimeError("verify_chain returned no trail check")
    if not check.ok:
        raise click.ClickException(
            f"audit trail BROKEN after {check.checked} good events: {check.problem} ({_last_verified(check)})"
        )
    note = f" ({check.unkeyed} from before audit keys, sealed by the first checkpoint)" if check.unkeyed else ""
    click.echo(f"audit trail intact: {check.checked} events{note}, {check.checkpoints} signed checkpoints")
    if check.last_checkpoint is not None:
        when = f"{check.last_checkpoint.time:%Y-%m-%d %H:%M:%S} UTC"
        click.echo(f"newest checkpoint: row {check.last_checkpoint.seq}, {when} ({check.last_checkpoint.kind})")
    click.echo(_last_verified(check))


def _last_verified(check: TrailCheck) -> str:
    if check.last_verified is None:
        return "last verified intact: never"
    when = f"{check.last_verified.time:%Y-%m-%d %H:%M:%S} UTC"
    return f"last verified intact: {when}, up to row {check.last_verified.seq}"


@audit.command("checkpoint")
@click.pass_context
def audit_checkpoint(ctx: click.Context) -> None:
    """Sign the chain head now into the checkpoint file (the gateway also does so periodically)."""
    store = open_store(ctx)
    checkpoint = store.audit_log().checkpoint(kind="manual")
    click.echo(f"checkpoint: row {checkpoint.seq}, hash {checkpoint.hash}, key {checkpoint.key_id}, "
               f"in {store.seal.checkpoints.path}")


@audit.command("rotate-key")
@click.pass_context
def audit_rotate_key(ctx: click.Context) -> None:
    """Make a new audit key generation (HMAC + Ed25519); older ones stay for verification.

    Restart the gateway afterwards: a running worker keeps the generation it loaded.
    """
    store = open_store(ctx)
    checkpoint = store.rotate_audit_key()
    keys = store.seal.keys
    click.echo(f"new audit key {keys.active.id} in {keys.directory} ({len(keys.ids)} generations kept); "
               f"checkpoint at row {checkpoint.seq} signed with it")


def write_private(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600 (exports hold logins and queries); refuse to overwrite."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
