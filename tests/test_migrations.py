import pytest

from cowin_kit import migrate


def test_models_and_alembic_head_do_not_differ(database):
    """Fails when a model changed without a migration: generate one with
    `cowin_kit.migrate.make_revision`."""
    assert migrate.current_revision(database) == migrate.head_revision(database)
    assert migrate.pending_differences(database) == []


def test_sqlite_pragmas(database, cowin_kit_backend):
    if cowin_kit_backend != "sqlite":
        pytest.skip("SQLite pragmas; PostgreSQL's connection settings are in test_timeouts")
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 20000
