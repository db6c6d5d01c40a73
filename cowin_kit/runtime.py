"""Per-request state: the deployment, the write session and the read session.

Views, the API and request hooks import these accessors; ``app.py`` only builds the app and
stores the Deployment in it. This module imports neither ``app.py`` nor any view (nor
anything heavy at import time), so importing it is cheap and makes no circle.

Two sessions, because reads and writes may later go to different servers:

- ``db_session()`` writes, and reads what must be current: a citizen's own data, anything
  checked before a change. Always the primary database.
- ``read_session()`` only reads, for public search, dashboards, open data and exports. It
  uses one of the streaming replicas of DATABASE_REPLICA_URLS (READ_DATABASE_URL is a
  one-replica form of it) that answers and is at most REPLICA_MAX_LAG_SECONDS behind, else
  the primary database; a read its replica fails mid-request is run again on the primary
  (cowin_kit.replicas). Never write with it, and never read from it what a person has just
  changed: a citizen's or a staff member's own data, and anything checked before a change,
  come from ``db_session()``.

Read-your-writes: a citizen who has just booked is not sent to the primary for their next
public searches. What they booked (their appointments, their members) is their own data and
always comes from the primary; the public availability is shared, already up to
ANSWER_TTL_SECONDS (10 s) old from the answer cache and up to 30 s from a CDN, which the
replica's few seconds do not change; a booking always takes its place on the primary, so a
place that looks free but is not is refused there.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from flask import current_app, g

from cowin_kit import clock
from cowin_kit.reporting.cache import FiguresCache

_log = logging.getLogger("cowin_kit.runtime")

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cowin_kit.config import Settings
    from cowin_kit.db import Database
    from cowin_kit.plugins import PluginRegistry
    from cowin_kit.profiles import Profile

EXTENSION = "cowin_kit"  # app.extensions key of the Deployment


@dataclass
class Deployment:
    """Everything a request needs to know about this deployment, built once per app."""

    settings: Settings
    profile: Profile
    db: Database
    plugins: PluginRegistry
    # The read replicas (DATABASE_REPLICA_URLS, READ_DATABASE_URL), none: reads use ``db``.
    replica_dbs: list[Database] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    # ID document code (from the profile) -> the provider that checks it
    id_providers: dict = field(default_factory=dict)
    messenger: object = None  # cowin_kit.notifications.service.Messenger
    limits: object = None  # cowin_kit.ratelimits.RateLimits, the services' own limits
    # Computed dashboard and reports-API answers, kept REPORTS_CACHE_SECONDS per process.
    figures_cache: FiguresCache = field(default_factory=FiguresCache)
    # Division id -> its centres' time zone (zone_of), when the profile has several zones.
    zone_cache: dict = field(default_factory=dict)

    def __post_init__(self):
        from cowin_kit.replicas import ReadRouter

        # Which database each read session uses (cowin_kit.replicas).
        self.reads = ReadRouter(self.db, self.replica_dbs,
                                max_lag=self.settings["REPLICA_MAX_LAG_SECONDS"],
                                check_every=self.settings["REPLICA_CHECK_SECONDS"],
                                retry_after=self.settings["REPLICA_RETRY_SECONDS"])

    @property
    def read_db(self) -> Database:
        """The first replica, else ``db``: for code outside a request that wants one
        database to read from; prefer ``reads.session()``, which falls back."""
        return self.replica_dbs[0] if self.replica_dbs else self.db

    @property
    def default_language(self) -> str:
        configured = self.settings["DEFAULT_LOCALE"]
        if configured in self.languages:
            return configured
        if self.profile.default_language in self.languages:
            return self.profile.default_language
        return self.languages[0]

    @property
    def timezone(self) -> str:
        return self.settings["TIMEZONE"] or self.profile["timezone"]

    def now(self) -> datetime:
        """The wall clock here (cowin_kit.clock: one seam, which tests pin)."""
        return clock.local_now(self.timezone)

    def today(self) -> date:
        """Today in the deployment's time zone (a centre's day, not the server's)."""
        return clock.today(self.timezone)

    @property
    def several_zones(self) -> bool:
        """Whether the profile gives some division its own time zone (else every centre is
        on the deployment's, with no query to ask)."""
        return bool(self.profile["divisions"].get("timezones"))

    def zone_of(self, session, division_id: int | None) -> str:
        """A centre's time zone, from its division (``Facility.division_id``): the nearest
        division's own, else the deployment's. Kept per process (zones change only with
        ``init --update``, which a restart follows)."""
        if not self.several_zones:
            return self.timezone
        from cowin_kit.geography.service import zone_of

        return zone_of(session, division_id, self.timezone, cache=self.zone_cache)

    def zone_resolver(self, session):
        """For the services' ``zone_of`` argument: division id -> its centres' zone; None
        when the profile has one zone (the services then ask nothing more)."""
        if not self.several_zones:
            return None
        return lambda division_id: self.zone_of(session, division_id)

    def facility_now(self, session, facility) -> datetime:
        """The wall clock at a centre: its division's zone, else the deployment's."""
        return clock.local_now(self.zone_of(session, facility.division_id))

    def facility_today(self, session, facility) -> date:
        """Today at a centre (a walk-in's, a dose's, the day's no-shows)."""
        return clock.today(self.zone_of(session, facility.division_id))

    def dispose(self) -> None:
        """Close every pooled connection (tests, and commands that build an app)."""
        self.db.dispose()
        self.reads.dispose()


def deployment() -> Deployment:
    """The current app's deployment."""
    return current_app.extensions[EXTENSION]


def db_session() -> Session:
    """The request's write session, on the primary database (closed when the request ends)."""
    if "db_session" not in g:
        g.db_session = deployment().db.Session()
    return g.db_session


def read_session() -> Session:
    """The request's read-only session, for public search, dashboards, open data and
    exports: on a healthy replica when there are any, else on the primary (closed when the
    request ends). A separate session even on the primary database, so code that uses it
    behaves the same once it is a replica. Never for a person's own data."""
    if "read_session" not in g:
        g.read_session = deployment().reads.session()
    return g.read_session


def retry_on_disconnect(view):
    """Run ``view`` again, once, when it failed because a pooled connection had died (the
    database restarted, or killed it) before anything of the request was committed: the
    pool is not pinged before each use, so the first request to meet a dead connection
    would otherwise fail. Only the database's work is repeated: the request's sessions
    are thrown away first, and nothing had been committed."""
    from functools import wraps

    from cowin_kit.db import may_retry

    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except Exception as exc:
            sessions = [g.get(name) for name in ("db_session", "read_session")]
            if not may_retry(exc, *[s for s in sessions if s is not None]):
                raise
            close_sessions(exc)
            return view(*args, **kwargs)
    return wrapper


def close_sessions(exc: BaseException | None) -> None:
    """Teardown: end the request's sessions; what was not committed is rolled back.

    The rollback that ends a session may meet a connection that died after the request's
    last statement (a replica stopping, the database restarting): the request's work is done
    and the answer made, and the server rolls back what a dead connection left open, so it
    must not turn into an error page. The session's connections are thrown away instead,
    and a replica that went away is left alone for a while, as when a read fails on it."""
    from sqlalchemy.exc import DBAPIError

    from cowin_kit.replicas import replica_failure

    for name in ("db_session", "read_session"):
        session = g.pop(name, None)
        if session is None:
            continue
        try:
            if exc is not None:
                session.rollback()
            session.close()
        except DBAPIError as failure:
            _log.warning("ending the request's database session failed (%s); its "
                         "connection is discarded", type(failure.orig or failure).__name__)
            # The replica is judged as a failed read judges it (replicas.replica_failure):
            # left alone only when it went away, not for a fault of this one session.
            why = replica_failure(failure) if getattr(session, "on_replica", False) else None
            if why is not None:
                session.fall_back(failure, why)
            session.invalidate()
