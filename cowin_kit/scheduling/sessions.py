"""Vaccination sessions: made, changed (ages, fee, capacities, slots), and the demo's.

Flask-free, like booking: functions take a DB session and plain values, flush and never
commit. A session's values are checked here, once, for the staff pages, the CSV import
(:mod:`cowin_kit.scheduling.session_import`) and the demo alike; a refused value is a
``BookingError`` naming the field. Capacities never fall below the places already booked:
they change only through :func:`cowin_kit.scheduling.places.set_capacity`.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cowin_kit.plugins.interfaces import N_
from cowin_kit.programmes.eligibility import MAX_AGE, MSG_NO_SUCH_DOSE
from cowin_kit.programmes.models import Product, Programme
from cowin_kit.scheduling import places
from cowin_kit.scheduling.booking import BookingError
from cowin_kit.scheduling.models import Facility, SessionCapacity, Slot, VaccinationSession
from cowin_kit.scheduling.slots import SlotTimes

MSG_NO_SLOTS = N_("Give at least one time slot.")
MAX_QUOTA = 100_000
# One form or command creates at most this many sessions (two months of every day).
MAX_RECURRING = 62


def check_values(product: Product, min_age, max_age, capacities: dict[int, int],
                 slots: Iterable[SlotTimes], fee) -> None:
    """Raise BookingError (naming the field) unless these make a session of ``product``."""
    if not isinstance(min_age, int) or not 0 <= min_age <= MAX_AGE:
        raise BookingError(N_("The minimum age must be a whole number from 0 to %(max)s."),
                           "min_age", max=MAX_AGE)
    if max_age is not None and (not isinstance(max_age, int) or not min_age <= max_age <= MAX_AGE):
        raise BookingError(N_("The maximum age must be a whole number from the minimum age to "
                              "%(max)s."), "max_age", max=MAX_AGE)
    doses = {r.dose_number for r in product.doses}
    if not capacities or any(c is None or c < 0 for c in capacities.values()):
        raise BookingError(N_("Give a capacity of 0 or more for at least one dose."),
                           "capacity")
    for number, cap in capacities.items():
        if number not in doses and cap:
            raise BookingError(MSG_NO_SUCH_DOSE, "capacity", vaccine=product.name, dose=number)
    if not any(capacities.values()):
        raise BookingError(N_("Give at least one dose a capacity above 0."), "capacity")
    if not slots:
        raise BookingError(MSG_NO_SLOTS, "slots")
    ordered = sorted(SlotTimes(*s) for s in slots)
    for before, slot in zip([None, *ordered], ordered, strict=False):  # (previous, each)
        if not slot.starts < slot.ends:
            raise BookingError(N_("A slot must end after it starts."), "slots")
        if before is not None and slot.starts < before.ends:
            raise BookingError(N_("Slots must not overlap."), "slots")
    try:
        bad_fee = fee is None or not Decimal(str(fee)).is_finite() or Decimal(str(fee)) < 0
    except InvalidOperation:
        bad_fee = True
    if bad_fee:
        raise BookingError(N_("The fee must be 0 or more."), "fee")


def check_walk_in_quota(quota) -> None:
    if not isinstance(quota, int) or isinstance(quota, bool) or not 0 <= quota <= MAX_QUOTA:
        raise BookingError(N_("The walk-in places must be a whole number from 0 to %(max)s."),
                           "walk_in_quota", max=MAX_QUOTA)


def create_session(session: Session, facility: Facility, date: dt.date, product: Product,
                   min_age: int, max_age: int | None, capacities: dict[int, int],
                   slots: Iterable[SlotTimes | tuple[dt.time, dt.time]],
                   fee=0, walk_in_quota: int = 0) -> VaccinationSession:
    """Create a vaccination session with a capacity per dose number, its time slots
    (``(start, end)`` pairs) and places kept for walk-ins apart from them."""
    slots = [SlotTimes(*s) for s in slots]
    check_values(product, min_age, max_age, capacities, slots, fee)
    check_walk_in_quota(walk_in_quota)
    vs = VaccinationSession(id=str(uuid.uuid4()), facility=facility, date=date,
                            product_id=product.id, min_age=min_age, max_age=max_age,
                            fee=Decimal(str(fee)), walk_in_quota=walk_in_quota, walk_ins=0)
    vs.capacities = [SessionCapacity(dose_number=n, capacity=c, booked=0)
                     for n, c in sorted(capacities.items()) if c]
    vs.slots = [Slot(starts=s.starts, ends=s.ends) for s in sorted(slots)]
    session.add(vs)
    session.flush()
    return vs


class BelowBooked(Exception):
    """A capacity would fall below the places booked (booked meanwhile: callers check the
    places first, and a place is never taken away)."""

    def __init__(self, dose: int, capacity: int):
        self.dose, self.capacity = dose, capacity
        super().__init__(f"capacity_dose{dose} {capacity} is below the places booked")


def update_session(session: Session, vs: VaccinationSession, *, min_age: int,
                   max_age: int | None, capacities: dict[int, int],
                   slots: Iterable[SlotTimes], fee, walk_in_quota: int | None = None) -> None:
    """Change a session's ages and fee, set its capacities (a dose not offered yet is
    added) and add slots (a slot starting at the same time gets the new end). Values are
    the caller's to check (:func:`check_values`); raises BelowBooked."""
    vs.min_age, vs.max_age, vs.fee = min_age, max_age, fee
    have = {c.dose_number for c in vs.capacities}
    for number, cap in sorted(capacities.items()):
        if number not in have:
            if cap:
                vs.capacities.append(SessionCapacity(dose_number=number, capacity=cap, booked=0))
            continue
        # Conditional, like booking: a place booked since the check is never taken away.
        if not places.set_capacity(session, vs.id, number, cap):
            raise BelowBooked(number, cap)
    if walk_in_quota is not None and not set_walk_in_quota(session, vs.id, walk_in_quota):
        raise BelowBooked(0, walk_in_quota)
    starts = {s.starts: s for s in vs.slots}
    for slot in map(SlotTimes._make, slots):
        if slot.starts in starts:
            starts[slot.starts].ends = slot.ends
        else:
            vs.slots.append(Slot(starts=slot.starts, ends=slot.ends))
    session.flush()
    places.expire_capacities(session, vs.id)


def set_walk_in_quota(session: Session, session_id: str, quota: int) -> bool:
    """Change a session's walk-in places; False when below those already taken."""
    done = session.execute(
        update(VaccinationSession)
        .where(VaccinationSession.id == session_id, VaccinationSession.walk_ins <= quota)
        .values(walk_in_quota=quota).execution_options(synchronize_session=False)).rowcount
    for obj in list(session.identity_map.values()):
        if isinstance(obj, VaccinationSession) and obj.id == session_id:
            session.expire(obj)
    return done == 1


def recurring_dates(start: dt.date, until: dt.date | None,
                    weekdays: Iterable[int] | None) -> list[dt.date]:
    """The days from ``start`` to ``until`` (included) falling on ``weekdays`` (0 Monday
    .. 6 Sunday; none given: every day); just ``start`` without ``until``. Raises
    BookingError when the range is backwards, matches no day, or gives more than
    MAX_RECURRING sessions."""
    if until is None:
        return [start]
    if until < start:
        raise BookingError(N_("The last day must be on or after the first day."), "until")
    days = set(weekdays or range(7))
    if (until - start).days > 7 * MAX_RECURRING:  # never walk a huge range day by day
        raise BookingError(MSG_TOO_MANY, "until", max=MAX_RECURRING)
    dates = [start + dt.timedelta(days=n) for n in range((until - start).days + 1)]
    dates = [d for d in dates if d.weekday() in days]
    if not dates:
        raise BookingError(N_("No day in this range falls on the days chosen."), "weekdays")
    if len(dates) > MAX_RECURRING:
        raise BookingError(MSG_TOO_MANY, "until", max=MAX_RECURRING)
    return dates


MSG_TOO_MANY = N_("One form can add at most %(max)s sessions; choose a shorter range or "
                  "fewer days.")


def find_session(session: Session, facility_id: int, date: dt.date,
                 product_id: int) -> VaccinationSession | None:
    """The session of a product at a centre on a day (there is at most one)."""
    return session.scalar(select(VaccinationSession).where(
        VaccinationSession.facility_id == facility_id, VaccinationSession.date == date,
        VaccinationSession.product_id == product_id))


def available(session: Session, session_id: str) -> dict[int, int]:
    """Places left per dose number."""
    return {c.dose_number: c.capacity - c.booked for c in session.scalars(
        select(SessionCapacity).where(SessionCapacity.session_id == session_id))}


# --- demo sessions -------------------------------------------------------------------------

DEMO_SLOTS = [SlotTimes(dt.time(9), dt.time(11)), SlotTimes(dt.time(11), dt.time(13)),
              SlotTimes(dt.time(14), dt.time(16)), SlotTimes(dt.time(16), dt.time(18))]
DEMO_CAPACITY = {1: 50, 2: 30, 3: 20}
DEMO_FEE = 50
DEMO_WALK_IN_QUOTA = 20  # places kept for walk-ins, apart from the bookable ones
DEMO_LOT_DOSES = 500


def _profile_products(session: Session, profile) -> list[Product]:
    products = []
    for spec in profile["programmes"]:
        programme = session.scalar(select(Programme).where(Programme.code == spec["code"]))
        if programme is None or not programme.is_active:
            continue
        wanted = {p["code"] for p in spec["products"]}
        products += [p for p in programme.products if p.code in wanted and p.is_active]
    return products


def create_demo_sessions(session: Session, profile, days: int = 7, *,
                         today: dt.date | None = None) -> int:
    """Create sessions over the coming ``days`` at every demo centre, one a day per centre,
    the profile's products taking turns, so a new user can try the whole journey at once.
    Safe to run twice; returns how many sessions were created."""
    if today is None:
        from cowin_kit import clock

        today = clock.today(profile["timezone"])
    products = _profile_products(session, profile)
    if not products:
        return 0
    facilities = list(session.scalars(select(Facility).where(Facility.is_demo.is_(True))
                                      .order_by(Facility.code)))
    created = 0
    for i, facility in enumerate(facilities):
        for d in range(days):
            product = products[(i + d) % len(products)]
            date = today + dt.timedelta(days=d)
            if find_session(session, facility.id, date, product.id) is not None:
                continue
            doses = {r.dose_number for r in product.doses}
            create_session(session, facility, date, product, product.min_age_years,
                           product.max_age_years,
                           {n: c for n, c in DEMO_CAPACITY.items() if n in doses}, DEMO_SLOTS,
                           fee=DEMO_FEE if facility.fee_type == "Paid" else 0,
                           walk_in_quota=DEMO_WALK_IN_QUOTA)
            created += 1
    return created


def create_demo_lots(session: Session, profile, *, today: dt.date | None = None) -> int:
    """A lot of every offered product at every demo centre, so that a vaccinator trying the
    demo can record a dose at once. Safe to run twice; returns how many were created."""
    from cowin_kit.vaccination.models import VaccineLot

    if today is None:
        from cowin_kit import clock

        today = clock.today(profile["timezone"])
    products = _profile_products(session, profile)
    have = set(session.execute(select(VaccineLot.facility_id, VaccineLot.product_id)
                               .join(Facility, Facility.id == VaccineLot.facility_id)
                               .where(Facility.is_demo.is_(True))).all())
    created = 0
    for facility in session.scalars(select(Facility).where(Facility.is_demo.is_(True))
                                    .order_by(Facility.code)):
        for product in products:
            if (facility.id, product.id) in have:
                continue
            session.add(VaccineLot(facility_id=facility.id, product_id=product.id,
                                   lot_number=f"DEMO-{product.code.upper()}"[:40],
                                   expires_on=today + dt.timedelta(days=365),
                                   doses_received=DEMO_LOT_DOSES))
            created += 1
    session.flush()
    return created


__all__ = ["DEMO_CAPACITY", "DEMO_FEE", "DEMO_SLOTS", "MAX_RECURRING", "MSG_NO_SLOTS",
           "BelowBooked", "available", "check_values", "check_walk_in_quota",
           "create_demo_lots", "create_demo_sessions", "create_session", "find_session",
           "recurring_dates", "set_walk_in_quota", "update_session"]
