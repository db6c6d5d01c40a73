"""Per-request state: the deployment, the write session and the read session.

Views, the API and request hooks import these accessors; ``app.py`` only builds the app and
stores the Deployment in it. This module imports neither ``app.py`` nor any view (nor
anything heavy at import time), so importing it is cheap and makes no circle.

Two sessions, because reads and writes may later go to different servers:

- ``db_session()`` writes, and reads what must be current: a citizen's own data, anything
  checked before a change. Always the primary database.
- ``read_session()`` only reads, for public search, dashboards and exports. It uses
  READ_DATABASE_URL when set (e.g. a streaming replica, which may lag a little), else the
  primary database. Never write with it, and never read from it what a person has just
  changed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from flask import current_app, g

from cowin_kit import clock
from cowin_kit.reporting.cache import FiguresCache

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
    # The database read_session() uses: READ_DATABASE_URL's, else ``db`` itself.
    read_db: Database | None = None
    languages: list[str] = field(default_factory=list)
    # ID document code (from the profile) -> the provider that checks it
    id_providers: dict = field(default_factory=dict)
    messenger: object = None  # cowin_kit.notifications.service.Messenger
    limits: object = None  # cowin_kit.ratelimits.RateLimits, the services' own limits
    # Computed dashboard and reports-API answers, kept REPORTS_CACHE_SECONDS per process.
    figures_cache: FiguresCache = field(default_factory=FiguresCache)

    def __post_init__(self):
        if self.read_db is None:
            self.read_db = self.db

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

    def dispose(self) -> None:
        """Close every pooled connection (tests, and commands that build an app)."""
        self.db.dispose()
        if self.read_db is not self.db:
            self.read_db.dispose()


def deployment() -> Deployment:
    """The current app's deployment."""
    return current_app.extensions[EXTENSION]


def db_session() -> Session:
    """The request's write session, on the primary database (closed when the request ends)."""
    if "db_session" not in g:
        g.db_session = deployment().db.Session()
    return g.db_session


def read_session() -> Session:
    """The request's read-only session, for public search, dashboards and exports: on
    READ_DATABASE_URL when set (closed when the request ends). A separate session even on
    the primary database, so code that uses it behaves the same once it is a replica."""
    if "read_session" not in g:
        g.read_session = deployment().read_db.Session()
    return g.read_session


def close_sessions(exc: BaseException | None) -> None:
    """Teardown: end the request's sessions; what was not committed is rolled back."""
    for name in ("db_session", "read_session"):
        session = g.pop(name, None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()
