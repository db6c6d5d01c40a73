"""Where rate limits are counted, and the limits that services enforce themselves. No Flask.

Limits are only worth what their store shares: counted in each process's memory, four
gunicorn workers let an attacker through four times over. So the store is chosen once here
(RATE_LIMIT_STORAGE, REDIS_URL) for flask-limiter's per-address limits and for the services'
own limits (``RateLimits``), and a deployment served by more than one process refuses to start
with the memory store (``store_problems``).

The database store counts in the ``rate_limit_counter`` table with one upsert per hit, on its
own short transactions, so a refused request's rollback does not undo its count. On SQLite it
uses a file of its own next to the database: a count must never wait for the write lock that
the same request's transaction may already hold.
"""
from __future__ import annotations

import hashlib
import logging
import math
import os
import random
import sys
import time
import weakref
from pathlib import Path

from limits import parse_many
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

log = logging.getLogger("cowin_kit.security")

STORES = ("auto", "memory", "redis", "database")
DB_SCHEME = "cowinkit-db"
_MAX_KEY = 200  # longer keys (long IPv6 scopes) are hashed to fit the column
# The engines of database stores by the name in their URI: flask-limiter builds its storage
# from a URI and options it keeps across apps, so the engine is found by name, not passed.
_ENGINES: weakref.WeakValueDictionary[str, object] = weakref.WeakValueDictionary()


# --- who is counted ---------------------------------------------------------------------------

IPV6_PREFIX = 64  # one home, phone or server gets a whole /64 from its provider


def address_key(address: str | None) -> str:
    """What a per-address limit counts for a client address: the IPv4 address itself, or
    the /64 network of an IPv6 one. Counting each IPv6 address would let a single host
    through once per address of its /64, that is without limit.

    >>> [address_key(a) for a in ("2001:db8:1:2::1e", "::ffff:192.0.2.7", "198.51.100.7")]
    ['2001:db8:1:2::/64', '192.0.2.7', '198.51.100.7']
    """
    import ipaddress

    try:
        ip = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return address or ""
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))
    return str(ip)


# --- which store ---------------------------------------------------------------------------

def store_name(settings) -> str:
    """memory, redis or database: RATE_LIMIT_STORAGE, with auto meaning Redis when REDIS_URL
    is set and memory otherwise."""
    chosen = str(settings.get("RATE_LIMIT_STORAGE") or "auto").lower()
    if chosen == "auto":
        return "redis" if settings.get("REDIS_URL") else "memory"
    return chosen


def storage_config(settings, db=None) -> tuple[str, dict]:
    """flask-limiter's RATELIMIT_STORAGE_URI and RATELIMIT_STORAGE_OPTIONS (also what
    ``make_storage`` builds). ``db`` is the deployment's Database (the database store)."""
    name = store_name(settings)
    if name == "redis":
        # Fail fast: a Redis that hangs must not hold requests (the fallback takes over).
        return settings["REDIS_URL"], {"socket_connect_timeout": 1, "socket_timeout": 1}
    if name == "database":
        engine = counter_engine(db)
        _ENGINES[f"e{id(engine)}"] = engine
        return f"{DB_SCHEME}://e{id(engine)}", {}
    return "memory://", {}


def make_storage(settings, db=None) -> Storage:
    uri, options = storage_config(settings, db)
    return storage_from_string(uri, **options)


# --- how many processes serve -----------------------------------------------------------------

def gunicorn_workers() -> int | None:
    """The worker count of the gunicorn that is loading the app, or None outside gunicorn.

    Read from gunicorn's own configuration object, found on the call stack (the worker or
    arbiter that imports the app), so --workers, -w, a config file, GUNICORN_CMD_ARGS and
    WEB_CONCURRENCY all count exactly as gunicorn counted them."""
    if not os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn"):
        return None
    try:
        from gunicorn.config import Config
    except ImportError:  # pragma: no cover - gunicorn is a dependency
        return None
    frame = sys._getframe(1)
    while frame is not None:
        cfg = getattr(frame.f_locals.get("self"), "cfg", None)
        if isinstance(cfg, Config):
            return int(cfg.workers)
        frame = frame.f_back
    return None


def serving_processes(settings, environ=None) -> tuple[int, str]:
    """How many processes serve the deployment, and what says so (for messages)."""
    environ = os.environ if environ is None else environ
    counts = [(int(settings.get("WORKERS") or 1), "WORKERS")]
    try:
        counts.append((int(environ.get("WEB_CONCURRENCY", "")), "WEB_CONCURRENCY"))
    except ValueError:
        pass
    workers = gunicorn_workers()
    if workers is not None:
        counts.append((workers, "gunicorn --workers"))
    return max(counts, key=lambda c: c[0])


def store_problems(settings, environ=None) -> list[str]:
    """Why the limits as configured would not be what the docs promise (empty when fine)."""
    chosen = str(settings.get("RATE_LIMIT_STORAGE") or "auto").lower()
    if chosen not in STORES:
        return [f"RATE_LIMIT_STORAGE must be one of {', '.join(STORES)}, not {chosen!r}."]
    if chosen == "redis" and not settings.get("REDIS_URL"):
        return ["RATE_LIMIT_STORAGE is redis but REDIS_URL is empty; set REDIS_URL "
                "(redis://HOST:6379/0)."]
    processes, source = serving_processes(settings, environ)
    if store_name(settings) == "memory" and processes > 1:
        return [f"{processes} processes serve this deployment ({source}) but rate limits are "
                "counted in each process's memory, so every limit would be multiplied by "
                f"{processes}. Share them: set REDIS_URL (every worker and machine counts "
                "in Redis) or RATE_LIMIT_STORAGE=database; or serve with one worker."]
    return []


# --- the database store ----------------------------------------------------------------------

def counter_engine(db):
    """The engine the database store counts in: the deployment's own on PostgreSQL, a
    separate SQLite file next to the database on SQLite (see the module's docstring)."""
    if db is None:
        raise ValueError("the database rate-limit store needs the deployment's database")
    if not db.is_sqlite:
        return db.engine
    engine = getattr(db, "rate_limit_engine", None)  # kept with the Database it belongs to
    if engine is None:
        from cowin_kit.accounts.models import RateLimitCounter
        from cowin_kit.db import make_engine

        main = Path(db.url.database)
        side = main.with_name(f"{main.stem}-limits.db")
        # Its keys are visitors' addresses: private like every instance file (SQLite gives
        # its -wal and -shm files the same mode).
        side.touch(mode=0o600, exist_ok=True)
        side.chmod(0o600)
        engine = make_engine(f"sqlite:///{side.as_posix()}", busy_timeout=10)
        _create_if_missing(engine, RateLimitCounter.__table__)
        db.rate_limit_engine = engine
    return engine


def _create_if_missing(engine, table) -> None:
    """Create ``table`` and its indexes unless they exist, in one statement each: the
    workers of a server start together, and a check-then-create would let two of them both
    see no table and the second fail on "already exists"."""
    from sqlalchemy.schema import CreateIndex, CreateTable

    with engine.begin() as conn:
        conn.execute(CreateTable(table, if_not_exists=True))
        for index in table.indexes:
            conn.execute(CreateIndex(index, if_not_exists=True))


class DatabaseStorage(Storage):
    """A ``limits`` storage (fixed windows) in the rate_limit_counter table."""

    STORAGE_SCHEME = [DB_SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        from urllib.parse import urlsplit

        from cowin_kit.accounts.models import RateLimitCounter

        engine = _ENGINES.get(urlsplit(uri or "").netloc)
        if engine is None:
            raise ValueError(f"{uri!r} names no database of this process; build it with "
                             "storage_config()")
        self.engine, self.table = engine, RateLimitCounter.__table__

    @property
    def base_exceptions(self):
        from sqlalchemy.exc import SQLAlchemyError

        return SQLAlchemyError

    @staticmethod
    def _key(key: str) -> str:
        if len(key) <= _MAX_KEY:
            return key
        return key[:100] + "#" + hashlib.sha256(key.encode("utf-8")).hexdigest()

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        from sqlalchemy import case

        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        now, c = time.time(), self.table.c
        # One statement: a new window when the old one has expired, else one more hit.
        stmt = insert(self.table).values(key=self._key(key), hits=amount,
                                         expires_at=now + expiry)
        stmt = stmt.on_conflict_do_update(
            index_elements=[c.key],
            set_={"hits": case((c.expires_at <= now, amount), else_=c.hits + amount),
                  "expires_at": case((c.expires_at <= now, now + expiry),
                                     else_=c.expires_at)},
        ).returning(c.hits)
        with self.engine.begin() as conn:
            hits = conn.execute(stmt).scalar_one()
            if hits == amount and random.random() < 0.01:  # now and then, drop old windows
                conn.execute(self.table.delete().where(c.expires_at < now - 86400))
        return hits

    def _row(self, key: str):
        from sqlalchemy import select

        c = self.table.c
        with self.engine.connect() as conn:
            return conn.execute(select(c.hits, c.expires_at).where(
                c.key == self._key(key), c.expires_at > time.time())).first()

    def get(self, key: str) -> int:
        row = self._row(key)
        return row.hits if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return row.expires_at if row else time.time()

    def check(self) -> bool:
        from sqlalchemy import text

        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except self.base_exceptions:
            return False

    def reset(self) -> int | None:
        with self.engine.begin() as conn:
            return conn.execute(self.table.delete()).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.table.delete().where(self.table.c.key == self._key(key)))


# --- limits the services enforce ---------------------------------------------------------------

RULE_SETTINGS = ("MEMBER_TRIES_PER_ACCOUNT", "MEMBER_TRIES_PER_ADDRESS")


def configured_rules(settings) -> dict[str, str]:
    """The limits the services enforce, as the deployment's settings give them."""
    return {name: settings[name] for name in RULE_SETTINGS if settings.get(name)}


class RateLimits:
    """Counts tries against limits such as ``"20 per hour;50 per day"`` in the shared store.

    A store that fails (Redis down) is not a reason to refuse people: like flask-limiter's
    fallback, the process then counts in its own memory until the store answers again."""

    def __init__(self, storage: Storage, prefix: str = "", rules: dict[str, str] | None = None):
        self.prefix = prefix
        self.rules = dict(rules or {})  # the deployment's own limits by name (settings)
        self._limiter = FixedWindowRateLimiter(storage)
        self._fallback = FixedWindowRateLimiter(MemoryStorage())

    @classmethod
    def from_settings(cls, settings, db=None, prefix: str = "") -> RateLimits:
        return cls(make_storage(settings, db), prefix, configured_rules(settings))

    def hit(self, scope: str, key: str, limits: str) -> int | None:
        """Count one try of ``key`` in ``scope``. None when every limit allows it, else the
        seconds until the first refusing limit allows another."""
        for item in parse_many(limits):
            ids = (self.prefix, scope, key) if self.prefix else (scope, key)
            try:
                allowed = self._limiter.hit(item, *ids)
                reset = None if allowed else self._limiter.get_window_stats(item, *ids)
            except Exception as exc:  # noqa: BLE001 - any store failure: count locally
                log.warning("rate-limit store failed (%s); counting in this process",
                            type(exc).__name__)
                allowed = self._fallback.hit(item, *ids)
                reset = None if allowed else self._fallback.get_window_stats(item, *ids)
            if not allowed:
                return max(1, math.ceil(reset.reset_time - time.time()))
        return None
