"""``dataadgang refresh``: load what is new in the drop directory; ``refresh status``: how it went."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import click

from gateway.cli.common import cli_actor, echo_table, open_store
from gateway.settings import Settings

EXIT_FAILED = 1  # at least one source was refused (its database keeps its old version)
EXIT_BUSY = 75  # EX_TEMPFAIL: another refresh is running; schedulers log it and try next time


@click.group("refresh", invoke_without_command=True)
@click.option("--drop", "drop_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The drop directory (default $DATAADGANG_DROP_DIR, else <home>/drop).")
@click.option("--dry-run", is_flag=True, help="Validate what changed and say what would load; swap and record nothing.")
@click.option("--target", metavar="URL", help="PostgreSQL for databases not loaded before (others stay where they are).")
@click.pass_context
def refresh(ctx: click.Context, drop_dir: Path | None, dry_run: bool, target: str | None) -> None:
    """Load every database whose source files in the drop directory changed, atomically.

    Layout: <drop>/<area>/<kode|benchmark>/<table>.csv|.parquet [manifest.json]. Unchanged
    inputs are not rebuilt; a refused input is reported and its database keeps serving.
    Exit 0 when nothing failed, 1 when something did, 75 when another refresh is running.
    """
    if ctx.invoked_subcommand is not None:
        return
    from gateway.data.progress import progress_bar
    from gateway.data.refresh import RefreshBusyError
    from gateway.data.refresh import refresh as run_refresh

    settings: Settings = ctx.obj
    store = open_store(ctx)
    chosen = drop_dir or settings.resolved_drop_dir
    # systemd stops a run that overstays with SIGTERM: end it like Ctrl-C, so the half-built
    # version is removed and the run is recorded as stopped instead of 'running' forever
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        with progress_bar() as bar:
            task = bar.add_task("Refreshing", total=None)
            try:
                report = run_refresh(
                    settings, store.refresh_log(), drop_dir=chosen, started_by=cli_actor().login, dry_run=dry_run,
                    target=target, on_start=lambda n: bar.update(task, total=n),
                    step=lambda text: bar.update(task, description=text), advance=lambda: bar.advance(task),
                )
            except RefreshBusyError as busy:
                report = None
                click.echo(f"Error: {busy}", err=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if report is None:
        sys.exit(EXIT_BUSY)
    for result in report.results:
        if result.action == "failed":
            click.echo(f"FAILED     {result.database}: {result.error} (the current version keeps serving)")
        elif result.action == "loaded":
            click.echo(f"loaded     {result.database}: version {result.version}, {result.rows:,} rows")
        elif result.action == "would load":
            click.echo(f"would load {result.database}: {result.rows:,} rows, valid")
        else:
            click.echo(f"unchanged  {result.database} (version {result.version})")
    for problem in report.problems:
        click.echo(f"FAILED     {problem}")
    run = "dry run" if dry_run else f"refresh run {report.run_id}"
    if report.changed == 0 and report.failed == 0:
        click.echo(f"{run}: nothing changed ({report.count('unchanged')} databases unchanged)")
    else:
        verb = "would change" if dry_run else "changed"
        click.echo(f"{run}: {report.changed} {verb}, {report.count('unchanged')} unchanged, {report.failed} failed, "
                   f"{report.rows:,} rows loaded")
    if report.failed:
        sys.exit(EXIT_FAILED)


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


@refresh.command("status")
@click.option("--runs", "limit", default=5, show_default=True, help="How many recent runs to show.")
@click.option("--json", "as_json", is_flag=True, help="The runs and the per-database state as JSON.")
@click.pass_context
def refresh_status(ctx: click.Context, limit: int, as_json: bool) -> None:
    """Recent refresh runs, and per database: version, data as of, last refresh and its outcome."""
    from gateway.registry import DatabaseRegistry

    settings: Settings = ctx.obj
    store = open_store(ctx)
    log = store.refresh_log()
    runs = log.runs(limit=limit)
    inputs = log.inputs()
    databases = DatabaseRegistry.from_settings(settings).all()
    if as_json:
        document = {
            "runs": [{**{k: getattr(r, k) for k in ("id", "status", "started_by", "drop_dir", "changed", "unchanged",
                                                     "failed", "rows")},
                      "started_at": r.started_at.isoformat(), "finished_at": r.finished_at.isoformat() if r.finished_at else None,
                      "report": list(r.report)} for r in runs],
            "databases": [{"name": d.name, "version": d.version,
                           "data_as_of": d.data_as_of.isoformat() if d.data_as_of else None,
                           "built_at": d.built_at.isoformat() if d.built_at else None,
                           "last_refresh": inputs[d.name].last_attempt_at.isoformat() if d.name in inputs else None,
                           "last_status": inputs[d.name].last_status if d.name in inputs else None,
                           "last_error": inputs[d.name].last_error if d.name in inputs else None} for d in databases],
        }
        click.echo(json.dumps(document, ensure_ascii=False, indent=1))
        return
    if runs:
        echo_table(("RUN", "STARTED (UTC)", "FINISHED", "STATUS", "CHANGED", "UNCHANGED", "FAILED", "ROWS"), [
            (str(r.id), f"{r.started_at:%Y-%m-%d %H:%M:%S}", f"{r.finished_at:%H:%M:%S}" if r.finished_at else "-",
             r.status, str(r.changed), str(r.unchanged), str(r.failed), f"{r.rows:,}") for r in runs])
    else:
        click.echo("no refresh has run yet")
    click.echo("")
    echo_table(("DATABASE", "VERSION", "DATA AS OF", "LAST REFRESH (UTC)", "OUTCOME"), [
        (d.name, f"v{d.version}", str(d.data_as_of or "-"),
         f"{inputs[d.name].last_attempt_at:%Y-%m-%d %H:%M}" if d.name in inputs else "-",
         _outcome(inputs[d.name].last_status, inputs[d.name].last_error) if d.name in inputs else "-")
        for d in databases])


def _outcome(status: str, error: str | None) -> str:
    return status if error is None else f"{status}: {error[:160]}"
