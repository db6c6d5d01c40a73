"""Timeouts (issue 9, item 6): a request behind a lock another transaction holds is answered
503 with Retry-After (JSON on the API, a page on the portal) once DB_LOCK_TIMEOUT or
DB_STATEMENT_TIMEOUT (PostgreSQL) or SQLITE_BUSY_TIMEOUT runs out, instead of hanging until
the server kills the worker."""
import sqlite3
import threading

import pytest
from sqlalchemy import text

from cowin_kit.app import create_app

from helpers import (
    add_member,
    api_login,
    api_register,
    api_session,
    csrf,
    open_session,
    reference,
    web_login,
)

WAIT = 60  # seconds a test waits for a request that should have been refused long before


@pytest.fixture
def make_app(cowin_kit_instance):
    apps = []

    def make(**settings):
        app = create_app({"INSTANCE_PATH": cowin_kit_instance, "PROPAGATE_EXCEPTIONS": False,
                          **settings})
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["cowin_kit"].db.dispose()


class HeldLock:
    """Another transaction holds the places of one session (PostgreSQL: that row, FOR
    UPDATE; SQLite: the database's write lock) until release()."""

    def __init__(self, database, session_id: str):
        if database.is_sqlite:
            self.conn = sqlite3.connect(database.url.database, isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")
        else:
            self.conn = database.engine.connect()
            self.conn.execute(text("SELECT booked FROM session_capacity WHERE session_id = :s "
                                   "FOR UPDATE"), {"s": session_id})
        self.released = threading.Event()

    def release(self):
        self.released.set()
        self.conn.rollback()
        self.conn.close()


def _while_held(lock: HeldLock, request):
    """Run ``request`` in a thread while ``lock`` is held: (response, answered before the
    lock was released)."""
    out = {}

    def run():
        out["response"] = request()
        out["in_time"] = not lock.released.is_set()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(WAIT)
    lock.release()
    thread.join()
    return out["response"], out["in_time"]


def _book_request(app, instance, database):
    client = app.test_client()
    auth = api_login(client, instance, "987654321")
    from sqlalchemy import select

    from cowin_kit.registration.models import IdDocumentType

    with database.session() as s:
        dni = s.scalar(select(IdDocumentType.id).where(IdDocumentType.code == "dni"))
    ref = api_register(client, auth, dni, "40123456").get_json()["beneficiary_reference_id"]
    session_id, slot = api_session(database)
    body = {"dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": [ref]}
    return session_id, lambda: client.post("/api/v2/appointment/schedule", headers=auth,
                                           json=body)


def test_a_booking_behind_a_held_lock_is_503_json(make_app, cowin_kit_instance, database):
    app = make_app(DB_LOCK_TIMEOUT=1, SQLITE_BUSY_TIMEOUT=1)
    session_id, book = _book_request(app, cowin_kit_instance, database)
    r, in_time = _while_held(HeldLock(database, session_id), book)
    assert in_time, "the request waited until the lock was released"
    assert r.status_code == 503 and r.mimetype == "application/json"
    assert r.get_json() == {"errorCode": "UNAVAILABLE", "error":
                            "The service is temporarily unavailable; try again in a few "
                            "minutes."}
    assert r.headers["Retry-After"] == "30"
    r = book()  # the lock is gone: the same request books
    assert r.status_code == 200, r.get_json()


def test_the_statement_timeout_answers_503_too(make_app, cowin_kit_instance, database,
                                               cowin_kit_backend):
    if cowin_kit_backend != "postgresql":
        pytest.skip("SQLite has no statement timeout; its busy timeout is tested above")
    app = make_app(DB_LOCK_TIMEOUT=0, DB_STATEMENT_TIMEOUT=1)
    session_id, book = _book_request(app, cowin_kit_instance, database)
    r, in_time = _while_held(HeldLock(database, session_id), book)
    assert in_time and r.status_code == 503 and r.headers["Retry-After"] == "30"
    assert r.get_json()["errorCode"] == "UNAVAILABLE"


def test_a_portal_booking_behind_a_held_lock_is_a_503_page(make_app, cowin_kit_instance,
                                                           database):
    app = make_app(DB_LOCK_TIMEOUT=1, SQLITE_BUSY_TIMEOUT=1)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    web_login(client, cowin_kit_instance)
    assert add_member(client, "40123456").status_code == 302
    vs, slot, _pincode = open_session(database)
    token = csrf(client.get("/portal/").get_data(as_text=True))
    data = {"session_id": vs.id, "slot": slot, "members": reference(database),
            "csrf_token": token}
    r, in_time = _while_held(HeldLock(database, vs.id),
                             lambda: client.post("/portal/book", data=data))
    assert in_time and r.status_code == 503 and r.mimetype == "text/html"
    assert r.headers["Retry-After"] == "30"
    assert "Nothing was changed" in r.get_data(as_text=True)


def test_every_connection_has_the_timeouts(make_app, cowin_kit_backend):
    if cowin_kit_backend != "postgresql":
        pytest.skip("PostgreSQL settings")
    app = make_app()  # the defaults: 10 s per statement, 5 s for a lock
    engine = app.extensions["cowin_kit"].db.engine
    for _ in range(2):  # and still after the pool's rollback on return
        with engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "10s"
            assert conn.execute(text("SHOW lock_timeout")).scalar() == "5s"
            conn.rollback()


def test_a_sqlite_file_another_process_is_writing_opens_after_waiting(tmp_path):
    """Switching a new SQLite file to WAL needs it to itself, and SQLite refuses at once
    rather than waiting its busy timeout: two gunicorn workers creating the rate-limit file
    at the same start failed to boot ("database is locked"). Opening now waits."""
    from cowin_kit.db import make_engine

    path = tmp_path / "new.db"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE t (x)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (1)")
    threading.Timer(0.5, lambda: writer.execute("COMMIT")).start()
    engine = make_engine(f"sqlite:///{path}", busy_timeout=WAIT)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 1
    engine.dispose()
    writer.close()
