"""Sending the outbox: claim due messages, hand each to the SMS gateway, record the outcome.

Flask-free: `cowin-kit worker`, `cowin-kit serve`'s background thread and the tests run
the same ``Worker``. Several workers may run at once, on one machine or many.

One message's life (cowin_kit.notifications.models.OutboxStatus)::

    pending --claim--> sending --gateway accepts--> sent
                          |--temporary failure--> pending (later, with back-off)
                          |--permanent refusal, or SMS_MAX_ATTEMPTS tries--> failed
                          '--worker dies: the claim (lease) expires--> claimable again

Claiming is one short transaction: PostgreSQL picks due rows with ``FOR UPDATE SKIP
LOCKED`` (another worker's rows are skipped, never waited for, never taken twice); SQLite
runs it under ``BEGIN IMMEDIATE`` (one writer at a time). The claim sets ``status =
sending``, ``claimed_until`` (the lease, which also serves as the claim's token) and counts
the try, so a message that crashes its worker every time still ends as failed.

Exactly once, and its limit: a message is marked sent in its own short transaction right
after the gateway accepts it, and only if the claim is still this worker's. Nothing is
lost: a crash before the gateway call leaves the message to be claimed again. The one
window left is a crash *between* the gateway's acceptance and that commit (a few
milliseconds per message, at most one message per crashed worker): the message is then
sent again after the lease expires. That cannot be closed from our side (the gateway and
the database do not commit together), so every try of a message carries the same
``reference`` (``outbox-<id>``) to gateways that accept one: a provider that deduplicates
on a client reference delivers it once. docs/operators.md says the same to operators.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from cowin_kit import metrics
from cowin_kit.db import begin_write, utcnow
from cowin_kit.notifications.models import OutboxMessage, OutboxStatus
from cowin_kit.plugins.interfaces import SmsError

log = logging.getLogger("cowin_kit.notifications")

PENDING, SENDING, SENT, FAILED = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value,
                                  OutboxStatus.SENT.value, OutboxStatus.FAILED.value)
ERROR_LENGTH = 500  # OutboxMessage.last_error
CHANNEL = "sms"  # the outbox's one channel (the SMS gateway), as the metrics label it


@dataclass(frozen=True)
class RetryPolicy:
    """When to try a message again: exponential back-off with ±50% jitter, so that the
    messages a gateway outage held back do not all come back at the same second."""

    max_attempts: int = 8
    base_seconds: float = 30
    max_seconds: float = 3600

    @classmethod
    def from_settings(cls, settings) -> RetryPolicy:
        return cls(settings["SMS_MAX_ATTEMPTS"], settings["SMS_RETRY_SECONDS"],
                   settings["SMS_RETRY_MAX_SECONDS"])

    def delay(self, attempts: int, rand: Callable[[], float] = random.random) -> timedelta:
        """The wait after the ``attempts``-th try failed (1 for the first)."""
        seconds = min(self.max_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        return timedelta(seconds=seconds * (0.5 + rand()))


@dataclass(frozen=True)
class Claimed:
    """A message this worker holds until ``claimed_until``."""

    id: int
    mobile: str
    language: str | None
    msgid: str
    params: dict
    attempts: int
    claimed_until: datetime
    kind: str = ""  # booking.confirmed, session.cancelled, … (for the metrics)

    @property
    def reference(self) -> str:
        return f"outbox-{self.id}"


@dataclass
class Tally:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0  # claimed, but the lease ran short before their turn

    def __iadd__(self, other: Tally) -> Tally:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.released += other.released
        return self

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed


def _due(now: datetime):
    """Pending and due, or claimed by a worker whose lease has expired."""
    return ((OutboxMessage.status == PENDING) & (OutboxMessage.next_attempt_at <= now)) | (
        (OutboxMessage.status == SENDING) & (OutboxMessage.claimed_until < now))


def claim(db, limit: int, lease: timedelta, now: datetime | None = None) -> list[Claimed]:
    """Claim up to ``limit`` due messages for ``lease``, oldest due first; committed."""
    now = now or utcnow()
    until = now + lease
    with db.Session() as session:
        # An idle queue is the usual case: look first without taking SQLite's write lock,
        # which the web requests of `serve` share with this loop.
        if session.scalar(select(OutboxMessage.id).where(_due(now)).limit(1)) is None:
            return []
        session.rollback()
        begin_write(session)  # SQLite: BEGIN IMMEDIATE; PostgreSQL: row locks below
        query = (select(OutboxMessage.id).where(_due(now))
                 .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        if not ids:
            session.rollback()
            return []
        session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids))
            .values(status=SENDING, claimed_until=until, attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False))
        rows = session.execute(
            select(OutboxMessage.id, OutboxMessage.mobile, OutboxMessage.language,
                   OutboxMessage.msgid, OutboxMessage.params, OutboxMessage.attempts,
                   OutboxMessage.kind)
            .where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.next_attempt_at,
                                                       OutboxMessage.id)).all()
        session.commit()
    return [Claimed(r.id, r.mobile, r.language, r.msgid, dict(r.params or {}), r.attempts,
                    until, r.kind) for r in rows]


def _finish(db, message: Claimed, **values) -> bool:
    """Record an outcome in its own short transaction, only while the claim is ours (its
    lease is the token: a worker that took the message over after expiry set another)."""
    with db.Session() as session:
        begin_write(session)
        changed = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.status == SENDING,
                   OutboxMessage.claimed_until == message.claimed_until)
            .values(claimed_until=None, **values)
            .execution_options(synchronize_session=False)).rowcount
        session.commit()
    return changed == 1


def _release(db, messages: list[Claimed]) -> None:
    """Give back claimed messages not tried (the try they were counted is undone)."""
    with db.Session() as session:
        begin_write(session)
        for message in messages:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message.id, OutboxMessage.status == SENDING,
                       OutboxMessage.claimed_until == message.claimed_until)
                .values(status=PENDING, claimed_until=None,
                        attempts=OutboxMessage.attempts - 1)
                .execution_options(synchronize_session=False))
        session.commit()


def _error_text(exc: BaseException) -> str:
    # The gateway's reason, never the message's text (SmsError messages must not hold it).
    return f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH]


@dataclass
class Worker:
    """Sends the outbox through ``messenger`` (cowin_kit.notifications.service.Messenger)."""

    db: object  # cowin_kit.db.Database
    messenger: object
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    batch_size: int = 50
    lease: timedelta = timedelta(minutes=5)
    # A message is not started with less than this left of the lease (a slow gateway call
    # must end while the claim is still ours).
    send_margin: timedelta = timedelta(seconds=15)
    stop_event: threading.Event = field(default_factory=threading.Event)
    rand: Callable[[], float] = random.random
    clock: Callable[[], datetime] = utcnow

    @classmethod
    def from_settings(cls, db, messenger, settings, **kwargs) -> Worker:
        lease = timedelta(seconds=settings["WORKER_LEASE_SECONDS"])
        margin = min(timedelta(seconds=settings["SMS_HTTP_TIMEOUT"] + 5), lease / 2)
        return cls(db, messenger, RetryPolicy.from_settings(settings),
                   batch_size=settings["WORKER_BATCH_SIZE"], lease=lease, send_margin=margin,
                   **kwargs)

    def run_batch(self) -> Tally:
        """Claim one batch and send it; the tally says what happened."""
        tally = Tally()
        batch = claim(self.db, self.batch_size, self.lease, self.clock())
        for position, message in enumerate(batch):
            # Stopping (SIGTERM) or a lease running short: the rest goes back at once.
            if self.stop_event.is_set() or \
                    self.clock() + self.send_margin > message.claimed_until:
                _release(self.db, batch[position:])
                tally.released += len(batch) - position
                break
            tally += self.send_one(message)
        return tally

    def send_one(self, message: Claimed) -> Tally:
        started = time.perf_counter()
        try:
            gateway_ref = self.messenger.deliver(message.mobile, message.language,
                                                 message.msgid, message.params,
                                                 reference=message.reference)
        except SmsError as exc:
            return self._failed(message, exc, permanent=getattr(exc, "permanent", False),
                                seconds=time.perf_counter() - started)
        except Exception as exc:  # a plugin's bug, or a text that cannot be rendered
            log.exception("outbox message %s: the gateway raised %s", message.id,
                          type(exc).__name__)
            return self._failed(message, exc, permanent=False,
                                seconds=time.perf_counter() - started)
        seconds = time.perf_counter() - started
        # The at-least-once window is from here to the commit in _finish: keep it short.
        if not _finish(self.db, message, status=SENT, sent_at=self.clock(),
                       gateway_ref=str(gateway_ref or "")[:120], last_error=None):
            log.warning("outbox message %s was sent, but its claim had expired meanwhile: "
                        "another worker may send it again", message.id)
        metrics.worker_message(CHANNEL, message.kind, "sent", seconds)
        return Tally(sent=1)

    def _failed(self, message: Claimed, exc: BaseException, *, permanent: bool,
                seconds: float | None = None) -> Tally:
        error = _error_text(exc)
        if permanent or message.attempts >= self.retry.max_attempts:
            metrics.worker_message(CHANNEL, message.kind, "failed", seconds)
            _finish(self.db, message, status=FAILED, last_error=error)
            log.error("outbox message %s failed for good after %s tries: %s", message.id,
                      message.attempts, error)
            return Tally(failed=1)
        metrics.worker_message(CHANNEL, message.kind, "retried", seconds)
        later = self.clock() + self.retry.delay(message.attempts, self.rand)
        _finish(self.db, message, status=PENDING, next_attempt_at=later, last_error=error)
        log.warning("outbox message %s not sent (try %s of %s), trying again at %s: %s",
                    message.id, message.attempts, self.retry.max_attempts,
                    later.isoformat(timespec="seconds"), error)
        return Tally(retried=1)

    def drain(self) -> Tally:
        """Send until nothing is due now (a failing gateway's retries wait: not looped)."""
        total = Tally()
        while not self.stop_event.is_set():
            tally = self.run_batch()
            total += tally
            if tally.handled == 0:
                break
        return total

    def run_forever(self, poll_seconds: float,
                    every: list[tuple[float, Callable[[], object]]] | None = None) -> None:
        """Drain, then wait ``poll_seconds``, until ``stop_event`` is set (the message being
        sent when it is set is finished first). ``every`` holds (seconds, task) pairs run
        at that interval beside the sending, e.g. the reminder scan."""
        timers = [(seconds, task, float("-inf")) for seconds, task in every or []]
        while not self.stop_event.is_set():
            now = time.monotonic()
            for i, (seconds, task, last) in enumerate(timers):
                if seconds and now - last >= seconds:
                    timers[i] = (seconds, task, now)
                    name = getattr(task, "__name__", str(task))
                    try:
                        items = task()
                    except Exception:  # a scan that fails must not stop the sending
                        log.exception("worker task %s failed", name)
                        metrics.worker_task(name, None, ok=False)
                    else:
                        metrics.worker_task(name, items, ok=True)
            try:
                self.drain()
            except Exception as exc:  # the database went away: wait and try again
                log.error("worker: %s; trying again in %ss", _error_text(exc), poll_seconds)
            self.stop_event.wait(poll_seconds)


@dataclass(frozen=True)
class QueueStatus:
    counts: dict[str, int]
    oldest_due: datetime | None  # the oldest pending message already due, if any
    stuck_claims: int  # sending, with an expired lease (a worker died mid-batch)

    def oldest_due_age(self, now: datetime | None = None) -> timedelta | None:
        return None if self.oldest_due is None else (now or utcnow()) - self.oldest_due


def queue_status(session, now: datetime | None = None) -> QueueStatus:
    """Counts by status and the age of the oldest message waiting: what operators watch."""
    now = now or utcnow()
    counts = {s.value: 0 for s in OutboxStatus}
    counts.update(dict(session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()))
    oldest = session.scalar(select(func.min(OutboxMessage.next_attempt_at)).where(
        OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now))
    stuck = session.scalar(select(func.count()).where(
        OutboxMessage.status == SENDING, OutboxMessage.claimed_until < now))
    return QueueStatus(counts, oldest, stuck or 0)
