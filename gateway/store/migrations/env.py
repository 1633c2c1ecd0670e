"""Alembic environment: run against the connection the store hands in (``config.attributes``).

Developers may also run ``alembic -c gateway/store/alembic.ini upgrade head`` with
``DATAADGANG_METADATA_URL`` set; then this file opens its own connection.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import context

from gateway.store.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: sa.Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Two processes migrating at once: the second waits, then finds nothing to do.
            connection.execute(sa.text("select pg_advisory_xact_lock(7340061)"))
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from gateway.store.db import create_metadata_engine

    url = os.environ.get("DATAADGANG_METADATA_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set DATAADGANG_METADATA_URL to the metadata database URL")
    engine = create_metadata_engine(url)
    try:
        with engine.connect() as own:
            _run(own)
    finally:
        engine.dispose()


run_migrations_online()
