"""appointment/schedule served before Flask (cowin_kit.api.fast_booking, issue 15): on
PostgreSQL a plain booking is answered by the middleware with exactly what Flask would have
written and answered; everything else (refusals, odd bodies, cookies, CAPTCHA, SQLite, a
database error) goes through Flask as before, with the body intact."""
import json

import pytest
from sqlalchemy import func, select

from cowin_kit.accounts.models import AuditEvent
from cowin_kit.api.fast_booking import FastBooking
from cowin_kit.notifications.models import OutboxMessage
from cowin_kit.scheduling import taking
from cowin_kit.scheduling.models import Appointment, SessionCapacity

from helpers import api_register, api_session, requests_of, scrape, value

PATH = "/api/v2/appointment/schedule"


def _book(client, auth, session_id, slot, *refs, **extra):
    return client.post(PATH, headers=auth, json={
        "dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": list(refs)},
        **extra)


def _person(client, auth, dni_type, number, **kw):
    r = api_register(client, auth, dni_type, number, **kw)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["beneficiary_reference_id"]


@pytest.fixture
def fast(app):
    return app.extensions[FastBooking.EXTENSION]


@pytest.fixture
def booked_once(client, ana, dni_type, database):
    """A session whose facts this process read, and a first booking Flask answered (the
    middleware learns its headers from it)."""
    session_id, slot = api_session(database)
    first = _person(client, ana, dni_type, "40123456")
    r = _book(client, ana, session_id, slot, first)
    assert r.status_code == 200, r.get_json()
    return session_id, slot, r


def _state(database, session_id):
    with database.session() as s:
        return {"booked": s.get(SessionCapacity, (session_id, 1)).booked,
                "appointments": s.scalar(select(func.count()).select_from(Appointment)),
                "audits": s.scalar(select(func.count()).select_from(AuditEvent).where(
                    AuditEvent.action == "appointment.booked")),
                "texts": s.scalar(select(func.count()).select_from(OutboxMessage))}


def test_a_plain_booking_is_served_before_flask_with_flasks_answer(
        client, ana, dni_type, database, fast, booked_once):
    session_id, slot, by_flask = booked_once
    second = _person(client, ana, dni_type, "40123457", name="Rosa Quispe")
    before, served = _state(database, session_id), fast.served
    counted = scrape(client)
    r = _book(client, ana, session_id, slot, second,
              environ_base={"REMOTE_ADDR": "198.51.100.23"})
    assert r.status_code == 200, r.get_json()
    # Monitoring sees it as any booking: under the view's route, and as a place taken.
    now_counted = scrape(client)
    assert requests_of(now_counted, PATH, "POST") - requests_of(counted, PATH, "POST") == 1
    assert (value(now_counted, "cowin_kit_bookings_total", action="booked")
            - value(counted, "cowin_kit_bookings_total", action="booked")) == 1
    if database.is_sqlite:  # the middleware books on PostgreSQL only
        assert fast.served == served
        return
    assert fast.served == served + 1
    # The same answer as Flask's: its headers (Content-Length apart), JSON of the same
    # shape, an id of the appointment just made.
    assert sorted(h for h in r.headers if h[0] != "Content-Length") == sorted(
        h for h in by_flask.headers if h[0] != "Content-Length")
    body = r.get_json()
    assert list(body) == ["appointment_confirmation_no", "appointment_ids"]
    assert body["appointment_ids"] == [body["appointment_confirmation_no"]]
    assert r.data == json.dumps(body, separators=(",", ":")).encode() + b"\n"
    # The same writes: the place, the appointment, its audit entry (with the visitor's
    # address) and the confirmation text.
    after = _state(database, session_id)
    assert {k: after[k] - before[k] for k in after} == {
        "booked": 1, "appointments": 1, "audits": 1, "texts": 1}
    with database.session() as s:
        appt = s.get(Appointment, body["appointment_confirmation_no"])
        assert (appt.session_id, appt.dose_number, appt.source) == (session_id, 1, "online")
        entry = s.scalar(select(AuditEvent).where(
            AuditEvent.target == f"appointment:{appt.id}"))
        assert entry.source == "198.51.100.23" and entry.actor.startswith("citizen:")
        text = s.scalar(select(OutboxMessage).where(
            OutboxMessage.beneficiary_id == appt.beneficiary_id))
        assert text.params["code"] == appt.secret_code
    # The person now has an appointment: the API's own page lists it.
    people = client.get("/api/v2/appointment/beneficiaries", headers=ana).get_json()
    mine = next(p for p in people["beneficiaries"] if p["name"] == "Rosa Quispe")
    assert mine["appointments"][0]["appointment_id"] == appt.id


def test_a_co_win_clients_captcha_is_ignored_as_by_the_view(client, ana, dni_type, database,
                                                            fast, booked_once):
    """Co-WIN's clients send a captcha with every booking; without CAPTCHA_ON_SCHEDULE it
    is ignored, and the booking is served before Flask all the same."""
    session_id, slot, _ = booked_once
    second = _person(client, ana, dni_type, "40123457", name="Rosa Quispe")
    served = fast.served
    r = client.post(PATH, headers=ana, json={"dose": 1, "session_id": session_id,
                                             "slot": slot, "beneficiaries": [second],
                                             "captcha": "19"})
    assert r.status_code == 200, r.get_json()
    assert fast.served == served + (0 if database.is_sqlite else 1)
    # Go's default client declares no type, some others text/plain: read as JSON all the same
    third = _person(client, ana, dni_type, "40123458", name="Luz Quispe")
    r = client.post(PATH, headers={**ana, "Content-Type": "text/plain"}, data=json.dumps({
        "dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": [third]}))
    assert r.status_code == 200, r.get_json()
    assert fast.served == served + (0 if database.is_sqlite else 2)


def test_refusals_are_flasks_answers(client, ana, other, dni_type, database, fast,
                                     booked_once):
    session_id, slot, _ = booked_once
    first = client.get("/api/v2/appointment/beneficiaries", headers=ana).get_json()[
        "beneficiaries"][0]["beneficiary_reference_id"]
    served = fast.served
    # already booked: Flask's 409 with its words
    r = _book(client, ana, session_id, slot, first)
    assert r.status_code == 409 and "already has an appointment" in r.get_json()["error"]
    # another account's person: 404, as for nobody's
    assert _book(client, other, session_id, slot, first).status_code == 404
    # no token, a forged one
    assert _book(client, {}, session_id, slot, first).status_code == 401
    assert _book(client, {"Authorization": "Bearer a.b.c"}, session_id, slot,
                 first).status_code == 401
    # a body the fast reader leaves to the schema: the field is named
    r = client.post(PATH, headers=ana, json={"dose": "one", "session_id": session_id,
                                             "slot": slot, "beneficiaries": [first]})
    assert r.status_code == 400 and "dose" in r.get_json()["error"].lower()
    # a full session: refused in the caller's language
    with database.session() as s:
        cap = s.get(SessionCapacity, (session_id, 1))
        cap.booked = cap.capacity
        s.commit()
    fresh = _person(client, ana, dni_type, "40123458", name="Luz Quispe")
    r = _book(client, {**ana, "Accept-Language": "es"}, session_id, slot, fresh)
    assert r.status_code == 409 and "lugares" in r.get_json()["error"]
    assert fast.served == served  # none of these was answered by the middleware


def test_what_the_middleware_leaves_to_flask_still_books(client, ana, dni_type, database,
                                                         fast, booked_once, change_settings):
    session_id, slot, _ = booked_once
    served = fast.served
    # a cookie (a browser): Flask's way
    one = _person(client, ana, dni_type, "40123460", name="Eva Rojas")
    client.set_cookie("lang", "en")
    assert _book(client, ana, session_id, slot, one).status_code == 200
    client.delete_cookie("lang")
    # the middleware switched off: Flask's way
    fast.enabled = False
    two = _person(client, ana, dni_type, "40123461", name="Ada Rojas")
    assert _book(client, ana, session_id, slot, two).status_code == 200
    fast.enabled = True
    assert fast.served == served
    # CAPTCHA on schedule: Flask asks for it
    change_settings(CAPTCHA_ON_SCHEDULE=True)
    three = _person(client, ana, dni_type, "40123462", name="Ivo Rojas")
    assert _book(client, ana, session_id, slot, three).status_code == 400
    assert fast.served == served


def test_a_database_error_is_handed_to_flask_which_books(client, ana, dni_type, database,
                                                         fast, booked_once, monkeypatch):
    if database.is_sqlite:
        pytest.skip("the middleware books on PostgreSQL only")
    import psycopg

    session_id, slot, _ = booked_once
    second = _person(client, ana, dni_type, "40123457", name="Rosa Quispe")
    real, calls = taking.driver_write, []

    def failing(conn, **kw):
        calls.append(1)
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(taking, "driver_write", failing)
    before, served = _state(database, session_id), fast.served
    r = _book(client, ana, session_id, slot, second)
    assert r.status_code == 200 and calls == [1]
    assert fast.served == served  # Flask answered, and booked once
    after = _state(database, session_id)
    assert after["booked"] - before["booked"] == 1
    assert after["appointments"] - before["appointments"] == 1
    monkeypatch.setattr(taking, "driver_write", real)


def test_racing_bookings_for_the_last_places_never_overbook(app, client, ana, dni_type,
                                                            database, fast, booked_once,
                                                            cowin_kit_instance):
    """Twelve people of three accounts ask at the same moment for a session's last three
    places: three are booked, nine refused, and the places add up (on PostgreSQL through
    the middleware's write, the same statement as the view's)."""
    import threading

    from helpers import api_login

    session_id, slot, _ = booked_once
    people = []
    for a in range(3):
        auth = api_login(client, cowin_kit_instance, f"98700020{a}")
        for i in range(4):
            people.append((auth, _person(client, auth, dni_type, f"5{a}{i}12345",
                                         name=f"Eva Quispe {'abc'[a]}{'abcd'[i]}")))
    with database.session() as s:
        cap = s.get(SessionCapacity, (session_id, 1))
        cap.capacity = cap.booked + 3
        s.commit()
    served, statuses, lock = fast.served, [], threading.Lock()
    barrier = threading.Barrier(len(people))

    def book(auth, ref):
        own = app.test_client()
        barrier.wait()
        status = _book(own, auth, session_id, slot, ref).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=book, args=p) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(statuses) == [200] * 3 + [409] * 9, statuses
    with database.session() as s:
        cap = s.get(SessionCapacity, (session_id, 1))
        held = s.scalar(select(func.count()).select_from(Appointment).where(
            Appointment.session_id == session_id, Appointment.dose_number == 1))
        assert cap.booked == cap.capacity == held
    if not database.is_sqlite:
        assert fast.served > served  # some of them were served before Flask
