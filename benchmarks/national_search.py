"""Search at a country's size: tens of thousands of centres, a district of 500.

    python benchmarks/national_search.py [--db sqlite|postgresql|both]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--pg-db t_search_bench]
        [--centres 30000] [--district-centres 500] [--days 7] [--runs 20] [--seconds 5]
        [--clients 4] [--workers 2] [--threads 4] [--before-runs 3]

Per database a fresh `cowin-kit init --country PE --demo` instance (PostgreSQL: the database
--pg-db, created and dropped here), then Peru's real division counts: the profile's 26
first-level divisions with INEI's populations, 196 provinces and 1,874 distritos generated
under them (seed_population's way, names made up, coordinates around each department's
capital), --centres centres spread over the distritos by population, of which exactly
--district-centres in one province of Metropolitan Lima (the API's "district": Co-WIN's
district_id is the profile's second level); each centre with a session on each of --days
days (dose 1 and 2 places, some booked, four slots). Rows go in with Core executemany.

Measured, each beside a baseline from the same run:

1. **query layer** (one process, one session a call, --runs calls, p50/p95):
   `scheduling.search.calendar` for the 500-centre district (what calendarByDistrict and
   the portal build) against raw SQL (DBAPI cursor) reading the same rows: the sessions with
   their centres, places and slots; and against the code before this change (main's
   search.py, imported from git, --before-runs calls). `nearby.nearest_centres` against
   the code before (every centre read and sorted in Python). The calendar answer built
   and JSON-encoded as a cold calendarByDistrict makes it, against main's search.py
   before the cold build's second round (COLD_BEFORE), alternately, with a check that
   both give the same bytes.
2. **HTTP** (gunicorn gthread --workers x --threads on 127.0.0.1, --clients keep-alive
   clients for --seconds): calendarByDistrict and findByDistrict for the district,
   findByLatLong at points in Lima and the portal's search page for the district (page 1
   of 20 centres), each with the answer caches on (as deployed: 10 s) and off (every
   request builds its answer: the cold figure), against a bare WSGI app in the same
   gunicorn set-up answering the same bytes (benchmarks/dashboard.py's). Ratios of rates.
   Cold answers also with one client, one request after another (a cold answer's own
   time, after the server's first requests).

Exits 1 when an answer is not a 200 or a check fails. Only talks to 127.0.0.1, on ports
18300-18399.
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import math
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import booking_storm
import dashboard
from booking_storm import WSGI, Deployment, pct
from seed_population import REGIONS, _split, _spread
from sqlalchemy import select, text

HERE = Path(__file__).resolve().parent
BEFORE = "81e418b"  # main before issue 15 item 4
COLD_BEFORE = "215cbee"  # main before the cold build's second round (Core rows, no JIT)
# Each department's capital, roughly (decimal degrees): where its centres are placed.
CAPITALS = {
    "PE-AMA": (-6.23, -77.87), "PE-ANC": (-9.53, -77.53), "PE-APU": (-13.64, -72.88),
    "PE-ARE": (-16.40, -71.54), "PE-AYA": (-13.16, -74.22), "PE-CAJ": (-7.16, -78.51),
    "PE-CAL": (-12.06, -77.12), "PE-CUS": (-13.53, -71.97), "PE-HUC": (-9.93, -76.24),
    "PE-HUV": (-12.79, -74.97), "PE-ICA": (-14.07, -75.73), "PE-JUN": (-12.07, -75.21),
    "PE-LAL": (-8.11, -79.03), "PE-LAM": (-6.77, -79.84), "PE-LIM": (-11.10, -77.61),
    "PE-LMA": (-12.05, -77.04), "PE-LOR": (-3.75, -73.25), "PE-MDD": (-12.59, -69.19),
    "PE-MOQ": (-17.19, -70.94), "PE-PAS": (-10.68, -76.26), "PE-PIU": (-5.19, -80.63),
    "PE-PUN": (-15.84, -70.02), "PE-SAM": (-6.03, -76.97), "PE-TAC": (-18.01, -70.25),
    "PE-TUM": (-3.57, -80.45), "PE-UCA": (-8.38, -74.55),
}
SLOTS = [(dt.time(9), dt.time(11)), (dt.time(11), dt.time(13)), (dt.time(14), dt.time(16)),
         (dt.time(16), dt.time(18))]
NO_CACHE_WSGI = WSGI + '''
if os.environ.get("BENCH_NO_CACHE") == "1":  # every request builds its answer
    from cowin_kit.api import public
    from cowin_kit.portal import search_views
    public.ANSWER_TTL_SECONDS = 0
    search_views.CACHE_SECONDS = 0
'''


def port_in_range() -> int:
    """A free port of this helper's range (18300-18399)."""
    for port in random.sample(range(18300, 18400), 100):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18300-18399")


booking_storm.free_port = dashboard.free_port = port_in_range


def ms(x: float) -> str:
    return f"{x * 1000:.1f}"


# --- seeding -------------------------------------------------------------------------------------

def seed(dep: Deployment, centres: int, district_centres: int, days: int, rng: random.Random):
    """Divisions, centres and sessions; returns what the measures need."""
    from cowin_kit.geography.models import Division
    from cowin_kit.geography.service import import_divisions_csv
    from cowin_kit.profiles import load_profile
    from cowin_kit.programmes.models import Product
    from cowin_kit.scheduling.models import (
        Facility,
        SessionCapacity,
        Slot,
        VaccinationSession,
    )

    profile = load_profile("PE")
    db = dep.database()
    t0 = time.perf_counter()
    codes = sorted(REGIONS)
    per_region = _spread(196, [math.sqrt(REGIONS[c]) for c in codes], 1)
    rows, prov, where = [], [], {}
    for code, n in zip(codes, per_region, strict=True):
        lat0, lon0 = CAPITALS[code]
        for i, pop in enumerate(_split(REGIONS[code], n, rng), 1):
            p_code = f"{code[3:]}{i:02d}"
            rows.append([p_code, 2, code, f"Provincia {code[3:]} {i:02d}", "", pop])
            prov.append((p_code, pop))
            where[p_code] = (lat0, lon0) if i == 1 else (lat0 + rng.uniform(-1, 1),
                                                         lon0 + rng.uniform(-1, 1))
    per_prov = _spread(1874, [pop for _c, pop in prov], 1)
    dist = []
    for (p_code, p_pop), n in zip(prov, per_prov, strict=True):
        lat0, lon0 = where[p_code]
        spread = 0.12 if p_code == "LMA01" else 0.3
        for j, pop in enumerate(_split(p_pop, n, rng), 1):
            d_code = f"{p_code}{j:03d}"
            rows.append([d_code, 3, p_code, f"Distrito {p_code}-{j:03d}", "", pop])
            dist.append((d_code, p_code, pop))
            where[d_code] = (lat0 + rng.uniform(-spread, spread),
                             lon0 + rng.uniform(-spread, spread))
    path = dep.tmp / "divisions.csv"
    import csv
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["code", "level", "parent_code", "name", "postal_code", "population"])
        w.writerows(rows)
    with db.session() as s:
        import_divisions_csv(s, path, profile)
        s.commit()
        ids = dict(s.execute(select(Division.code, Division.id)).all())
        product = s.scalar(select(Product).where(Product.code == "comirnaty"))
    target = [d for d in dist if d[1] == "LMA01"]
    others = [d for d in dist if d[1] != "LMA01"]
    counts = (_spread(district_centres, [pop for *_c, pop in target], 1)
              + _spread(centres - district_centres, [pop for *_c, pop in others], 0))
    start = dt.date.today() + dt.timedelta(days=2)
    fac, n = [], 0
    for (d_code, _p, _pop), k in zip(target + others, counts, strict=True):
        lat0, lon0 = where[d_code]
        for _ in range(k):
            n += 1
            fac.append({"code": f"NAT-{n:06d}", "name": f"Centro de vacunación {n}",
                        "names": {}, "address": f"Av. Principal {rng.randint(1, 2000)}",
                        "division_id": ids[d_code], "postal_code": f"{rng.randint(1, 25):02d}"
                        f"{rng.randint(0, 999):03d}",
                        "latitude": round(lat0 + rng.uniform(-0.02, 0.02), 5),
                        "longitude": round(lon0 + rng.uniform(-0.02, 0.02), 5),
                        "fee_type": "Paid" if rng.random() < 0.1 else "Free",
                        "is_demo": False, "is_active": True})
    with db.engine.begin() as conn:
        conn.execute(Facility.__table__.insert(), fac)
    with db.session() as s:
        fac_ids = list(s.scalars(select(Facility.id).where(Facility.code.like("NAT-%"))
                                 .order_by(Facility.id)))
    sessions = caps = slots = 0
    for chunk in range(0, len(fac_ids), 2000):
        vs, cap, sl = [], [], []
        for fid in fac_ids[chunk:chunk + 2000]:
            for d in range(days):
                sid = str(uuid.uuid4())
                vs.append({"id": sid, "facility_id": fid, "date": start + dt.timedelta(days=d),
                           "product_id": product.id, "min_age": 18, "max_age": None,
                           "fee": 0, "walk_in": True, "walk_in_quota": 0, "walk_ins": 0})
                cap += [{"session_id": sid, "dose_number": 1, "capacity": 100,
                         "booked": rng.randint(0, 100)},
                        {"session_id": sid, "dose_number": 2, "capacity": 50,
                         "booked": rng.randint(0, 50)}]
                sl += [{"session_id": sid, "starts": a, "ends": b} for a, b in SLOTS]
        with db.engine.begin() as conn:
            conn.execute(VaccinationSession.__table__.insert(), vs)
            conn.execute(SessionCapacity.__table__.insert(), cap)
            conn.execute(Slot.__table__.insert(), sl)
        sessions, caps, slots = sessions + len(vs), caps + len(cap), slots + len(sl)
    # Statistics for the planner, as autovacuum would gather them soon after an import. In
    # autocommit: PostgreSQL's ANALYZE is transactional, and one in a transaction that is
    # rolled back when the connection goes back to the pool leaves the tables without
    # statistics (the planner then read a whole country's days through the date's index).
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    db.dispose()
    print(f"  seeded {len(rows)} divisions (26 + 196 + 1,874), {len(fac):,} centres "
          f"({district_centres} in district LMA01), {sessions:,} sessions, {caps:,} capacity "
          f"rows, {slots:,} slots in {time.perf_counter() - t0:.0f} s")
    lat0, lon0 = where["LMA01"]
    return {"district_id": ids["LMA01"], "date": start, "lima": (lat0, lon0)}


# --- 1. the query layer ---------------------------------------------------------------------------

def before_module(commit: str = BEFORE):
    """main's search.py at ``commit``, imported from git under another name."""
    source = subprocess.run(["git", "-C", str(HERE.parent), "show",
                             f"{commit}:cowin_kit/scheduling/search.py"],
                            capture_output=True, text=True, check=True).stdout
    name = f"search_{commit}"
    path = Path(tempfile.mkdtemp()) / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


RAW = """
SELECT vs.id, vs.date, vs.min_age, vs.max_age, vs.fee, vs.walk_in, p.name, f.id, f.name,
       f.names, f.address, f.postal_code, f.latitude, f.longitude, f.fee_type, f.division_id,
       sc.dose_number, sc.capacity - sc.booked, s.starts, s.ends
FROM vaccination_session vs
JOIN product p ON p.id = vs.product_id
JOIN facility f ON f.id = vs.facility_id
JOIN session_capacity sc ON sc.session_id = vs.id
JOIN slot s ON s.session_id = vs.id
WHERE vs.facility_id IN (SELECT id FROM facility WHERE is_active AND division_id IN (
          SELECT id FROM division WHERE parent_id = {district} OR id = {district}))
  AND vs.date IN ({dates}) AND vs.cancelled_at IS NULL
ORDER BY vs.facility_id, vs.date, p.id
"""


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def query_layer(dep: Deployment, info: dict, opts) -> list[str]:
    from cowin_kit.scheduling import nearby, search

    db = dep.database()
    lines = []
    dates = ", ".join(f"'{info['date'] + dt.timedelta(days=i)}'" for i in range(7))
    raw_sql = RAW.format(district=info["district_id"], dates=dates)
    with db.session() as s:
        found = search.calendar(s, "en", info["date"], district_id=info["district_id"])
    sessions = sum(len(c["sessions"]) for c in found)

    def kit():
        with db.session() as s:
            search.calendar(s, "en", info["date"], district_id=info["district_id"])

    def raw():
        conn = db.engine.raw_connection()
        try:
            cur = conn.cursor()
            cur.execute(raw_sql)
            cur.fetchall()
        finally:
            conn.close()

    old = before_module()

    def before():
        with db.session() as s:
            old.calendar(s, "en", info["date"], district_id=info["district_id"])

    k, r = timed(kit, opts.runs), timed(raw, opts.runs)
    b = timed(before, opts.before_runs)
    lines.append(f"  calendar, district of {len(found)} centres ({sessions:,} sessions): kit "
                 f"p50 {ms(pct(k, 50))} p95 {ms(pct(k, 95))} ms; raw SQL of the same rows "
                 f"p50 {ms(pct(r, 50))} p95 {ms(pct(r, 95))} ms; ratio kit/raw (p50) "
                 f"{pct(k, 50) / pct(r, 50):.2f}; before this change p50 {ms(pct(b, 50))} ms "
                 f"({pct(b, 50) / pct(k, 50):.0f}x slower)")
    rng = random.Random(7)
    lat0, lon0 = info["lima"]
    points = [(lat0 + rng.uniform(-0.1, 0.1), lon0 + rng.uniform(-0.1, 0.1))
              for _ in range(opts.runs)]
    it = iter(points * 2)

    def near():
        with db.session() as s:
            lat, lon = next(it)
            nearby.nearest_centres(s, lat, lon)

    def near_before():
        with db.session() as s:
            old.centres_near(s, "en", lat0, lon0)

    # A cold answer's build, as calendarByDistrict makes it (its JSON encoded and hashed
    # too), against the code before the second round, alternately, so both meet the same
    # load.
    from cowin_kit.api.public import _encode
    cold_before = before_module(COLD_BEFORE)
    answers, built = {}, {"now": [], "before": []}
    for _ in range(opts.runs):
        for label, module in (("now", search), ("before", cold_before)):
            t0 = time.perf_counter()
            with db.session() as s:
                answers[label] = _encode({"centers": module.calendar(
                    s, "en", info["date"], district_id=info["district_id"])})
            built[label].append(time.perf_counter() - t0)
    if answers["now"] != answers["before"]:
        lines.append("  CHECK FAILED: the answer differs from the one before")
    now, then = built["now"], built["before"]
    lines.append(f"  calendar answer built and encoded ({len(answers['now'][0]):,} characters): "
                 f"p50 {ms(pct(now, 50))} p95 {ms(pct(now, 95))} ms; before the second round "
                 f"({COLD_BEFORE}) p50 {ms(pct(then, 50))} p95 {ms(pct(then, 95))} ms "
                 f"({pct(then, 50) / pct(now, 50):.1f}x slower); the same bytes: "
                 f"{answers['now'] == answers['before']}")
    n = timed(near, opts.runs)
    nb = timed(near_before, opts.before_runs)
    lines.append(f"  nearest 20 centres (Lima): p50 {ms(pct(n, 50))} p95 {ms(pct(n, 95))} ms; "
                 f"before this change (all centres read) p50 {ms(pct(nb, 50))} ms "
                 f"({pct(nb, 50) / pct(n, 50):.0f}x slower)")
    db.dispose()
    return lines


# --- 2. HTTP -----------------------------------------------------------------------------------

def http_phase(dep: Deployment, info: dict, opts) -> tuple[list[str], bool]:
    day = info["date"].strftime("%d-%m-%Y")
    did = info["district_id"]
    rng = random.Random(11)
    lat0, lon0 = info["lima"]
    near = [f"/api/v2/appointment/centers/public/findByLatLong?"
            f"lat={lat0 + rng.uniform(-.1, .1):.3f}&long={lon0 + rng.uniform(-.1, .1):.3f}"
            for _ in range(20)]
    kinds = {
        "calendarByDistrict": [f"/api/v2/appointment/sessions/public/calendarByDistrict?"
                               f"district_id={did}&date={day}"],
        "findByDistrict": [f"/api/v2/appointment/sessions/public/findByDistrict?"
                           f"district_id={did}&date={day}"],
        "findByLatLong": near,
        "portal search page 1": [f"/portal/search?district={did}"
                                 f"&date={info['date'].isoformat()}"],
    }
    results, bodies, lines, ok = {}, {}, [], True
    for cache, extra in (("cached", {}), ("cold", {"BENCH_NO_CACHE": "1"})):
        dashboard.serve(dep, extra)
        try:
            for name, paths in kinds.items():
                for p in paths:
                    t0 = time.perf_counter()
                    status, body, kind = dashboard.get(dep.port, p)
                    first = time.perf_counter() - t0
                    if status != 200:
                        lines.append(f"  CHECK FAILED: {p} -> {status} {body[:200]!r}")
                        ok = False
                    bodies.setdefault(p, (kind, body))
                if cache == "cold":
                    lines.append(f"  {name}: {len(bodies[paths[0]][1]):,} bytes; one request "
                                 f"alone {ms(first)} ms")
                for _ in range(2 * opts.workers):
                    for p in paths:
                        dashboard.get(dep.port, p)
                r = dashboard.load(dep.port, paths, opts.seconds, opts.clients)
                results[(name, cache)] = r
                if cache == "cold":  # a cold answer's own time, no other request beside it
                    results[(name, "alone")] = one = dashboard.load(
                        dep.port, paths, opts.seconds, 1)
                    r = {"statuses": {**one["statuses"], **r["statuses"]}}
                if set(r["statuses"]) != {200}:
                    lines.append(f"  CHECK FAILED: {name} {cache}: {r['statuses']}")
                    ok = False
        finally:
            dep.stop()
    proc, port = dashboard.bare_server(dep.tmp / "bare", bodies, opts.workers, opts.threads)
    try:
        for name, paths in kinds.items():
            results[(name, "bare")] = dashboard.load(port, paths, opts.seconds, opts.clients)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    for name in kinds:
        bare = results[(name, "bare")]
        for cache in ("cached", "cold"):
            r = results[(name, cache)]
            lines.append(f"  {name} [{cache}], {opts.clients} clients: {r['rate']:,.0f}/s p50 "
                         f"{ms(r['p50'])} p95 {ms(r['p95'])} ms; bare server "
                         f"{bare['rate']:,.0f}/s p50 {ms(bare['p50'])} p95 {ms(bare['p95'])} ms;"
                         f" ratio (rate) {r['rate'] / bare['rate']:.2f}")
        one = results[(name, "alone")]
        lines.append(f"  {name} [cold], 1 client ({one['n']} requests one after another): "
                     f"p50 {ms(one['p50'])} p95 {ms(one['p95'])} ms")
    return lines, ok


def run_one(kind: str, opts) -> bool:
    print(f"== {kind} ==", flush=True)
    dep = Deployment(kind, opts.pg_url, opts.workers, opts.threads, None)
    dep.pg_db = opts.pg_db
    try:
        dep.provision()
        (dep.tmp / "bench_wsgi.py").write_text(NO_CACHE_WSGI, encoding="utf-8")
        info = seed(dep, opts.centres, opts.district_centres, opts.days, random.Random(13))
        first = query_layer(dep, info, opts)
        for line in first:
            print(line, flush=True)
        lines, ok = http_phase(dep, info, opts)
        for line in lines:
            print(line, flush=True)
        return ok and not any("CHECK FAILED" in line for line in first)
    finally:
        dep.stop()
        dep.cleanup()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--pg-db", default="t_search_bench")
    ap.add_argument("--centres", type=int, default=30_000)
    ap.add_argument("--district-centres", type=int, default=500)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--before-runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    opts = ap.parse_args()
    kinds = ["sqlite", "postgresql"] if opts.db == "both" else [opts.db]
    ok = True
    for kind in kinds:
        ok = run_one(kind, opts) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
