"""Where read sessions go (cowin_kit.replicas), on any database: the real streaming replica's
tests are in test_replicas.py. Here a second database stands for a replica."""
from __future__ import annotations

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from cowin_kit.app import create_app
from cowin_kit.config import Settings, check_settings, load_settings, replica_urls
from cowin_kit.db import Base
from cowin_kit.geography.models import Division
from cowin_kit.runtime import deployment, read_session


def _replica(path) -> str:
    """A SQLite file with the schema and one state the primary lacks."""
    import cowin_kit.models  # noqa: F401 - every table in Base.metadata

    url = f"sqlite:///{path.as_posix()}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Division(code="XX-REP", level=1, name="Only on the replica"))
        session.commit()
    engine.dispose()
    return url


def test_read_database_url_is_one_more_replica(tmp_path):
    settings = load_settings(tmp_path, environ={
        "COWIN_KIT_DATABASE_REPLICA_URLS": "postgresql://r1/db, postgresql://r2/db",
        "COWIN_KIT_READ_DATABASE_URL": "postgresql://r2/db"})
    assert replica_urls(settings) == ["postgresql://r1/db", "postgresql://r2/db"]
    only_read = load_settings(tmp_path,
                              environ={"COWIN_KIT_READ_DATABASE_URL": "postgresql://r/db"})
    assert replica_urls(only_read) == ["postgresql://r/db"]


def test_an_unknown_pooler_is_refused(tmp_path):
    settings = load_settings(tmp_path, environ={"COWIN_KIT_DATABASE_POOLER": "pgpool"})
    assert any("DATABASE_POOLER" in p for p in check_settings(settings))
    ok = Settings(values={**settings.values, "DATABASE_POOLER": "pgbouncer"})
    assert not any("DATABASE_POOLER" in p for p in check_settings(ok))


def test_a_replica_that_fails_mid_request_is_read_again_on_the_primary(cowin_kit_instance,
                                                                       tmp_path):
    path = tmp_path / "replica.db"
    app = create_app({"INSTANCE_PATH": cowin_kit_instance, "TESTING": True,
                      "DATABASE_REPLICA_URLS": _replica(path), "REPLICA_RETRY_SECONDS": 60})
    client = app.test_client()
    try:
        states = client.get("/api/v2/admin/location/states").get_json()["states"]
        assert [s["state_name"] for s in states] == ["Only on the replica"]
        with app.test_request_context():
            session = read_session()
            assert session.on_replica
            assert session.scalar(select(Division.name).where(Division.level == 1)) \
                == "Only on the replica"
            # The replica loses its tables (as a server that went away loses the
            # connection): the same request's next read comes from the primary.
            with create_engine(f"sqlite:///{path.as_posix()}").begin() as conn:
                conn.execute(text("DROP TABLE division"))
            names = set(session.scalars(select(Division.name).where(Division.level == 1)))
            assert names and "Only on the replica" not in names
            assert not session.on_replica
            # and the next requests read from the primary until it is checked again
            router = deployment().reads
            assert router.pick() is None and router.states[0].down
        r = client.get("/api/v2/admin/location/states")
        assert r.status_code == 200 and "Only on the replica" not in r.get_data(as_text=True)
    finally:
        app.extensions["cowin_kit"].dispose()


def test_reads_leave_a_replica_that_lags(cowin_kit_instance, tmp_path, monkeypatch):
    from cowin_kit import replicas

    app = create_app({"INSTANCE_PATH": cowin_kit_instance, "TESTING": True,
                      "DATABASE_REPLICA_URLS": _replica(tmp_path / "replica.db"),
                      "REPLICA_CHECK_SECONDS": 0, "REPLICA_MAX_LAG_SECONDS": 5})
    lag = {"now": 0.0}
    monkeypatch.setattr(replicas, "measure_lag", lambda db, lsn: lag["now"])
    try:
        router = app.extensions["cowin_kit"].reads
        assert router.pick() is router.replicas[0]
        lag["now"] = 6.0
        assert router.pick() is None
        lag["now"] = 0.5
        assert router.pick() is router.replicas[0]
    finally:
        app.extensions["cowin_kit"].dispose()


def test_replicas_are_taken_in_turn(cowin_kit_instance, tmp_path):
    app = create_app({"INSTANCE_PATH": cowin_kit_instance, "TESTING": True,
                      "DATABASE_REPLICA_URLS": [_replica(tmp_path / "r1.db"),
                                                _replica(tmp_path / "r2.db")]})
    try:
        router = app.extensions["cowin_kit"].reads
        picked = [router.pick() for _ in range(4)]
        assert picked == [router.replicas[0], router.replicas[1]] * 2
    finally:
        app.extensions["cowin_kit"].dispose()
