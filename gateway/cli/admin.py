"""Operator and security-officer commands until the portal exists: kommuner, users, grants, audit."""

from __future__ import annotations

import click


def register(main: click.Group) -> None:
    """Add the administration commands to the main group."""
