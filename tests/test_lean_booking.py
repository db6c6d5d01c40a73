"""The lean booking path (issue 15 item 1): its round trips, the few seconds' cache of a
session's facts, the "sold out" mark, and recovery from dropped pooled connections."""
import pytest
from sqlalchemy import event, update

from cowin_kit.api.fast_booking import FastBooking
from cowin_kit.scheduling import places
from cowin_kit.scheduling.models import SessionCapacity, VaccinationSession

from helpers import api_register, api_session


def _book(client, auth, session_id, slot, *refs):
    return client.post("/api/v2/appointment/schedule", headers=auth, json={
        "dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": list(refs)})


def _person(client, auth, dni_type, number, **kw):
    r = api_register(client, auth, dni_type, number, **kw)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["beneficiary_reference_id"]


class Statements:
    """Statements the app's engine runs while recording."""

    def __init__(self, engine):
        self.seen = []
        event.listen(engine, "before_cursor_execute", self._note)
        self.engine = engine

    def _note(self, conn, cursor, statement, *_args):
        self.seen.append(statement)

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._note)


@pytest.fixture
def statements(database):
    watch = Statements(database.engine)
    yield watch
    watch.close()


def test_a_booking_takes_few_round_trips(app, client, ana, dni_type, database, statements):
    # Flask's path (the middleware's own, on PostgreSQL, runs on the DBAPI connection,
    # which these events do not see; tests/test_fast_booking.py covers it).
    app.extensions[FastBooking.EXTENSION].enabled = False
    session_id, slot = api_session(database)
    first = _person(client, ana, dni_type, "40123456")
    second = _person(client, ana, dni_type, "40123457", name="Rosa Quispe")
    assert _book(client, ana, session_id, slot, first).status_code == 200  # facts now read
    statements.seen.clear()
    assert _book(client, ana, session_id, slot, second).status_code == 200
    # the login, the people (locked, with their appointments), their doses, the write;
    # SQLite also runs BEGIN IMMEDIATE and the write as four statements
    limit = 8 if database.is_sqlite else 4
    assert len(statements.seen) <= limit, statements.seen
    with database.session() as s:
        cap = s.get(SessionCapacity, (session_id, 1))
        assert cap.booked == 2


def test_a_full_session_is_refused_without_sql_for_a_while(app, client, ana, dni_type,
                                                           database, statements):
    app.extensions[FastBooking.EXTENSION].enabled = False  # as above
    session_id, slot = api_session(database)
    with database.session() as s:
        cap = s.get(SessionCapacity, (session_id, 1))
        cap.booked = cap.capacity
    first = _person(client, ana, dni_type, "40123456")
    assert _book(client, ana, session_id, slot, first).status_code == 409
    statements.seen.clear()
    r = _book(client, ana, session_id, slot, first)
    assert r.status_code == 409 and "no places left" in r.get_json()["error"]
    assert len(statements.seen) == 1, statements.seen  # the login alone
    # A capacity raised here is seen at once: the mark only ever refuses.
    with database.session() as s:
        assert places.set_capacity(s, session_id, 1, cap.capacity + 1)
    assert _book(client, ana, session_id, slot, first).status_code == 200


def test_a_change_to_the_session_is_seen_at_once(client, ana, dni_type, database):
    session_id, slot = api_session(database)
    first = _person(client, ana, dni_type, "40123456")
    second = _person(client, ana, dni_type, "40123457", name="Rosa Quispe")
    assert _book(client, ana, session_id, slot, first).status_code == 200
    with database.session() as s:  # an ORM change: the cached facts are dropped
        s.get(VaccinationSession, session_id).min_age = 60
    r = _book(client, ana, session_id, slot, second)
    assert r.status_code == 400 and "not of an age" in r.get_json()["error"]


def test_a_session_cancelled_elsewhere_is_refused_even_when_cached(client, ana, dni_type,
                                                                   database):
    session_id, slot = api_session(database)
    first = _person(client, ana, dni_type, "40123456")
    second = _person(client, ana, dni_type, "40123457", name="Rosa Quispe")
    assert _book(client, ana, session_id, slot, first).status_code == 200
    # Another process cancels it (plain SQL: this process's cache is not told).
    with database.engine.begin() as conn:
        conn.execute(update(VaccinationSession).where(VaccinationSession.id == session_id)
                     .values(cancelled_at=VaccinationSession.created_at))
    r = _book(client, ana, session_id, slot, second)
    assert r.status_code == 409 and "cancelled" in r.get_json()["error"]
    with database.session() as s:
        assert s.get(SessionCapacity, (session_id, 1)).booked == 1


def test_requests_recover_from_connections_the_database_dropped(client, ana, dni_type,
                                                                database):
    if database.is_sqlite:
        pytest.skip("PostgreSQL: the server drops the connections")
    import psycopg

    session_id, slot = api_session(database)
    first = _person(client, ana, dni_type, "40123456")
    url = database.engine.url.set(drivername="postgresql").render_as_string(
        hide_password=False)
    with psycopg.connect(url, autocommit=True) as killer:
        killed = killer.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()[0]
    assert killed >= 1  # the app's pooled connections
    # No ping before use: the first request meets a dead connection, the pool is
    # recycled and the request runs again, once: nobody sees an error.
    assert client.get("/api/v2/appointment/beneficiaries", headers=ana).status_code == 200
    assert _book(client, ana, session_id, slot, first).status_code == 200
    with database.session() as s:
        assert s.get(SessionCapacity, (session_id, 1)).booked == 1


def test_a_connection_that_dies_after_the_requests_last_statement_fails_nothing(app, client,
                                                                                ana, database):
    """The database drops the connection between a request's last statement and its end
    (a restart, a replica stopping): the answer is already made; ending the request must not
    turn it into an error, and the next request gets a live connection."""
    if database.is_sqlite:
        pytest.skip("PostgreSQL: the server drops the connection")
    import psycopg
    from sqlalchemy import text

    from cowin_kit.runtime import db_session

    url = database.engine.url.set(drivername="postgresql").render_as_string(
        hide_password=False)
    with app.test_request_context():
        session = db_session()
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar()  # a transaction open
        with psycopg.connect(url, autocommit=True) as killer:
            assert killer.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
    # Leaving the request context ended its session on the dead connection without raising.
    assert client.get("/api/v2/appointment/beneficiaries", headers=ana).status_code == 200


def test_the_fast_schedule_body_loads_as_the_schema_does():
    """schemas.schedule_fast gives ScheduleRequest's load, or None (the schema decides)."""
    from marshmallow import ValidationError

    from cowin_kit.api.schemas import ScheduleRequest, schedule_fast
    from cowin_kit.db import MAX_INT

    sid, ref = "3fa85f64-5717-4562-b3fc-2c963f66afa6", "12345678901234"
    base = {"dose": 1, "session_id": sid, "slot": "09:00AM-11:00AM", "beneficiaries": [ref]}
    bodies = [base, {**base, "captcha": None}, {**base, "captcha": "19"},
              {**base, "captcha": 19}, {**base, "captcha": {"a": 1}}, {**base, "extra": 1},
              {**base, "dose": MAX_INT}, {**base, "dose": MAX_INT + 1}, {**base, "dose": 0},
              {**base, "dose": True}, {**base, "dose": 1.0}, {**base, "dose": "1"},
              {**base, "beneficiaries": []}, {**base, "beneficiaries": [ref, ref]},
              {**base, "beneficiaries": [1]}, {**base, "beneficiaries": ref},
              {**base, "session_id": 5}, {**base, "slot": None}, {**base, "slot": 3},
              {k: v for k, v in base.items() if k != "slot"}, {}]
    fast_ones = 0
    for body in bodies:
        fast = schedule_fast(body)
        try:
            loaded = ScheduleRequest().load(body)
        except ValidationError:
            loaded = None
        if fast is not None:
            fast_ones += 1
            assert fast == loaded, body
    assert fast_ones == 6
