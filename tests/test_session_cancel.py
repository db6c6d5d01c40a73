"""Cancelling a session on the staff pages: its appointments cancelled and their places
given back, each person told by SMS (an outbox row), all in one transaction; a cancelled
session hidden from search and refused by booking; and a booking racing the cancellation
never left booked in the cancelled session."""
import datetime as dt
import threading

import pytest
from sqlalchemy import select

from cowin_kit.notifications.models import OutboxMessage
from cowin_kit.notifications.texts import SESSION_CANCELLED
from cowin_kit.scheduling import booking, places, search
from cowin_kit.scheduling.models import (
    Appointment,
    SessionCapacity,
    VaccinationSession,
)

from helpers import (
    LATER,
    STAFF_PASSWORD,
    TODAY,
    audit_rows,
    booked_person,
    csrf,
    facility,
    make_facility_user,
    make_user,
    new_session,
    staff_login,
)

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def lima_admin(client, database):
    make_user(database, "lima@example.org", "district_admin", "1501")
    assert staff_login(client, "lima@example.org", STAFF_PASSWORD).status_code == 302
    return client


def _cancel_url(database, session_id, code="DEMO-PE-0001"):
    return f"/staff/centres/{facility(database, code).id}/sessions/{session_id}/cancel"


def _post_cancel(client, url, reason="Vaccine delivery delayed"):
    page = client.get(url).get_data(as_text=True)
    return client.post(url, data={"reason": reason, "csrf_token": csrf(page)})


def test_cancelling_a_session_cancels_its_appointments_and_texts_each_person(
        app, database, lima_admin):
    sid = new_session(database, "DEMO-PE-0001", LATER, walk_in_quota=3)
    _acc, person_a, appt_a = booked_person(app, database, sid, "+51987000111")
    _acc, person_b, appt_b = booked_person(app, database, sid, "+51987000222", language="qu")
    url = _cancel_url(database, sid)
    page = lima_admin.get(url).get_data(as_text=True)
    assert "2 booked appointment(s) will be cancelled" in page
    r = _post_cancel(lima_admin, url)
    assert r.status_code == 302 and r.headers["Location"].endswith("#main")
    centre_page = lima_admin.get(r.headers["Location"]).get_data(as_text=True)
    assert "2 appointment(s) cancelled" in centre_page
    assert "Cancelled</strong>: <bdi>Vaccine delivery delayed</bdi>" in centre_page
    with database.Session() as s:
        vs = s.get(VaccinationSession, sid)
        assert vs.cancelled_at is not None and vs.cancel_reason == "Vaccine delivery delayed"
        assert {a.status for a in s.scalars(select(Appointment).where(
            Appointment.session_id == sid))} == {"cancelled"}
        assert s.scalar(select(SessionCapacity.booked).where(
            SessionCapacity.session_id == sid)) == 0
        assert places.check_capacity(s) == []
        texts = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    cancelled = [t for t in texts if t.kind == "session.cancelled"]
    assert {(t.mobile, t.beneficiary_id, t.language) for t in cancelled} == {
        ("+51987000111", person_a, None), ("+51987000222", person_b, "qu")}
    for text in cancelled:
        assert text.msgid == SESSION_CANCELLED and text.status == "pending"
        assert text.params == {"name": "Rosa Mamani",
                               "centre": facility(database, "DEMO-PE-0001").name,
                               "date": LATER.strftime("%d-%m-%Y"),
                               "reason": "Vaccine delivery delayed"}
    [event] = audit_rows(database, "session.cancelled")
    assert event.target == f"session:{sid}" and event.details["appointments"] == 2
    assert event.division_id == facility(database, "DEMO-PE-0001").division_id
    assert "Rosa" not in str(event.details)


def test_a_cancelled_session_is_hidden_from_search_and_cannot_be_booked(
        app, database, lima_admin):
    sid = new_session(database, "DEMO-PE-0001", LATER)
    assert _post_cancel(lima_admin, _cancel_url(database, sid)).status_code == 302
    with database.Session() as s:
        found = search.find_sessions(s, "en", LATER, pincode="15001")
        assert sid not in {x["session_id"] for x in found}
    with pytest.raises(booking.Conflict, match="cancelled"):
        booked_person(app, database, sid, "+51987000333")
    with database.Session() as s:
        assert places.take_walk_in(s, sid) is False  # the walk-in quota is closed too
        assert places.check_capacity(s) == []


@pytest.mark.parametrize("reason,message", [
    ("", "Say why the session is cancelled"),
    ("   ", "Say why the session is cancelled"),
    ("x" * 201, "at most 200 characters"),
])
def test_a_cancellation_needs_a_reason(database, lima_admin, reason, message):
    sid = new_session(database, "DEMO-PE-0001", LATER)
    r = _post_cancel(lima_admin, _cancel_url(database, sid), reason)
    assert r.status_code == 400 and message in r.get_data(as_text=True)
    assert 'id="reason-error"' in r.get_data(as_text=True)
    with database.Session() as s:
        assert s.get(VaccinationSession, sid).cancelled_at is None


def test_a_session_that_is_over_or_already_cancelled_cannot_be_cancelled(
        app, database, lima_admin):
    past = new_session(database, "DEMO-PE-0001", TODAY - dt.timedelta(days=1))
    r = _post_cancel(lima_admin, _cancel_url(database, past))
    assert r.status_code == 400
    assert "This session is over; it cannot be cancelled." in r.get_data(as_text=True)
    with database.Session() as s:
        assert s.get(VaccinationSession, past).cancelled_at is None
    sid = new_session(database, "DEMO-PE-0001", LATER)
    url = _cancel_url(database, sid)
    page = lima_admin.get(url).get_data(as_text=True)
    assert _post_cancel(lima_admin, url).status_code == 302
    # The same form sent again (a double click): refused, nothing changes twice.
    r = lima_admin.post(url, data={"reason": "again", "csrf_token": csrf(page)})
    assert r.status_code == 400 and "already cancelled" in r.get_data(as_text=True)
    assert len(audit_rows(database, "session.cancelled")) == 1


def test_the_service_refuses_what_the_page_hides(app, database):
    """The rules hold in the service, whatever the page shows."""
    from cowin_kit.accounts.models import StaffUser
    from cowin_kit.scheduling.session_cancel import cancel_session

    past = new_session(database, "DEMO-PE-0001", TODAY - dt.timedelta(days=1))
    with database.Session() as s:
        user = s.scalar(select(StaffUser))
        with pytest.raises(booking.BookingError, match="over"):
            cancel_session(s, user, s.get(VaccinationSession, past), "storm", today=TODAY,
                           centre_name="x")
        s.rollback()
        sid = new_session(database, "DEMO-PE-0001", LATER)
        cancel_session(s, user, s.get(VaccinationSession, sid), "storm", today=TODAY,
                       centre_name="x")
        s.commit()
        with pytest.raises(booking.Conflict, match="already"):
            cancel_session(s, user, s.get(VaccinationSession, sid), "storm", today=TODAY,
                           centre_name="x")


def test_other_centres_and_other_areas(app, database, lima_admin, client):
    sid = new_session(database, "DEMO-PE-0001", LATER)
    arequipa = new_session(database, "DEMO-PE-0011", LATER)
    # A session of another centre under this centre's address: unknown.
    assert lima_admin.get(_cancel_url(database, arequipa)).status_code == 404
    # A centre outside the area: unknown to this administrator.
    assert lima_admin.get(_cancel_url(database, arequipa, "DEMO-PE-0011")).status_code == 404
    # A facility manager of another centre: 403, audited.
    client.post("/staff/logout", data={"csrf_token": csrf(client.get(
        "/staff/password").get_data(as_text=True))})
    make_facility_user(database, "fm2@example.org", "facility_manager", "DEMO-PE-0002")
    assert staff_login(client, "fm2@example.org", STAFF_PASSWORD).status_code == 302
    assert client.get(_cancel_url(database, sid)).status_code == 403
    [denied] = audit_rows(database, "access.denied")
    assert denied.details["reason"] == "facility"
    with database.Session() as s:
        assert s.get(VaccinationSession, sid).cancelled_at is None


def test_a_facility_manager_cancels_a_session_of_their_centre(app, database, client):
    make_facility_user(database, "fm@example.org", "facility_manager", "DEMO-PE-0001")
    assert staff_login(client, "fm@example.org", STAFF_PASSWORD).status_code == 302
    sid = new_session(database, "DEMO-PE-0001", LATER)
    booked_person(app, database, sid)
    r = _post_cancel(client, _cancel_url(database, sid))
    assert r.status_code == 302 and r.headers["Location"].endswith("/staff/my-centre#main")
    with database.Session() as s:
        assert s.scalar(select(Appointment.status).where(Appointment.session_id == sid)) \
            == "cancelled"
        assert places.check_capacity(s) == []


def test_a_booking_racing_the_cancellation_is_never_left_in_the_cancelled_session(
        app, database):
    """Many bookings and one cancellation released together, round after round: afterwards
    no booked appointment is in a cancelled session and the places add up."""
    from cowin_kit.accounts.models import CitizenAccount, StaffUser
    from cowin_kit.registration import service as registration
    from cowin_kit.registration.service import IdContext
    from cowin_kit.scheduling.session_cancel import cancel_session

    dep = app.extensions["cowin_kit"]
    ctx = IdContext.from_settings(dict(dep.id_providers), dep.settings)
    outcomes, unexpected = {}, []
    lock = threading.Lock()

    def note(outcome):
        with lock:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

    for round_number in range(8):
        day = LATER + dt.timedelta(days=round_number)
        sid = new_session(database, "DEMO-PE-0001", day, capacity=50)
        people = []
        with database.Session() as s:
            for n in range(6):
                account = CitizenAccount(mobile=f"+5198{round_number}{n:06d}")
                s.add(account)
                s.flush()
                person = registration.register_beneficiary(
                    s, ctx, document_code="dni", id_number=f"5{round_number}{n:06d}",
                    name="Rosa Mamani", birth_year=1980, gender="female",
                    account_id=account.id)
                people.append((account.id, person.id))
            s.commit()
        booked_person(app, database, sid, f"+5197{round_number}000000")  # one before
        barrier = threading.Barrier(len(people) + 1)

        def book(account_id, person_id, sid=sid, barrier=barrier):
            with database.Session() as s:
                barrier.wait()
                try:
                    booking.schedule(s, account_id=account_id, beneficiary_ids=[person_id],
                                     session_id=sid, slot="09:00", dose=1, today=TODAY)
                    s.commit()
                    note("book:ok")
                except booking.BookingError as exc:
                    s.rollback()
                    note(f"book:{exc.status}")
                except Exception as exc:  # noqa: BLE001 - a 500 for the user
                    unexpected.append(repr(exc)[:300])

        def cancel(sid=sid, barrier=barrier):
            with database.Session() as s:
                user = s.scalar(select(StaffUser))
                barrier.wait()
                try:
                    cancel_session(s, user, s.get(VaccinationSession, sid), "storm",
                                   today=TODAY, centre_name="x")
                    s.commit()
                    note("cancel:ok")
                except Exception as exc:  # noqa: BLE001
                    unexpected.append(repr(exc)[:300])

        threads = [threading.Thread(target=book, args=p) for p in people]
        threads.append(threading.Thread(target=cancel))
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "an operation hung"
        with database.Session() as s:
            left = s.scalars(select(Appointment).where(Appointment.session_id == sid,
                                                       Appointment.status == "booked")).all()
            assert left == [], (round_number, outcomes)
            assert s.get(VaccinationSession, sid).cancelled_at is not None
            assert places.check_capacity(s) == []
            # Each person whose appointment the cancellation released is told once.
            released = set(s.scalars(select(Appointment.beneficiary_id).where(
                Appointment.session_id == sid, Appointment.status == "cancelled")))
            told = s.scalars(select(OutboxMessage.beneficiary_id).where(
                OutboxMessage.kind == "session.cancelled",
                OutboxMessage.beneficiary_id.in_(released))).all()
            assert sorted(told) == sorted(released) and released
    assert not unexpected, unexpected[:3]
    assert outcomes["cancel:ok"] == 8
