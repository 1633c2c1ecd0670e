"""Shared fixtures: a fresh home directory per test, PostgreSQL when there is one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.audit import AuditSeal
from gateway.settings import Settings
from tests.support.missing import missing_part

PG_URL = os.environ.get("DATAADGANG_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings rooted in a fresh temporary home: nothing shared between tests."""
    return Settings.from_env({"DATAADGANG_HOME": str(tmp_path / "home")})


@pytest.fixture
def audit_seal(tmp_path: Path) -> AuditSeal:
    """Audit keys and a checkpoint file of the test's own (created on first use, as in production)."""
    return AuditSeal.in_directory(tmp_path / "audit-seal")


def _postgres_reachable() -> str | None:
    try:
        engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(error).__name__}: {error}".splitlines()[0]
    return None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The PostgreSQL test server. Under CI=true a missing server fails the test, never skips it."""
    problem = _postgres_reachable()
    if problem is not None:
        message = f"PostgreSQL not reachable at {PG_URL}: {problem}"
        missing_part(message)
    yield PG_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def metadata_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty metadata database: a SQLite file, or a schema of its own on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'metadata.sqlite'}"
        return
    import uuid

    base = request.getfixturevalue("postgres_url")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(base)
    with admin.begin() as connection:
        connection.execute(sa.text(f'create schema "{schema}"'))
    try:
        url = sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'drop schema "{schema}" cascade'))
        admin.dispose()
