"""Where one booking's time goes: statements, round trips and app CPU, in one process.

    python benchmarks/booking_profile.py [--db sqlite|postgresql]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--bookings 300]
        [--pyinstrument]

A fresh `cowin-kit init --country PE --demo` instance (opening_day's seeding, 1 day), the
app built in this process and driven by Flask's test client (no HTTP server): one account
logs in by OTP, its person is copied --bookings times, then POST appointment/schedule books
each of them once, alternately in a session with room ("ok") and in a full one ("full",
answered 409). Printed per booking: database round trips (statements, BEGIN/COMMIT/ROLLBACK,
pool pings), the statements themselves once, and the CPU time of this process (the
database's own CPU is not in it on PostgreSQL). --pyinstrument prints where the CPU goes.
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import os
import sys
import time
from pathlib import Path

from sqlalchemy import event, text, update

sys.path.insert(0, str(Path(__file__).resolve().parent))
from booking_storm import Deployment, read_otp  # noqa: E402
from opening_day import clone_people, register_body, seed  # noqa: E402

API = "/api/v2"


class Counter:
    """Round trips seen by SQLAlchemy: statements, transaction ends and pool pings."""

    def __init__(self, engine):
        self.counts: collections.Counter = collections.Counter()
        self.seen: list[str] = []
        self.record = False
        event.listen(engine, "before_cursor_execute", self._stmt)
        event.listen(engine, "commit", lambda conn: self._note("COMMIT"))
        event.listen(engine, "rollback", lambda conn: self._note("ROLLBACK"))
        dialect = engine.dialect
        ping = dialect.do_ping

        def counted_ping(dbapi_conn):
            self._note("PING")
            return ping(dbapi_conn)
        dialect.do_ping = counted_ping

    def _note(self, what: str) -> None:
        self.counts[what] += 1
        if self.record:
            self.seen.append(what)

    def _stmt(self, conn, cursor, statement, params, context, executemany):
        self._note("statement")
        if self.record:
            self.seen[-1] = " ".join(statement.split())[:160]


def backend_cpu(engine) -> float:
    """CPU seconds (user + system) of the PostgreSQL backends serving this database; NaN
    elsewhere (SQLite runs in this process: its CPU is in ours)."""
    if engine.dialect.name != "postgresql":
        return float("nan")
    import psycopg  # a connection of its own: one from the app's pool would be left out

    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as conn:
        pids = [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()")]
        total = 0.0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # a server on another machine: not measured
                return float("nan")
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--bookings", type=int, default=300)
    parser.add_argument("--pyinstrument", action="store_true")
    parser.add_argument("--cprofile", action="store_true",
                        help="print the functions with the most CPU of their own")
    parser.add_argument("--only-ok", action="store_true",
                        help="time only bookings with room (no refusals)")
    opts = parser.parse_args()
    dep = Deployment(opts.db, opts.pg_url, 1, 1, None)
    dep.pg_db = f"bench_profile_{os.getpid()}"
    try:
        dep.provision()
        plan = seed(dep, 1, 1_000_000)
        full = plan["hot"]
        os.environ.update(dep.env())
        from cowin_kit import create_app
        from cowin_kit.runtime import EXTENSION
        from cowin_kit.scheduling.models import SessionCapacity
        app = create_app({"RATELIMIT_ENABLED": False, "RATE_LIMIT_STORAGE": "database"})
        engine = app.extensions[EXTENSION].db.engine
        with engine.begin() as conn:  # the hot session: full
            conn.execute(update(SessionCapacity).where(SessionCapacity.session_id == full)
                         .values(capacity=0))
        client = app.test_client()
        mobile = "9" + "87654321"
        txn = client.post(f"{API}/auth/public/generateOTP", json={"mobile": mobile}).json
        code = read_otp(dep.instance / "sms-outbox.jsonl", mobile)
        token = client.post(f"{API}/auth/public/confirmOTP", json={
            "otp": hashlib.sha256(code.encode()).hexdigest(), "txnId": txn["txnId"]}).json[
            "token"]
        headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
        types = client.get(f"{API}/registration/beneficiary/idTypes").json["types"]
        dni = next(t["id"] for t in types if t["code"] == "dni")
        ref = client.post(f"{API}/registration/beneficiary/new", json=register_body(dni, 1),
                          headers=headers).json["beneficiary_reference_id"]
        people = [r for r, _id in clone_people(dep, [ref], opts.bookings)[0]]
        ok_sid = plan["sessions"][0]

        def book(i):
            sid = full if i % 2 and not opts.only_ok else ok_sid
            return client.post(f"{API}/appointment/schedule", headers=headers, json={
                "dose": 1, "session_id": sid, "slot": plan["starts"][sid],
                "beneficiaries": [people[i]]})

        counter = Counter(engine)
        for kind, first in (("ok", 0), ("full", 1)):  # one of each, its statements shown
            counter.record, counter.seen = True, []
            status = book(first).status_code
            counter.record = False
            print(f"\n-- one booking, {kind} (HTTP {status}): {len(counter.seen)} round trips")
            for line in counter.seen:
                print("   ", line)
        counter.counts.clear()
        statuses: collections.Counter = collections.Counter()
        profiler = None
        if opts.pyinstrument:
            from pyinstrument import Profiler
            profiler = Profiler(interval=0.0005)
            profiler.start()
        if opts.cprofile:
            import cProfile
            profiler = cProfile.Profile(time.process_time)  # CPU, not waiting
            profiler.enable()
        db_cpu0 = backend_cpu(engine)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for i in range(2, opts.bookings):
            statuses[book(i).status_code] += 1
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        db_cpu = backend_cpu(engine) - db_cpu0
        if profiler and opts.cprofile:
            profiler.disable()
        elif profiler:
            profiler.stop()
        n = opts.bookings - 2
        print(f"\n-- {n} bookings: statuses {dict(statuses)}")
        print(f"   per booking: CPU {cpu / n * 1000:.2f} ms"
              + (f" (+ PostgreSQL's {db_cpu / n * 1000:.2f} ms)" if db_cpu == db_cpu else "")
              + f", wall {wall / n * 1000:.2f} ms; "
              + ", ".join(f"{k} {v / n:.2f}" for k, v in sorted(counter.counts.items())))
        if profiler and opts.cprofile:
            import pstats
            # SORT=cumulative FILTER=cowin_kit: the kit's own functions, by time under them
            if os.environ.get("DUMP"):
                profiler.dump_stats(os.environ["DUMP"])
            stats = pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "tottime"))
            stats.print_stats(os.environ.get("FILTER", ""), 40)
        elif profiler:
            print(profiler.output_text(unicode=False, color=False, show_all=False))
        with engine.connect() as conn:
            print("   booked:", conn.execute(text(
                "SELECT booked FROM session_capacity WHERE session_id = :s"),
                {"s": ok_sid}).scalar())
        app.extensions[EXTENSION].dispose()
        return 0
    finally:
        dep.cleanup()


if __name__ == "__main__":
    sys.exit(main())
