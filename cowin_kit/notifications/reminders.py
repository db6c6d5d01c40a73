"""Reminders of a next dose: REMINDER_DAYS_BEFORE days before it becomes due, and once
it is overdue. Queued in the outbox (cowin_kit.notifications.texts), sent by the worker.

Who is reminded: a person with at least one dose of a programme whose schedule has a next
dose (cowin_kit.programmes.eligibility decides which and from when), and who has no
active appointment for it. Each reminder goes at most once per person, programme, dose and
kind (the outbox's dedupe key), however often the scan runs and however many workers run
it. People are read in chunks of ids, so the scan's memory does not grow with the country.
"""
from __future__ import annotations

import datetime as dt
import logging
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cowin_kit.notifications import texts
from cowin_kit.programmes import eligibility
from cowin_kit.programmes.models import Product
from cowin_kit.registration.models import Beneficiary
from cowin_kit.scheduling.models import Appointment, AppointmentStatus, VaccinationSession
from cowin_kit.vaccination.models import Dose

log = logging.getLogger("cowin_kit.notifications")

CHUNK = 500
DUE, OVERDUE = "reminder.due", "reminder.overdue"
_SCAN_LOCK = 0x636B72656D  # "ckrem": one scan at a time on PostgreSQL


def sms_date(day: dt.date) -> str:
    """Dates in texts as Co-WIN wrote them: DD-MM-YYYY."""
    return day.strftime("%d-%m-%Y")


def dedupe_key(kind: str, person_id: int, programme_id: int, dose: int) -> str:
    return f"{kind}:{person_id}:{programme_id}:{dose}"


@dataclass(frozen=True)
class Reminder:
    kind: str  # DUE or OVERDUE
    msgid: str
    programme_id: int
    dose: int
    date: dt.date  # due from (DUE) or overdue since (OVERDUE)
    vaccine: str


def reminder_for(status: eligibility.VaccinationStatus, today: dt.date,
                 days_before: int) -> Reminder | None:
    """The reminder a person's status calls for today, if any. The overdue one replaces
    the other (a person who first hears of a dose when it is late gets one text)."""
    if status.next_dose is None or not status.doses:
        return None
    vaccine = status.product_name or status.doses[-1].product_name
    if status.overdue:
        if status.hard_limit is not None and today > status.hard_limit:
            return None  # too late to give it: no text urging it
        return Reminder(OVERDUE, texts.REMINDER_OVERDUE, status.programme_id,
                        status.next_dose, status.due_by, vaccine)
    if status.earliest is not None and today >= status.earliest - dt.timedelta(days_before):
        return Reminder(DUE, texts.REMINDER_DUE, status.programme_id, status.next_dose,
                        status.earliest, vaccine)
    return None


def _booked(session: Session, ids: list[int]) -> set[tuple[int, int, int]]:
    """(person, programme, dose) of the active appointments of these people."""
    rows = session.execute(
        select(Appointment.beneficiary_id, Product.programme_id, Appointment.dose_number)
        .join(VaccinationSession, VaccinationSession.id == Appointment.session_id)
        .join(Product, Product.id == VaccinationSession.product_id)
        .where(Appointment.beneficiary_id.in_(ids),
               Appointment.status == AppointmentStatus.BOOKED))
    return {tuple(r) for r in rows}


@contextmanager
def _one_scan_at_a_time(db):
    """Yields False when another scan runs (workers on several machines): a PostgreSQL
    advisory lock held by one connection for the whole scan. SQLite runs one worker."""
    if db.engine.dialect.name != "postgresql":
        yield True
        return
    with db.engine.connect() as conn:
        got = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": _SCAN_LOCK}))
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _SCAN_LOCK})
                conn.commit()


def queue_reminders(db, *, today: dt.date, days_before: int, url: str,
                    chunk: int = CHUNK) -> int:
    """Queue the reminders due today for everyone; returns how many were queued. Each
    chunk of people is its own transaction."""
    with _one_scan_at_a_time(db) as ours:
        if not ours:
            log.info("reminder scan skipped: another worker is running one")
            return 0
        return _scan(db, today, days_before, url, chunk)


def _scan(db, today: dt.date, days_before: int, url: str, chunk: int) -> int:
    queued = 0
    after = 0
    while True:
        with db.Session() as session:
            ids = list(session.scalars(
                select(Dose.beneficiary_id).where(Dose.beneficiary_id > after)
                .group_by(Dose.beneficiary_id).order_by(Dose.beneficiary_id).limit(chunk)))
            if not ids:
                return queued
            after = ids[-1]
            try:
                queued += _queue_chunk(session, ids, today, days_before, url)
                session.commit()
            except IntegrityError:
                # Queued meanwhile by a change or another scan: the next scan queues the rest.
                session.rollback()


def _queue_chunk(session: Session, ids: list[int], today: dt.date, days_before: int,
                 url: str) -> int:
    wanted: dict[int, list[Reminder]] = {}
    for person_id, statuses in eligibility.statuses(session, ids, today).items():
        for status in statuses:
            reminder = reminder_for(status, today, days_before)
            if reminder is not None:
                wanted.setdefault(person_id, []).append(reminder)
    if not wanted:
        return 0
    booked = _booked(session, list(wanted))
    people = {p.id: p for p in session.scalars(select(Beneficiary).where(
        Beneficiary.id.in_(list(wanted))))}
    queued = 0
    for person_id, reminders in wanted.items():
        for r in reminders:
            if (person_id, r.programme_id, r.dose) in booked:
                continue
            message = texts.notify_person(
                session, people[person_id], kind=r.kind, msgid=r.msgid,
                params={"name": people[person_id].name, "dose": r.dose, "vaccine": r.vaccine,
                        "date": sms_date(r.date), "url": url},
                dedupe_key=dedupe_key(r.kind, person_id, r.programme_id, r.dose))
            queued += message is not None
    session.flush()
    return queued


def portal_url(settings) -> str:
    """Where a text sends people to book: the portal at PUBLIC_URL (the development
    server's address when unset)."""
    from cowin_kit.config import DEVELOPMENT_URL

    return (settings["PUBLIC_URL"] or DEVELOPMENT_URL).rstrip("/") + "/portal/"
