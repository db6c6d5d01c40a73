import pytest

from cowin_kit import migrate


def test_models_and_alembic_head_do_not_differ(database):
    """Fails when a model changed without a migration: generate one with
    `cowin_kit.migrate.make_revision`."""
    assert migrate.current_revision(database) == migrate.head_revision(database)
    assert migrate.pending_differences(database) == []


def test_sqlite_pragmas(database, cowin_kit_backend):
    if cowin_kit_backend != "sqlite":
        pytest.skip("SQLite pragmas; PostgreSQL's connection settings are in test_timeouts")
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 20000


def _fill(conn, table: str, **values) -> int:
    """Insert a row, any required column left out given a value of its type."""
    import datetime as dt

    import sqlalchemy as sa

    t = sa.Table(table, sa.MetaData(), autoload_with=conn)
    row = dict(values)
    for col in t.columns:
        if col.name in row or col.nullable or col.primary_key:
            continue
        py = col.type.python_type
        row[col.name] = {int: 1, bool: False, str: f"x{len(row)}", dt.date: dt.date(2031, 1, 1),
                         dt.datetime: dt.datetime(2031, 1, 1, tzinfo=dt.UTC),
                         dict: {}, list: []}.get(py, "x")
    return conn.execute(t.insert().values(row).returning(t.c.id)).scalar_one()


def test_doses_take_their_programme_on_upgrade_and_back(cowin_kit_database_url):
    """0011 copies each dose's programme from its product; downgrading drops it again."""
    from sqlalchemy import text

    from cowin_kit.db import Database

    db = Database(cowin_kit_database_url)
    try:
        migrate.upgrade(db, "0009")
        with db.engine.begin() as conn:
            programme = _fill(conn, "programme", code="p", is_active=True)
            product = _fill(conn, "product", programme_id=programme, code="v", is_active=True)
            doc = _fill(conn, "id_document_type", provider="passport")
            person = _fill(conn, "beneficiary", id_document_type_id=doc,
                           id_verification_status="unverified")
            _fill(conn, "dose", beneficiary_id=person, product_id=product, dose_number=1,
                  facility_id=None, appointment_id=None)
        migrate.upgrade(db)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT programme_id FROM dose")).scalar_one() == programme
        migrate.downgrade(db, "0009")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT dose_number FROM dose")).scalar_one() == 1
    finally:
        db.dispose()


def _revisions():
    from cowin_kit.migrate import ScriptDirectory, alembic_config

    script = ScriptDirectory.from_config(alembic_config(None))
    head = script.get_current_head()
    return script, head, script.get_revision(head).down_revision


def test_every_migration_downgrades_and_upgrades_again(cowin_kit_database_url):
    """head -> base -> head: every downgrade of migrations/versions runs, leaves nothing of
    the kit behind, and the schema built again matches the models."""
    import sqlalchemy as sa

    from cowin_kit.db import Database

    db = Database(cowin_kit_database_url)
    try:
        migrate.upgrade(db)
        migrate.downgrade(db, "base")
        assert migrate.current_revision(db) is None
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(db)
        assert migrate.current_revision(db) == migrate.head_revision(db)
        assert migrate.pending_differences(db) == []
    finally:
        db.dispose()


def test_the_last_migration_rolls_back_and_forward_with_data(app, database):
    """head -> head-1 -> head on a deployment with people, bookings and the rows the last
    migration's tables hold: every other table keeps its rows both ways; only the tables
    the last migration created are dropped (and come back empty)."""
    import sqlalchemy as sa

    from cowin_kit.accounts import captcha

    from helpers import api_session, booked_person

    session_id, _ = api_session(database)
    account_id, person_id, appointment_id = booked_person(app, database, session_id)
    with database.Session() as s:  # a row in 0021's table (whatever the last one is, below)
        captcha.issue(s, account_id=account_id, settings=app.extensions["cowin_kit"].settings,
                      question=captcha.new_question())
        s.commit()
    app.extensions["cowin_kit"].dispose()

    def counts():
        with database.engine.connect() as conn:
            return {t: conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one()
                    for t in sa.inspect(conn).get_table_names() if t != "alembic_version"}

    before = counts()
    _, head, previous = _revisions()
    migrate.downgrade(database, previous)
    assert migrate.current_revision(database) == previous
    between = counts()
    gone = set(before) - set(between)
    assert {t: before[t] for t in between} == between
    migrate.upgrade(database)
    after = counts()
    assert after == {t: (0 if t in gone else n) for t, n in before.items()}
    assert before["beneficiary"] >= 1 and before["appointment"] >= 1
    with database.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM appointment WHERE id = :i"),
                            {"i": appointment_id}).scalar_one()
    assert migrate.pending_differences(database) == []
