"""``dataadgang load`` and friends: build cube databases from source files."""

from __future__ import annotations

import click


def register(main: click.Group) -> None:
    """Add the data commands to the main group."""
