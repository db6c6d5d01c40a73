"""Schema migrations with alembic, packaged inside cowin_kit/migrations (no alembic.ini)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import Connection

from cowin_kit.db import Database


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "cowin_kit:migrations")
    return cfg


class MigrationError(RuntimeError):
    """The database's schema cannot be brought to this version's."""


def check_known(db: Database) -> None:
    current = current_revision(db)
    script = ScriptDirectory.from_config(alembic_config(db))
    known = {rev.revision for rev in script.walk_revisions()}
    if current is not None and current not in known:
        raise MigrationError(
            f"the database's schema is at revision {current}, which this version of cowin-kit "
            "does not know: it was written by a newer cowin-kit or by another application. "
            "Use the cowin-kit version that made it, or another database.")


def upgrade(db: Database, revision: str = "head") -> None:
    check_known(db)
    cfg = alembic_config(db)
    try:
        with _migrating(db) as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except CommandError as exc:
        raise MigrationError(f"the schema migration failed: {exc}") from None


def downgrade(db: Database, revision: str) -> None:
    """Take the schema back to ``revision`` (developers and tests; data a later revision
    added may be lost)."""
    cfg = alembic_config(db)
    with _migrating(db) as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


@contextmanager
def _migrating(db: Database) -> Iterator[Connection]:
    """A connection in one transaction for alembic. On SQLite, foreign keys are not
    enforced meanwhile and checked before the commit, SQLite's documented way of changing a
    table: batch mode copies a table and drops the old one, and dropping a table that rows
    of another refer to fails when they are enforced (even deferred). The pragma only
    takes effect outside a transaction, so it is set before the transaction begins."""
    with db.engine.connect() as conn:
        if not db.is_sqlite:
            with conn.begin():
                yield conn
            return
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.commit()
        try:
            with conn.begin():
                yield conn
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise MigrationError(f"the schema migration broke {len(broken)} foreign "
                                         f"key(s), e.g. in table {broken[0][0]}; nothing "
                                         "was changed.")
        finally:
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()


def head_revision(db: Database) -> str | None:
    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def pending_differences(db: Database) -> list:
    """Differences between the models and the (migrated) database; empty when in step."""
    from cowin_kit.models import metadata

    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": db.is_sqlite})
        return compare_metadata(ctx, metadata)


def make_revision(db: Database, message: str) -> None:
    """Autogenerate a new revision from the models (developers: call it on a database
    upgraded to head, then rename the file and its revision id to the next number)."""
    cfg = alembic_config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
