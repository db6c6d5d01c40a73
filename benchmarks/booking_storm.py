"""Booking storm: many concurrent HTTP clients book one session through gunicorn.

    python benchmarks/booking_storm.py [--db sqlite|postgresql|both]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--clients 200]
        [--workers 2] [--duration-searches 10] [--search-threads 32] [--profile]

Per database: a fresh `cowin-kit init --country PE --demo` instance in a temporary folder
(PostgreSQL: a database `bench_storm_<pid>`, created and dropped through --pg-url), one session
60 days ahead with capacity dose1 = clients // 2, gunicorn (gthread, 4 threads) on a free
127.0.0.1 port. Then:

1. every client logs in by OTP (read from sms-outbox.jsonl) and registers one person;
2. all clients POST appointment/schedule for the same session at once (Barrier, one
   keep-alive connection each): bookings/s, p50/p95/p99, status counts, overbookings;
3. for --duration-searches seconds, threads GET calendarByDistrict, a quarter of them
   with If-None-Match (the 304 path is reported apart).

Throttles are relaxed through COWIN_KIT_* variables and RATELIMIT_ENABLED=False in a
generated wsgi module. Exits 1 on any overbooking. Only talks to 127.0.0.1.
--profile also runs werkzeug's ProfilerMiddleware in the workers and prints where the
time of appointment/schedule and calendarByDistrict goes (slower; figures not comparable).
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, select, text

API = "/api/v2"
COUNTRY = "PE"
WSGI = '''\
import os
from cowin_kit import create_app

# Several workers need a shared limit store (the app refuses memory); booking is not
# rate-limited, so the database store costs this benchmark nothing.
app = create_app({"RATELIMIT_ENABLED": os.environ.get("BENCH_RATELIMIT") == "1",
                  "RATE_LIMIT_STORAGE": "database"})
if os.environ.get("BENCH_PROFILE_DIR"):
    from werkzeug.middleware.profiler import ProfilerMiddleware
    app.wsgi_app = ProfilerMiddleware(app.wsgi_app, stream=None,
                                      profile_dir=os.environ["BENCH_PROFILE_DIR"])
'''


def tool(name: str) -> str:
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else (shutil.which(name) or name)


SERVER = os.environ.get("BENCH_SERVER") or "granian"


def server_command(server: str, workers: int, threads: int, port: int, folder: Path,
                   target: str) -> list[str]:
    """The command serving ``target`` (module:app in ``folder``) on 127.0.0.1:``port``: granian
    as `cowin-kit web` runs it (the production command, cowin_kit.cli.web_cmd), or gunicorn's
    threaded workers. Benchmarks run the kit and their bare baselines on the same one
    (BENCH_SERVER=gunicorn|granian; default granian)."""
    if server == "granian":
        from cowin_kit.cli.web_cmd import BACKLOG, BACKPRESSURE

        return [tool("granian"), "--interface", "wsgi", "--workers", str(workers),
                "--blocking-threads", str(threads), "--backlog", str(BACKLOG),
                "--backpressure", str(BACKPRESSURE), "--host", "127.0.0.1", "--port", str(port),
                "--working-dir", str(folder), "--respawn-failed-workers",
                "--log-level", "warning", target]
    return [tool("gunicorn"), "--workers", str(workers), "--worker-class", "gthread",
            "--threads", str(threads), "--bind", f"127.0.0.1:{port}", "--keep-alive", "300",
            "--timeout", "120", "--chdir", str(folder), "--log-level", "warning", target]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


# --- an HTTP client with one keep-alive connection -----------------------------------------

class Client:
    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = {"Accept-Language": "en", "Content-Type": "application/json"}

    def request(self, method: str, path: str, body=None, headers=None, retry=True):
        data = json.dumps(body).encode() if body is not None else None
        hdrs = dict(self.headers, **(headers or {}))
        try:
            self.conn.request(method, API + path, body=data, headers=hdrs)
            resp = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # A keep-alive connection the server closed while idle: the request never ran.
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            if not retry:
                raise
            return self.request(method, path, body, headers, retry=False)
        raw = resp.read()
        return resp.status, raw, resp

    def json(self, method, path, body=None, expect=200):
        status, raw, _ = self.request(method, path, body)
        if status != expect:
            raise RuntimeError(f"{method} {path} -> {status}: {raw[:300]!r}")
        return json.loads(raw) if raw else None

    def close(self):
        self.conn.close()


def read_otp(outbox: Path, mobile: str, deadline: float = 10.0) -> str:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if outbox.exists():
            text = outbox.read_text(encoding="utf-8")
            # the server may be writing the last line: only whole lines are read
            for line in reversed(text[:text.rfind("\n") + 1].splitlines()):
                msg = json.loads(line)
                if "".join(ch for ch in msg["to"] if ch.isdigit()).endswith(mobile):
                    return next(w for w in msg["text"].split() if w.isdigit() and len(w) == 6)
        time.sleep(0.05)
    raise RuntimeError(f"no OTP for {mobile} in {outbox}")


# --- one deployment -------------------------------------------------------------------------

class Deployment:
    def __init__(self, kind: str, pg_url: str, workers: int, threads: int,
                 profile_dir: Path | None):
        self.kind, self.pg_url, self.workers, self.threads = kind, pg_url, workers, threads
        self.tmp = Path(tempfile.mkdtemp(prefix=f"booking-storm-{kind}-"))
        self.instance = self.tmp / "inst"
        self.db_url = None
        self.admin = None
        self.proc = None
        self.port = None
        self.profile_dir = profile_dir
        self.launcher: list[str] = []  # a command prefix, e.g. ["taskset", "-c", "0"] to pin
        self.server = SERVER  # the app server (server_command)
        self.fixed_port: int | None = None  # else a free port
        # One database per run, so two benchmarks on one server never drop each other's.
        self.pg_db = f"bench_storm_{os.getpid()}"

    def env(self) -> dict:
        env = dict(os.environ, COWIN_KIT_INSTANCE=str(self.instance),
                   COWIN_KIT_OTP_RESEND_SECONDS="0",
                   COWIN_KIT_OTP_MAX_PER_NUMBER_PER_DAY="1000",
                   COWIN_KIT_MEMBER_TRIES_PER_ADDRESS="100000 per hour",
                   COWIN_KIT_SMS_GATEWAY="file", BENCH_RATELIMIT="0")
        if self.profile_dir:
            env["BENCH_PROFILE_DIR"] = str(self.profile_dir)
        return env

    def provision(self) -> None:
        args = [tool("cowin-kit"), "init", "--country", COUNTRY, "--demo", "--no-input",
                "--admin-email", "bench@example.org", "--instance", str(self.instance)]
        if self.kind == "postgresql":
            url = self.pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
            self.admin = create_engine(url, isolation_level="AUTOCOMMIT")
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.pg_db}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{self.pg_db}"'))
            self.db_url = self.admin.url.set(database=self.pg_db).render_as_string(
                hide_password=False).replace("postgresql+psycopg://", "postgresql://", 1)
            args += ["--database-url", self.db_url]
        done = subprocess.run(args, capture_output=True, text=True, env=self.env())
        if done.returncode != 0:
            raise RuntimeError(f"init failed:\n{done.stdout}{done.stderr}")
        (self.tmp / "bench_wsgi.py").write_text(WSGI, encoding="utf-8")

    def database(self):
        from cowin_kit.config import load_settings
        from cowin_kit.db import Database
        settings = load_settings(self.instance, environ=self.env())
        return Database(settings["DATABASE_URL"], settings["SQLITE_BUSY_TIMEOUT"], 2)

    def seed(self, capacity: int) -> dict:
        """One session 60 days ahead at a demo centre; its id, slot and a district to search."""
        from cowin_kit.geography.models import Division
        from cowin_kit.profiles import load_profile
        from cowin_kit.programmes.models import Product
        from cowin_kit.scheduling.models import Facility
        from cowin_kit.scheduling.sessions import create_session

        tz = ZoneInfo(load_profile(COUNTRY)["timezone"])
        today = dt.datetime.now(tz).date()
        db = self.database()
        try:
            with db.session() as s:
                facility = s.scalars(select(Facility).where(Facility.is_demo.is_(True))
                                     .order_by(Facility.id)).first()
                product = s.scalars(select(Product).where(
                    Product.is_active.is_(True), Product.min_age_years <= 40,
                    (Product.max_age_years.is_(None)) | (Product.max_age_years >= 60))
                    .order_by(Product.id)).first()
                vs = create_session(s, facility, today + dt.timedelta(days=60), product,
                                    max(18, product.min_age_years), None, {1: capacity},
                                    [(dt.time(9), dt.time(13))])
                division = s.get(Division, facility.division_id)
                while division.level > 2 and division.parent_id is not None:
                    division = s.get(Division, division.parent_id)
                return {"session_id": vs.id, "slot": "09:00", "district_id": division.id,
                        "today": today.strftime("%d-%m-%Y"), "centre": facility.code,
                        "vaccine": product.code}
        finally:
            db.dispose()

    def tally(self, session_id: str) -> dict:
        from cowin_kit.scheduling.models import Appointment, SessionCapacity
        db = self.database()
        try:
            with db.session() as s:
                cap = s.scalars(select(SessionCapacity).where(
                    SessionCapacity.session_id == session_id,
                    SessionCapacity.dose_number == 1)).one()
                rows = s.scalar(select(func.count()).select_from(Appointment).where(
                    Appointment.session_id == session_id, Appointment.status == "booked"))
                return {"capacity": cap.capacity, "booked": cap.booked, "rows": rows}
        finally:
            db.dispose()

    def start(self) -> None:
        # BENCH_PORT: a port of one's own range on a shared machine; else any free one.
        self.port = self.fixed_port or int(os.environ.get("BENCH_PORT") or 0) or free_port()
        args = [*self.launcher, *server_command(self.server, self.workers, self.threads,
                                                self.port, self.tmp, "bench_wsgi:app")]
        self.log = open(self.tmp / "server.log", "w")
        self.proc = subprocess.Popen(args, env=self.env(), stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        end = time.monotonic() + 60
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.server} exited:\n"
                                   + (self.tmp / "server.log").read_text())
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.server} did not answer /healthz within 60 s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc:
            self.log.close()

    def cleanup(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.admin is not None:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.pg_db}" WITH (FORCE)'))
            self.admin.dispose()


# --- the phases -------------------------------------------------------------------------------

def run_pool(n_threads: int, items, fn):
    """Run fn(item) on n_threads threads; re-raise the first error."""
    items, errors, lock = list(items), [], threading.Lock()

    def loop():
        while True:
            with lock:
                if not items or errors:
                    return
                item = items.pop()
            try:
                fn(item)
            except Exception as exc:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(exc)
    threads = [threading.Thread(target=loop) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def phase1(dep: Deployment, clients: list[Client]) -> tuple[list[str], float]:
    types = Client(dep.port).json("GET", "/registration/beneficiary/idTypes")["types"]
    dni = next(t["id"] for t in types if t["code"] == "dni")
    outbox = dep.instance / "sms-outbox.jsonl"
    refs = [None] * len(clients)

    def journey(i):
        c = clients[i]
        mobile = f"9{12000000 + i:08d}"
        txn = c.json("POST", "/auth/public/generateOTP", {"mobile": mobile})["txnId"]
        code = read_otp(outbox, mobile)
        token = c.json("POST", "/auth/public/confirmOTP",
                       {"otp": hashlib.sha256(code.encode()).hexdigest(), "txnId": txn})["token"]
        c.headers["Authorization"] = f"Bearer {token}"
        refs[i] = c.json("POST", "/registration/beneficiary/new", {
            "name": f"Persona Bench {i}", "birth_year": "1980", "gender_id": 1 + i % 2,
            "photo_id_type": dni, "photo_id_number": f"{41000000 + i:08d}",
            "comorbidity_ind": "N", "consent_version": "1"})["beneficiary_reference_id"]
    started = time.perf_counter()
    run_pool(16, range(len(clients)), journey)
    return refs, time.perf_counter() - started


class Answer(NamedTuple):
    """One booking request of the storm: its HTTP status (or "error"), how long it took and
    when it ended (perf_counter seconds)."""

    status: int | str
    latency: float
    ended: float


def phase2(clients: list[Client], refs: list[str], seed: dict) -> dict:
    barrier = threading.Barrier(len(clients) + 1)
    results = [None] * len(clients)

    def book(i):
        body = {"dose": 1, "session_id": seed["session_id"], "slot": seed["slot"],
                "beneficiaries": [refs[i]]}
        barrier.wait()
        t0 = time.perf_counter()
        try:
            status, _raw, _ = clients[i].request("POST", "/appointment/schedule", body, retry=False)
        except OSError:
            status = "error"
        results[i] = Answer(status, time.perf_counter() - t0, time.perf_counter())

    threads = [threading.Thread(target=book, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    wall = max(r.ended for r in results) - started
    ok = [r for r in results if r.status == 200]
    lat = [r.latency for r in results]
    return {"wall": wall, "n200": len(ok), "n409": sum(r.status == 409 for r in results),
            "other": sorted({str(r.status) for r in results if r.status not in (200, 409)}),
            "n_other": sum(r.status not in (200, 409) for r in results),
            "bookings_s": len(ok) / wall if wall else 0.0,
            "requests_s": len(results) / wall if wall else 0.0,
            "p50": pct(lat, 50), "p95": pct(lat, 95), "p99": pct(lat, 99),
            "ok_p50": pct([r.latency for r in ok], 50)}


def phase3(port: int, seed: dict, duration: float, n_threads: int) -> dict:
    path = (f"/appointment/sessions/public/calendarByDistrict?district_id={seed['district_id']}"
            f"&date={seed['today']}")
    probe = Client(port)
    status, raw, resp = probe.request("GET", path)
    if status != 200:
        raise RuntimeError(f"calendarByDistrict -> {status}: {raw[:200]!r}")
    etag, centres = resp.getheader("ETag"), len(json.loads(raw)["centers"])
    probe.close()
    n_etag = n_threads // 4 if etag else 0
    stats = {"full": [], "etag": []}
    bad = []
    stop_at = [0.0]
    barrier = threading.Barrier(n_threads + 1)

    def hammer(kind):
        c, lat, hdrs = Client(port), [], ({"If-None-Match": etag} if kind == "etag" else None)
        want = 304 if kind == "etag" else 200
        barrier.wait()
        while time.perf_counter() < stop_at[0]:
            t0 = time.perf_counter()
            st, _raw, _ = c.request("GET", path, headers=hdrs)
            lat.append(time.perf_counter() - t0)
            if st != want:
                bad.append(st)
        c.close()
        stats[kind].append(lat)

    kinds = ["etag"] * n_etag + ["full"] * (n_threads - n_etag)
    threads = [threading.Thread(target=hammer, args=(k,)) for k in kinds]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + duration
    started = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    out = {"wall": wall, "centres": centres, "bad": len(bad), "bad_codes": sorted(set(bad)),
           "threads": {"full": n_threads - n_etag, "etag": n_etag}}
    for kind, lists in stats.items():
        lat = [x for lst in lists for x in lst]
        out[kind] = {"n": len(lat), "rps": len(lat) / wall,
                     "p50": pct(lat, 50), "p99": pct(lat, 99)}
    out["total_rps"] = (out["full"]["n"] + out["etag"]["n"]) / wall
    return out


def profile_report(profile_dir: Path) -> None:
    import pstats
    for label, needle in (("POST appointment/schedule", "POST.api.v2.appointment.schedule"),
                          ("GET calendarByDistrict", "calendarByDistrict")):
        files = [str(p) for p in profile_dir.glob("*.prof") if needle in p.name]
        if not files:
            continue
        print(f"\n  profile of {label} ({len(files)} request files; equal names overwrite each "
              "other), top by cumulative time:")
        st = pstats.Stats(files[0])
        for f in files[1:]:
            st.add(f)
        st.files = []  # do not list every profile file
        st.strip_dirs().sort_stats("cumulative").print_stats(22)
        print(f"  … and the kit's own functions in {label}:")
        st.print_stats(r"^(booking|otp|citizen|public|search|auth|db|app)\.py:", 20)


def ms(x: float) -> str:
    return f"{x * 1000:8.1f}"


def run_one(kind: str, opts) -> bool:
    profile_dir = Path(tempfile.mkdtemp(prefix="booking-storm-prof-")) if opts.profile else None
    dep = Deployment(kind, opts.pg_url, opts.workers, opts.threads, profile_dir)
    clients: list[Client] = []
    try:
        t0 = time.perf_counter()
        dep.provision()
        capacity = opts.clients // 2
        seed = dep.seed(capacity)
        dep.start()
        setup = time.perf_counter() - t0
        clients = [Client(dep.port) for _ in range(opts.clients)]
        refs, p1 = phase1(dep, clients)
        if profile_dir:  # keep only the storm's and the searches' profiles
            for p in profile_dir.glob("*.prof"):
                p.unlink()
        storm = phase2(clients, refs, seed)
        for c in clients:
            c.close()
        tally = dep.tally(seed["session_id"])
        search = phase3(dep.port, seed, opts.duration_searches, opts.search_threads)
    finally:
        for c in clients:
            c.close()
        dep.stop()
        dep.cleanup()
    over = max(tally["booked"] - tally["capacity"], tally["rows"] - tally["capacity"], 0)
    print(f"\n=== {kind}: {opts.clients} clients, "
          f"gunicorn {opts.workers} workers x {opts.threads} threads "
          f"(gthread), {os.cpu_count()} CPUs{' [PROFILED]' if profile_dir else ''} ===")
    print(f"  setup (init --demo, seed, start)      {setup:8.1f} s")
    print(f"  phase 1: login + register            {p1:8.1f} s  "
          f"({opts.clients * 3 / p1:.0f} req/s over 3 requests per client)")
    print("  phase 2: booking storm (one session, capacity dose1 = "
          f"{capacity}, {opts.clients} simultaneous POST appointment/schedule)")
    print(f"    wall time                          {storm['wall'] * 1000:8.1f} ms")
    print(f"    bookings/s (200s / wall)           {storm['bookings_s']:8.0f}")
    print(f"    requests/s (all answers / wall)    {storm['requests_s']:8.0f}")
    print(f"    latency p50 / p95 / p99 (ms)       "
          f"{ms(storm['p50'])} {ms(storm['p95'])} {ms(storm['p99'])}")
    print(f"    200 / 409 / other                  {storm['n200']:8d} {storm['n409']:8d} "
          f"{storm['n_other']:8d} {' '.join(storm['other'])}")
    print(f"    DB: capacity {tally['capacity']}, booked counter {tally['booked']}, "
          f"appointment rows 'booked' {tally['rows']}")
    print(f"    OVERBOOKINGS                       {over:8d}")
    print(f"  phase 3: calendarByDistrict (district {seed['district_id']}, {seed['today']}, "
          f"{search['centres']} centres), {opts.duration_searches:g} s")
    for kind_, label in (("full", "200 full answer"), ("etag", "304 If-None-Match")):
        s = search[kind_]
        print(f"    {label:<18} {search['threads'][kind_]:3d} thr  {s['rps']:8.0f} req/s  "
              f"p50 {ms(s['p50'])} ms  p99 {ms(s['p99'])} ms")
    print(f"    total                              {search['total_rps']:8.0f} req/s"
          + (f"   unexpected statuses: {search['bad']} {search['bad_codes']}"
             if search['bad'] else ""))
    if profile_dir:
        profile_report(profile_dir)
        shutil.rmtree(profile_dir, ignore_errors=True)
    ok = over == 0 and storm["n200"] == min(capacity, opts.clients) and storm["n_other"] == 0
    if over:
        print(f"  FAILED: {over} overbooking(s)")
    elif not ok:
        print("  WARNING: expected exactly capacity 200s and the rest 409s")
    return over == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="gthread threads per worker")
    parser.add_argument("--duration-searches", type=float, default=10)
    parser.add_argument("--search-threads", type=int, default=32)
    parser.add_argument("--profile", action="store_true",
                        help="profile each request in the workers and print the hot spots")
    opts = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if opts.db == "both" else [opts.db]
    good = True
    for kind in kinds:
        good = run_one(kind, opts) and good
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
