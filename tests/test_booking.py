"""Booking: the rules, each refusal with its status, and no overbooking under concurrency."""
import datetime as dt
import itertools
import threading
import uuid

import pytest
from sqlalchemy import select

from cowin_kit.accounts.models import CitizenAccount
from cowin_kit.programmes import eligibility
from cowin_kit.programmes.models import Product
from cowin_kit.registration.service import IdContext, register_beneficiary
from cowin_kit.scheduling import booking
from cowin_kit.scheduling.booking import (
    BookingError,
    Conflict,
    NotFound,
    SessionFull,
    cancel,
    reschedule,
    schedule,
)
from cowin_kit.scheduling.models import Appointment, Facility, SessionCapacity, VaccinationSession
from cowin_kit.scheduling.sessions import available, create_demo_sessions, create_session
from cowin_kit.vaccination.service import record_dose

TODAY = dt.date(2031, 3, 3)
SLOTS = [(dt.time(9), dt.time(11)), (dt.time(11), dt.time(13))]
_numbers = itertools.count(20000000)


@pytest.fixture
def ctx(app):
    dep = app.extensions["cowin_kit"]
    return IdContext.from_settings(dict(dep.id_providers), dep.settings)


class World:
    def __init__(self, session, ctx):
        self.s, self.ctx = session, ctx
        self.facility = session.scalar(select(Facility).where(Facility.is_demo.is_(True))
                                       .order_by(Facility.code))
        self.other_facility = session.scalar(select(Facility).where(
            Facility.is_demo.is_(True), Facility.id != self.facility.id))

    def product(self, code):
        return self.s.scalar(select(Product).where(Product.code == code))

    def account(self):
        acc = CitizenAccount(mobile=f"+519{next(_numbers) % 100000000:08d}")
        self.s.add(acc)
        self.s.flush()
        return acc

    def person(self, account, birth_year=1980, name="Ana Quispe"):
        person = register_beneficiary(self.s, self.ctx, document_code="dni",
                                      id_number=str(next(_numbers)), name=name,
                                      birth_year=birth_year, gender="female")
        person.account_id = account.id
        self.s.flush()
        return person

    def session(self, code="bbibp-corv", date=TODAY, capacities=None, min_age=18,
                max_age=None, facility=None):
        return create_session(self.s, facility or self.facility, date, self.product(code),
                              min_age, max_age, capacities or {1: 10, 2: 10, 3: 10}, SLOTS)

    def dose(self, person, number, code, given_on):
        record_dose(self.s, beneficiary_id=person.id, dose_number=number,
                    product=self.product(code), given_on=given_on)

    def booked(self, vs, dose=1):
        return self.s.scalar(select(SessionCapacity.booked).where(
            SessionCapacity.session_id == vs.id, SessionCapacity.dose_number == dose))

    def book(self, account, people, vs, dose=1, slot="09:00", today=TODAY):
        return schedule(self.s, account_id=account.id,
                        beneficiary_ids=[p.id for p in people], session_id=vs.id, slot=slot,
                        dose=dose, today=today)


@pytest.fixture
def w(db_session, ctx):
    return World(db_session, ctx)


def _refused(exc_type, status, fn, *args, field=None, **kw):
    with pytest.raises(exc_type) as info:
        fn(*args, **kw)
    assert info.value.status == status
    if field:
        assert info.value.field == field
    assert str(info.value)  # an English reason
    return info.value


def test_schedule_books_with_a_uuid_and_a_secret_code(w):
    acc = w.account()
    ana, luis = w.person(acc), w.person(acc, name="Luis Quispe")
    vs = w.session()
    appts = w.book(acc, [ana, luis], vs, slot="11:00AM-01:00PM")
    w.s.commit()
    assert [a.beneficiary_id for a in appts] == [ana.id, luis.id]
    for appt in appts:
        assert str(uuid.UUID(appt.id)) == appt.id
        assert len(appt.secret_code) == 4 and appt.secret_code.isdigit()
        assert appt.status == "booked" and appt.slot.starts == dt.time(11)
    assert w.booked(vs) == 2
    assert available(w.s, vs.id) == {1: 8, 2: 10, 3: 10}


def test_slot_given_by_id_or_start_time(w):
    acc = w.account()
    vs = w.session()
    a = w.book(acc, [w.person(acc)], vs, slot=vs.slots[1].id)[0]
    b = w.book(acc, [w.person(acc)], vs, slot=dt.time(9))[0]
    c = w.book(acc, [w.person(acc)], vs, slot="09:00:00")[0]
    assert (a.slot_id, b.slot_id, c.slot_id) == (vs.slots[1].id, vs.slots[0].id, vs.slots[0].id)


@pytest.mark.parametrize("slot", ["²", "¹⁰", "٣x", "⑦"])
def test_digit_like_slots_are_refused_not_crashed(w, slot):
    """str.isdigit() is true for superscripts that int() refuses: a 400, not a 500."""
    acc = w.account()
    with pytest.raises(BookingError) as refused:
        w.book(acc, [w.person(acc)], w.session(), slot=slot)
    assert refused.value.field == "slot" and refused.value.status == 400


def test_another_accounts_beneficiary_is_not_found(w):
    mine, theirs = w.account(), w.account()
    stranger = w.person(theirs)
    vs = w.session()
    err = _refused(NotFound, 404, w.book, mine, [w.person(mine), stranger], vs,
                   field="beneficiaries")
    unknown = _refused(NotFound, 404, schedule, w.s, account_id=mine.id,
                       beneficiary_ids=[987654], session_id=vs.id, slot="09:00", dose=1,
                       today=TODAY)
    assert str(err) == str(unknown)  # nobody can tell "someone else's" from "nobody's"
    assert w.booked(vs) == 0


def test_unknown_and_malformed_sessions(w):
    acc = w.account()
    person = w.person(acc)
    _refused(NotFound, 404, schedule, w.s, account_id=acc.id, beneficiary_ids=[person.id],
             session_id=str(uuid.uuid4()), slot="09:00", dose=1, today=TODAY,
             field="session_id")
    _refused(BookingError, 400, schedule, w.s, account_id=acc.id, beneficiary_ids=[person.id],
             session_id="not-a-uuid", slot="09:00", dose=1, today=TODAY, field="session_id")


def test_a_full_session_answers_409(w):
    acc = w.account()
    vs = w.session(capacities={1: 1})
    w.book(acc, [w.person(acc)], vs)
    _refused(SessionFull, 409, w.book, acc, [w.person(acc)], vs)
    assert w.booked(vs) == 1


def test_a_group_larger_than_the_places_left_books_nobody(w):
    acc = w.account()
    vs = w.session(capacities={1: 2})
    w.book(acc, [w.person(acc)], vs)
    _refused(SessionFull, 409, w.book, acc, [w.person(acc), w.person(acc)], vs)
    assert w.booked(vs) == 1
    assert w.s.scalar(select(Appointment).where(Appointment.session_id == vs.id)
                      .where(Appointment.status == "booked").order_by(Appointment.id)) is not None
    assert len(w.s.scalars(select(Appointment).where(Appointment.session_id == vs.id)).all()) == 1


def test_slot_of_another_session_or_no_such_slot(w):
    acc = w.account()
    person = w.person(acc)
    vs, other = w.session(), w.session(facility=w.other_facility)
    _refused(BookingError, 400, w.book, acc, [person], vs, slot=other.slots[0].id, field="slot")
    _refused(BookingError, 400, w.book, acc, [person], vs, slot="15:00", field="slot")
    _refused(BookingError, 400, w.book, acc, [person], vs, slot="nine", field="slot")


def test_nothing_in_the_past(w):
    acc = w.account()
    vs = w.session(date=TODAY - dt.timedelta(days=1))
    _refused(BookingError, 400, w.book, acc, [w.person(acc)], vs, field="session_id")


def test_the_dose_must_be_the_next_one(w):
    acc = w.account()
    person = w.person(acc)
    vs = w.session()
    _refused(BookingError, 400, w.book, acc, [person], vs, dose=2, field="dose")
    _refused(BookingError, 400, w.book, acc, [person], vs, dose=0, field="dose")
    w.dose(person, 1, "bbibp-corv", TODAY - dt.timedelta(days=25))
    _refused(BookingError, 400, w.book, acc, [person], vs, dose=1, field="dose")
    assert w.book(acc, [person], vs, dose=2)[0].dose_number == 2
    assert w.booked(vs, 2) == 1 and w.booked(vs, 1) == 0


@pytest.mark.parametrize("days_since,ok,overdue", [
    (10, False, False), (21, True, False), (28, True, False),
    # Later than the 28 days recommended: overdue, and given as soon as possible (WHO).
    (29, True, True), (35, True, True), (400, True, True)])
def test_dose_two_from_the_minimum_interval_even_when_late(w, days_since, ok, overdue):
    acc = w.account()
    person = w.person(acc)
    w.dose(person, 1, "bbibp-corv", TODAY - dt.timedelta(days=days_since))  # 21 to 28 days
    status = eligibility.vaccination_status(w.s, person.id, w.product("bbibp-corv").programme_id,
                                            TODAY)
    assert (status.next_dose, status.overdue, status.hard_limit) == (2, overdue, None)
    assert status.due_by == TODAY - dt.timedelta(days=days_since - 28)
    assert status.product_name == "BBIBP-CorV (Sinopharm)" and not status.complete
    vs = w.session()
    if ok:
        w.book(acc, [person], vs, dose=2)
    else:
        _refused(BookingError, 400, w.book, acc, [person], vs, dose=2, field="session_id")


def test_a_hard_maximum_interval_still_refuses(w):
    """Where a profile marks the maximum as a hard limit (max_interval_hard), a late dose is
    refused, as every maximum was before."""
    rule = next(r for r in w.product("bbibp-corv").doses if r.dose_number == 2)
    rule.max_interval_hard = True
    acc = w.account()
    person = w.person(acc)
    w.dose(person, 1, "bbibp-corv", TODAY - dt.timedelta(days=29))
    status = eligibility.vaccination_status(w.s, person.id, rule.product.programme_id, TODAY)
    assert status.hard_limit == status.due_by == TODAY - dt.timedelta(days=1)
    err = _refused(BookingError, 400, w.book, acc, [person], w.session(), dose=2,
                   field="session_id")
    assert "had to be given by" in str(err)


def test_later_doses_keep_the_first_product_unless_the_programme_mixes(w):
    acc = w.account()
    person = w.person(acc)
    w.dose(person, 1, "bbibp-corv", TODAY - dt.timedelta(days=200))
    w.dose(person, 2, "bbibp-corv", TODAY - dt.timedelta(days=176))
    other_product_dose2 = w.account()
    p2 = w.person(other_product_dose2)
    w.dose(p2, 1, "bbibp-corv", TODAY - dt.timedelta(days=25))
    comirnaty = w.session("comirnaty")
    err = _refused(BookingError, 400, w.book, other_product_dose2, [p2], comirnaty, dose=2)
    assert "same vaccine" in str(err)
    # Peru's programme allows boosters of another product (mixed_boosters = true).
    assert w.book(acc, [person], comirnaty, dose=3)[0].dose_number == 3


@pytest.mark.parametrize("birth_year,session_kw,ok", [
    (TODAY.year - 10, {"code": "bbibp-corv"}, False),    # the product's minimum age (18)
    (TODAY.year - 10, {"code": "comirnaty-5-11", "min_age": 5}, True),  # the child's vial
    (TODAY.year - 10, {"code": "comirnaty", "min_age": 5}, False),  # the 12+ vial (issue 16)
    (TODAY.year - 10, {"code": "comirnaty-5-11", "min_age": 11}, False),  # the session's minimum
    (TODAY.year - 60, {"max_age": 44}, False),            # the session's maximum
    (TODAY.year - 44, {"max_age": 44}, True),
])
def test_age_from_the_birth_year(w, birth_year, session_kw, ok):
    acc = w.account()
    person = w.person(acc, birth_year=birth_year)
    vs = w.session(**session_kw)
    if ok:
        w.book(acc, [person], vs)
    else:
        _refused(BookingError, 400, w.book, acc, [person], vs, field="beneficiaries")


def test_one_active_appointment_per_person(w):
    acc = w.account()
    person = w.person(acc)
    w.book(acc, [person], w.session())
    other = w.session(facility=w.other_facility)
    _refused(Conflict, 409, w.book, acc, [person], other, field="beneficiaries")
    assert w.booked(other) == 0


def test_a_missed_appointment_does_not_block_a_new_one(w):
    acc = w.account()
    person = w.person(acc)
    old = w.session(date=TODAY)
    missed = w.book(acc, [person], old)[0]
    later = TODAY + dt.timedelta(days=3)
    w.book(acc, [person], w.session(date=later), today=later)
    assert missed.status == "missed"


def test_a_refusal_leaves_the_callers_transaction_usable(w):
    acc = w.account()
    vs = w.session(capacities={1: 1})
    w.book(acc, [w.person(acc)], vs)
    person = w.person(acc)
    with pytest.raises(SessionFull):
        w.book(acc, [person], vs)
    w.s.commit()  # what was done before the refusal is kept
    assert w.booked(vs) == 1 and w.s.get(type(person), person.id) is not None


def test_cancel_gives_the_place_back(w):
    acc, other = w.account(), w.account()
    vs = w.session()
    people = [w.person(acc), w.person(acc)]
    appts = w.book(acc, people, vs)
    assert w.booked(vs) == 2
    _refused(NotFound, 404, cancel, w.s, account_id=other.id, appointment_ids=[appts[0].id])
    done = cancel(w.s, account_id=acc.id, appointment_ids=[a.id for a in appts])
    w.s.commit()
    assert [a.status for a in done] == ["cancelled", "cancelled"]
    assert done[0].cancelled_at is not None
    assert w.booked(vs) == 0
    _refused(Conflict, 409, cancel, w.s, account_id=acc.id, appointment_ids=[appts[0].id])
    assert w.booked(vs) == 0
    # They may book again.
    w.book(acc, people, vs)
    assert w.booked(vs) == 2


def test_reschedule_moves_the_place(w):
    acc, other = w.account(), w.account()
    a, b = w.session(), w.session(facility=w.other_facility, date=TODAY + dt.timedelta(days=1))
    appt = w.book(acc, [w.person(acc)], a)[0]
    _refused(NotFound, 404, reschedule, w.s, account_id=other.id, appointment_id=appt.id,
             session_id=b.id, slot="09:00", today=TODAY, max_reschedules=3)
    moved = reschedule(w.s, account_id=acc.id, appointment_id=appt.id, session_id=b.id,
                       slot="11:00", today=TODAY, max_reschedules=3)
    w.s.commit()
    assert moved.session_id == b.id and moved.slot.starts == dt.time(11)
    assert moved.reschedule_count == 1
    assert (w.booked(a), w.booked(b)) == (0, 1)
    # Another slot of the same session: the place stays where it is.
    reschedule(w.s, account_id=acc.id, appointment_id=appt.id, session_id=b.id, slot="09:00",
               today=TODAY, max_reschedules=3)
    assert (w.booked(a), w.booked(b)) == (0, 1)


def test_reschedule_into_a_full_session_keeps_the_old_place(w):
    acc = w.account()
    a, full = w.session(), w.session(facility=w.other_facility, capacities={1: 1})
    w.book(acc, [w.person(acc)], full)
    appt = w.book(acc, [w.person(acc)], a)[0]
    _refused(SessionFull, 409, reschedule, w.s, account_id=acc.id, appointment_id=appt.id,
             session_id=full.id, slot="09:00", today=TODAY, max_reschedules=3)
    assert (w.booked(a), w.booked(full)) == (1, 1)
    w.s.refresh(appt)
    assert appt.session_id == a.id and appt.reschedule_count == 0


def test_reschedule_limit(w):
    acc = w.account()
    a, b = w.session(), w.session(facility=w.other_facility)
    appt = w.book(acc, [w.person(acc)], a)[0]
    for target in (b, a):
        reschedule(w.s, account_id=acc.id, appointment_id=appt.id, session_id=target.id,
                   slot="09:00", today=TODAY, max_reschedules=2)
    _refused(Conflict, 409, reschedule, w.s, account_id=acc.id, appointment_id=appt.id,
             session_id=b.id, slot="09:00", today=TODAY, max_reschedules=2,
             field="appointment_id")
    assert (w.booked(a), w.booked(b)) == (1, 0)


def test_reschedule_checks_the_same_rules(w):
    acc = w.account()
    person = w.person(acc, birth_year=TODAY.year - 60)
    a = w.session()
    young_only = w.session(facility=w.other_facility, max_age=44)
    past = w.session(facility=w.other_facility, date=TODAY - dt.timedelta(days=1))
    appt = w.book(acc, [person], a)[0]
    for vs in (young_only, past):
        _refused(BookingError, 400, reschedule, w.s, account_id=acc.id, appointment_id=appt.id,
                 session_id=vs.id, slot="09:00", today=TODAY, max_reschedules=3)
    _refused(BookingError, 400, reschedule, w.s, account_id=acc.id, appointment_id=appt.id,
             session_id=young_only.id, slot=a.slots[0].id, today=TODAY, max_reschedules=3)
    assert w.booked(a) == 1


def test_create_session_refuses_bad_values(w):
    with pytest.raises(BookingError) as info:
        w.session(capacities={1: 5, 4: 5})
    assert info.value.field == "capacity" and info.value.status == 400
    comirnaty = w.product("comirnaty")
    for args, field in [((18, None, {1: 5}, [(dt.time(11), dt.time(9))]), "slots"),
                        ((18, None, {1: 5}, SLOTS + [(dt.time(10), dt.time(12))]), "slots"),
                        ((18, None, {1: 0}, SLOTS), "capacity"),
                        ((18, 10, {1: 5}, SLOTS), "max_age"),
                        ((-1, None, {1: 5}, SLOTS), "min_age")]:
        with pytest.raises(BookingError) as info:
            create_session(w.s, w.facility, TODAY, comirnaty, *args)
        assert info.value.field == field
    with pytest.raises(BookingError) as info:
        create_session(w.s, w.facility, TODAY, comirnaty, 18, None, {1: 5}, SLOTS, fee="x")
    assert info.value.field == "fee"


def test_demo_sessions_over_the_coming_week(w, app):
    from cowin_kit.profiles import load_profile

    profile = load_profile("PE")
    # (init --demo already made this week's sessions; TODAY is years ahead of them)
    before = w.s.scalar(select(VaccinationSession.id)
                        .where(VaccinationSession.date >= TODAY).limit(1))
    created = create_demo_sessions(w.s, profile, today=TODAY)
    demo_centres = len(w.s.scalars(select(Facility).where(Facility.is_demo.is_(True))).all())
    assert before is None and created == demo_centres * 7
    assert create_demo_sessions(w.s, profile, today=TODAY) == 0
    sessions = w.s.scalars(select(VaccinationSession)
                           .where(VaccinationSession.date >= TODAY)).all()
    assert {s.date for s in sessions} == {TODAY + dt.timedelta(days=d) for d in range(7)}
    # Every product of the profile takes its turn (COVID-19's five, the children's Comirnaty
    # among them, and the routine SPR).
    assert len({s.product_id for s in sessions}) == sum(
        len(p["products"]) for p in profile["programmes"]) == 6
    acc = w.account()
    vs = next(s for s in sessions if s.product_id != w.product("spr").id)
    w.book(acc, [w.person(acc, birth_year=1970)], vs, today=TODAY)


def test_two_hundred_concurrent_bookings_fill_exactly_ten_places(app, database, ctx):
    """The invariant of the whole kit: whatever the concurrency, never more than capacity."""
    with database.Session() as s:
        w = World(s, ctx)
        vs = w.session(capacities={1: 10})
        people = []
        for _ in range(20):
            acc = w.account()
            people += [(acc.id, w.person(acc).id) for _ in range(10)]
        s.commit()
        session_id = vs.id
    assert len(people) == 200

    barrier = threading.Barrier(len(people))
    results, lock = [], threading.Lock()

    def book(account_id, beneficiary_id):
        outcome = None
        with database.Session() as own:
            barrier.wait()
            try:
                schedule(own, account_id=account_id, beneficiary_ids=[beneficiary_id],
                         session_id=session_id, slot="09:00", dose=1, today=TODAY)
                own.commit()
                outcome = "booked"
            except SessionFull as exc:
                own.rollback()
                outcome = exc.status
            except Exception as exc:  # noqa: BLE001 - any other outcome fails the test
                own.rollback()
                outcome = repr(exc)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=book, args=p) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert results.count("booked") == 10, [r for r in results if r not in ("booked", 409)][:5]
    assert results.count(409) == 190
    with database.Session() as s:
        assert s.scalar(select(SessionCapacity.booked).where(
            SessionCapacity.session_id == session_id)) == 10
        assert len(s.scalars(select(Appointment).where(
            Appointment.session_id == session_id)).all()) == 10


def test_todays_slots_that_have_ended_cannot_be_booked(w):
    vs = w.session(date=TODAY)
    acc = w.account()
    people = [w.person(acc)]
    with pytest.raises(BookingError) as info:
        booking.schedule(w.s, account_id=acc.id, beneficiary_ids=[p.id for p in people],
                         session_id=vs.id, slot="09:00", dose=1, today=TODAY,
                         now=dt.time(12, 30))
    assert info.value.field == "slot" and "ended" in str(info.value)
    made = booking.schedule(w.s, account_id=acc.id, beneficiary_ids=[p.id for p in people],
                            session_id=vs.id, slot="09:00", dose=1, today=TODAY,
                            now=dt.time(10, 30))  # still open until 11:00
    assert len(made) == 1


def test_phases_admit_by_age_or_group_once_they_have_started(w):
    from cowin_kit.programmes.models import EligibilityPhase, Product

    vs = w.session()
    product = w.s.get(Product, vs.product_id)
    phases = w.s.scalars(select(EligibilityPhase).where(
        EligibilityPhase.programme_id == product.programme_id)).all()
    for phase in phases:  # only the first phase (health workers and others) is open
        if phase.code != "phase-1":
            phase.starts_on = TODAY + dt.timedelta(days=365)
    w.s.flush()
    acc = w.account()
    worker, neighbour = w.person(acc, name="Rosa Huamán"), w.person(acc, name="Luis Quispe")
    worker.priority_groups = ["health-workers"]
    w.s.flush()
    with pytest.raises(BookingError) as info:
        booking.schedule(w.s, account_id=acc.id, beneficiary_ids=[neighbour.id],
                         session_id=vs.id, slot="09:00", dose=1, today=TODAY)
    assert "not eligible yet" in str(info.value) and info.value.field == "beneficiaries"
    made = booking.schedule(w.s, account_id=acc.id, beneficiary_ids=[worker.id],
                            session_id=vs.id, slot="09:00", dose=1, today=TODAY)
    assert len(made) == 1
