"""Every error an operator can cause becomes one line on stderr (exit 1); never a traceback.

One place: the ``dataadgang`` group runs every command inside :func:`one_line`, so no command
has to remember to wrap its body.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
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


def one_line(function: Callable[..., Any], *args: Any) -> Any:
    try:
        return function(*args)
    except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise
    except Exception as error:  # noqa: BLE001 - turned into the one-line message
        raise click.ClickException(describe(error)) from None
