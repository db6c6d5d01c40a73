"""Read-only facts a booking checks, kept a few seconds per process, and "sold out" marks.

A booking reads the same session, product, dose rules, programme, phases and centre name as
every other booking of that session: reading them once every few seconds instead of once
per request saves four round trips. Nothing here decides alone what the database must
decide: whether the session is still open (not cancelled, its centre active) and whether a
place is left are checked again by the statement that takes the place
(cowin_kit.scheduling.taking), under its locks.

A "sold out" mark remembers, for a couple of seconds, that a session's dose had no place
left, so that the rush of people asking for a full session is refused without SQL. The
mark only ever refuses: a place is granted only by the database. It is dropped at once
when this process gives a place back or changes a capacity; another process's cancellation
is seen when the mark expires.

Both are kept per engine (so two databases, e.g. two tests' apps, never share them) and
emptied when this process commits a change to what they hold (an ORM flush or bulk
statement on those tables), so a change made here is seen at once; a change made by
another process is seen within FACTS_SECONDS.
"""
from __future__ import annotations

import dataclasses
import threading
import time
import weakref

from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session, joinedload

from cowin_kit.programmes.models import DoseRule, EligibilityPhase, Product, Programme
from cowin_kit.scheduling.models import Facility, SessionCapacity, Slot, VaccinationSession

# How long a process trusts what it read of a session: as long as public search answers
# live (api.public.ANSWER_TTL_SECONDS), so a booking never works from facts older than
# the availability its caller was shown. Spread over many sessions, each process reads
# every session's facts once a period: at 3 s that was a fifth of a booking's cost.
FACTS_SECONDS = 10.0
SOLD_OUT_SECONDS = 2.0  # how long a refusal for lack of places is repeated without SQL

# Changes to these tables, committed by this process, empty its caches.
WATCHED = (VaccinationSession, Slot, Product, DoseRule, Programme, EligibilityPhase, Facility,
           SessionCapacity)


@dataclasses.dataclass(frozen=True)
class SessionFacts:
    """A session and what booking it checks; detached ORM objects, read-only."""

    session: VaccinationSession  # with its slots
    product: Product  # with its dose rules
    programme: Programme
    phases: tuple[EligibilityPhase, ...]
    facility: Facility
    read_at: float


_SESSION = (
    select(VaccinationSession, Product, Programme, Facility)
    .join(Product, Product.id == VaccinationSession.product_id)
    .join(Programme, Programme.id == Product.programme_id)
    .join(Facility, Facility.id == VaccinationSession.facility_id)
    .where(VaccinationSession.id == bindparam("session_id"))
    .options(joinedload(VaccinationSession.slots), joinedload(Product.doses)))
_PHASES = select(EligibilityPhase).where(EligibilityPhase.programme_id == bindparam("programme_id"))


class _Store:
    """One engine's facts and marks. Dict operations are atomic under the GIL; the lock
    only keeps clear() and a reader's check-then-use from interleaving badly."""

    def __init__(self):
        self.facts: dict[str, SessionFacts] = {}
        self.sold_out: dict[tuple[str, int], tuple[float, int]] = {}  # (until, count)
        self.lock = threading.Lock()

    def clear(self) -> None:
        with self.lock:
            self.facts.clear()
            self.sold_out.clear()


_stores: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _store(session) -> _Store:
    """The store of a Session's engine, or of an engine (or connection) itself."""
    engine = session.get_bind() if isinstance(session, Session) else session
    engine = getattr(engine, "engine", engine)
    store = _stores.get(engine)
    if store is None:
        store = _stores.setdefault(engine, _Store())
    return store


def session_facts(session: Session, session_id: str) -> SessionFacts | None:
    """The session's facts, read at most FACTS_SECONDS ago; None for an unknown session.
    Read in a session of their own, so the caller's identity map and transaction are
    untouched (and the objects come back detached, safe to share between threads)."""
    facts = cached_facts(session, session_id)
    if facts is not None:
        return facts
    now = time.monotonic()
    # Read with the caller's connection (no second connection from the pool), in a
    # throw-away ORM session so nothing lands in the caller's identity map.
    with Session(bind=session.connection(), expire_on_commit=False) as reader:
        row = reader.execute(_SESSION, {"session_id": session_id}).unique().first()
        if row is None:
            return None
        vs, product, programme, facility = row
        phases = tuple(reader.scalars(_PHASES, {"programme_id": programme.id}))
        reader.expunge_all()
    facts = SessionFacts(vs, product, programme, phases, facility, now)
    _store(session).facts[session_id] = facts
    return facts


def cached_facts(bind, session_id: str) -> SessionFacts | None:
    """The session's facts if this process read them less than FACTS_SECONDS ago, else
    None (nothing is read). ``bind``: a Session, or its engine."""
    facts = _store(bind).facts.get(session_id)
    if facts is not None and time.monotonic() - facts.read_at < FACTS_SECONDS:
        return facts
    return None


def facts_for(bind, session_id: str) -> SessionFacts | None:
    """session_facts for a caller without an ORM session (``bind``: the engine): the
    cached facts, else read in a session of their own (a pooled connection, only then)."""
    known = cached_facts(bind, session_id)
    if known is None:
        with Session(bind=bind) as reader:
            known = session_facts(reader, session_id)
    return known


def is_sold_out(session: Session, session_id: str, dose: int, count: int) -> bool:
    """Whether ``count`` places of the dose were refused here moments ago (or fewer)."""
    mark = _store(session).sold_out.get((session_id, dose))
    return mark is not None and count >= mark[1] and time.monotonic() < mark[0]


def mark_sold_out(session: Session, session_id: str, dose: int, count: int) -> None:
    """``count`` places of the dose were just refused: refuse as many or more for a while."""
    store = _store(session)
    mark = store.sold_out.get((session_id, dose))
    now = time.monotonic()
    if mark is not None and now < mark[0]:
        count = min(count, mark[1])
    store.sold_out[(session_id, dose)] = (now + SOLD_OUT_SECONDS, count)


def forget_sold_out(session: Session, session_id: str) -> None:
    """A place of the session was given back or its capacity changed, here."""
    store = _store(session)
    for key in [k for k in store.sold_out if k[0] == session_id]:
        store.sold_out.pop(key, None)


# --- emptying the caches when this process changes what they hold ---------------------------

_CHANGED = "cowin_kit.facts_changed"


@event.listens_for(Session, "after_flush")
def _flushed(session, _context):
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, WATCHED):
            session.info[_CHANGED] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _bulk(state):
    if (state.is_update or state.is_delete) and state.bind_mapper is not None \
            and issubclass(state.bind_mapper.class_, WATCHED) \
            and state.bind_mapper.class_ is not SessionCapacity:
        # Capacity rows change with every booking (places.take): those do not invalidate.
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _committed(session):
    if session.info.pop(_CHANGED, False):
        try:
            _store(session).clear()
        except Exception:  # noqa: BLE001 - no bind (never bound): nothing cached for it
            pass


@event.listens_for(Session, "after_rollback")
def _rolled_back(session):
    session.info.pop(_CHANGED, None)
