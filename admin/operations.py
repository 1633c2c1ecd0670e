"""What operators watch: the cube databases (version, data as of, size) and the certificates
about to expire across kommuner. Onboarding and offboarding are store methods
(``MetadataStore.onboard_kommune`` / ``offboard_kommune``), as the CLI calls them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from gateway.registry import DatabaseRegistry, RegisteredDatabase
from gateway.store.rules import require_operator
from gateway.store.views import Actor

EXPIRY_WINDOW = dt.timedelta(days=30)


@dataclass(frozen=True, slots=True)
class DatabaseInfo:
    name: str
    area: str
    kommune_kode: str | None
    version: int
    data_as_of: dt.date | None
    built_at: dt.datetime | None
    size_bytes: int | None  # None when the backend cannot say


def database_overview(registry: DatabaseRegistry, actor: Actor) -> list[DatabaseInfo]:
    require_operator(actor, "see the service's databases")
    return [
        DatabaseInfo(e.name, e.area, e.kommune_kode, e.version, e.data_as_of, e.built_at, _size(registry, e))
        for e in sorted(registry.all(), key=lambda entry: entry.name)
    ]


def _size(registry: DatabaseRegistry, entry: RegisteredDatabase) -> int | None:
    url = sa.make_url(entry.url)
    if url.get_backend_name() == "duckdb" and url.database:
        path = Path(url.database)
        return path.stat().st_size if path.exists() else None
    if url.get_backend_name() == "postgresql" and entry.schema:
        with registry.connect(entry) as connection:
            total = connection.execute(
                sa.text(
                    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :schema AND c.relkind = 'r'"
                ),
                {"schema": entry.schema},
            ).scalar_one()
        return int(total)
    return None
