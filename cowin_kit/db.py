"""Database engine and sessions (SQLAlchemy 2), for SQLite and PostgreSQL alike."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import CheckConstraint, DateTime, MetaData, create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The largest value of an Integer column on PostgreSQL (INTEGER is 32-bit; SQLite's is 64).
# Ids and numbers that reach the database are checked against it where they enter.
MAX_INT = 2 ** 31 - 1


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def one_of(column: str, values: type[StrEnum]) -> CheckConstraint:
    """A CHECK that ``column`` holds one of the enum's values, named ck_<table>_<column>
    (as the migration that adds it names it)."""
    allowed = ", ".join(f"'{v.value}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=column)


class UTCDateTime(TypeDecorator):
    """Timestamps stored in UTC and always read back as aware datetimes (SQLite forgets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; use datetime.now(timezone.utc)")
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


class DatabaseURLError(ValueError):
    """The database URL is malformed or names a driver the kit does not support."""


class DatabaseMissing(DatabaseURLError):
    """A SQLite database file that should exist does not."""


URL_HELP = "use sqlite:///path/to/file.db or postgresql://user@host:5432/dbname"


def normalise_url(raw: str, base_dir: Path | None = None) -> URL:
    """Parse a database URL. Plain ``postgresql://`` means psycopg 3; a relative SQLite
    path is relative to ``base_dir`` (the instance folder); in-memory SQLite is refused
    because a deployment's data would vanish when the process ends."""
    try:
        url = make_url(raw)
        url.port  # noqa: B018 - parsing a bad port raises here, not later
    except (ArgumentError, ValueError):
        raise DatabaseURLError(f"{raw!r} is not a valid database URL; {URL_HELP}") from None
    backend = url.get_backend_name()
    if backend == "postgresql":
        if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
            url = url.set(drivername="postgresql+psycopg")
        elif url.drivername != "postgresql+psycopg":
            raise DatabaseURLError(f"the driver {url.drivername!r} is not supported; "
                                   "use postgresql://… (psycopg 3 is installed with the kit)")
    elif backend == "sqlite":
        if url.drivername != "sqlite":
            raise DatabaseURLError(f"the driver {url.drivername!r} is not supported; {URL_HELP}")
        if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
            raise DatabaseURLError(f"{raw!r} is an in-memory or URI database, whose data would "
                                   f"be lost when the command ends; {URL_HELP}")
        path = Path(url.database).expanduser()
        if not path.is_absolute() and base_dir is not None:
            url = url.set(database=str((base_dir / path).resolve()))
    else:
        raise DatabaseURLError(f"database {backend!r} is not supported; {URL_HELP}")
    return url


def _wal_mode(cur, wait_seconds: float) -> None:
    """Switch a SQLite database to WAL. The switch needs the database to itself and SQLite
    answers "database is locked" at once instead of waiting (the busy timeout does not
    apply): so wait here, as the busy timeout would, for a writer that holds it, e.g. the
    other gunicorn workers creating the same new file at start."""
    import sqlite3
    import time

    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def make_engine(raw_url: str, busy_timeout: int = 30, pool_size: int = 10,
                must_exist: bool = False, statement_timeout: int = 0,
                lock_timeout: int = 0, pooler: str = "", connect_timeout: int = 10) -> Engine:
    """``statement_timeout`` and ``lock_timeout`` (seconds, 0 for none) are set on every
    PostgreSQL connection; SQLite waits at most ``busy_timeout`` seconds for a lock.

    ``pooler="pgbouncer"``: the URL leads to PgBouncer in transaction mode, where each
    transaction may run on another server connection. psycopg then prepares no statement
    on the server (it would by default from a statement's fifth run, and the next
    transaction would not find it: PgBouncer 1.18 does not track them), and no timeout is
    set per connection (a session setting would stay on a server connection that others
    share, and be missing from the one this connection gets next): set them on the
    database role instead."""
    url = normalise_url(raw_url)
    if url.get_backend_name() == "sqlite":
        if must_exist and not Path(url.database).exists():
            # Connecting would silently create an empty database in its place.
            raise DatabaseMissing(
                f"the database file {url.database} does not exist. Restore it from backup, or "
                "run `cowin-kit init --update` to create an empty one.")
        engine = create_engine(url, connect_args={"timeout": busy_timeout})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout) * 1000}")
            if url.database and url.database != ":memory:":
                _wal_mode(cur, busy_timeout)
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    connect_args: dict = {"connect_timeout": connect_timeout}
    if pooler:
        connect_args["prepare_threshold"] = None
    # No ping before each checkout (a round trip per request): a connection the server
    # dropped fails its first statement instead, SQLAlchemy then recycles the whole pool,
    # and the web retries that request once (runtime.retry_on_disconnect).
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size,
                           pool_pre_ping=False, connect_args=connect_args)
    if (statement_timeout or lock_timeout) and not pooler:
        @event.listens_for(engine, "connect")
        def _pg_timeouts(dbapi_conn, _record):
            # A statement that runs too long or waits too long for a row lock fails with
            # an OperationalError, which the web answers as 503 with Retry-After, instead
            # of a request hanging until the server kills the worker. set_config rather
            # than startup options, which connection poolers such as PgBouncer refuse
            # (in session mode it keeps them; in transaction mode see ``pooler``);
            # committed, so the pool's rollback on return does not undo it.
            with dbapi_conn.cursor() as cur:
                cur.execute("SELECT set_config('statement_timeout', %s, false), "
                            "set_config('lock_timeout', %s, false)",
                            (f"{int(statement_timeout)}s", f"{int(lock_timeout)}s"))
            dbapi_conn.commit()

    return engine


class Database:
    """An engine plus a session factory; one per application or CLI command."""

    def __init__(self, url: str, busy_timeout: int = 30, pool_size: int = 10,
                 must_exist: bool = False, statement_timeout: int = 0, lock_timeout: int = 0,
                 pooler: str = "", connect_timeout: int = 10):
        self.engine = make_engine(url, busy_timeout, pool_size, must_exist,
                                  statement_timeout, lock_timeout, pooler, connect_timeout)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def url(self) -> URL:
        return self.engine.url

    @property
    def is_sqlite(self) -> bool:
        return self.engine.url.get_backend_name() == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self.Session() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def ping(self) -> None:
        """Raise SQLAlchemyError when the database cannot be reached."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def begin_write(session: Session) -> None:
    """On SQLite, take the database write lock before reading (BEGIN IMMEDIATE), so that
    check-then-write sequences run one at a time and wait on the busy timeout instead of
    failing on a stale snapshot. PostgreSQL needs nothing here: callers lock rows."""
    conn = session.connection()
    if conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


_COMMITTING = "cowin_kit.committing"


@event.listens_for(Session, "before_commit")
def _committing(session):
    session.info[_COMMITTING] = True


def may_retry(exc: BaseException, *sessions: Session) -> bool:
    """Whether a unit of work that failed with ``exc`` may simply run again: the connection
    was lost (so the server rolled its transaction back) and none of ``sessions`` had
    started to commit (a COMMIT cut off midway may have happened)."""
    from sqlalchemy.exc import DBAPIError

    return (isinstance(exc, DBAPIError) and exc.connection_invalidated
            and not any(s.info.get(_COMMITTING) for s in sessions))


def error_status(exc: SQLAlchemyError) -> int:
    """The HTTP status a database error becomes, decided here once for the API and pages.

    400 when the database refused a value (out of range, a NUL): input that should have
    been refused where it entered, but not an outage that monitoring should page about.
    409 for a constraint that a concurrent change broke. 503 (try again later) for the
    rest: unreachable, a pool exhausted, a statement or lock timeout, SQLite's busy
    timeout, a schema not upgraded.
    """
    from sqlalchemy import exc as sa

    if isinstance(exc, sa.DataError):
        return 400
    if isinstance(exc, sa.IntegrityError):
        return 409
    return 503


def describe_db_error(exc: SQLAlchemyError, url: URL) -> str:
    """One line for an operator: what failed, without a password or a traceback."""
    safe = url.render_as_string(hide_password=True)
    orig = getattr(exc, "orig", None)
    said = str(orig or exc).strip()
    reason = said.splitlines()[0] if said else type(exc).__name__
    return f"cannot use the database {safe}: {reason}"
