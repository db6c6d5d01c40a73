"""Streamed exports when the read session's replica fails partway (cowin_kit.streamed), with
no replica: two SQLite databases stand for a primary and a replica that is behind it, and
the export's reader makes the replica "stop" (a read failing with its connection lost, as
psycopg reports a replica shut down) at a chosen chunk. The real thing, on a streaming
replica stopped mid-export, is in tests/test_replicas.py."""
from __future__ import annotations

import logging

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from cowin_kit import streamed
from cowin_kit.db import Database
from cowin_kit.replicas import ReadRouter, read_whole

PRIMARY_ROWS, REPLICA_ROWS, BATCH = 10, 7, 3  # the replica has not replayed rows 8-10 yet


def _database(path, rows: int) -> Database:
    db = Database(f"sqlite:///{path}")
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY)"))
        conn.execute(text("INSERT INTO item (id) VALUES (:id)"),
                     [{"id": i} for i in range(1, rows + 1)])
    return db


@pytest.fixture
def router(tmp_path):
    router = ReadRouter(_database(tmp_path / "primary.db", PRIMARY_ROWS),
                        [_database(tmp_path / "replica.db", REPLICA_ROWS)],
                        check_every=0, retry_after=60)
    yield router
    router.primary.dispose()
    router.dispose()


def _gone() -> OperationalError:
    return OperationalError("SELECT id FROM item", {},
                            Exception("server closed the connection unexpectedly"),
                            connection_invalidated=True)


class Export:
    """A CSV of the items by id (a unique key), BATCH rows a chunk; the replica fails when
    the chunk numbered ``fail_at`` (0: the first) is read from it."""

    def __init__(self, fail_at: int | None = None, ordered_by_key: bool = True):
        self.fail_at, self.ordered_by_key, self.reads = fail_at, ordered_by_key, 0

    def produce(self, session, after, header):
        lines = ["id\n"] if header else []
        while True:
            if session.on_replica and self.reads == self.fail_at:
                raise _gone()
            self.reads += 1
            if self.ordered_by_key:
                ids = session.scalars(text("SELECT id FROM item WHERE id > :after ORDER BY id "
                                           "LIMIT :n"), {"after": after or 0, "n": BATCH}).all()
            else:  # pages by position: another database's rows would shift them
                ids = session.scalars(text("SELECT id FROM item ORDER BY id LIMIT :n "
                                           "OFFSET :skip"),
                                      {"skip": (self.reads - 1) * BATCH, "n": BATCH}).all()
            lines += [f"{i}\n" for i in ids]
            if ids:
                after = ids[-1]
            if lines:
                yield "".join(lines), after
            lines = []
            if len(ids) < BATCH:
                return


def _count(outcome: str) -> float:
    return REGISTRY.get_sample_value("cowin_kit_export_streams_interrupted_total",
                                     {"export": "items", "outcome": outcome}) or 0.0


@pytest.fixture(autouse=True)
def _metrics_on(monkeypatch):
    import cowin_kit.metrics.instruments  # noqa: F401 - registers the counters

    monkeypatch.setattr("cowin_kit.metrics._enabled", True)


def _ids(body: str) -> list[int]:
    header, *rows = body.splitlines()
    assert header == "id"
    return [int(r) for r in rows]


def test_without_a_failure_the_export_comes_from_the_replica(router):
    session = router.session()
    assert session.on_replica
    body = "".join(streamed.stream(session, Export().produce, name="items", resumable=True))
    assert _ids(body) == list(range(1, REPLICA_ROWS + 1))
    assert session.on_replica and session.retry_reads  # given back as it was


def test_a_failure_before_anything_was_sent_starts_again_on_the_primary(router):
    before = _count("restarted")
    session = router.session()
    chunks = streamed.primed(streamed.stream(session, Export(fail_at=0).produce,
                                             name="items", resumable=False))
    assert not session.on_replica  # decided in the view, before the response began
    assert _ids("".join(chunks)) == list(range(1, PRIMARY_ROWS + 1))
    assert _count("restarted") == before + 1
    assert router.pick() is None  # the replica is left alone for a while


def test_a_failure_after_rows_were_sent_goes_on_from_the_last_row_sent(router, caplog):
    before = _count("resumed")
    session = router.session()
    with caplog.at_level(logging.WARNING, "cowin_kit.streamed"):
        body = "".join(streamed.stream(session, Export(fail_at=2).produce, name="items",
                                       resumable=True))
    # rows 1-6 from the replica, then the primary from 7 on: each row once, and the rows
    # the replica had not replayed yet
    assert _ids(body) == list(range(1, PRIMARY_ROWS + 1))
    assert not session.on_replica and _count("resumed") == before + 1
    assert "going on after the last row sent" in caplog.text


def test_without_a_unique_order_a_failure_after_rows_were_sent_breaks_the_transfer(router,
                                                                                   caplog):
    before = _count("aborted")
    session = router.session()
    got = []
    with caplog.at_level(logging.ERROR, "cowin_kit.streamed"), \
            pytest.raises(streamed.StreamAborted):
        for chunk in streamed.stream(session, Export(fail_at=2, ordered_by_key=False).produce,
                                     name="items", resumable=False):
            got.append(chunk)
    assert _ids("".join(got)) == [1, 2, 3, 4, 5, 6]  # what the reader got: incomplete...
    assert _count("aborted") == before + 1  # ...and said so: the transfer breaks off
    assert "the transfer is broken off" in caplog.text
    assert session.retry_reads  # the session reads as usual again
    assert router.pick() is None  # and other reads leave the replica


def test_the_primary_failing_after_rows_were_sent_breaks_the_transfer(router):
    before = _count("aborted")
    session = router.session()
    session.fall_back(_gone(), "read")  # reading from the primary from the start
    calls = []

    def produce(session, after, header):
        calls.append(after)
        yield "id\n1\n", 1
        raise _gone()

    with pytest.raises(streamed.StreamAborted):
        list(streamed.stream(session, produce, name="items", resumable=True))
    assert calls == [None] and _count("aborted") == before + 1  # no second try


def test_a_failure_of_the_exports_own_making_is_not_retried(router):
    session = router.session()

    class Cancelled(Exception):
        sqlstate = "57014"  # the statement's own timeout: the primary would do the same

    def produce(session, after, header):
        raise OperationalError("SELECT", {}, Cancelled("canceling statement due to "
                                                       "statement timeout"))

    with pytest.raises(OperationalError):
        list(streamed.stream(session, produce, name="items", resumable=True))
    assert session.on_replica


def test_a_read_folded_whole_is_read_again_on_the_primary(router):
    session = router.session()
    seen = []

    def total(read):
        seen.append(read.on_replica)
        count = 0
        for (i,) in read.execute(text("SELECT id FROM item ORDER BY id")):
            if read.on_replica and i == 4:
                raise _gone()  # the replica stops while the rows stream in
            count += i
        return count

    assert read_whole(session, total) == sum(range(1, PRIMARY_ROWS + 1))
    assert seen == [True, False]


def test_the_audit_export_carries_on_when_its_read_session_fails_partway(app, admin, database,
                                                                         monkeypatch):
    """The audit log's CSV through the app, its read session on a "replica" (the same
    database, as the router sees it) that fails when the third batch is read: the file
    still holds every event once, newest first."""
    import csv
    import io

    from cowin_kit.accounts import audit_log
    from cowin_kit.accounts.service import audit
    from cowin_kit.replicas import ReplicaState

    from helpers import csrf

    with database.Session() as s:
        for n in range(50):
            audit(s, "staff:99", "test.streamed", f"thing:{n}")
        s.commit()
    monkeypatch.setattr(audit_log, "EXPORT_BATCH", 10)
    dep = app.extensions["cowin_kit"]
    replica = Database(str(database.url.render_as_string(hide_password=False)))
    monkeypatch.setattr(dep.reads, "states", [ReplicaState(replica, 0)])
    batches, codes = [], audit_log.division_codes

    def failing_codes(session, ids):
        batches.append(session.on_replica)
        if session.on_replica and len(batches) == 3:
            raise _gone()
        return codes(session, ids)

    before = REGISTRY.get_sample_value("cowin_kit_export_streams_interrupted_total",
                                       {"export": "audit_log", "outcome": "resumed"}) or 0.0
    page = admin.get("/staff/audit?action=test.streamed").get_data(as_text=True)
    monkeypatch.setattr(audit_log, "division_codes", failing_codes)
    r = admin.post("/staff/audit/export?action=test.streamed",
                   data={"csrf_token": csrf(page)})
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [row["target"] for row in rows] == [f"thing:{n}" for n in range(49, -1, -1)]
    assert batches[:3] == [True, True, True] and not any(batches[3:])
    assert REGISTRY.get_sample_value("cowin_kit_export_streams_interrupted_total", {
        "export": "audit_log", "outcome": "resumed"}) == before + 1
    replica.dispose()
