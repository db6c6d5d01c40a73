"""Reads on a real PostgreSQL streaming replica (issue 15, item 3): public search from the
replica, a person's own data from the primary, the replica stopped in the middle of searches
and bookings with nothing failing, and reads leaving a replica that lags too far.

Needs the pair that `.ci/pg-replica start` makes (CI runs it): COWIN_KIT_TEST_DATABASE_URL on
the primary and COWIN_KIT_TEST_REPLICA_URL on the replica (its host and port; each test's
database has the same name there, streamed from the primary). These tests stop and pause the
replica: one at a time across the test processes (a file lock), and always started again.
"""
from __future__ import annotations

import fcntl
import os
import subprocess
import threading
import time
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cowin_kit.runtime import read_session

from helpers import api_register, api_session

REPLICA_ENV = "COWIN_KIT_TEST_REPLICA_URL"
CTL = Path(__file__).resolve().parents[1] / ".ci" / "pg-replica"
LOCK = Path(os.environ.get("TMPDIR", "/tmp")) / "cowin-kit-test-replica.lock"
SEARCH = "/api/v2/appointment/sessions/public/calendarByDistrict"

pytestmark = pytest.mark.skipif(
    not (os.environ.get(REPLICA_ENV) and os.environ.get("COWIN_KIT_TEST_DATABASE_URL")),
    reason=f"no streaming replica: set {REPLICA_ENV} (and COWIN_KIT_TEST_DATABASE_URL); "
           ".ci/pg-replica start makes one on port 5433, and CI does")


def _sql(url: str, statement: str, **params):
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"),
                           isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return conn.execute(text(statement), params).scalar()
    finally:
        engine.dispose()


def _replica_admin_url() -> str:
    return make_url(os.environ[REPLICA_ENV]).set(database="postgres").render_as_string(False)


def _replica_url_of(instance: Path) -> str:
    """The instance's database, on the replica."""
    with (instance / "cowin-kit.toml").open("rb") as fh:
        name = make_url(tomllib.load(fh)["database_url"]).database
    return make_url(os.environ[REPLICA_ENV]).set(database=name).render_as_string(False)


def _wait(what, check, seconds=30.0):
    deadline = time.monotonic() + seconds
    while True:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not there yet
            if time.monotonic() >= deadline:
                raise
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {seconds:.0f} s for {what}")
        time.sleep(0.1)


def _ctl(command: str) -> None:
    subprocess.run([str(CTL), command], check=True, capture_output=True, timeout=120)


@pytest.fixture
def replica_turn():
    """This test alone stops or pauses the replica (other processes' replica tests wait);
    afterwards it runs and replays again, whatever happened."""
    with LOCK.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            _ctl("start")
            _sql(_replica_admin_url(), "SELECT pg_wal_replay_resume()")
            yield
        finally:
            _ctl("start")
            _sql(_replica_admin_url(), "SELECT pg_wal_replay_resume()")
            fcntl.flock(fh, fcntl.LOCK_UN)


@pytest.fixture
def cowin_kit_config(cowin_kit_instance, replica_turn):
    """The app reads from the instance's database on the replica, checked before every read
    session (so that the tests need not wait), a replica that failed retried after 1 s.
    Taken in turn (replica_turn): another process's test may have paused the replay."""
    url = _replica_url_of(cowin_kit_instance)
    # The database was just created on the primary: wait until the replica has it.
    _wait("the test database on the replica",
          lambda: _sql(url, "SELECT count(*) FROM facility") > 0)
    return {"OTP_RESEND_SECONDS": 0, "DATABASE_REPLICA_URLS": url,
            "REPLICA_CHECK_SECONDS": 0, "REPLICA_RETRY_SECONDS": 1,
            "REPLICA_MAX_LAG_SECONDS": 5, "METRICS_CACHE_SECONDS": 0}


@pytest.fixture(autouse=True)
def _no_answer_cache(monkeypatch):
    """Every search is answered from the database (not from the answers of the last 10 s)."""
    monkeypatch.setattr("cowin_kit.api.public.ANSWER_TTL_SECONDS", 0)


def _places(client, session_id: int, district_id: int, day: str) -> int:
    r = client.get(f"{SEARCH}?district_id={district_id}&date={day}")
    assert r.status_code == 200, r.get_data(as_text=True)
    for centre in r.get_json()["centers"]:
        for s in centre["sessions"]:
            if s["session_id"] == session_id:
                return s["available_capacity"]
    raise AssertionError(f"session {session_id} is not in the answer")


def _session_facts(database, session_id):
    from cowin_kit.scheduling.models import VaccinationSession

    with database.Session() as s:
        vs = s.get(VaccinationSession, session_id)
        return vs.facility.division_id, vs.date.strftime("%d-%m-%Y")


def _on_replica(app) -> bool:
    with app.test_request_context():
        return read_session().on_replica


def test_search_comes_from_the_replica_and_own_data_from_the_primary(
        app, client, ana, dni_type, database, replica_turn):
    dep = app.extensions["cowin_kit"]
    assert _on_replica(app)
    session_id, slot = api_session(database)
    district, day = _session_facts(database, session_id)
    before = _places(client, session_id, district, day)

    # Replay paused, with a lag limit it cannot reach: the replica still answers searches.
    dep.reads.max_lag = 3600
    _sql(_replica_admin_url(), "SELECT pg_wal_replay_pause()")
    ref = api_register(client, ana, dni_type, "40123456").get_json()["beneficiary_reference_id"]
    r = client.post("/api/v2/appointment/schedule", headers=ana, json={
        "dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": [ref]})
    assert r.status_code == 200, r.get_json()
    # The person's own data is read from the primary: the booking is there at once...
    people = client.get("/api/v2/appointment/beneficiaries", headers=ana).get_json()
    assert people["beneficiaries"][0]["appointments"][0]["session_id"] == session_id
    # ...while the public search, from the replica, does not know of it yet: the proof
    # that the answer came from the replica.
    assert _places(client, session_id, district, day) == before
    _sql(_replica_admin_url(), "SELECT pg_wal_replay_resume()")
    _wait("the replica to replay the booking",
          lambda: _places(client, session_id, district, day) == before - 1)
    assert _on_replica(app)


def test_reads_leave_a_replica_that_lags_and_come_back(app, client, ana, dni_type, database,
                                                       replica_turn):
    dep = app.extensions["cowin_kit"]
    dep.reads.max_lag = 1
    session_id, slot = api_session(database)
    district, day = _session_facts(database, session_id)
    before = _places(client, session_id, district, day)
    _sql(_replica_admin_url(), "SELECT pg_wal_replay_pause()")
    ref = api_register(client, ana, dni_type, "40123457").get_json()["beneficiary_reference_id"]
    assert client.post("/api/v2/appointment/schedule", headers=ana, json={
        "dose": 1, "session_id": session_id, "slot": slot,
        "beneficiaries": [ref]}).status_code == 200
    # Once the replica is more than a second behind, reads go to the primary, which has it.
    _wait("reads to leave the lagging replica", lambda: not _on_replica(app), 15)
    assert _places(client, session_id, district, day) == before - 1
    metrics = _scrape(client)
    assert metrics['cowin_kit_replica_up{replica="0"}'] == 1
    assert metrics['cowin_kit_replica_lag_seconds{replica="0"}'] > 1
    _sql(_replica_admin_url(), "SELECT pg_wal_replay_resume()")
    _wait("reads to come back to the replica", lambda: _on_replica(app), 15)
    assert _places(client, session_id, district, day) == before - 1


def test_a_replica_connection_lost_as_the_request_ends_fails_nothing(app, database,
                                                                     replica_turn):
    """The replica drops the read's connection after the request's last read (it is
    stopping): the request ends without an error, and reads leave the replica for a while.
    Seen in CI as a search that raised at its end when the replica was stopped."""
    dep = app.extensions["cowin_kit"]
    with app.test_request_context():
        session = read_session()
        assert session.on_replica
        pid = session.scalar(text("SELECT pg_backend_pid()"))
        assert _sql(_replica_admin_url(), "SELECT pg_terminate_backend(:pid)", pid=pid)
    assert dep.reads.states[0].down
    assert not _on_replica(app)
    _wait("reads to come back to the replica", lambda: _on_replica(app), 15)


def test_the_replica_stops_in_the_middle_and_nothing_fails(app, client, ana, dni_type, database,
                                                           replica_turn):
    session_id, slot = api_session(database)
    district, day = _session_facts(database, session_id)
    refs = [api_register(client, ana, dni_type, f"4012346{i}", name=f"Persona {i}")
            .get_json()["beneficiary_reference_id"] for i in range(4)]
    failures, answers, stop = [], [], threading.Event()

    def search_all_along():  # its own client: searches while the replica stops
        searcher = app.test_client()
        while not stop.is_set():
            try:
                status = searcher.get(f"{SEARCH}?district_id={district}&date={day}").status_code
            except Exception as exc:  # noqa: BLE001 - what a server would answer with a 500
                status = repr(exc)
            answers.append(status)
            if status != 200:
                failures.append(status)

    def searched_more(n):
        # Counted by what happened, not by how many fit in the test's time (a loaded CI
        # machine manages few). A search that raised is a failure, not a silence.
        start = len(answers)
        _wait(f"{n} more searches", lambda: len(answers) >= start + n or failures, 60)

    assert _on_replica(app)
    worker = threading.Thread(target=search_all_along, daemon=True)
    worker.start()
    try:
        try:
            with app.test_request_context():
                # A request that read from the replica, which then stops: its next read is
                # run again on the primary.
                session = read_session()
                assert session.on_replica
                assert session.scalar(text("SELECT count(*) FROM facility")) > 0
                _ctl("stop")
                assert session.scalar(text("SELECT count(*) FROM facility")) > 0
                assert not session.on_replica
            for ref in refs[:2]:  # bookings go on, on the primary
                r = client.post("/api/v2/appointment/schedule", headers=ana, json={
                    "dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": [ref]})
                assert r.status_code == 200, r.get_json()
            assert not _on_replica(app)
            assert _scrape(client)['cowin_kit_replica_up{replica="0"}'] == 0
            searched_more(2)  # while the replica is down
        finally:
            _ctl("start")
        # Started again: reads come back to it once its retry time (1 s) has passed.
        _wait("reads to come back to the replica", lambda: _on_replica(app), 30)
        for ref in refs[2:]:
            r = client.post("/api/v2/appointment/schedule", headers=ana, json={
                "dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": [ref]})
            assert r.status_code == 200, r.get_json()
        searched_more(2)  # with the replica back
    finally:
        stop.set()
        worker.join(30)
    assert failures == [], failures
    people = client.get("/api/v2/appointment/beneficiaries", headers=ana).get_json()
    assert sum(len(p["appointments"]) for p in people["beneficiaries"]) == 4
    assert _scrape(client)['cowin_kit_replica_up{replica="0"}'] == 1


def _scrape(client) -> dict:
    from prometheus_client.parser import text_string_to_metric_families

    body = client.get("/metrics").get_data(as_text=True)
    found = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return found


# --- streamed exports when the replica stops partway (cowin_kit.streamed) -------------------

def _add_events(database, action: str, count: int) -> None:
    from cowin_kit.accounts.service import audit

    with database.Session() as s:
        for n in range(count):
            audit(s, "staff:99", action, f"thing:{n}")
        s.commit()


def _interrupted(client, outcome: str, export: str = "audit_log") -> float:
    return _scrape(client).get("cowin_kit_export_streams_interrupted_total{"
                               f'export="{export}",outcome="{outcome}"}}', 0.0)


def test_the_audit_export_goes_on_on_the_primary_when_the_replica_stops_partway(
        app, admin, database, cowin_kit_instance, monkeypatch, replica_turn):
    import csv
    import io

    from helpers import csrf

    monkeypatch.setattr("cowin_kit.accounts.audit_log.EXPORT_BATCH", 25)
    _add_events(database, "test.streamed", 120)
    url = _replica_url_of(cowin_kit_instance)
    _wait("the events on the replica", lambda: _sql(
        url, "SELECT count(*) FROM audit_event WHERE action = 'test.streamed'") == 120)
    # Replay paused, then one more event on the primary: the file's first rows, from the
    # replica, cannot have it (the proof that they came from there).
    _sql(_replica_admin_url(), "SELECT pg_wal_replay_pause()")
    with database.Session() as s:
        from cowin_kit.accounts.service import audit

        audit(s, "staff:99", "test.streamed", "thing:late")
        s.commit()
    resumed = _interrupted(admin, "resumed")

    page = admin.get("/staff/audit?action=test.streamed").get_data(as_text=True)
    response = admin.post("/staff/audit/export?action=test.streamed",
                          data={"csrf_token": csrf(page)}, buffered=False)
    assert response.status_code == 200
    chunks = iter(response.response)
    first = next(chunks)
    _ctl("stop")  # the replica stops with most of the file still to send
    body = (first if isinstance(first, str) else first.decode()) + "".join(
        c if isinstance(c, str) else c.decode() for c in chunks)
    response.close()

    targets = [row["target"] for row in csv.DictReader(io.StringIO(body))]
    # Every event the replica had, newest first, each once: the rows after the stop came
    # from the primary, from the last row sent on.
    assert targets == [f"thing:{n}" for n in range(119, -1, -1)], targets[:30]
    assert _interrupted(admin, "resumed") == resumed + 1


@pytest.mark.parametrize("ordered_by_key", [True, False])
def test_a_stream_from_one_query_is_resumed_or_broken_off_when_the_replica_stops(
        app, client, database, replica_turn, ordered_by_key):
    """Rows streamed from one query (a server-side cursor): the replica's failure comes in
    the middle of fetching them. In the order of a unique key the export goes on on the
    primary after the last row sent; without one the transfer is broken off, never ended
    as if complete."""
    from sqlalchemy import select

    from cowin_kit import streamed
    from cowin_kit.accounts.models import AuditEvent

    _add_events(database, "test.cursor", 200)
    with database.Session() as s:
        every = list(s.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))
    outcome = "resumed" if ordered_by_key else "aborted"
    before = _interrupted(client, outcome, "events")

    def produce(session, after, header):
        query = select(AuditEvent.id).order_by(AuditEvent.id)
        if after is not None:
            query = query.where(AuditEvent.id > after)
        lines = ["id\n"] if header else []
        for (event_id,) in session.execute(query.execution_options(yield_per=20)):
            lines.append(f"{event_id}\n")
            if len(lines) >= 20:
                yield "".join(lines), event_id
                lines = []
        if lines:
            yield "".join(lines), None

    got = []
    with app.test_request_context():
        session = read_session()
        _wait("the events on the replica", lambda: session.scalar(
            text("SELECT count(*) FROM audit_event WHERE action = 'test.cursor'")) == 200)
        session.rollback()
        assert session.on_replica
        chunks = streamed.stream(session, produce, name="events", resumable=ordered_by_key)
        got.append(next(chunks))
        _ctl("stop")
        if ordered_by_key:
            got.extend(chunks)
        else:
            with pytest.raises(streamed.StreamAborted):
                got.extend(chunks)
    ids = [int(line) for line in "".join(got).splitlines()[1:]]
    if ordered_by_key:
        assert ids == every
    else:
        assert ids == every[:len(ids)] and len(ids) < len(every)
    assert _interrupted(client, outcome, "events") == before + 1
