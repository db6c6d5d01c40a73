"""The kit through PgBouncer in transaction mode (issue 15, item 3): searching and the whole
booking journey, with DATABASE_POOLER=pgbouncer (no prepared statements on the server, no
session settings). Needs `.ci/pgbouncer start` (CI runs it): COWIN_KIT_TEST_PGBOUNCER_URL is
its host and port; each test's database is reached through it by the same name."""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from cowin_kit.runtime import db_session

from helpers import api_register, api_session

BOUNCER_ENV = "COWIN_KIT_TEST_PGBOUNCER_URL"
# Read once: the run_cli fixture removes every COWIN_KIT_ variable from the environment.
BOUNCER_URL = os.environ.get(BOUNCER_ENV, "")

pytestmark = pytest.mark.skipif(
    not (os.environ.get(BOUNCER_ENV) and os.environ.get("COWIN_KIT_TEST_DATABASE_URL")),
    reason=f"no PgBouncer: set {BOUNCER_ENV} (and COWIN_KIT_TEST_DATABASE_URL); "
           ".ci/pgbouncer start runs one on port 6433, and CI does")


def _through_bouncer(instance: Path) -> str:
    with (instance / "cowin-kit.toml").open("rb") as fh:
        name = make_url(tomllib.load(fh)["database_url"]).database
    return make_url(BOUNCER_URL).set(database=name).render_as_string(False)


@pytest.fixture
def cowin_kit_config(cowin_kit_instance):
    return {"OTP_RESEND_SECONDS": 0, "DATABASE_URL": _through_bouncer(cowin_kit_instance),
            "DATABASE_POOLER": "pgbouncer", "DB_POOL_SIZE": 3}


def test_search_and_the_booking_journey_through_pgbouncer(app, client, ana, dni_type,
                                                          database, monkeypatch):
    monkeypatch.setattr("cowin_kit.api.public.ANSWER_TTL_SECONDS", 0)
    assert database.url.port == make_url(os.environ[BOUNCER_ENV]).port
    session_id, slot = api_session(database)
    # Every statement runs far more often than psycopg's prepare threshold (5): with
    # prepared statements, PgBouncer would hand the next transaction a server connection
    # that does not know them.
    for round_ in range(3):
        refs = [api_register(client, ana, dni_type, f"40{round_}1234{i}", name=f"P {i}")
                .get_json()["beneficiary_reference_id"] for i in range(2)]
        for _ in range(4):
            for path in ("calendarByDistrict?district_id=1", "findByPin?pincode=15001",
                         "calendarByPin?pincode=15001"):
                r = client.get(f"/api/v2/appointment/sessions/public/{path}&date=01-01-2030")
                assert r.status_code in (200, 404), r.get_data(as_text=True)
        for ref in refs:
            r = client.post("/api/v2/appointment/schedule", headers=ana, json={
                "dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": [ref]})
            assert r.status_code == 200, r.get_json()
        people = client.get("/api/v2/appointment/beneficiaries", headers=ana).get_json()
        for person in people["beneficiaries"]:
            for appointment in person["appointments"]:
                r = client.post("/api/v2/appointment/cancel", headers=ana, json={
                    "appointment_id": appointment["appointment_id"],
                    "beneficiariesToCancel": [person["beneficiary_reference_id"]]})
                assert r.status_code == 204, r.get_json()
        for ref in refs:
            r = client.post("/api/v2/registration/beneficiary/delete", headers=ana,
                            json={"beneficiary_reference_id": ref})
            assert r.status_code == 204, r.get_json()


@pytest.mark.parametrize("pooler", ["", "pgbouncer"])
def test_statements_repeated_on_several_connections(cowin_kit_instance, pooler):
    """Why DATABASE_POOLER exists: psycopg prepares a statement on the server from its fifth
    run, under a name each connection counts from _pg3_0; through PgBouncer in transaction
    mode the next transaction may run on a server connection where another client prepared
    that name, or none did. With DATABASE_POOLER=pgbouncer nothing is prepared."""
    from sqlalchemy.exc import DBAPIError

    from cowin_kit.db import Database

    db = Database(_through_bouncer(cowin_kit_instance), pooler=pooler)
    conns = [db.engine.connect() for _ in range(3)]

    def run():
        for i in range(12):
            for conn in conns:
                conn.execute(text("SELECT count(*) FROM facility WHERE id >= :n"), {"n": i})
                conn.commit()
    try:
        if pooler:
            run()
        else:
            with pytest.raises(DBAPIError, match="prepared statement"):
                run()
    finally:
        for conn in conns:
            conn.invalidate()
        db.dispose()


def test_no_session_state_is_left_on_pooled_connections(app):
    """Pooled, the kit sets no timeout per connection: it would stay on a server connection
    other clients get. The timeouts belong on the role (docs/operators.md)."""
    with app.test_request_context():
        session = db_session()
        assert session.scalar(text("SHOW statement_timeout")) == "0"
        assert session.scalar(text("SHOW lock_timeout")) == "0"
        # and psycopg prepares nothing on the server
        raw = session.connection().connection.dbapi_connection
        assert raw.prepare_threshold is None


def test_commands_and_the_worker_refuse_pgbouncer_and_use_the_direct_url(
        run_cli, cowin_kit_instance, monkeypatch):
    """Migrations, backups and the worker's session-level advisory lock need a session of
    their own: with DATABASE_URL through PgBouncer (transaction mode) a command says to set
    DATABASE_DIRECT_URL, and with it connects there, straight to PostgreSQL."""
    from cowin_kit.cli.worker_cmd import _app

    with (cowin_kit_instance / "cowin-kit.toml").open("rb") as fh:
        direct = tomllib.load(fh)["database_url"]
    bounced = {"COWIN_KIT_DATABASE_URL": _through_bouncer(cowin_kit_instance),
               "COWIN_KIT_DATABASE_POOLER": "pgbouncer"}
    for command in (("db", "upgrade"), ("db", "backup", "-o", "b.tar"), ("worker", "--once")):
        refused = run_cli(*command, "--instance", cowin_kit_instance, env=bounced)
        assert refused.exit_code == 2, refused.output
        assert "Set DATABASE_DIRECT_URL" in refused.output
    env = {**bounced, "COWIN_KIT_DATABASE_DIRECT_URL": direct}
    upgraded = run_cli("db", "upgrade", "--instance", cowin_kit_instance, env=env)
    assert upgraded.exit_code == 0, upgraded.output
    sent = run_cli("worker", "--once", "--instance", cowin_kit_instance, env=env)
    assert sent.exit_code == 0 and "sent 0," in sent.output, sent.output
    # The worker's app: its primary is the direct URL, with psycopg's usual prepared
    # statements, and a session-level advisory lock stays with its connection.
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    app = _app(cowin_kit_instance)
    dep = app.extensions["cowin_kit"]
    try:
        assert dep.db.url.port == make_url(direct).port != make_url(bounced[
            "COWIN_KIT_DATABASE_URL"]).port
        with dep.db.engine.connect() as conn:
            assert conn.connection.dbapi_connection.prepare_threshold is not None
            assert conn.scalar(text("SELECT pg_try_advisory_lock(15003)")) is True
            assert conn.scalar(text("SELECT pg_advisory_unlock(15003)")) is True
    finally:
        dep.dispose()
