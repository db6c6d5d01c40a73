"""The booking invariant under racing changes, on SQLite and PostgreSQL.

"For every session and dose, places taken = appointments holding a place, and never more
than capacity." Many threads, each with its own connection, fire random interleavings of
every operation that moves a place (book, reschedule, cancel, remove a member, change a
session's capacity, cancel a whole session) at the same people and sessions, released
together by a barrier so they really collide; afterwards the database is checked with
plain SQL (not with the kit's own check, which is tested on its own below).

The rounds are random but seeded, so a failure can be replayed with the same seed
(COWIN_KIT_RACE_SEED).
"""
import datetime as dt
import itertools
import os
import random
import threading

import pytest
from sqlalchemy import select, text

from cowin_kit.accounts.models import CitizenAccount
from cowin_kit.programmes.models import Product
from cowin_kit.registration import service as registration
from cowin_kit.registration.service import IdContext, RegistrationError
from cowin_kit.scheduling import booking, places
from cowin_kit.scheduling.booking import BookingError
from cowin_kit.scheduling.models import Facility
from cowin_kit.scheduling.sessions import create_session

TODAY = dt.date(2031, 3, 3)
SLOTS = [(dt.time(9), dt.time(11)), (dt.time(11), dt.time(13))]
_numbers = itertools.count(30000000)

# Counted with plain SQL: what each capacity row says is taken, and what holds a place.
DRIFT_SQL = text("""
    SELECT c.session_id, c.dose_number, c.capacity, c.booked,
           (SELECT count(*) FROM appointment a
             WHERE a.session_id = c.session_id AND a.dose_number = c.dose_number
               AND a.status <> 'cancelled') AS holding
      FROM session_capacity c""")


@pytest.fixture
def ctx(app):
    dep = app.extensions["cowin_kit"]
    return IdContext.from_settings(dict(dep.id_providers), dep.settings)


def _person(s, ctx, account_id):
    person = registration.register_beneficiary(
        s, ctx, document_code="dni", id_number=str(next(_numbers)), name="Ana Quispe",
        birth_year=1980, gender="female")
    person.account_id = account_id
    s.flush()
    return person


def _world(database, ctx, *, sessions=3, capacity=4, accounts=6, people_each=3):
    with database.Session() as s:
        facility = s.scalar(select(Facility).where(Facility.is_demo.is_(True))
                            .order_by(Facility.code))
        product = s.scalar(select(Product).where(Product.code == "bbibp-corv"))
        session_ids = [create_session(s, facility, TODAY + dt.timedelta(days=d),
                                      product, 18, None, {1: capacity}, SLOTS).id
                       for d in range(sessions)]
        people = []
        for _ in range(accounts):
            acc = CitizenAccount(mobile=f"+519{next(_numbers) % 100000000:08d}")
            s.add(acc)
            s.flush()
            people += [(acc.id, _person(s, ctx, acc.id).reference_id)
                       for _ in range(people_each)]
        s.commit()
    return session_ids, people


def _drift(database):
    with database.Session() as s:
        rows = s.execute(DRIFT_SQL).all()
    return [r for r in rows if r.booked != r.holding or r.booked > r.capacity
            or r.booked < 0], rows


class Race:
    """Runs operations in threads that start at the same moment; collects their outcomes."""

    def __init__(self, database, ctx, session_ids, people):
        self.db, self.ctx = database, ctx
        self.session_ids, self.people = session_ids, list(people)
        self.outcomes: dict[str, int] = {}
        self.unexpected: list[str] = []
        self.lock = threading.Lock()

    # --- the operations, each in its own transaction -------------------------------------
    def _appointments_of(self, s, account_id):
        from cowin_kit.registration.models import Beneficiary
        from cowin_kit.scheduling.models import Appointment

        return s.scalars(select(Appointment.id).join(
            Beneficiary, Beneficiary.id == Appointment.beneficiary_id).where(
            Beneficiary.account_id == account_id, Appointment.status == "booked")).all()

    def _beneficiary_id(self, s, account_id, reference_id):
        person = registration.account_beneficiary(s, account_id, reference_id)
        return person.id

    def op(self, kind, rng, s, account_id, reference_id, appointment_id, session_id):
        if kind == "book":
            booking.schedule(s, account_id=account_id,
                             beneficiary_ids=[self._beneficiary_id(s, account_id, reference_id)],
                             session_id=session_id, slot="09:00", dose=1, today=TODAY)
        elif kind == "reschedule":
            booking.reschedule(s, account_id=account_id, appointment_id=appointment_id,
                               session_id=session_id, slot=rng.choice(["09:00", "11:00"]),
                               today=TODAY, max_reschedules=1000)
        elif kind == "cancel":
            booking.cancel(s, account_id=account_id, appointment_ids=[appointment_id],
                           today=TODAY)
        elif kind == "cancel_all":
            ids = self._appointments_of(s, account_id)
            if ids:
                booking.cancel(s, account_id=account_id, appointment_ids=ids, today=TODAY)
        elif kind == "delete":
            registration.delete_beneficiary(s, account_id=account_id,
                                            reference_id=reference_id)
        elif kind == "capacity":
            places.set_capacity(s, session_id, 1, rng.randint(0, 6))
        else:  # pragma: no cover - a typo in the test
            raise AssertionError(kind)

    def run_op(self, barrier, kind, seed, *args):
        rng = random.Random(seed)
        with self.db.Session() as s:
            barrier.wait()
            try:
                self.op(kind, rng, s, *args)
                s.commit()
                outcome = f"{kind}:ok"
            except (BookingError, RegistrationError) as exc:
                s.rollback()
                outcome = f"{kind}:{exc.status}"
                if exc.status >= 500:
                    self.unexpected.append(f"{kind}: {exc!r}")
            except Exception as exc:  # noqa: BLE001 - a 500 or a 503 for the user
                s.rollback()
                outcome = f"{kind}:error"
                self.unexpected.append(f"{kind}: {exc!r}"[:300])
        with self.lock:
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def round(self, rng):
        """Several groups of operations aimed at the same person, all released at once."""
        with self.db.Session() as s:
            targets = []
            for account_id, reference_id in rng.sample(self.people, min(4, len(self.people))):
                appts = self._appointments_of(s, account_id)
                targets.append((account_id, reference_id, rng.choice(appts) if appts else None))
        jobs = []
        for account_id, reference_id, appointment_id in targets:
            choices = (["book", "reschedule", "reschedule", "cancel", "cancel_all", "delete",
                        "book"] if appointment_id else ["book", "book", "delete", "cancel_all"])
            kinds = rng.sample(choices, rng.randint(2, 3))
            for kind in kinds:
                jobs.append((kind, rng.random(), account_id, reference_id, appointment_id,
                             rng.choice(self.session_ids)))
        if rng.random() < 0.5:
            jobs.append(("capacity", rng.random(), None, None, None,
                         rng.choice(self.session_ids)))
        barrier = threading.Barrier(len(jobs))
        threads = [threading.Thread(target=self.run_op, args=(barrier, *job)) for job in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "an operation hung"
        # People removed in this round are replaced, so later rounds still have targets.
        with self.db.Session() as s:
            alive = []
            for account_id, reference_id in self.people:
                try:
                    registration.account_beneficiary(s, account_id, reference_id)
                    alive.append((account_id, reference_id))
                except RegistrationError:
                    alive.append((account_id, _person(s, self.ctx, account_id).reference_id))
            s.commit()
        self.people = alive


def test_racing_changes_never_break_the_place_count(app, database, ctx):
    seed = int(os.environ.get("COWIN_KIT_RACE_SEED", "20261204"))
    rng = random.Random(seed)
    session_ids, people = _world(database, ctx)
    race = Race(database, ctx, session_ids, people)
    for number in range(int(os.environ.get("COWIN_KIT_RACE_ROUNDS", "40"))):
        race.round(rng)
        drift, _rows = _drift(database)
        assert not drift, (f"seed {seed}, round {number}: places taken differ from "
                           f"appointments: {drift}; outcomes {race.outcomes}")
    assert not race.unexpected, (seed, race.unexpected[:5])
    # The race really raced: places were taken and given back many times.
    assert race.outcomes.get("book:ok", 0) > 10, race.outcomes
    assert race.outcomes.get("reschedule:ok", 0) > 5, race.outcomes
    assert race.outcomes.get("cancel:ok", 0) + race.outcomes.get("cancel_all:ok", 0) > 5
    assert race.outcomes.get("delete:ok", 0) > 3, race.outcomes
    print(f"seed {seed}: {sorted(race.outcomes.items())}")


def test_reschedule_and_cancel_of_one_appointment_at_the_same_moment(app, database, ctx):
    """The finding itself: one citizen sends reschedule and cancel together, many times."""
    session_ids, people = _world(database, ctx, sessions=2, capacity=10, accounts=4,
                                 people_each=5)
    race = Race(database, ctx, session_ids, people)
    rng = random.Random(1)
    for account_id, reference_id in people:
        race.run_op(threading.Barrier(1), "book", 0, account_id, reference_id, None,
                    session_ids[0])
    with database.Session() as s:
        appointments = [(acc, ref, race._appointments_of(s, acc)) for acc, ref in people]
    jobs = []
    for account_id, reference_id, ids in appointments:
        for appointment_id in ids:
            jobs += [("reschedule", rng.random(), account_id, reference_id, appointment_id,
                      session_ids[1]),
                     ("cancel", rng.random(), account_id, reference_id, appointment_id, None)]
    barrier = threading.Barrier(len(jobs))
    threads = [threading.Thread(target=race.run_op, args=(barrier, *job)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    drift, rows = _drift(database)
    assert not drift, (drift, race.outcomes)
    assert not race.unexpected, race.unexpected[:5]
    assert sum(r.booked for r in rows if r.session_id in session_ids) <= 20


def test_check_capacity_reports_drift(app, database, ctx):
    """`places.check_capacity` (behind `cowin-kit db check-capacity`) finds a capacity row
    that disagrees with the appointments, and says nothing of a consistent database."""
    session_ids, people = _world(database, ctx, sessions=2, capacity=5, accounts=1,
                                 people_each=2)
    race = Race(database, ctx, session_ids, people)
    for account_id, reference_id in people:
        race.run_op(threading.Barrier(1), "book", 0, account_id, reference_id, None,
                    session_ids[0])
    with database.Session() as s:
        assert places.check_capacity(s) == []
        s.execute(text("UPDATE session_capacity SET booked = booked - 1 "
                       "WHERE session_id = :sid"), {"sid": session_ids[0]})
        s.commit()
    with database.Session() as s:
        drift = places.check_capacity(s)
    assert [(d.session_id, d.dose_number, d.booked, d.holding) for d in drift] == [
        (session_ids[0], 1, 1, 2)]


def test_db_check_capacity_command(app, database, ctx, run_cli, cowin_kit_instance):
    session_ids, people = _world(database, ctx, sessions=1, capacity=5, accounts=1,
                                 people_each=1)
    race = Race(database, ctx, session_ids, people)
    (account_id, reference_id), = people
    race.run_op(threading.Barrier(1), "book", 0, account_id, reference_id, None,
                session_ids[0])
    result = run_cli("db", "check-capacity", "--instance", cowin_kit_instance)
    assert result.exit_code == 0, result.output
    assert "OK" in result.output
    with database.Session() as s:
        s.execute(text("UPDATE session_capacity SET booked = 3 WHERE session_id = :sid"),
                  {"sid": session_ids[0]})
        s.commit()
    result = run_cli("db", "check-capacity", "--instance", cowin_kit_instance)
    assert result.exit_code == 1
    assert f"session {session_ids[0]} dose 1: capacity 5, places taken 3, appointments " \
           "holding a place 1" in result.output


def test_citizen_changes_are_audited_without_personal_data(app, database, ctx):
    from cowin_kit.accounts.models import AuditEvent

    session_ids, people = _world(database, ctx, sessions=2, capacity=5, accounts=1,
                                 people_each=1)
    race = Race(database, ctx, session_ids, people)
    (account_id, reference_id), = people
    for kind, session_id in (("book", session_ids[0]), ("reschedule", session_ids[1]),
                             ("cancel", None), ("delete", None)):
        with database.Session() as s:
            appts = race._appointments_of(s, account_id)
        race.run_op(threading.Barrier(1), kind, 0, account_id, reference_id,
                    appts[0] if appts else None, session_id)
    assert race.outcomes == {"book:ok": 1, "reschedule:ok": 1, "cancel:ok": 1,
                             "delete:ok": 1}, race.outcomes
    with database.Session() as s:
        events = s.scalars(select(AuditEvent).where(
            AuditEvent.actor == f"citizen:{account_id}").order_by(AuditEvent.id)).all()
        mobile = s.get(CitizenAccount, account_id).mobile
    assert [e.action for e in events] == ["appointment.booked", "appointment.rescheduled",
                                          "appointment.cancelled", "beneficiary.deleted"]
    assert events[1].details["session_id"] == session_ids[1]
    for event in events:
        text_of = f"{event.target} {event.details}"
        assert mobile not in text_of and mobile[-8:] not in text_of
        assert reference_id not in text_of and "Ana" not in text_of


def test_racing_api_requests_of_one_citizen(app, database, cowin_kit_instance):
    """The reported attack over HTTP: one citizen sends reschedule, cancel and member
    removal for the same people at the same moment; every answer is a 2xx or a 4xx and the
    places still add up."""
    from helpers import api_login, api_session

    client = app.test_client()
    auth = api_login(client, cowin_kit_instance, "987650001")
    with database.Session() as s:
        dni = s.scalar(text("SELECT id FROM id_document_type WHERE code = 'dni'"))
    refs = []
    for i in range(4):
        r = client.post("/api/v2/registration/beneficiary/new", headers=auth, json={
            "name": f"Ana Quispe {'abcd'[i]}", "birth_year": "1980", "gender_id": 2,
            "photo_id_type": dni, "photo_id_number": f"4{i}123456",
            "comorbidity_ind": "N", "consent_version": "1"})
        assert r.status_code == 200, r.get_json()
        refs.append(r.get_json()["beneficiary_reference_id"])
    first_session, slot = api_session(database)
    booked = client.post("/api/v2/appointment/schedule", headers=auth, json={
        "dose": 1, "session_id": first_session, "slot": slot, "beneficiaries": refs})
    assert booked.status_code == 200, booked.get_json()
    appointment_ids = booked.get_json()["appointment_ids"]
    with database.Session() as s:
        other = s.scalar(text(
            "SELECT s.id FROM vaccination_session s JOIN session_capacity c "
            "ON c.session_id = s.id WHERE s.id <> :sid AND s.date > :today "
            "AND s.min_age <= 40 AND s.max_age IS NULL "
            "AND c.dose_number = 1 AND c.capacity > c.booked ORDER BY s.date, s.id LIMIT 1"),
            {"sid": first_session, "today": TODAY})
    requests = []
    for ref, appointment_id in zip(refs, appointment_ids, strict=True):
        requests += [
            ("/api/v2/appointment/reschedule", {"appointment_id": appointment_id,
                                                "session_id": other, "slot": slot}),
            ("/api/v2/appointment/cancel", {"appointment_id": appointment_id}),
            ("/api/v2/appointment/cancel", {"appointment_id": appointment_id,
                                            "beneficiariesToCancel": [ref]}),
        ]
    requests.append(("/api/v2/registration/beneficiary/delete",
                     {"beneficiary_reference_id": refs[0]}))
    barrier = threading.Barrier(len(requests))
    statuses, lock = [], threading.Lock()

    def send(path, body):
        own = app.test_client()
        barrier.wait()
        status = own.post(path, headers=auth, json=body).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=send, args=req) for req in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not [s for s in statuses if s >= 500], statuses
    assert statuses.count(204) + statuses.count(200) >= len(refs), statuses
    drift, _rows = _drift(database)
    assert not drift, (drift, statuses)


def test_removing_one_member_twice_at_the_same_moment(app, database, ctx):
    """Two removals of the same member race: one removes, the other answers 404 (before,
    on PostgreSQL both answered success, the second removing nothing yet audited)."""
    session_ids, people = _world(database, ctx, sessions=1, capacity=20, accounts=1,
                                 people_each=8)
    race = Race(database, ctx, session_ids, people)
    for account_id, reference_id in people:
        race.run_op(threading.Barrier(1), "book", 0, account_id, reference_id, None,
                    session_ids[0])
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=race.run_op, args=(barrier, "delete", 0, account_id,
                                                              reference_id, None, None))
                   for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert not race.unexpected, race.unexpected[:3]
    assert race.outcomes["delete:ok"] == len(people), race.outcomes
    assert race.outcomes["delete:404"] == len(people), race.outcomes
    drift, _rows = _drift(database)
    assert not drift
