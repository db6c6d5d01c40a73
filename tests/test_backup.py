"""`cowin-kit db backup|restore|downgrade`: a backup made while bookings are written is
consistent, restores into a fresh instance whose server starts and shows the person and the
booking; refusals are one line naming the file and the fix."""
from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import text

from cowin_kit.instance import write_config
from cowin_kit.migrate import ScriptDirectory, alembic_config
from cowin_kit.registration.ids import decrypt_number

from helpers import api_login, api_session, booked_person

HEAD = ScriptDirectory.from_config(alembic_config(None)).get_current_head()
BEFORE = ScriptDirectory.from_config(alembic_config(None)).get_revision(HEAD).down_revision


@pytest.fixture
def inst(cowin_kit_instance):
    return ["--instance", str(cowin_kit_instance)]


@pytest.fixture
def fresh(tmp_path, cowin_kit_database_url):
    """A new machine: an instance folder with its settings and an empty database, no keys."""
    folder = tmp_path / "fresh"
    folder.mkdir()
    write_config(folder, {"country": "PE", "database_url": cowin_kit_database_url})
    return folder


def _count(database, table):
    with database.engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_backup_while_booking_restores_into_a_fresh_instance(app, database, run_cli, inst,
                                                               fresh, tmp_path):
    session_id, _ = api_session(database)
    booked_person(app, database, session_id, mobile="+51987000111")
    stop, written, errors = threading.Event(), [], []

    def book_more():
        n = 0
        while not stop.is_set() and n < 15:  # within the session's capacity
            try:
                booked_person(app, database, session_id, mobile=f"+5198710{n:04d}")
                written.append(n)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return
            n += 1
            stop.wait(0.02)

    writer = threading.Thread(target=book_more)
    writer.start()
    try:
        while len(written) < 2 and writer.is_alive():
            stop.wait(0.005)
        out = tmp_path / "b.tar"
        at_start, writing = len(written), writer.is_alive()
        result = run_cli("db", "backup", *inst, "-o", out, "--with-keys")
    finally:
        stop.set()
        writer.join()
    # Bookings were being written when the backup began (whether one commits before it ends
    # depends on the machine's speed, so that is not asserted); the copy must be consistent.
    assert errors == [] and at_start >= 2 and writing
    assert result.exit_code == 0, result.output
    assert f"Backed up to {out}" in result.output and "PE deployment at revision" in result.output
    assert "THIS FILE HOLDS THE KEYS" in result.output and "secrets.toml" in result.output
    assert (out.stat().st_mode & 0o777) == 0o600

    result = run_cli("db", "restore", out, "--instance", fresh)
    assert result.exit_code == 0, result.output
    assert "Restored" in result.output and "Installed the backup's key" in result.output
    # Consistent: every booking in the copy took its place in the same moment.
    check = run_cli("db", "check-capacity", "--instance", fresh)
    assert check.exit_code == 0, check.output
    assert run_cli("db", "check", "--instance", fresh).exit_code == 0

    from cowin_kit.app import create_app

    restored = create_app({"TESTING": True, "INSTANCE_PATH": fresh, "OTP_RESEND_SECONDS": 0})
    try:
        client = restored.test_client()
        assert client.get("/healthz").get_json()["status"] == "ok"
        auth = api_login(client, fresh, "987000111")
        r = client.get("/api/v2/appointment/beneficiaries", headers=auth)
        [person] = r.get_json()["beneficiaries"]
        assert person["name"] == "Rosa Mamani"
        assert len(person["appointments"]) == 1
        dep = restored.extensions["cowin_kit"]
        with dep.db.engine.connect() as conn:
            token = conn.execute(text("SELECT id_number_encrypted FROM beneficiary WHERE "
                                      "name = 'Rosa Mamani' ORDER BY id")).scalars().first()
        # The restored instance's key (from the backup) reads the ID number.
        assert decrypt_number(dep.settings["ID_ENCRYPTION_KEY"], token).isdigit()
        people = _count(dep.db, "beneficiary")
        assert str(people) + " people" in result.output
    finally:
        restored.extensions["cowin_kit"].dispose()


def test_restore_in_place_asks_then_brings_the_data_back(app, database, run_cli, inst,
                                                          cowin_kit_instance, refused,
                                                          cowin_kit_backend):
    session_id, _ = api_session(database)
    booked_person(app, database, session_id, mobile="+51987000111")
    result = run_cli("db", "backup", *inst)
    assert result.exit_code == 0, result.output
    assert "KEYS NOT INCLUDED" in result.output
    [made] = (cowin_kit_instance / "backups").iterdir()
    assert made.name.startswith("cowin-kit-") and made.name.endswith("Z" + (
        ".db" if cowin_kit_backend == "sqlite" else ".dump"))
    people = _count(database, "beneficiary")
    booked_person(app, database, session_id, mobile="+51987000222")  # after the backup
    app.extensions["cowin_kit"].dispose()  # the server is stopped

    refused(run_cli("db", "restore", made, *inst), "holds the PE deployment",
            f"{people + 1} people", "replaces all of it", "--yes")
    result = run_cli("db", "restore", made, *inst, "--yes")
    assert result.exit_code == 0, result.output
    assert f"{people} people" in result.output and "Start the server" in result.output
    assert _count(database, "beneficiary") == people


def test_restore_refuses_what_it_cannot_use(run_cli, inst, cowin_kit_instance, fresh, tmp_path,
                                            database, cowin_kit_backend, refused):
    refused(run_cli("db", "restore", tmp_path / "nope.db", *inst), "nope.db: no such file")
    (tmp_path / "notes.txt").write_text("hello")
    refused(run_cli("db", "restore", tmp_path / "notes.txt", *inst),
            "notes.txt is not a cowin-kit backup")
    # A backup made by a newer kit (a revision this code does not know).
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_future'"))
    assert run_cli("db", "backup", *inst, "-o", tmp_path / "future").exit_code == 0
    refused(run_cli("db", "restore", tmp_path / "future", *inst, "--yes"),
            "revision 0099_future, newer than this cowin-kit knows", "upgrade the kit first")
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": HEAD})
    # Without its keys, a backup cannot go to an instance with other keys.
    assert run_cli("db", "backup", *inst, "-o", tmp_path / "plain").exit_code == 0
    refused(run_cli("db", "restore", tmp_path / "plain", "--instance", fresh),
            "made with other keys", "--with-keys")
    # The wrong kind of database.
    if cowin_kit_backend == "postgresql":
        other = tmp_path / "other.db"
        with sqlite3.connect(other) as conn:
            conn.executescript("CREATE TABLE alembic_version (version_num TEXT);"
                               "INSERT INTO alembic_version VALUES ('0021_auth');"
                               "CREATE TABLE deployment_fact (key TEXT, value TEXT);"
                               "INSERT INTO deployment_fact VALUES ('country', 'PE');")
        conn.close()
        refused(run_cli("db", "restore", other, *inst, "--yes"),
                "other.db is a sqlite backup but this instance's database is postgresql")
    else:
        (tmp_path / "x.dump").write_bytes(b"PGDMP" + b"\0" * 100)
        refused(run_cli("db", "restore", tmp_path / "x.dump", *inst, "--yes"),
                "x.dump is not a readable pg_dump archive")


def test_backup_refuses_to_overwrite_and_names_a_missing_pg_dump(run_cli, inst, tmp_path,
                                                                refused, monkeypatch):
    (tmp_path / "taken").write_text("x")
    refused(run_cli("db", "backup", *inst, "-o", tmp_path / "taken"), "taken already exists")
    from cowin_kit import backups

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(backups.BackupError, match="pg_dump is not installed or not on PATH; "
                                                   "install the PostgreSQL client"):
        backups.pg_tool("pg_dump")


def test_the_password_goes_in_the_environment():
    from sqlalchemy.engine import make_url

    from cowin_kit.backups import _pg_env

    env = _pg_env(make_url("postgresql+psycopg://kit:s3cret@db.example:5433/cowin?sslmode=require"))
    assert (env["PGPASSWORD"], env["PGUSER"], env["PGHOST"], env["PGPORT"], env["PGDATABASE"],
            env["PGSSLMODE"]) == ("s3cret", "kit", "db.example", "5433", "cowin", "require")


def test_sqlite_restore_refuses_while_the_server_has_the_database(
        run_cli, inst, database, tmp_path, cowin_kit_backend, refused):
    if cowin_kit_backend != "sqlite":
        pytest.skip("PostgreSQL's restore runs beside the server (one transaction)")
    assert run_cli("db", "backup", *inst, "-o", tmp_path / "b.db").exit_code == 0
    with database.engine.connect() as conn:  # the running server's connection
        conn.execute(text("SELECT count(*) FROM beneficiary"))
        refused(run_cli("db", "restore", tmp_path / "b.db", *inst, "--yes"),
                "is in use; stop the server and the workers")


def test_downgrade_rolls_an_upgrade_back(run_cli, inst, app, refused):
    app.extensions["cowin_kit"].dispose()
    refused(run_cli("db", "downgrade", BEFORE, *inst),
            f"undoes {HEAD}", "cowin-kit db backup", "--yes")
    refused(run_cli("db", "downgrade", "0077_nope", *inst), "no revision 0077_nope")
    result = run_cli("db", "downgrade", BEFORE, *inst, "--yes")
    assert result.exit_code == 0, result.output
    assert f"Downgraded from {HEAD} to {BEFORE}" in result.output
    assert "needs `cowin-kit db upgrade`" in run_cli("db", "current", *inst).output
    assert run_cli("db", "upgrade", *inst).exit_code == 0
    assert run_cli("db", "check", *inst).exit_code == 0
