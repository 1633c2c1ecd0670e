"""Every error an operator can cause becomes one line on stderr; never a traceback.

One place: the ``dataadgang`` group runs every command inside :func:`one_line` (exit 1) and
prints usage mistakes (a bad option value, a missing argument: exit 2) as one line too, so no
command has to remember anything.
"""

from __future__ import annotations

import ssl
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click
import sqlalchemy as sa

from gateway.errors import DataadgangError


def describe(error: BaseException) -> str:
    """The operator-facing text of ``error``, on one line."""
    if isinstance(error, sa.exc.SQLAlchemyError):
        detail = str(getattr(error, "orig", None) or error)
        text = f"metadata store: {detail}"
    elif isinstance(error, ssl.SSLError):
        text = f"TLS: {error.reason or error}"
    elif isinstance(error, OSError):
        detail = error.strerror or str(error)
        where = f"{error.filename}: " if error.filename and str(error.filename) not in detail else ""
        text = f"{where}{detail}"
    elif isinstance(error, (DataadgangError, ValueError, LookupError)):
        text = str(error)
    else:  # a bug; the operator still gets one line, with enough to report it
        text = f"unexpected {type(error).__name__}: {error}"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


class OneLineErrorGroup(click.Group):
    """A click group whose commands' failures are :class:`click.ClickException` (one line)."""

    def invoke(self, ctx: click.Context) -> Any:
        return one_line(super().invoke, ctx)

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            returned = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as error:
            hint = f" (see '{error.ctx.command_path} --help')" if error.ctx is not None else ""
            click.echo(f"Error: {error.format_message()}{hint}", err=True)
            sys.exit(error.exit_code)
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(returned if isinstance(returned, int) else 0)


def one_line(function: Callable[..., Any], *args: Any) -> Any:
    try:
        return function(*args)
    except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise
    except Exception as error:  # noqa: BLE001 - turned into the one-line message
        raise click.ClickException(describe(error)) from None
