"""Opening day: a country's mix of traffic over many sessions, and a raw-SQL booking baseline
run alternately with the kit in the same invocation.

    python benchmarks/opening_day.py [--db sqlite|postgresql|both]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--clients 1000]
        [--seconds 60] [--procs 3] [--days 5]
        [--rounds 2] [--round-seconds 5] [--raw-workers 32] [--workers 2] [--threads 2]
        [--rate OPS_PER_S [--grace 10]] [--mix search=0.9,login=0.02,...] [--port N]

Per database, a fresh `cowin-kit init --country PE --demo` instance served on 127.0.0.1 by
granian as `cowin-kit web` runs it (BENCH_SERVER=gunicorn: gunicorn's threaded workers;
booking_storm.Deployment). Seeding (through scheduling.sessions.create_session): a session
on each of --days days from 30 days ahead at every demo centre (one per centre, day and
vaccine is the kit's rule), plus one "hot" session. Every client logs in by OTP and
registers one person; that person is then copied in SQL (same account) so each client has
enough people to book in the timed rounds.

1. **The mix** (--seconds): the clients, spread over --procs generator processes (threads,
   one keep-alive http.client connection each), draw operations: 90 % searches (findByPin,
   calendarByDistrict, findByDistrict over the seeded districts, postcodes and days; sent
   without the client's token, as public search is), 2 %
   OTP logins of new numbers, 2 % registrations, 4 % bookings over every session, 1 %
   reschedules, 1 % cancels (--mix sets other weights). Per kind: count, rate, p50/p95/p99,
   statuses. Closed loop (each client sends when answered) unless --rate: then open loop,
   operations due at that fixed rate whatever the server does, latency counted from when
   each was due; printed: offered, answered within the time, after it, and not sent
   (still waiting --grace s after the end). benchmarks/replay_2021_04_28.py uses it.
2. **Booking rounds**, alternating kit and raw SQL, each --round-seconds, --rounds times,
   on the hot session ("one") and spread over every session ("spread"). Kit: every client
   POSTs appointment/schedule for its next person. Raw: --raw-workers threads, each with its
   own sqlite3 / psycopg connection, run the same logical transaction (read the session and
   its slot, read the person and check they have no active appointment, take the place with
   the kit's conditional capacity UPDATE, insert the appointment, commit). Raw+: the same,
   plus the rest of what the kit's booking transaction does: look the caller's token up,
   insert the audit entry and the confirmation text. Between rounds the appointments are
   deleted and the counters set back to 0 (outside the timing).
   Printed: bookings/s of each, and the ratio kit/raw per round and overall; and the CPU
   per booking of the app (kit: the app server's processes; raw: the raw workers) and of the
   PostgreSQL backends, from /proc, with their ratio: on a shared, noisy machine the CPU a
   booking costs moves far less than the rates do.

Success statuses are 200, 204 (reschedule, cancel) and 304; 409 (refused) is counted apart;
anything else is an error. The generator's own CPU (user+sys of each process / wall) is
printed so one can see it was not the bottleneck. Only talks to 127.0.0.1.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import multiprocessing as mp
import os
import queue as queues
import random
import resource
import secrets
import shutil
import sys
import threading
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from booking_storm import (  # noqa: E402  (a script beside this one)
    COUNTRY,
    Client,
    Deployment,
    pct,
    read_otp,
    run_pool,
)

OK = (200, 204, 304)
SEARCH_KINDS = ("findByPin", "calendarByDistrict", "findByDistrict")
FIRST_DAY = 30  # days ahead of the first seeded day
MIX = (("search", 0.90), ("login", 0.02), ("register", 0.02), ("book", 0.04),
       ("reschedule", 0.01), ("cancel", 0.01))


# --- seeding ---------------------------------------------------------------------------------

def seed(dep: Deployment, days: int, hot_capacity: int) -> dict:
    """A session at every demo centre on each of ``days`` days from FIRST_DAY days ahead
    (past the demo's own sessions: one session per centre, day and vaccine), and a hot one
    the day before."""
    from cowin_kit.geography.models import Division
    from cowin_kit.profiles import load_profile
    from cowin_kit.programmes.models import Product
    from cowin_kit.scheduling.models import Facility, Slot
    from cowin_kit.scheduling.sessions import create_session

    tz = ZoneInfo(load_profile(COUNTRY)["timezone"])
    today = dt.datetime.now(tz).date()
    db = dep.database()
    big = 1_000_000  # the rounds measure speed, not refusals
    try:
        with db.session() as s:
            facilities = s.scalars(select(Facility).where(Facility.is_demo.is_(True))
                                   .order_by(Facility.id)).all()
            product = s.scalars(select(Product).where(
                Product.is_active.is_(True), Product.min_age_years <= 40,
                (Product.max_age_years.is_(None)) | (Product.max_age_years >= 60))
                .order_by(Product.id)).first()
            min_age = max(18, product.min_age_years)
            sessions, districts, pins = [], set(), set()
            for f in facilities:
                division = s.get(Division, f.division_id)
                while division.level > 2 and division.parent_id is not None:
                    division = s.get(Division, division.parent_id)
                districts.add(division.id)
                if f.postal_code:
                    pins.add(f.postal_code)
                for d in range(FIRST_DAY, FIRST_DAY + days):
                    vs = create_session(s, f, today + dt.timedelta(days=d), product, min_age,
                                        None, {1: big}, [(dt.time(9), dt.time(13))])
                    sessions.append(vs.id)
            hot = create_session(s, facilities[0], today + dt.timedelta(days=FIRST_DAY - 1),
                                 product,
                                 min_age, None, {1: hot_capacity}, [(dt.time(6), dt.time(8))])
            s.flush()
            slots = dict(s.execute(select(Slot.session_id, Slot.id).where(
                Slot.session_id.in_(sessions + [hot.id]))).all())
            starts = {sid: st.strftime("%H:%M") for sid, st in s.execute(
                select(Slot.session_id, Slot.starts).where(
                    Slot.session_id.in_(sessions + [hot.id]))).all()}
            s.commit()
            return {"sessions": sessions, "hot": hot.id, "slots": slots, "starts": starts,
                    "districts": sorted(districts), "pins": sorted(pins),
                    "centres": len(facilities),
                    "dates": [(today + dt.timedelta(days=d)).strftime("%d-%m-%Y")
                              for d in range(FIRST_DAY, FIRST_DAY + days)]}
    finally:
        db.dispose()


def login(client: Client, outbox: Path, mobile: str) -> str:
    txn = client.json("POST", "/auth/public/generateOTP", {"mobile": mobile})["txnId"]
    code = read_otp(outbox, mobile)
    return client.json("POST", "/auth/public/confirmOTP",
                       {"otp": hashlib.sha256(code.encode()).hexdigest(),
                        "txnId": txn})["token"]


def register_body(dni: int, n: int) -> dict:
    return {"name": f"Persona Apertura {n}", "birth_year": "1980", "gender_id": 1 + n % 2,
            "photo_id_type": dni, "photo_id_number": f"{n:08d}", "comorbidity_ind": "N",
            "consent_version": "1"}


def accounts(dep: Deployment, n: int) -> tuple[list[str], list[str], int]:
    """Log n clients in and register one person each; their tokens and reference ids."""
    types = Client(dep.port).json("GET", "/registration/beneficiary/idTypes")["types"]
    dni = next(t["id"] for t in types if t["code"] == "dni")
    outbox = dep.instance / "sms-outbox.jsonl"
    tokens, refs = [None] * n, [None] * n

    def one(i):
        c = Client(dep.port)
        try:
            tokens[i] = login(c, outbox, f"9{10000000 + i:08d}")
            c.headers["Authorization"] = f"Bearer {tokens[i]}"
            refs[i] = c.json("POST", "/registration/beneficiary/new",
                             register_body(dni, 40000000 + i))["beneficiary_reference_id"]
        finally:
            c.close()
    run_pool(16, range(n), one)
    return tokens, refs, dni


def clone_people(dep: Deployment, refs: list[str], per_client: int) -> list[list[tuple]]:
    """Copy each client's person per_client times under the same account, in SQL.
    Returns, per client, [(reference_id, beneficiary_id), ...]."""
    from cowin_kit.registration.models import Beneficiary
    table = Beneficiary.__table__
    db = dep.database()
    out: list[list[tuple]] = [[] for _ in refs]
    try:
        with db.engine.begin() as conn:
            originals = {r.reference_id: r._asdict() for r in conn.execute(
                select(table).where(table.c.reference_id.in_(refs)))}
            rows = []
            for i, ref in enumerate(refs):
                base = dict(originals[ref])
                base.pop("id")
                for k in range(per_client):
                    new_ref = f"7{i:06d}{k:07d}"
                    rows.append(dict(base, reference_id=new_ref, name=f"Copia {i} {k}",
                                     id_number_hash=hashlib.sha256(new_ref.encode()).hexdigest()))
            for start in range(0, len(rows), 5000):
                conn.execute(insert(table), rows[start:start + 5000])
            ids = dict(conn.execute(select(table.c.reference_id, table.c.id).where(
                table.c.reference_id.like("7%"))).all())
        if dep.kind == "postgresql":
            # Fresh statistics, as a live database has: without them the planner reads
            # one of these big made-up accounts (Co-WIN allowed four people) whole to find
            # a person by reference id.
            with db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        for i in range(len(refs)):
            out[i] = [(f"7{i:06d}{k:07d}", ids[f"7{i:06d}{k:07d}"]) for k in range(per_client)]
        return out
    finally:
        db.dispose()


def reset_bookings(dep: Deployment) -> None:
    db = dep.database()
    try:
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM appointment"))
            conn.execute(text("UPDATE session_capacity SET booked = 0"))
    finally:
        db.dispose()


def settled_bookings(dep: Deployment) -> int:
    """The appointments booked, once the server has answered what was still in flight
    when the generator stopped (wrk leaves without waiting): the count stops moving."""
    db = dep.database()
    try:
        last = -1
        while True:
            with db.engine.connect() as conn:
                now = conn.execute(text("SELECT count(*) FROM appointment")).scalar()
            if now == last:
                return now
            last = now
            time.sleep(0.3)
    finally:
        db.dispose()


# --- the generator processes -----------------------------------------------------------------

def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process of this machine; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class DbCpu:
    """CPU of this database's PostgreSQL backends over a window: sampled every 0.1 s, so a
    backend that ends within it (a pool's overflow connection) loses at most its last 0.1 s
    instead of all it used; each moved to ``load_cpu`` on sight when given (sizing.py)."""

    def __init__(self, url: str | None, load_cpu: int | None = None):
        self.url, self.load_cpu = url, load_cpu
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = None

    def _pids(self, conn) -> list[int]:
        return [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()").fetchall()]

    def _sample(self, conn, first: bool) -> None:
        for pid in self._pids(conn):
            if pid not in self.first:
                if self.load_cpu is not None:
                    try:
                        os.sched_setaffinity(pid, {self.load_cpu})
                    except OSError:
                        pass
                # a backend seen at the start counts from there; a new one from zero
                self.first[pid] = proc_cpu(pid) if first else 0.0
            now = proc_cpu(pid)
            if now:
                self.last[pid] = now

    def __enter__(self):
        if self.url is None:
            return self
        import psycopg
        self._conn = psycopg.connect(self.url, autocommit=True)
        self._sample(self._conn, True)

        def loop():
            while not self._stop.wait(0.1):
                self._sample(self._conn, False)
        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        if self.url is None:
            return
        self._stop.set()
        self._thread.join()
        self._sample(self._conn, False)
        self._conn.close()

    @property
    def seconds(self) -> float | None:
        if self.url is None:
            return None
        return sum(max(0.0, self.last.get(p, v) - v) for p, v in self.first.items())


def server_cpu(dep: Deployment) -> float:
    """CPU seconds so far of the app server (its processes; on SQLite the database's work
    is in them too). Its PostgreSQL backends are metered by DbCpu."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [dep.proc.pid]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return sum(proc_cpu(pid) for pid in tree)


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_threads(n: int, target) -> None:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def mix_proc(job: dict, queue) -> None:
    """One generator process of the mix: a thread per client until the deadline.

    Closed loop by default (each client sends its next operation when the last one is
    answered). With ``job["rate"]`` open loop: operations are due at a fixed rate (ops/s for
    this process) whether or not the server keeps up; a free client thread takes the next
    due one, and its latency counts from when it was due, so time waiting for a free client
    (the server being slow) is counted too. Operations still waiting ``job["grace"]`` seconds
    after the deadline are not sent and are counted as "dropped"."""
    port, plan = job["port"], job["plan"]
    outbox = Path(job["outbox"])
    rng_seed = job["proc"] * 7919
    results: list[tuple[str, object, float]] = []
    lock = threading.Lock()
    kinds, weights = zip(*job.get("mix", MIX), strict=True)
    barrier = threading.Barrier(len(job["clients"]) + 1)
    rate = job.get("rate")
    due: queues.Queue | None = queues.Queue() if rate else None
    # the deadline on the perf_counter clock (due times are on it); open loop: set when the
    # first operation is due, so the window is exactly job["seconds"]
    window = {"end": time.perf_counter() + (job["until"] - time.time())}
    late = {"after_end": 0, "dropped": 0, "offered": 0}

    def client(t):
        me = job["clients"][t]
        rng = random.Random(rng_seed + t)
        c = Client(port)
        c.headers["Authorization"] = f"Bearer {me['token']}"
        people = list(me["people"])  # references not yet booked
        booked: list[str] = []  # appointment ids
        fresh, fresh_people, logins = None, 0, 0
        mine = []
        barrier.wait()
        while True:
            if due is None:
                if time.time() >= job["until"]:
                    break
                t0 = time.perf_counter()
            else:
                t0 = due.get()
                if t0 is None:
                    break
                if time.perf_counter() > window["end"] + job.get("grace", 10.0):
                    mine.append(("(dropped)", "dropped", time.perf_counter() - t0))
                    continue
            kind = rng.choices(kinds, weights)[0]
            if kind == "register" and (fresh is None or fresh_people >= 4):
                kind = "login"
            if kind in ("reschedule", "cancel") and not booked:
                kind = "book"
            if kind == "book" and not people:
                kind = "search"
            try:
                if kind == "search":
                    what = rng.choice(SEARCH_KINDS)
                    date = rng.choice(plan["dates"])
                    if what == "findByPin" and plan["pins"]:
                        path = (f"/appointment/sessions/public/findByPin?pincode="
                                f"{rng.choice(plan['pins'])}&date={date}")
                    else:
                        what = "calendarByDistrict" if what == "findByPin" else what
                        path = (f"/appointment/sessions/public/{what}?district_id="
                                f"{rng.choice(plan['districts'])}&date={date}")
                    # anonymous, as public search is (a token would skip FastAnswers)
                    auth = c.headers.pop("Authorization")
                    try:
                        status, _r, _ = c.request("GET", path)
                    finally:
                        c.headers["Authorization"] = auth
                    kind = "search:" + what
                elif kind == "login":
                    logins += 1
                    mobile = f"9{20000000 + job['proc'] * 1000000 + t * 1000 + logins:08d}"
                    other = Client(port)
                    try:
                        fresh, fresh_people = login(other, outbox, mobile), 0
                    finally:
                        other.close()
                    status = 200
                elif kind == "register":
                    fresh_people += 1
                    n = 50000000 + job["proc"] * 1000000 + t * 1000 + logins * 5 + fresh_people
                    status, _r, _ = c.request(
                        "POST", "/registration/beneficiary/new", register_body(job["dni"], n),
                        headers={"Authorization": f"Bearer {fresh}"})
                elif kind == "book":
                    sid = rng.choice(plan["sessions"])
                    status, raw, _ = c.request("POST", "/appointment/schedule", {
                        "dose": 1, "session_id": sid, "slot": plan["starts"][sid],
                        "beneficiaries": [people.pop()]})
                    if status == 200:
                        booked.append(json.loads(raw)["appointment_confirmation_no"])
                elif kind == "reschedule":
                    sid = rng.choice(plan["sessions"])
                    status, _r, _ = c.request("POST", "/appointment/reschedule", {
                        "appointment_id": rng.choice(booked), "session_id": sid,
                        "slot": plan["starts"][sid]})
                else:
                    status, _r, _ = c.request("POST", "/appointment/cancel",
                                              {"appointment_id": booked.pop()})
            except Exception as exc:  # noqa: BLE001 - counted as an error
                status = type(exc).__name__
            done = time.perf_counter()
            mine.append((kind, status, done - t0))
            if done > window["end"]:
                with lock:
                    late["after_end"] += 1
        c.close()
        with lock:
            results.extend(mine)

    def dispatch():
        """Open loop: an operation due every 1/rate seconds until the deadline."""
        barrier.wait()
        start, i = time.perf_counter(), 0
        window["end"] = end = start + job["seconds"]
        while (at := start + i / rate) < end:
            if (wait := at - time.perf_counter()) > 0:
                time.sleep(wait)
            due.put(at)
            i += 1
        late["offered"] = i
        for _ in job["clients"]:
            due.put(None)

    cpu0 = cpu_seconds()
    wall0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(job["clients"]))]
    threads.append(threading.Thread(target=dispatch if due is not None else barrier.wait))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    late["dropped"] = sum(1 for r in results if r[1] == "dropped")
    queue.put({"results": results, "cpu": cpu_seconds() - cpu0,
               "wall": time.perf_counter() - wall0, **late})


def kit_round_proc(job: dict, queue) -> None:
    """Every client of this process books its next people until the deadline."""
    port, plan = job["port"], job["plan"]
    results: list[tuple[object, float, float]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(job["clients"]))

    def client(t):
        me = job["clients"][t]
        rng = random.Random(t)
        c = Client(port)
        c.headers["Authorization"] = f"Bearer {me['token']}"
        people = list(me["people"])
        mine = []
        barrier.wait()
        time.sleep(max(0.0, job["start"] - time.time()))
        while people and time.time() < job["until"]:
            sid = plan["hot"] if job["target"] == "one" else rng.choice(plan["sessions"])
            t0 = time.perf_counter()
            try:
                status, _r, _ = c.request("POST", "/appointment/schedule", {
                    "dose": 1, "session_id": sid, "slot": plan["starts"][sid],
                    "beneficiaries": [people.pop()]}, retry=False)
            except Exception as exc:  # noqa: BLE001 - counted as an error
                status = type(exc).__name__
            mine.append((status, time.perf_counter() - t0, time.time()))
        c.close()
        with lock:
            results.extend(mine)

    cpu0 = cpu_seconds()
    run_threads(len(job["clients"]), client)
    queue.put({"results": results, "cpu": cpu_seconds() - cpu0})


WRK_SCRIPT = Path(__file__).resolve().parent / "wrk" / "book.lua"
WRK_THREADS = 2


def wrk_files(folder: Path, plan: dict, tokens: list[str], people: list[list]) -> Path:
    """The booking rounds' input for wrk/book.lua: each wrk thread's people (with their
    account's token), the accounts interleaved so that requests in flight come from many
    callers; and the sessions, the hot one first."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"{tokens[i]}\t{lst[k][0]}" for k in range(max(len(x) for x in people))
             for i, lst in enumerate(people) if k < len(lst)]
    for t in range(WRK_THREADS):
        (folder / f"people-{t}.tsv").write_text("\n".join(lines[t::WRK_THREADS]) + "\n")
    (folder / "sessions.tsv").write_text("\n".join(
        f"{sid}\t{plan['starts'][sid]}" for sid in [plan["hot"], *plan["sessions"]]) + "\n")
    return folder


def kit_round_wrk(port: int, folder: Path, target: str, clients: int, start: float,
                  seconds: float) -> dict:
    """A kit round driven by wrk (a compiled generator: a few per cent of a core where
    Python's http.client clients take a fifth of one), summarised as summarise() does."""
    import subprocess

    time.sleep(max(0.0, start - time.time()))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        ["wrk", f"-t{WRK_THREADS}", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "30s",
         "-s", str(WRK_SCRIPT), f"http://127.0.0.1:{port}/api/v2/appointment/schedule",
         "--", str(folder), target], capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((x for x in out.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no RESULT line:\n{out}")
    ok, n409, other, socket_errors, duration, p50, p95, p99 = map(int, line.split()[1:])
    wall = duration / 1e6
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    errs = ([f"HTTP other than 200/409: {other}"] if other else []) + (
        [f"socket errors: {socket_errors}"] if socket_errors else [])
    return {"n": ok + n409 + other, "ok": ok, "n409": n409, "err": other + socket_errors,
            "errs": errs, "rate": ok / wall if wall else 0.0, "wall": wall,
            "p50": p50 / 1e6, "p95": p95 / 1e6, "p99": p99 / 1e6, "cpu": [cpu / wall * 100]}


def raw_round_proc(job: dict, queue) -> None:
    """The same logical booking in raw SQL, one connection per thread. ``job["whole"]``:
    also what the kit's booking transaction does besides taking the place: look the
    caller's token up, and write the audit entry and the confirmation text."""
    plan, sqlite, whole = job["plan"], job["kind"] == "sqlite", job.get("whole")
    results: list[tuple[object, float, float]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(job["threads"])
    mark = "?" if sqlite else "%s"
    sql_session = ("SELECT s.id, s.date, s.min_age, p.is_active FROM vaccination_session s "
                   f"JOIN product p ON p.id = s.product_id WHERE s.id = {mark} "
                   "AND s.cancelled_at IS NULL")
    sql_person = ("SELECT b.id, b.birth_year FROM beneficiary b WHERE b.id = "
                  f"{mark} AND NOT EXISTS (SELECT 1 FROM appointment a WHERE "
                  f"a.beneficiary_id = b.id AND a.status = 'booked')")
    sql_take = ("UPDATE session_capacity SET booked = booked + 1 WHERE session_id = "
                f"{mark} AND dose_number = 1 AND booked + 1 <= capacity")
    sql_insert = ("INSERT INTO appointment (id, beneficiary_id, session_id, slot_id, "
                  "dose_number, secret_code, status, reschedule_count, created_at, source, "
                  f"walk_in_place) VALUES ({', '.join([mark] * 11)})")

    sql_token = ("SELECT t.revoked_at, t.expires_at, a.id, a.mobile, a.language FROM api_token "
                 f"t JOIN citizen_account a ON a.id = t.account_id WHERE t.token_hash = {mark}")
    sql_audit = ("INSERT INTO audit_event (at, actor, action, target, details, source, "
                 f"division_id) VALUES ({', '.join([mark] * 7)})")
    sql_text = ("INSERT INTO notification_outbox (created_at, kind, mobile, language, msgid, "
                "params, beneficiary_id, dedupe_key, status, attempts, next_attempt_at) "
                f"VALUES ({', '.join([mark] * 11)})")
    today = dt.date.today()

    def connect():
        if sqlite:
            import sqlite3
            conn = sqlite3.connect(job["path"], timeout=60, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA foreign_keys=ON")  # as the kit's connections (WAL is set)
            return conn
        import psycopg
        return psycopg.connect(job["url"])

    def worker(t):
        people = job["people"][t]
        rng = random.Random(t)
        conn = connect()
        backend = None if sqlite else conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        db0 = proc_cpu(backend) if backend else 0.0
        mine = []
        barrier.wait()
        time.sleep(max(0.0, job["start"] - time.time()))
        while people and time.time() < job["until"]:
            sid = plan["hot"] if job["target"] == "one" else rng.choice(plan["sessions"])
            person = people.pop()
            t0 = time.perf_counter()
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            try:
                cur = conn.cursor()
                cur.execute("BEGIN IMMEDIATE" if sqlite else "BEGIN")
                if whole:
                    cur.execute(sql_token, (job["token_hash"],))
                    caller = cur.fetchone()
                cur.execute(sql_session, (sid,))
                vs = cur.fetchone()
                cur.execute(sql_person + ("" if sqlite else " FOR UPDATE OF b"), (person,))
                who = cur.fetchone()
                if (vs is None or not vs[3] or who is None
                        or today.year - who[1] < vs[2]):
                    status = 409
                else:
                    cur.execute(sql_take, (sid,))
                    if cur.rowcount != 1:
                        status = 409
                    else:
                        cur.execute(sql_insert, (
                            str(uuid.uuid4()), person, sid, plan["slots"][sid], 1,
                            f"{secrets.randbelow(10000):04d}", "booked", 0,
                            now if not sqlite else str(now), "online",
                            False))
                        if whole:
                            stamp = now if not sqlite else str(now)
                            cur.execute(sql_audit, (
                                stamp, f"citizen:{caller[2]}", "appointment.booked",
                                f"appointment:{person}", json.dumps({"session_id": sid,
                                                                     "dose": 1}),
                                "127.0.0.1", None))
                            cur.execute(sql_text, (
                                stamp, "booking_confirmed", caller[3], "es",
                                "Your appointment is booked.", json.dumps({
                                    "name": "x", "dose": 1, "date": "01-01-2027",
                                    "code": "1234"}), person, None, "pending", 0, stamp))
                        status = 200
                cur.execute("COMMIT")
            except Exception as exc:  # noqa: BLE001 - counted as an error
                status = f"{type(exc).__name__}: {str(exc)[:60]}"
                try:
                    conn.rollback()
                except Exception:  # noqa: BLE001
                    pass
            mine.append((status, time.perf_counter() - t0, time.time()))
        db_cpu = proc_cpu(backend) - db0 if backend else 0.0
        conn.close()
        with lock:
            results.extend(mine)
            spent[0] += db_cpu

    spent = [0.0]
    cpu0 = cpu_seconds()
    run_threads(job["threads"], worker)
    queue.put({"results": results, "cpu": cpu_seconds() - cpu0, "db_cpu": spent[0]})


def spawn(target, jobs: list[dict]) -> list[dict]:
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=target, args=(job, queue)) for job in jobs]
    for p in procs:
        p.start()
    out = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    return out


def split(items: list, n: int) -> list[list]:
    return [items[i::n] for i in range(n)]


# --- reporting -------------------------------------------------------------------------------

def ms(x: float) -> str:
    return f"{x * 1000:8.1f}"


CALLS = {"login": 2}  # HTTP calls an operation makes (generateOTP + confirmOTP); others 1


def report_mix(outs: list[dict], seconds: float) -> dict:
    """Print the mix's figures per kind; return them (and, open loop, offered vs done)."""
    rows: dict[str, list] = {}
    for o in outs:
        for kind, status, lat in o["results"]:
            rows.setdefault(kind, []).append((status, lat))
    total = sum(len(v) for v in rows.values())
    print(f"  {'operation':<28} {'n':>7} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8}  statuses")
    errors, calls, summary = 0, 0, {}
    for kind in sorted(rows):
        got = rows[kind]
        lat = [x for _s, x in got]
        counts: dict = {}
        for st, _x in got:
            counts[st] = counts.get(st, 0) + 1
        errors += sum(n for st, n in counts.items() if st not in OK and st != 409)
        calls += len(got) * CALLS.get(kind, 1)
        summary[kind] = {"n": len(got), "rate": len(got) / seconds, "p50": pct(lat, 50),
                         "p95": pct(lat, 95), "p99": pct(lat, 99), "statuses": counts}
        print(f"  {kind:<28} {len(got):7d} {len(got) / seconds:7.0f} {ms(pct(lat, 50))} "
              f"{ms(pct(lat, 95))} {ms(pct(lat, 99))}  "
              + " ".join(f"{st}:{n}" for st, n in sorted(counts.items(), key=str)))
    print(f"  {'all':<28} {total:7d} {total / seconds:7.0f}   errors (not 2xx/304/409): "
          f"{errors}")
    print(f"  HTTP calls (a login is 2): {calls / seconds:.0f}/s")
    print("  generator CPU per process (user+sys / wall): "
          + ", ".join(f"{o['cpu'] / o['wall'] * 100:.0f} %" for o in outs))
    out = {"kinds": summary, "ops": total, "calls": calls, "errors": errors,
           "seconds": seconds}
    offered = sum(o.get("offered", 0) for o in outs)
    if offered:
        dropped = sum(o["dropped"] for o in outs)
        after = sum(o["after_end"] for o in outs)
        in_time = total - dropped - after
        print(f"  open loop: offered {offered} operations ({offered / seconds:.0f}/s); answered "
              f"within the {seconds:g} s {in_time} ({in_time / seconds:.0f}/s, "
              f"{in_time / offered:.1%}), after it {after}, not sent {dropped}")
        out.update(offered=offered, in_time=in_time, after_end=after, dropped=dropped)
    return out


def summarise(outs: list[dict], started: float) -> dict:
    res = [r for o in outs for r in o["results"]]
    ok = [r for r in res if r[0] == 200]
    wall = (max(r[2] for r in res) - started) if res else float("nan")
    lat = [r[1] for r in res]
    return {"n": len(res), "ok": len(ok), "n409": sum(r[0] == 409 for r in res),
            "err": sum(r[0] not in (200, 409) for r in res),
            "errs": sorted({str(r[0]) for r in res if r[0] not in (200, 409)}),
            "rate": len(ok) / wall if wall else 0.0, "wall": wall,
            "p50": pct(lat, 50), "p95": pct(lat, 95), "p99": pct(lat, 99),
            "cpu": [o["cpu"] / wall * 100 for o in outs]}


# --- one database ----------------------------------------------------------------------------

def parse_mix(text: str | None) -> tuple:
    """"search=0.94,login=0.015,..." -> MIX's shape; None -> MIX."""
    if not text:
        return MIX
    pairs = [part.split("=") for part in text.split(",")]
    known = {k for k, _w in MIX}
    if any(k not in known for k, _w in pairs):
        raise SystemExit(f"--mix: kinds are {', '.join(sorted(known))}")
    return tuple((k, float(w)) for k, w in pairs)


def run_mix(dep: Deployment, plan: dict, tokens, people, dni, opts) -> dict:
    """The mix over --procs generator processes; closed loop, or open loop at --rate."""
    until = time.time() + 1 + opts.seconds
    half = len(people[0]) // 2  # the first half of each client's copies is for the mix
    parts = split(list(range(opts.clients)), opts.procs)
    jobs = [{"port": dep.port, "plan": plan, "outbox": str(dep.instance / "sms-outbox.jsonl"),
             "proc": p, "dni": dni, "until": until, "seconds": opts.seconds,
             "mix": parse_mix(opts.mix),
             "rate": opts.rate / len(parts) if opts.rate else None, "grace": opts.grace,
             "clients": [{"token": tokens[i], "people": [r for r, _ in people[i][:half]]}
                         for i in idx]}
            for p, idx in enumerate(parts)]
    return report_mix(spawn(mix_proc, jobs), opts.seconds)


def run_one(kind: str, opts) -> bool:
    dep = Deployment(kind, opts.pg_url, opts.workers, opts.threads, None)
    dep.pg_db = f"bench_opening_{os.getpid()}"
    dep.fixed_port = opts.port
    try:
        t0 = time.perf_counter()
        dep.provision()
        plan = seed(dep, opts.days, 1_000_000)
        dep.start()
        tokens, refs, dni = accounts(dep, opts.clients)
        # people per client: enough for a kit round, and for the raw workers' share
        per_client = max(8, -(-opts.raw_people // opts.clients))
        people = clone_people(dep, refs, per_client)
        setup = time.perf_counter() - t0
        print(f"\n=== {kind}: {opts.clients} clients over {opts.procs} generator processes, "
              f"{dep.server} {opts.workers} workers x {opts.threads} threads, "
              f"{os.cpu_count()} CPUs ===")
        print(f"  seeded {len(plan['sessions'])} sessions at {plan['centres']} centres in "
              f"{len(plan['districts'])} districts ({len(plan['pins'])} postcodes), "
              f"{opts.days} days, + 1 hot session; {opts.clients} accounts with "
              f"{per_client + 1} people each; setup {setup:.0f} s")
        print("  generator: Python http.client, keep-alive, a thread per client, "
              f"{opts.procs} processes (multiprocessing, fork)")

        # 1. the mix
        print(f"\n  -- the mix, {opts.seconds:g} s"
              + (f", open loop at {opts.rate:g} operations/s --" if opts.rate else " --"))
        run_mix(dep, plan, tokens, people, dni, opts)
        reset_bookings(dep)
        if not opts.rounds:
            return True

        # 2. the rounds
        raw_ids = [pid for lst in people for _r, pid in lst]
        url = dep.db_url if kind == "postgresql" else None
        path = str(dep.instance / "cowin-kit.db") if kind == "sqlite" else None
        if kind == "sqlite":
            from cowin_kit.config import load_settings
            settings = load_settings(dep.instance, environ=dep.env())
            path = settings["DATABASE_URL"].split("sqlite:///", 1)[1]
        n_raw = min(opts.raw_workers, opts.clients)
        from cowin_kit.accounts.otp import token_digest
        token_hash = token_digest(tokens[0])  # raw+ looks up a real caller's token
        totals: dict = {}
        wrk_folder = (wrk_files(dep.tmp / "wrk", plan, tokens, people)
                      if opts.generator == "wrk" else None)
        print(f"\n  -- booking rounds: kit = {opts.clients} HTTP clients ("
              + (f"wrk, {WRK_THREADS} threads" if wrk_folder else
                 f"Python, {opts.procs} processes") + f"), raw = {n_raw} "
              f"threads with a connection each; {opts.round_seconds:g} s a round --")
        print(f"  {'round':<14} {'bookings/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
              f" {'200':>6} {'409':>5} {'err':>4}  {'app ms':>6} {'db ms':>6}  gen CPU %")
        print("  (app ms, db ms: CPU per booking of the app (kit: the app server's processes; raw: "
              "the raw workers) and of PostgreSQL's backends: less noisy than rates)")
        for rnd in range(opts.rounds):
            for target in ("one", "spread"):
                for side in ("kit", "raw", "raw+"):
                    start = time.time() + 1.0
                    until = start + opts.round_seconds
                    if side == "kit":
                        jobs = [{"port": dep.port, "plan": plan, "until": until,
                                 "start": start, "target": target,
                                 "clients": [{"token": tokens[i],
                                              "people": [r for r, _ in people[i]]}
                                             for i in idx]}
                                for idx in split(list(range(opts.clients)), opts.procs)]
                        target_fn = kit_round_proc
                    else:
                        mine = split(raw_ids, n_raw)
                        jobs = [{"kind": kind, "url": url, "path": path, "plan": plan,
                                 "until": until, "start": start, "target": target,
                                 "threads": len(share), "people": share,
                                 "whole": side == "raw+", "token_hash": token_hash}
                                for share in split(mine, opts.procs) if share]
                        target_fn = raw_round_proc
                    before = server_cpu(dep) if side == "kit" else None
                    backends = DbCpu(dep.db_url if kind == "postgresql" and side == "kit"
                                     else None)
                    with backends:
                        if side == "kit" and wrk_folder is not None:
                            s = kit_round_wrk(dep.port, wrk_folder, target, opts.clients,
                                              start, opts.round_seconds)
                        else:
                            outs = spawn(target_fn, jobs)
                            s = summarise(outs, start)
                        if side == "kit":
                            # per booking made, those answered after the round's end too
                            made = max(settled_bookings(dep), 1)
                    if side == "kit":
                        s["app_ms"] = (server_cpu(dep) - before) / made * 1000
                        s["db_ms"] = (backends.seconds or 0.0) / made * 1000
                    else:  # the raw workers are the app; their backends the database
                        s["app_ms"] = sum(o["cpu"] for o in outs) / max(s["ok"], 1) * 1000
                        s["db_ms"] = sum(o["db_cpu"] for o in outs) / max(s["ok"], 1) * 1000
                    reset_bookings(dep)
                    totals.setdefault((target, side), []).append(s)
                    print(f"  {rnd + 1} {target:<6} {side:<5} {s['rate']:10.0f} {ms(s['p50'])} "
                          f"{ms(s['p95'])} {ms(s['p99'])} {s['ok']:6d} {s['n409']:5d} "
                          f"{s['err']:4d}  {s['app_ms']:6.2f} {s['db_ms']:6.2f}  "
                          + " ".join(f"{c:.0f}" for c in s["cpu"])
                          + (f"  {s['errs']}" if s["errs"] else ""))
        print()
        for target in ("one", "spread"):
            kit = [s["rate"] for s in totals[(target, "kit")]]
            cpu = {side: [(x["app_ms"] + x["db_ms"]) for x in totals[(target, side)]]
                   for side in ("kit", "raw", "raw+")}
            k_cpu = sum(cpu["kit"]) / len(cpu["kit"])
            for side in ("raw", "raw+"):
                raw = [s["rate"] for s in totals[(target, side)]]
                ratios = [k / r for k, r in zip(kit, raw, strict=True) if r]
                r_cpu = sum(cpu[side]) / len(cpu[side])
                print(f"  {target:<6} kit {sum(kit) / len(kit):7.0f} bookings/s, {side:<4} "
                      f"{sum(raw) / len(raw):7.0f} bookings/s, RATIO kit/{side} "
                      f"{sum(kit) / sum(raw) if sum(raw) else float('nan'):.3f} (per round: "
                      + ", ".join(f"{x:.3f}" for x in ratios) + ")")
                print(f"  {'':<6} CPU per booking (app + database): kit {k_cpu:.2f} ms, {side} "
                      f"{r_cpu:.2f} ms, RATIO {side}/kit "
                      f"{r_cpu / k_cpu if k_cpu else float('nan'):.3f}")
        print("  (raw: the place and the appointment, as the issue's baseline; raw+: also the "
              "login, the audit entry and the confirmation text, the rest of the kit's "
              "transaction. The CPU ratio is what the ratio of rates tends to when the CPU "
              "is the limit.)")
        return True
    finally:
        dep.stop()
        dep.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60, help="length of the mix")
    parser.add_argument("--procs", type=int, default=3, help="generator processes")
    parser.add_argument("--days", type=int, default=5, help="days with sessions")
    parser.add_argument("--rate", type=float,
                        help="open loop: operations/s offered in the mix (default: closed loop)")
    parser.add_argument("--grace", type=float, default=10,
                        help="open loop: seconds past the end before waiting operations are "
                             "dropped")
    parser.add_argument("--mix", help='weights, e.g. "search=0.9,login=0.02,register=0.02,'
                        'book=0.04,reschedule=0.01,cancel=0.01" (the default)')
    parser.add_argument("--rounds", type=int, default=2, help="booking rounds (0: none)")
    parser.add_argument("--generator", choices=("wrk", "python"),
                        default="wrk" if shutil.which("wrk") else "python",
                        help="the kit's clients in the booking rounds (default: wrk if "
                             "installed)")
    parser.add_argument("--round-seconds", type=float, default=5)
    parser.add_argument("--raw-workers", type=int, default=32,
                        help="raw-SQL threads (capped by --clients; PostgreSQL allows ~100 "
                             "connections here)")
    parser.add_argument("--raw-people", type=int, default=40000,
                        help="people copied in SQL for the rounds, over all clients")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2,
                        help="gthread threads per worker (2 booked more than 4: "
                             "benchmarks/README.md, third round)")
    parser.add_argument("--port", type=int, help="the server's port (default: a free one)")
    opts = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if opts.db == "both" else [opts.db]
    good = True
    for kind in kinds:
        good = run_one(kind, opts) and good
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
