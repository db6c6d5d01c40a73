"""Where reads that may be a little behind go: a healthy read replica, else the primary.

DATABASE_REPLICA_URLS (and READ_DATABASE_URL, its one-replica form) name PostgreSQL
streaming replicas. :class:`ReadRouter` gives each read session (public search, dashboards,
open data, exports: ``runtime.read_session()``) one of the replicas that answer and are at
most REPLICA_MAX_LAG_SECONDS behind, in turn, or the primary when none is. It learns that
from a check of each replica at most every REPLICA_CHECK_SECONDS per process (never per
request), and from reads that fail: a replica that did not answer is left alone for
REPLICA_RETRY_SECONDS, then checked again before reads go back to it.

A read that fails because its replica went away, even in the middle of a request, is run
again on the primary (:class:`ReadSession`): a replica stopping costs the visitor nothing.
What a person has just changed is never read here: their own data is read with the write
session, on the primary (see runtime.py).
"""
from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

log = logging.getLogger("cowin_kit.replicas")

# The primary's position in its WAL, read before the replicas' (one round trip per check).
_PRIMARY_LSN = text("SELECT CASE WHEN pg_is_in_recovery() THEN NULL "
                    "ELSE pg_current_wal_lsn()::text END")
# How far a replica is behind, in seconds: 0 when it has replayed everything the primary had
# written when the check began (or, the primary not answering, all it has received), else the
# age of the last transaction it replayed (unknown: very far). 0 on a server that is not a
# replica (a promoted one): it has nothing to wait for.
_REPLICA_LAG = text(
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0 "
    "WHEN CAST(:primary_lsn AS pg_lsn) IS NOT NULL "
    "     AND pg_last_wal_replay_lsn() >= CAST(:primary_lsn AS pg_lsn) THEN 0 "
    "WHEN CAST(:primary_lsn AS pg_lsn) IS NULL "
    "     AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 1e9) END")

# SQLSTATEs of a read that failed for a reason of its own, which another server would not
# cure: a statement timeout (57014) is the query's, not the replica's.
_NOT_THE_REPLICAS = {"57014"}
# SQLSTATEs that say the replica cancelled this one read (a conflict with recovery, 40001):
# run it again on the primary, but the replica itself is fine.
_ONE_READ = {"40001"}


def primary_lsn(primary) -> str | None:
    """The primary's current WAL position ('0/1A2B3C'), or None (not PostgreSQL, down)."""
    if primary.is_sqlite:
        return None
    try:
        with primary.engine.connect() as conn:
            return conn.execute(_PRIMARY_LSN).scalar()
    except SQLAlchemyError:
        return None


def measure_lag(replica, lsn: str | None) -> float:
    """Seconds ``replica`` is behind the primary (whose position was ``lsn``); 0 for a
    database that is not a PostgreSQL replica. Raises SQLAlchemyError when it does not
    answer."""
    with replica.engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            conn.execute(text("SELECT 1"))
            return 0.0
        return max(0.0, float(conn.execute(_REPLICA_LAG, {"primary_lsn": lsn}).scalar()))


@dataclass
class ReplicaState:
    db: object  # cowin_kit.db.Database
    index: int
    lag: float | None = None  # as last measured; None: not yet, or it did not answer
    checked_at: float = float("-inf")  # time.monotonic() of that measure
    down_until: float = float("-inf")  # not used nor checked before this
    down: bool = False  # did not answer when last asked (logged once, until it answers)

    def fit(self, now: float, max_lag: float) -> bool:
        return now >= self.down_until and self.lag is not None and self.lag <= max_lag


class ReadRouter:
    """Chooses the database of each read session; one per deployment (per process)."""

    def __init__(self, primary, replicas: list, *, max_lag: float = 5, check_every: float = 2,
                 retry_after: float = 5):
        self.primary = primary
        self.states = [ReplicaState(db, i) for i, db in enumerate(replicas)]
        self.max_lag, self.check_every, self.retry_after = max_lag, check_every, retry_after
        self._turn = itertools.count()
        self._checking = threading.Lock()

    @property
    def replicas(self) -> list:
        return [s.db for s in self.states]

    def pick(self):
        """The replica the next read session uses (in turn among the fit ones), or None
        for the primary."""
        if not self.states:
            return None
        now = time.monotonic()
        if any(now - s.checked_at >= self.check_every and now >= s.down_until
               for s in self.states):
            self.check()
        fit = [s for s in self.states if s.fit(now, self.max_lag)]
        if not fit:
            return None
        return fit[next(self._turn) % len(fit)].db

    def check(self, force: bool = False) -> None:
        """Measure the lag of every replica due for it (all of them: ``force``). One thread
        measures at a time; the others go on with what was measured last."""
        if not self._checking.acquire(blocking=False):
            return
        try:
            now = time.monotonic()
            due = [s for s in self.states if force or (
                now - s.checked_at >= self.check_every and now >= s.down_until)]
            if not due:
                return
            lsn = primary_lsn(self.primary)
            for state in due:
                try:
                    lag = measure_lag(state.db, lsn)
                except SQLAlchemyError as exc:
                    self._down(state, exc)
                else:
                    if state.down:
                        log.warning("read replica %s answers again", state.index)
                        state.down = False
                    state.lag = lag
                state.checked_at = time.monotonic()
        finally:
            self._checking.release()

    def failed(self, db, exc: BaseException) -> None:
        """A read on replica ``db`` failed because it did not answer: leave it alone for a
        while (the pool's connections to it are dropped, as they may all be dead)."""
        for state in self.states:
            if state.db is db:
                self._down(state, exc)
                db.engine.dispose()

    def _down(self, state: ReplicaState, exc: BaseException) -> None:
        if not state.down:
            log.warning("read replica %s does not answer (%s); reading from the primary, "
                        "checking it again every %ss", state.index, type(exc).__name__,
                        self.retry_after)
        state.down = True
        state.lag = None
        state.down_until = time.monotonic() + self.retry_after

    def session(self) -> ReadSession:
        """A read session on the replica :meth:`pick` chooses, else on the primary."""
        replica = self.pick()
        return ReadSession(self, replica, bind=(replica or self.primary).engine,
                           expire_on_commit=False)

    def dispose(self) -> None:
        for state in self.states:
            state.db.dispose()


def replica_failure(exc: DBAPIError) -> str | None:
    """Why a read failed on a replica: "down" (it does not answer: unreachable, shut down,
    the connection lost), "read" (it cancelled this read), or None (the read's own fault:
    the same error would come from the primary)."""
    if exc.connection_invalidated:
        return "down"
    state = getattr(exc.orig, "sqlstate", None)
    if state in _NOT_THE_REPLICAS:
        return None
    if state in _ONE_READ:
        return "read"
    # No SQLSTATE: the connection could not be made or was lost; 08: connection exception;
    # 57P0x: shutting down, crashed, not yet accepting connections; 3D000: the database is
    # not there (yet).
    if state is None or state.startswith(("08", "57P")) or state == "3D000":
        return "down"
    return None


class ReadSession(Session):
    """A session for reads only, on a replica or on the primary. A read the replica could
    not answer is run again on the primary, and the rest of the session reads there."""

    def __init__(self, router: ReadRouter, replica, **kwargs):
        super().__init__(**kwargs)
        self.router, self.replica = router, replica
        # False while a streamed export reads (cowin_kit.streamed): a read failing on the
        # replica is then raised, since only the stream knows whether going on on the
        # primary would repeat or skip rows already sent.
        self.retry_reads = True

    @property
    def on_replica(self) -> bool:
        return self.replica is not None

    def fall_back(self, exc: BaseException, why: str) -> None:
        if why == "down":
            self.router.failed(self.replica, exc)
        self.replica = None
        self.bind = self.router.primary.engine


@event.listens_for(ReadSession, "do_orm_execute")
def _read_again_on_the_primary(state):
    session = state.session
    if not session.on_replica or not session.retry_reads:
        return None  # run as usual
    try:
        return state.invoke_statement()
    except DBAPIError as exc:
        why = replica_failure(exc)
        if why is None:
            raise
        session.fall_back(exc, why)
    return state.invoke_statement()


def read_whole(session: Session, build):
    """``build(session)``, run again whole on the primary when its replica failed partway
    through: for a read that streams one query's rows (``yield_per``, a server-side cursor)
    and folds them into an answer. Such a failure comes while the rows are fetched, after
    the statement itself ran, where the session's own retry cannot see it; nothing of the
    answer has left the process, so reading it all again is right. On any other session
    (the primary, SQLite) ``build`` simply runs."""
    try:
        return build(session)
    except DBAPIError as exc:
        why = replica_failure(exc) if getattr(session, "on_replica", False) else None
        if why is None:
            raise
        session.fall_back(exc, why)
        session.rollback()  # the failed transaction's connection is gone
        log.warning("a streamed read failed on its replica (%s); read again on the primary",
                    type(exc.orig or exc).__name__)
        return build(session)
