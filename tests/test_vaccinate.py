"""The vaccinator's day (issue 11, items 3 and 4 on the server): today's queue, finding a
person, recording a dose idempotently, refusals, overrides, and the end of the day."""
import datetime as dt
import threading
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from cowin_kit import clock
from cowin_kit.notifications.models import OutboxMessage
from cowin_kit.scheduling.models import Appointment, AppointmentStatus, VaccinationSession
from cowin_kit.vaccination.models import Dose, VaccineLot

from helpers import (
    STAFF_PASSWORD,
    TODAY,
    add_lot,
    adult_session_today,
    audit_rows,
    book_today,
    csrf,
    facility_user,
    make_user,
    staff_login,
)


@pytest.fixture
def day(app, database, client):
    """Today's adult session at a demo centre, a lot of its vaccine, a person booked into
    it, and the client logged in as the centre's vaccinator (reading English)."""
    vs = adult_session_today(database)
    lot = add_lot(database, vs.facility_id, vs.product_id)
    ana = book_today(app, vs.id, "40123456", "Ana Quispe")
    vaccinator = facility_user(database, "vac@example.org", "vaccinator", vs.facility_id)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    r = staff_login(client, "vac@example.org", STAFF_PASSWORD)
    assert r.status_code == 302
    return SimpleNamespace(session=vs, lot=lot, ana=ana, vaccinator=vaccinator,
                           facility_id=vs.facility_id)


def _token(client):
    return client.get("/staff/today/queue.json").get_json()["csrf_token"]


def _post(client, token=None, **body):
    token = token or _token(client)
    return client.post("/staff/today/doses", json=body, headers={"X-CSRFToken": token})


def _dose(day, appt=None, key=None, **extra):
    return {"appointment_id": appt or day.ana.appointment_id, "lot_id": day.lot,
            "site": "left_arm", "idempotency_key": key or str(uuid.uuid4()), **extra}


def _count(database, model, *where):
    with database.Session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _lot_used(database, lot_id):
    with database.Session() as s:
        return s.get(VaccineLot, lot_id).doses_used


def _status(database, appointment_id):
    with database.Session() as s:
        return s.get(Appointment, appointment_id).status


# --- today's queue -----------------------------------------------------------------------

def test_today_page_lists_the_queue_with_counts(client, day):
    page = client.get("/staff/today").get_data(as_text=True)
    assert "Ana Quispe" in page
    assert 'data-count="booked">1<' in page
    data = client.get("/staff/today/queue.json").get_json()
    [session] = [s for s in data["sessions"] if s["session_id"] == day.session.id]
    [entry] = session["queue"]
    assert entry["name"] == "Ana Quispe" and entry["next_dose"] == 1
    assert entry["status"] == "booked" and entry["id_masked"] != "40123456"
    assert "40123456" not in str(data) and day.ana.code not in str(entry.values())
    # The test's lot, beside the lot every demo centre has.
    assert [lot["id"] for lot in session["lots"]
            if not lot["lot_number"].startswith("DEMO-")] == [day.lot]
    assert session["counts"] == {"booked": 1, "arrived": 0, "done": 0, "missed": 0}


def test_an_administrator_chooses_a_centre_of_the_area(client, database, day):
    make_user(database, "lima@example.org", "district_admin", "1501")
    client.post("/staff/logout", data={"csrf_token": csrf(client.get("/staff/today").get_data(
        as_text=True))})
    staff_login(client, "lima@example.org", STAFF_PASSWORD)
    page = client.get("/staff/today")
    assert page.status_code == 200


# --- finding people ----------------------------------------------------------------------

def _find(client, **data):
    page = client.get("/staff/today/find").get_data(as_text=True)
    return client.post("/staff/today/find", data={"csrf_token": csrf(page), **data})


def test_find_by_secret_code_and_reference(client, day):
    r = _find(client, by="code", reference=day.ana.reference, code=day.ana.code)
    assert r.status_code == 302
    assert r.headers["Location"].endswith(f"/staff/today/appointments/{day.ana.appointment_id}")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Ana Quispe" in page and "1980" in page and "40123456" not in page


def test_a_wrong_secret_code_is_refused_clearly(client, day):
    wrong = f"{(int(day.ana.code) + 1) % 10000:04d}"
    r = _find(client, by="code", reference=day.ana.reference, code=wrong)
    assert r.status_code == 400
    assert "The secret code is not right" in r.get_data(as_text=True)
    r = _find(client, by="code", reference=day.ana.reference, code="12")
    assert "The secret code has 4 digits." in r.get_data(as_text=True)


def test_find_by_id_number_is_audited_without_the_number(client, database, day):
    r = _find(client, by="id", id_type="dni", id_number="40123456")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "Ana Quispe" in page and "Appointment here today" in page
    [row] = audit_rows(database, "person.looked_up")
    assert row.details["by"] == "id_number" and "40123456" not in str(row.details)
    assert row.target == f"beneficiary:{day.ana.beneficiary_id}"


def test_find_by_mobile_lists_the_account_members(app, client, database, day):
    other = adult_session_today(database)
    book_today(app, other.id, "10117410", "Luis Quispe")  # same mobile, family member
    r = _find(client, by="mobile", mobile="987 654 321")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "Ana Quispe" in page and "Luis Quispe" in page
    assert audit_rows(database, "person.looked_up")[-1].details["by"] == "mobile"
    r = _find(client, by="mobile", mobile="12")
    assert r.status_code == 400


def test_searches_are_limited_per_user(client, day):
    page = client.get("/staff/today/find").get_data(as_text=True)
    token = csrf(page)
    codes = [client.post("/staff/today/find", data={
        "csrf_token": token, "by": "code", "reference": day.ana.reference, "code": "0000"
    }).status_code for _ in range(31)]
    assert codes[-1] == 429


# --- recording ---------------------------------------------------------------------------

def test_record_a_dose_over_json_and_replay_it(client, database, day):
    key = str(uuid.uuid4())
    r = _post(client, **_dose(day, key=key))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["status"] == "recorded" and r.get_json()["dose_number"] == 1
    again = _post(client, **_dose(day, key=key))
    assert again.status_code == 200 and again.get_json()["status"] == "already_recorded"
    assert again.get_json()["dose_id"] == r.get_json()["dose_id"]
    assert _count(database, Dose, Dose.beneficiary_id == day.ana.beneficiary_id) == 1
    assert _lot_used(database, day.lot) == 1
    assert _status(database, day.ana.appointment_id) == AppointmentStatus.DONE
    with database.Session() as s:
        dose = s.scalar(select(Dose).where(Dose.idempotency_key == key))
        assert (dose.site, dose.vaccinator_id, dose.lot_id) == ("left_arm", day.vaccinator,
                                                                 day.lot)
        [sms] = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "dose.recorded"))
        assert sms.params["dose"] == 1 and "/portal/" in sms.params["url"]
    assert [e.target for e in audit_rows(database, "dose.recorded")] == [f"dose:{dose.id}"]


def test_record_through_the_form(client, database, day):
    url = f"/staff/today/appointments/{day.ana.appointment_id}"
    page = client.get(url).get_data(as_text=True)
    assert "Dose 1 of" in page
    key = page.split('name="idempotency_key" type="hidden" value="')[1].split('"')[0]
    data = {"csrf_token": csrf(page), "idempotency_key": key, "lot": str(day.lot),
            "site": "right_arm", "given_time": "00:00"}
    r = client.post(url, data=data)
    assert r.status_code == 302, r.get_data(as_text=True)
    assert "Dose 1 recorded for Ana Quispe." in client.get("/staff/today").get_data(as_text=True)
    assert client.post(url, data=data).status_code == 302  # a double tap
    assert _count(database, Dose, Dose.beneficiary_id == day.ana.beneficiary_id) == 1
    assert _lot_used(database, day.lot) == 1


def test_bad_form_input_is_shown_at_the_field(client, day):
    url = f"/staff/today/appointments/{day.ana.appointment_id}"
    page = client.get(url).get_data(as_text=True)
    r = client.post(url, data={"csrf_token": csrf(page), "idempotency_key": str(uuid.uuid4()),
                               "lot": str(day.lot), "given_time": "25:99"})
    body = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "Choose where the dose was given." in body and "Enter a time like 09:30." in body


def test_time_given_not_in_the_future_nor_before_the_session(client, day):
    later = (clock.now() + dt.timedelta(hours=2)).isoformat()
    r = _post(client, **_dose(day, given_at=later))
    assert r.status_code == 400 and "cannot be in the future" in r.get_json()["message"]
    before = dt.datetime.combine(TODAY - dt.timedelta(days=1), dt.time(12)).isoformat()
    r = _post(client, **_dose(day, given_at=before))
    assert r.status_code == 400 and "day of the session" in r.get_json()["message"]


def test_bad_json_is_a_400_never_a_500(client, day):
    token = _token(client)
    for body in [None, [], {"appointment_id": "x"}, _dose(day, lot_id="abc"),
                 _dose(day, site="nose"), _dose(day, key="short"), _dose(day, given_at=5),
                 _dose(day, given_at="yesterday"), _dose(day, lot_id=10**30)]:
        r = client.post("/staff/today/doses", json=body, headers={"X-CSRFToken": token})
        assert r.status_code in (400, 404), (body, r.status_code)
        assert r.get_json()["message"]
    r = client.post("/staff/today/doses", json=_dose(day))
    assert r.status_code == 400 and r.get_json()["code"] == "csrf"


def test_concurrent_double_tap_makes_one_dose(app, database, day):
    """Two sendings of one recording at the same moment (on PostgreSQL, truly parallel)."""
    from cowin_kit.accounts.models import StaffUser
    from cowin_kit.vaccination.recording import DoseRequest, record_at_centre

    key = str(uuid.uuid4())
    barrier, results = threading.Barrier(4), []

    def tap():
        with database.Session() as s:
            user = s.get(StaffUser, day.vaccinator)
            barrier.wait()
            try:
                done = record_at_centre(
                    s, user, None, DoseRequest(day.ana.appointment_id, day.lot, "left_arm", key),
                    now=clock.now(), timezone="America/Lima", may_supervise=False)
                s.commit()
                results.append(done.replay)
            except Exception as exc:  # noqa: BLE001 - reported below
                s.rollback()
                results.append(exc)

    threads = [threading.Thread(target=tap) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results, key=str) == [False, True, True, True], results
    assert _count(database, Dose, Dose.idempotency_key == key) == 1
    assert _lot_used(database, day.lot) == 1


def test_another_centres_vaccinator_gets_403_and_an_audit_entry(client, database, day):
    other = facility_user(database, "far@example.org", "vaccinator", day.facility_id + 1)
    client.post("/staff/logout", data={"csrf_token": _token(client)})
    staff_login(client, "far@example.org", STAFF_PASSWORD)
    r = _post(client, **_dose(day))
    assert r.status_code == 403 and "another centre" in r.get_json()["message"]
    assert client.get(f"/staff/today/appointments/{day.ana.appointment_id}").status_code == 403
    denied = audit_rows(database, "access.denied")
    assert len(denied) == 2 and all(d.actor == f"staff:{other}" for d in denied)
    assert _count(database, Dose) == 0 and _lot_used(database, day.lot) == 0


def test_expired_and_used_up_lots_are_refused(client, database, day):
    expired = add_lot(database, day.facility_id, day.session.product_id, "OLD-1",
                      expires=TODAY - dt.timedelta(days=1))
    used_up = add_lot(database, day.facility_id, day.session.product_id, "EMPTY-1", doses=5,
                      used=5)
    r = _post(client, **_dose(day, lot_id=expired))
    assert r.status_code == 400 and "Lot OLD-1 expired" in r.get_json()["message"]
    r = _post(client, **_dose(day, lot_id=used_up))
    assert r.status_code == 400 and "Lot EMPTY-1 is used up" in r.get_json()["message"]
    assert _status(database, day.ana.appointment_id) == AppointmentStatus.BOOKED
    assert _count(database, Dose) == 0 and _lot_used(database, day.lot) == 0


def test_statements_per_recording(app, client, database, day):
    """The offline page's endpoint stays lean (the benchmark calls it many times a second)."""
    from sqlalchemy import event

    token = _token(client)
    seen = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        assert _post(client, token, **_dose(day)).status_code == 201
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    # The recording's 32, and 3 for issuing the certificate in the same transaction (the
    # doses with their products, lots and centres; the current version; the new one).
    assert len(seen) <= 35, "\n".join(s[:110].replace("\n", " ") for s in seen)


def test_a_session_that_is_over_or_cancelled_is_refused(client, database, day):
    with database.Session() as s:
        s.get(VaccinationSession, day.session.id).date = TODAY - dt.timedelta(days=2)
        s.commit()
    r = _post(client, **_dose(day))
    assert r.status_code == 400 and "is over" in r.get_json()["message"]
    with database.Session() as s:
        vs = s.get(VaccinationSession, day.session.id)
        vs.date, vs.cancelled_at = TODAY, dt.datetime.now(dt.UTC)
        s.commit()
    r = _post(client, **_dose(day))
    assert r.status_code == 400 and "cancelled" in r.get_json()["message"]


def _give_elsewhere(database, day, given_on):
    from cowin_kit.vaccination.service import record_dose

    with database.Session() as s:
        record_dose(s, beneficiary_id=day.ana.beneficiary_id, product=day.session.product_id,
                    dose_number=1, given_on=given_on)
        s.commit()


def test_a_person_vaccinated_elsewhere_is_a_409(client, database, day):
    _give_elsewhere(database, day, TODAY)
    r = _post(client, **_dose(day))
    assert r.status_code == 409 and r.get_json()["status"] == "conflict"
    assert "Dose 1 is already recorded" in r.get_json()["message"]
    assert _lot_used(database, day.lot) == 0


def test_a_dose_outside_the_schedule_needs_a_supervisor_and_a_reason(app, client, database,
                                                                     day):
    # The person is booked for dose 1 but turns out to have had it: a second appointment for
    # dose 2 today is too early.
    _give_elsewhere(database, day, TODAY - dt.timedelta(days=3))
    with database.Session() as s:
        s.get(Appointment, day.ana.appointment_id).dose_number = 2
        s.commit()
    r = _post(client, **_dose(day))
    assert r.status_code == 400 and r.get_json()["override"] is True
    assert "can be given from" in r.get_json()["message"]
    r = _post(client, **_dose(day, override_reason="Travelling abroad tomorrow"))
    assert r.status_code == 403 and "Only a supervisor" in r.get_json()["message"]

    facility_user(database, "boss@example.org", "facility_manager", day.facility_id)
    client.post("/staff/logout", data={"csrf_token": _token(client)})
    staff_login(client, "boss@example.org", STAFF_PASSWORD)
    r = _post(client, **_dose(day, override_reason="no"))
    assert r.status_code == 400 and "reason" in r.get_json()["message"]
    r = _post(client, **_dose(day, override_reason="Travelling abroad tomorrow"))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["dose_number"] == 2
    with database.Session() as s:
        dose = s.get(Dose, r.get_json()["dose_id"])
        assert dose.override_reason == "Travelling abroad tomorrow" and dose.overridden_by
    [event] = audit_rows(database, "dose.override")
    assert event.target == f"dose:{dose.id}"


def test_mark_arrived(client, database, day):
    url = f"/staff/today/appointments/{day.ana.appointment_id}"
    page = client.get(url).get_data(as_text=True)
    r = client.post(url + "/arrived", data={"csrf_token": csrf(page)})
    assert r.status_code == 302
    data = client.get("/staff/today/queue.json").get_json()
    [session] = [s for s in data["sessions"] if s["session_id"] == day.session.id]
    assert session["counts"]["arrived"] == 1


# --- the end of the day ------------------------------------------------------------------

def _book_again(app, database, day):
    """Whether Ana may book another session (tomorrow's at the same centre)."""
    from cowin_kit.scheduling.booking import BookingError, schedule

    with database.Session() as s:
        vs = s.scalar(select(VaccinationSession).where(
            VaccinationSession.facility_id == day.facility_id,
            VaccinationSession.date == TODAY + dt.timedelta(days=1)))
        from cowin_kit.registration.models import Beneficiary

        person = s.get(Beneficiary, day.ana.beneficiary_id)
        try:
            schedule(s, account_id=person.account_id, beneficiary_ids=[person.id],
                     session_id=vs.id, slot=vs.slots[0].id, dose=1, today=TODAY)
        except BookingError as exc:
            return exc
        s.rollback()
        return True


def test_the_close_day_button_makes_no_shows_who_may_book_again(app, client, database, day):
    assert _book_again(app, database, day) is not True  # an active appointment: refused
    page = client.get("/staff/today").get_data(as_text=True)
    assert "End of day" not in page  # a vaccinator may not close the day
    facility_user(database, "boss@example.org", "facility_manager", day.facility_id)
    client.post("/staff/logout", data={"csrf_token": csrf(page)})
    staff_login(client, "boss@example.org", STAFF_PASSWORD)
    page = client.get("/staff/today").get_data(as_text=True)
    assert "End of day: mark 1 not vaccinated as no-shows" in page
    url = f"/staff/today/sessions/{day.session.id}/close"
    r = client.post(url, data={"csrf_token": csrf(page)})
    assert r.status_code == 302
    assert _status(database, day.ana.appointment_id) == AppointmentStatus.MISSED
    assert client.post(url, data={"csrf_token": csrf(page)}).status_code == 302  # again
    assert len(audit_rows(database, "session.closed")) == 1
    assert _book_again(app, database, day) is True


def test_the_close_day_command(app, run_cli, database, day, cowin_kit_instance):
    def cli(*args):
        return run_cli(*args, "--instance", cowin_kit_instance)

    r = cli("sessions", "close-day", "--date", (TODAY + dt.timedelta(days=1)).isoformat())
    assert r.exit_code == 2 and "not come yet" in r.output
    r = cli("sessions", "close-day", "--facility", "NOPE")
    assert r.exit_code == 2
    r = cli("sessions", "close-day")  # days before today: today's booking stays
    assert r.exit_code == 0 and _status(database, day.ana.appointment_id) == "booked"
    r = cli("sessions", "close-day", "--date", TODAY.isoformat(), "--facility",
                _facility_code(database, day.facility_id))
    assert r.exit_code == 0, r.output
    assert "1 appointment(s)" in r.output
    assert _status(database, day.ana.appointment_id) == AppointmentStatus.MISSED
    r = cli("sessions", "close-day", "--date", TODAY.isoformat())
    assert "0 appointment(s)" in r.output
    assert _book_again(app, database, day) is True


def _facility_code(database, facility_id):
    from cowin_kit.scheduling.models import Facility

    with database.Session() as s:
        return s.get(Facility, facility_id).code


def test_a_dose_synced_late_still_turns_a_missed_appointment_done(client, database, day):
    with database.Session() as s:
        s.get(Appointment, day.ana.appointment_id).status = AppointmentStatus.MISSED
        s.commit()
    r = _post(client, **_dose(day))
    assert r.status_code == 201
    assert _status(database, day.ana.appointment_id) == AppointmentStatus.DONE
