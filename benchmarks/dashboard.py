"""Dashboard figures over a seeded drive: the query layer, the API and the pages over HTTP,
and what keeping the rollups adds to recording a dose.

    python benchmarks/dashboard.py [--db sqlite|postgresql|both]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--doses N]
        [--instance DIR] [--runs 40] [--seconds 5] [--clients 1,8] [--workers 2]
        [--threads 4] [--record 500] [--skip-http] [--skip-maintenance]

Per database: a fresh `cowin-kit init --country PE --demo` instance seeded by
benchmarks/seed_population.py (--doses; default 10,000,000 on PostgreSQL, 200,000 on SQLite;
rollups rebuilt), or an instance seeded before (`seed_population.py --keep`, then
--instance DIR). Four areas: the nation, the level-1 division, the district (lowest level)
and the centre with the most doses. Each figure beside its baseline, measured in the same run:

1. **query layer**: reporting.dashboard.dashboard_figures (what the page and the API send:
   totals, today live, 90 days, products, age and gender, the areas one level down), with
   resolve_area and programme_figures, one session per call, no cache; --runs calls per
   area, p50/p95. Baseline: raw SQL (DBAPI cursor) reading the same aggregates from the
   rollup tables. For scale, the totals alone counted from the dose rows (no rollups).
2. **HTTP** (gunicorn gthread, --workers x --threads, on 127.0.0.1): `GET
   /api/v2/reports/dashboard?division=<code>` / `?facility=<code>` (target p95 < 50 ms) and
   the page `GET /dashboard?division=<code>` / `?facility=<code>` (target p95 < 200 ms), the
   four areas in turn, by 1 and by 8 keep-alive clients (--clients) for --seconds each, with
   the figures cache on (REPORTS_CACHE_SECONDS default) and off
   (COWIN_KIT_REPORTS_CACHE_SECONDS=0). A path that answers 404 (not built yet) is skipped
   with a message; GET /healthz checks the machinery. Baseline: a bare WSGI app in the same
   gunicorn set-up answering the same bytes.
3. **rollup maintenance**: the time to record a dose (--record booked appointments at 20
   centres recorded by vaccination.recording.record_at_centre as the staff pages do, and
   --record doses by the bare vaccination.service.record_dose; one transaction each) against
   the fold's time per dose (rollups.fold of those, then of 1,000 and of 50,000 waiting
   doses): "rollup maintenance adds X %" (target < 10 %). And the rollup_batch index's cost
   per insert: the same single-row INSERTs with and without it.

Exits 1 when an HTTP answer is neither 200 nor a skipped 404, or a check fails. Only talks
to 127.0.0.1.
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from booking_storm import SERVER, WSGI, Deployment, free_port, pct, server_command
from seed_population import COUNTRY, check_rollups, describe, seed, table_sizes, time_rollups
from sqlalchemy import func, select, text

BARE_WSGI = '''\
import json, os
FOLDER = os.environ["BENCH_BARE"]
INDEX = json.load(open(os.path.join(FOLDER, "index.json")))
BODIES = {k: (v[0], open(os.path.join(FOLDER, v[1]), "rb").read()) for k, v in INDEX.items()}

def app(environ, start_response):
    key = environ["PATH_INFO"] + ("?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING")
                                  else "")
    kind, body = BODIES.get(key, ("text/plain", b"not found"))
    start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(body)))])
    return [body]
'''


def ms(x: float) -> str:
    return f"{x * 1000:.1f}"


def _p(values: list[float]) -> tuple[float, float]:
    return pct(values, 50), pct(values, 95)


# --- deployments --------------------------------------------------------------------------------

class Attached(Deployment):
    """An instance seeded before (seed_population.py --keep): served, never dropped."""

    def __init__(self, instance: Path, workers: int, threads: int):
        super().__init__("attached", "", workers, threads, None)
        self.instance = instance.resolve()
        (self.tmp / "bench_wsgi.py").write_text(WSGI, encoding="utf-8")
        db = self.database()
        self.kind = db.engine.dialect.name
        db.dispose()


def serve(dep: Deployment, extra_env: dict) -> None:
    """Start the kit's gunicorn with extra environment variables."""
    base = dep.env
    dep.env = lambda: {**base(), **extra_env}
    try:
        dep.start()
    finally:
        dep.env = base


# --- the areas --------------------------------------------------------------------------------

def busiest_areas(db) -> list[tuple[str, str, str]]:
    """[(label, query parameter, code)]: the nation, and the level-1 division, the
    lowest-level division and the centre with the most doses."""
    from cowin_kit.geography.models import Division
    from cowin_kit.reporting.models import DoseRollupTotal as T
    from cowin_kit.scheduling.models import Facility

    with db.session() as s:
        deepest = s.scalar(select(func.max(Division.level)))

        def top(level):
            return s.execute(select(Division.code).join(T, T.division_id == Division.id)
                             .where(T.facility_id == 0, Division.level == level)
                             .group_by(Division.code).order_by(func.sum(T.doses).desc())
                             .limit(1)).scalar()
        facility = s.execute(select(Facility.code).join(T, T.facility_id == Facility.id)
                             .group_by(Facility.code).order_by(func.sum(T.doses).desc())
                             .limit(1)).scalar()
        return [("nation", "division", ""), ("level 1", "division", top(1)),
                (f"district (level {deepest})", "division", top(deepest)),
                ("centre", "facility", facility)]


# --- 1. the query layer ------------------------------------------------------------------------

def kit_figures(db, profile, param: str, code: str, today: dt.date) -> dict:
    from cowin_kit.reporting import dashboard, queries

    with db.session() as s:
        area = queries.resolve_area(s, profile, "en", **({param: code} if code else {}))
        programme = queries.programme_figures(s, "en", None, profile.default_language)
        start, end = queries.date_range(None, None, today)
        return dashboard.dashboard_figures(s, profile, "en", area, programme, start, end, today)


def raw_figures(db, param: str, code: str, today: dt.date) -> int:
    """The same aggregates in raw SQL on one pooled DBAPI connection: rows read."""
    pg = db.engine.dialect.name == "postgresql"
    q = (lambda sql: sql) if pg else (lambda sql: sql.replace("%s", "?"))
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        if not code:
            div, fac = 0, 0
            cur.execute("SELECT id FROM division WHERE level = 1")
            ids = [r[0] for r in cur.fetchall()]
            kids = ("SELECT division_id, product_id, dose_number, sum(doses) FROM "
                    f"dose_rollup_total WHERE division_id IN ({', '.join(map(str, ids))}) AND "
                    "facility_id = 0 GROUP BY 1, 2, 3", ())
        elif param == "facility":
            cur.execute(q("SELECT division_id, id FROM facility WHERE code = %s"), (code,))
            div, fac = cur.fetchone()
            kids = None
        else:
            cur.execute(q("SELECT id FROM division WHERE code = %s"), (code,))
            div, fac = cur.fetchone()[0], 0
            cur.execute(q("SELECT id FROM division WHERE parent_id = %s"), (div,))
            ids = [r[0] for r in cur.fetchall()]
            if ids:
                kids = ("SELECT division_id, product_id, dose_number, sum(doses) FROM "
                        f"dose_rollup_total WHERE division_id IN ({', '.join(map(str, ids))}) "
                        "AND facility_id = 0 GROUP BY 1, 2, 3", ())
            else:
                cur.execute(q("SELECT id FROM facility WHERE division_id = %s"), (div,))
                ids = [r[0] for r in cur.fetchall()] or [0]
                kids = ("SELECT facility_id, product_id, dose_number, sum(doses) FROM "
                        f"dose_rollup_total WHERE division_id = %s AND facility_id IN "
                        f"({', '.join(map(str, ids))}) GROUP BY 1, 2, 3", (div,))
        start = today - dt.timedelta(days=89)
        statements = [
            ("SELECT product_id, dose_number, sum(doses) FROM dose_rollup_total WHERE "
             "division_id = %s AND facility_id = %s GROUP BY 1, 2", (div, fac)),
            ("SELECT age_band, gender, product_id, dose_number, sum(doses) FROM "
             "dose_rollup_total WHERE division_id = %s AND facility_id = %s GROUP BY 1, 2, 3, 4",
             (div, fac)),
            ("SELECT day, product_id, dose_number, sum(doses) FROM dose_rollup WHERE "
             "division_id = %s AND facility_id = %s AND day >= %s AND day <= %s "
             "GROUP BY 1, 2, 3", (div, fac, start, today)),
            ("SELECT product_id, dose_number, count(*) FROM dose WHERE rollup_batch IS NULL "
             "AND given_on = %s GROUP BY 1, 2", (today,)),
        ]
        if kids:
            statements.append(kids)
        n = 0
        for sql, args in statements:
            cur.execute(q(sql), args)
            n += len(cur.fetchall())
        raw.commit()
        return n
    finally:
        raw.close()


def from_doses(db, param: str, code: str) -> None:
    """The totals counted from the dose rows, as without rollups."""
    base = ("SELECT d.product_id, d.dose_number, count(*) FROM dose d")
    with db.engine.connect() as conn:
        if not code:
            conn.execute(text(base + " GROUP BY 1, 2")).all()
        elif param == "facility":
            conn.execute(text(base + " JOIN facility f ON f.id = d.facility_id WHERE f.code = "
                              ":c GROUP BY 1, 2"), {"c": code}).all()
        else:
            conn.execute(text(
                "WITH RECURSIVE sub(id) AS (SELECT id FROM division WHERE code = :c UNION ALL "
                "SELECT v.id FROM division v JOIN sub ON v.parent_id = sub.id) "
                + base + " JOIN facility f ON f.id = d.facility_id WHERE f.division_id IN "
                "(SELECT id FROM sub) GROUP BY 1, 2"), {"c": code}).all()


def timed_runs(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def query_layer(db, profile, areas, runs: int, today: dt.date) -> list[dict]:
    results = []
    for label, param, code in areas:
        figures = kit_figures(db, profile, param, code, today)  # warm
        raw_figures(db, param, code, today)
        kit = timed_runs(lambda p=param, c=code: kit_figures(db, profile, p, c, today), runs)
        raw = timed_runs(lambda p=param, c=code: raw_figures(db, p, c, today), runs)
        slow = timed_runs(lambda p=param, c=code: from_doses(db, p, c), 3)
        results.append({"label": label, "code": code or COUNTRY, "kit": _p(kit),
                        "raw": _p(raw), "doses": statistics.median(slow),
                        "total": figures["totals"]["doses"],
                        "children": len(figures["children"])})
    return results


# --- 2. HTTP ------------------------------------------------------------------------------------

def get(port: int, path: str) -> tuple[int, bytes, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", path, headers={"Accept-Language": "en"})
        resp = conn.getresponse()
        return resp.status, resp.read(), resp.getheader("Content-Type", "")
    finally:
        conn.close()


def load(port: int, paths: list[str], seconds: float, clients: int) -> dict:
    """``clients`` threads, one keep-alive connection each, GET the paths in turn for
    ``seconds``: rate, p50/p95/p99, statuses."""
    latencies: list[float] = []
    statuses: dict = {}
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)
    stop = [0.0]

    def run(i: int):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        got, codes, k = [], {}, i
        barrier.wait()
        while time.perf_counter() < stop[0]:
            path = paths[k % len(paths)]
            k += 1
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Accept-Language": "en"})
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                status = "error"
            got.append(time.perf_counter() - t0)
            codes[status] = codes.get(status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(got)
            for key, v in codes.items():
                statuses[key] = statuses.get(key, 0) + v

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    stop[0] = time.perf_counter() + seconds
    started = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return {"rate": len(latencies) / elapsed, "p50": pct(latencies, 50),
            "p95": pct(latencies, 95), "p99": pct(latencies, 99), "statuses": statuses,
            "n": len(latencies)}


def bare_server(folder: Path, bodies: dict, workers: int, threads: int, port: int | None = None,
                launcher: tuple = ()):
    """A bare WSGI app in the kit's app server (booking_storm.server_command) answering
    each path with its captured bytes; ``launcher`` prefixes the command (e.g. taskset to
    pin it to a core)."""
    folder.mkdir(exist_ok=True)
    index = {}
    for i, (path, (kind, body)) in enumerate(bodies.items()):
        (folder / f"body{i}").write_bytes(body)
        index[path] = [kind, f"body{i}"]
    (folder / "index.json").write_text(json.dumps(index), encoding="utf-8")
    (folder / "bare_wsgi.py").write_text(BARE_WSGI, encoding="utf-8")
    port = port or free_port()
    proc = subprocess.Popen([*launcher, *server_command(SERVER, workers, threads, port,
                                                        folder, "bare_wsgi:app")],
                            env=dict(os.environ, BENCH_BARE=str(folder)),
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        try:
            get(port, "/")
            return proc, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the bare server did not start")


ENDPOINTS = [("dashboard API", "/api/v2/reports/dashboard", 0.050),
             ("dashboard page", "/dashboard", 0.200)]


def http_phase(dep: Deployment, areas, opts) -> tuple[list[str], bool]:
    lines, ok = [], True
    clients = [int(c) for c in opts.clients.split(",")]
    results: dict = {}
    bodies: dict = {}
    for cache, extra in (("cached", {}), ("cache off", {"COWIN_KIT_REPORTS_CACHE_SECONDS": "0"})):
        serve(dep, extra)
        try:
            status, body, _ = get(dep.port, "/healthz")
            hz = load(dep.port, ["/healthz"], min(opts.seconds, 3), clients[-1])
            lines.append(f"  [{cache}] GET /healthz -> {status} {body[:40]!r}: "
                         f"{hz['rate']:,.0f}/s p50 {ms(hz['p50'])} p95 {ms(hz['p95'])} ms "
                         f"({clients[-1]} clients; the machinery works)")
            for name, base, _target in ENDPOINTS:
                paths = [base + (f"?{param}={code}" if code else "")
                         for _l, param, code in areas]
                answers = {p: get(dep.port, p) for p in paths}
                missing = [p for p, (st, _b, _k) in answers.items() if st == 404]
                if len(missing) == len(paths):
                    lines.append(f"  [{cache}] {name}: SKIPPED, {base} answers 404 (not on "
                                 "this branch yet)")
                    continue
                bad = {p: st for p, (st, _b, _k) in answers.items() if st != 200}
                if bad:
                    lines.append(f"  [{cache}] {name}: CHECK FAILED, answers {bad}")
                    ok = False
                    continue
                for p, (_st, body, kind) in answers.items():
                    bodies.setdefault(p, (kind, body))
                for _ in range(2 * opts.workers):  # fill each worker's cache
                    for p in paths:
                        get(dep.port, p)
                for n in clients:
                    r = load(dep.port, paths, opts.seconds, n)
                    results[(name, cache, n)] = r
                    if set(r["statuses"]) != {200}:
                        lines.append(f"  CHECK FAILED: {name} {cache}: {r['statuses']}")
                        ok = False
        finally:
            dep.stop()
    if bodies:
        proc, port = bare_server(dep.tmp / "bare", bodies, opts.workers, opts.threads)
        try:
            for name, base, _target in ENDPOINTS:
                paths = [p for p in bodies if p.split("?")[0] == base]
                if paths:
                    for n in clients:
                        results[(name, "bare", n)] = load(port, paths, opts.seconds, n)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
    for name, base, target in ENDPOINTS:
        for n in clients:
            bare = results.get((name, "bare", n))
            for cache in ("cached", "cache off"):
                r = results.get((name, cache, n))
                if r is None:
                    continue
                verdict = "meets" if r["p95"] < target else "MISSES"
                lines.append(
                    f"  {name} {base} [{cache}], {n} client{'s' if n > 1 else ''}: "
                    f"{r['rate']:,.0f}/s p50 {ms(r['p50'])} p95 {ms(r['p95'])} p99 "
                    f"{ms(r['p99'])} ms ({verdict} p95 < {target * 1000:.0f} ms); bare server "
                    f"{bare['rate']:,.0f}/s p95 {ms(bare['p95'])} ms; ratio (rate) "
                    f"{r['rate'] / bare['rate']:.2f}")
    return lines, ok


# --- 3. rollup maintenance ----------------------------------------------------------------------

def new_people(db, n: int, tag: str) -> list[int]:
    """n people without doses (bulk insert: not what is measured)."""
    from cowin_kit.registration.models import Beneficiary, IdDocumentType

    now = dt.datetime.now(dt.UTC)
    with db.session() as s:
        doc = s.scalar(select(IdDocumentType.id).order_by(IdDocumentType.id))
        tag = f"{tag}{time.time_ns() % 10**6:06d}"  # unique in the database
        rows = [{"reference_id": f"6{tag}{i:0{13 - len(tag)}d}", "name": f"Persona {tag} {i}",
                 "birth_year": 1970 + i % 40, "gender": ("female", "male")[i % 2],
                 "priority_groups": [], "id_document_type_id": doc,
                 "id_number_hash": f"{tag}-{i}-{time.time_ns()}".ljust(64, "0")[:64],
                 "id_number_encrypted": "x", "id_number_masked": "XXXX0000",
                 "id_verification_status": "unverified", "id_verification_reference": "",
                 "created_at": now} for i in range(n)]
        return sorted(s.scalars(Beneficiary.__table__.insert().returning(Beneficiary.id),
                                rows))


def record_at_centres(dep: Deployment, n: int, today: dt.date) -> float:
    """Seconds per dose recorded by recording.record_at_centre for n booked appointments
    at 20 centres (benchmarks/vaccination_day.py's set-up: sessions today, lots,
    vaccinators), one transaction each."""
    import uuid

    from vaccination_day import seed as day_seed

    from cowin_kit.accounts.models import StaffUser
    from cowin_kit.db import utcnow
    from cowin_kit.vaccination import recording
    from cowin_kit.vaccination.centre import SITE_CODES

    data = day_seed(dep, 20, 20, n)
    db = dep.database()
    try:
        with db.Session() as s:
            users = {centre: s.scalar(select(StaffUser).where(StaffUser.email == email))
                     for email, centre in data["users"]}
            s.expunge_all()
            t0 = time.perf_counter()
            for appt, centre, _person in data["appointments"]:
                req = recording.DoseRequest(appointment_id=appt, lot_id=data["lots"][centre],
                                            site=SITE_CODES[0],
                                            idempotency_key=str(uuid.uuid4()))
                recording.record_at_centre(s, s.merge(users[centre], load=False), None, req,
                                           now=utcnow(), timezone="America/Lima",
                                           may_supervise=False)
                s.commit()
            return (time.perf_counter() - t0) / len(data["appointments"])
    finally:
        db.dispose()


def maintenance(dep: Deployment, db, profile, record: int, today: dt.date) -> list[str]:
    from cowin_kit.programmes.models import Product
    from cowin_kit.reporting import rollups
    from cowin_kit.scheduling.models import Facility
    from cowin_kit.vaccination.models import Dose
    from cowin_kit.vaccination.service import record_dose

    bands = profile["reporting"]["age_bands"]
    lines = []
    with db.session() as s:
        product = s.scalar(select(Product).where(Product.code == "comirnaty"))
        facilities = list(s.scalars(select(Facility.id).where(Facility.code.like("SEED-%"))
                                    .order_by(Facility.id)))
        s.expunge(product)
        assert rollups.pending(s) == 0, "fold the seeded doses first"
    # The time to record a dose, two ways, one transaction each: at a centre as the staff
    # pages do (recording.record_at_centre: the appointment, the lot, the checks, the audit
    # entry, the SMS), and the bare service (record_dose), a smaller, stricter denominator.
    per_centre = record_at_centres(dep, record, today)
    lines.append(f"  record a dose at a centre (vaccination.recording.record_at_centre + commit, "
                 f"{record} appointments at 20 centres, one transaction each): "
                 f"{per_centre * 1000:.2f} ms a dose")
    people = new_people(db, record, "10")
    with db.Session() as s:
        t0 = time.perf_counter()
        for i, pid in enumerate(people):
            record_dose(s, beneficiary_id=pid, product=product.id, dose_number=1,
                        given_on=today, facility_id=facilities[i * 7919 % len(facilities)])
            s.commit()
        per_record = (time.perf_counter() - t0) / len(people)
    lines.append(f"  record a dose, the bare service (vaccination.service.record_dose + commit, "
                 f"{len(people)} doses): {per_record * 1000:.2f} ms a dose")
    folds = []
    with db.Session() as s:
        t0 = time.perf_counter()
        done = rollups.fold(s, bands).doses
        folds.append((done, (time.perf_counter() - t0) / done, "the doses just recorded"))
    # 1,000 and 50,000 doses waiting (bulk-inserted: the fold is measured).
    for n, tag in ((1000, "11"), (50_000, "12")):
        ids = new_people(db, n, tag)
        rows = [{"beneficiary_id": pid, "programme_id": product.programme_id,
                 "dose_number": 1, "product_id": product.id,
                 "facility_id": facilities[i * 7919 % len(facilities)],
                 "given_on": today - dt.timedelta(days=i % 3),
                 "created_at": dt.datetime.now(dt.UTC)} for i, pid in enumerate(ids)]
        with db.session() as s:
            s.execute(Dose.__table__.insert(), rows)
        with db.Session() as s:
            t0 = time.perf_counter()
            done = rollups.fold(s, bands, limit=n).doses
            folds.append((done, (time.perf_counter() - t0) / done, "bulk-inserted"))
    for n, per, what in folds:
        lines.append(f"  fold {n:,} waiting doses ({what}): {per * 1e6:,.0f} µs a dose "
                     f"({per * n:.2f} s): "
                     f"{100 * per / per_centre:.1f} % of recording one at a centre, "
                     f"{100 * per / per_record:.1f} % of the bare service")
    for n, per, _what in folds[1:]:
        lines.append(f"  => with {n:,} doses a fold, rollup maintenance adds "
                     f"{100 * per / per_centre:.1f} % to the time to record a dose at a "
                     f"centre ({100 * per / per_record:.1f} % to the bare service); "
                     "target < 10 %")
    lines.extend(index_cost(db, product, facilities, today))
    with db.Session() as s:  # count those too, so the instance can be measured again
        rollups.fold_all(s, bands)
    return lines


def index_cost(db, product, facilities: list[int], today: dt.date, n: int = 5000) -> list[str]:
    """Single-row INSERTs of doses in one transaction, with and without ix_dose_rollup_batch
    (without: dropped, then built again)."""
    pg = db.engine.dialect.name == "postgresql"
    sql = ("INSERT INTO dose (beneficiary_id, programme_id, dose_number, product_id, "
           "facility_id, given_on, created_at) VALUES (%s, %s, 1, %s, %s, %s, %s)")
    if not pg:
        sql = sql.replace("%s", "?")
    now = dt.datetime.now(dt.UTC)
    stamp = now.isoformat() if pg else now.strftime("%Y-%m-%d %H:%M:%S.%f")
    out = {}
    for with_index, tag in ((True, "13"), (False, "14"), (True, "15")):
        ids = new_people(db, n, tag)
        raw = db.engine.raw_connection()
        try:
            cur = raw.cursor()
            if not with_index:
                cur.execute("DROP INDEX ix_dose_rollup_batch")
                raw.commit()
            t0 = time.perf_counter()
            if not pg:
                cur.execute("BEGIN")
            for i, pid in enumerate(ids):
                cur.execute(sql, (pid, product.programme_id, product.id,
                                  facilities[i % len(facilities)], today.isoformat(), stamp))
            raw.commit()
            out.setdefault(with_index, []).append((time.perf_counter() - t0) / n)
            if not with_index:
                t0 = time.perf_counter()
                cur.execute("CREATE INDEX ix_dose_rollup_batch ON dose (rollup_batch)")
                raw.commit()
                rebuild = time.perf_counter() - t0
        finally:
            raw.close()
    with_i = statistics.mean(out[True])
    without = out[False][0]
    return [f"  rollup_batch index on insert ({n:,} single-row INSERTs in one transaction, "
            f"runs with/without/with): {with_i * 1e6:.0f} µs with it, {without * 1e6:.0f} µs "
            f"without; the index costs {(with_i - without) * 1e6:+.0f} µs an insert "
            f"(rebuilding it took {rebuild:.1f} s)"]


# --- a run ----------------------------------------------------------------------------------------

def run_one(kind: str, opts) -> bool:
    import cowin_kit.models  # noqa: F401 - every table, for the ORM's foreign keys
    from cowin_kit.profiles import load_profile

    profile = load_profile(COUNTRY)
    today = dt.datetime.now(ZoneInfo(profile["timezone"])).date()
    if opts.instance:
        dep = Attached(Path(opts.instance), opts.workers, opts.threads)
        kind = dep.kind
    else:
        dep = Deployment(kind, opts.pg_url, opts.workers, opts.threads, None)
        dep.pg_db = f"bench_seed_{os.getpid()}"
    ok = True
    try:
        print(f"\n== {kind} ==  ({os.cpu_count()} CPUs, load average "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())})")
        if not opts.instance:
            doses = opts.doses or (10_000_000 if kind == "postgresql" else 200_000)
            dep.provision()
            db = dep.database()
            stats = seed(db, profile, doses=doses, progress=not opts.quiet)
            describe(kind, stats, doses)
            secs, n = time_rollups(db, profile, "rebuild")["rebuild"]
            print(f"  rollups.rebuild(): {secs:.1f} s for {n:,} doses")
        else:
            db = dep.database()
            print(f"  instance {dep.instance}")
        c = check_rollups(db)
        print(f"  {c['doses']:,} doses; the nation's rollups count {c['total']:,}; "
              f"{c['rollup_rows']:,} daily rollup rows; {table_sizes(db)}")
        if c["total"] != c["doses"]:
            print("  CHECK FAILED: the rollups do not hold every dose (fold or rebuild first)")
            return False
        areas = busiest_areas(db)
        print(f"\n  1. query layer: dashboard_figures (90 days), {opts.runs} calls per area, "
              "no cache; baseline raw SQL over the rollups")
        for r in query_layer(db, profile, areas, opts.runs, today):
            print(f"  {r['label']:<22} {r['code']:<12} {r['total']:>10,} doses "
                  f"{r['children']:>4} below: p50 {ms(r['kit'][0])} p95 {ms(r['kit'][1])} ms; "
                  f"raw SQL p50 {ms(r['raw'][0])} p95 {ms(r['raw'][1])} ms; ratio (p50) "
                  f"{r['kit'][0] / r['raw'][0]:.1f}; totals from the dose rows "
                  f"{ms(r['doses'])} ms")
        if not opts.skip_http:
            print(f"\n  2. HTTP: gunicorn {opts.workers} workers x {opts.threads} threads, "
                  f"{opts.seconds:g} s per set, the four areas in turn")
            lines, good = http_phase(dep, areas, opts)
            ok &= good
            print("\n".join(lines))
        if not opts.skip_maintenance:
            print("\n  3. rollup maintenance")
            print("\n".join(maintenance(dep, db, profile, opts.record, today)))
        db.dispose()
    finally:
        dep.stop()
        if opts.instance:
            shutil.rmtree(dep.tmp, ignore_errors=True)
        else:
            dep.cleanup()
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--doses", type=int, default=0,
                        help="default 10,000,000 on PostgreSQL, 200,000 on SQLite")
    parser.add_argument("--instance", help="an instance seeded by seed_population.py --keep")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--clients", default="1,8")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--record", type=int, default=500)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-maintenance", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    opts = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    kinds = ("sqlite", "postgresql") if opts.db == "both" and not opts.instance else (
        (opts.db if opts.db != "both" else "instance"),)
    ok = all([run_one(kind, opts) for kind in kinds])
    print("\nall checks passed" if ok else "\nSOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
