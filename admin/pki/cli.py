"""``dataadgang pki ...``: certificate authority operations for operators."""

from __future__ import annotations

import click


@click.group()
def pki() -> None:
    """Manage the certificate authority and users' certificates."""
