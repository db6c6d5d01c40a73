from cowin_kit import migrate


def test_models_and_alembic_head_do_not_differ(database):
    """Fails when a model changed without a migration: generate one with `cowin_kit.migrate.make_revision`."""
    assert migrate.current_revision(database) == migrate.head_revision(database)
    assert migrate.pending_differences(database) == []


def test_sqlite_pragmas(database, cowin_kit_backend):
    if cowin_kit_backend != "sqlite":
        return
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
                         dt.datetime: dt.datetime(2031, 1, 1, tzinfo=dt.timezone.utc),
                         dict: {}, list: []}.get(py, "x")
    return conn.execute(t.insert().values(row).returning(t.c.id)).scalar_one()


def test_doses_take_their_programme_on_upgrade_and_back(cowin_kit_database_url):
    """0011 copies each dose's programme from its product; downgrading drops it again."""
    from alembic import command
    from sqlalchemy import text

    from cowin_kit.db import Database

    db = Database(cowin_kit_database_url)
    try:
        migrate.upgrade(db, "0009")
        with db.engine.begin() as conn:
            programme = _fill(conn, "programme", code="p", is_active=True)
            product = _fill(conn, "product", programme_id=programme, code="v", is_active=True)
            doc = _fill(conn, "id_document_type", provider="passport")
            # A status 0010's check admits (a made-up string would stop the upgrade there).
            person = _fill(conn, "beneficiary", id_document_type_id=doc,
                           id_verification_status="unverified")
            _fill(conn, "dose", beneficiary_id=person, product_id=product, dose_number=1,
                  facility_id=None, appointment_id=None)
        migrate.upgrade(db)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT programme_id FROM dose")).scalar_one() == programme
        cfg = migrate.alembic_config(db)
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0009")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT dose_number FROM dose")).scalar_one() == 1
    finally:
        db.dispose()
