from __future__ import annotations

import pytest
import sqlalchemy as sa

from gateway.store import MetadataStore


def test_migrate_seeds_all_98_kommuner_none_onboarded(store: MetadataStore) -> None:
    kommuner = store.list_kommuner()
    assert len(kommuner) == 98
    assert kommuner[0].kode == "101" and kommuner[0].navn == "København"
    assert not any(kommune.onboarded for kommune in kommuner)


def test_migrate_twice_changes_nothing(store: MetadataStore, operator) -> None:
    store.onboard_kommune(operator, "101")
    revision = store.revision()
    store.migrate()
    assert len(store.list_kommuner()) == 98
    assert [k.kode for k in store.list_kommuner(onboarded_only=True)] == ["101"]
    assert store.revision() == revision


def test_schema_is_at_the_newest_alembic_revision(store: MetadataStore) -> None:
    with store.database.engine.connect() as connection:
        from alembic.script import ScriptDirectory

        from gateway.store.store import alembic_config

        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert connection.execute(sa.text("select version_num from alembic_version")).scalar_one() == head


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path) -> None:
    with MetadataStore(f"sqlite:///{tmp_path / 'm.sqlite'}") as store:
        store.migrate()
        with store.database.engine.connect() as connection:
            assert connection.exec_driver_sql("pragma journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("pragma foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("pragma busy_timeout").scalar() == 30000


def test_foreign_keys_are_enforced(store: MetadataStore) -> None:
    with store.database.write() as session, pytest.raises(sa.exc.IntegrityError):
        session.execute(
            sa.text(
                "insert into users (kommune_kode, login, display_name, roles, status, created_at, created_by) "
                "values ('999', 'a\\b', 'x', 'user', 'active', '2025-01-01 00:00:00', 'me')"
            )
        )


def test_orm_models_match_the_migrations(store: MetadataStore) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from gateway.store.tables import Base

    with store.database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


_MIGRATOR = """
import sys
from gateway.store import MetadataStore
with MetadataStore(sys.argv[1]) as store:
    store.migrate()
    print(len(store.list_kommuner()))
"""


def test_processes_migrating_at_once_both_succeed(metadata_url: str) -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    processes = [
        subprocess.Popen([sys.executable, "-c", _MIGRATOR, metadata_url], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [process.communicate(timeout=60) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], [err for _, err in results]
    assert [out.strip() for out, _ in results] == ["98", "98"]
