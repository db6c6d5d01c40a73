"""Sizing: requests per second per core for public search, booking and dose recording, each
beside a baseline measured in the same invocation.

    python benchmarks/sizing.py [--db sqlite|postgresql|both]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--seconds 6] [--rounds 2]
        [--app-cpu 0] [--load-cpu 1] [--threads 4] [--connections 32] [--clients 48]
        [--raw-workers 16] [--doses 300] [--base-doses 2000] [--raw-dose-workers 8]
        [--vaccinators 40]
        [--port 18500]

Per database, one fresh `cowin-kit init --country PE --demo` instance (booking_storm's
Deployment; PostgreSQL database `bench_sizing_<pid>`, dropped afterwards), seeded with
opening_day.py's sessions (every demo centre, 5 days) and vaccination_day.py's day (centres
with a session today, lots, vaccinators, people booked). The kit runs as **one worker process**
of its app server (granian as `cowin-kit web` runs it, --threads; BENCH_SERVER=gunicorn: one
gunicorn gthread worker) started under `taskset -c APP_CPU`; whatever drives it runs on LOAD_CPU
(this process and its children, wrk, the SMS worker), and so do this database's PostgreSQL
backends (their affinity is set as they appear). Three kinds, kit and baseline alternating
--rounds times:

1. **search**: wrk (a compiled load generator, --connections keep-alive connections) GETs
   calendarByDistrict and findByDistrict over the seeded districts and days, anonymously as
   a citizen's search is, for --seconds; baseline: a bare WSGI app in the same pinned
   app-server set-up answering the same paths with the same bytes (dashboard.bare_server).
2. **booking**: --clients logged-in HTTP clients POST appointment/schedule over every session
   (opening_day.kit_round_proc, "spread"); baseline: opening_day.raw_round_proc, the same
   logical transaction in raw SQL from --raw-workers threads in one process pinned to APP_CPU.
3. **dose**: --vaccinators vaccinators POST /staff/today/doses (vaccination_day.the_day,
   --doses doses, no kill); baseline: vaccination_day.baseline, the same transaction in raw
   SQL (--base-doses doses, --raw-dose-workers threads), in one process pinned to APP_CPU.

For each: operations/s on the one pinned core (wall), the pinned process's CPU (% of the
core, ms per operation), the PostgreSQL backends' CPU per operation, **operations per
CPU-second of the pinned process** (what one fully busy core does: the figure that holds on
a noisy machine, since a preempted process uses no CPU), p50/p95/p99, errors, and the ratios
kit/baseline. Only talks to 127.0.0.1. Needs Linux (taskset, /proc) and wrk (apt install wrk).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from booking_storm import Client, Deployment, pct  # noqa: E402  (scripts beside this one)
from dashboard import bare_server  # noqa: E402
from opening_day import (  # noqa: E402
    DbCpu,
    accounts,
    clone_people,
    cpu_seconds,
    kit_round_proc,
    proc_cpu,
    raw_round_proc,
    reset_bookings,
    seed as seed_sessions,  # noqa: E402
    spawn,
    split,
)
from vaccination_day import (  # noqa: E402
    baseline as raw_doses,  # noqa: E402
    gunicorn_workers,
    seed as seed_day,  # noqa: E402
    the_day,
)

WRK_SCRIPT = r'''
local paths = {}
for line in io.lines(os.getenv("SIZING_PATHS")) do paths[#paths + 1] = line end
wrk.headers["Accept-Language"] = "en"
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('SIZING {"n": %d, "us": %d, "p50": %d, "p95": %d, "p99": %d, '
    .. '"errors": %d}\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
'''


# The cache in front of public search of docs/scaling.md, inside a minimal nginx.conf: {tmp},
# {port} and {kit_port} are filled in. Between the markers: the part the docs show.
NGINX_CONF = r'''
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream cowin_kit {{ server 127.0.0.1:{kit_port}; keepalive 32; }}
    # --- docs/scaling.md: http level ---
    proxy_cache_path {tmp}/cache levels=1:2 keys_zone=public_search:20m max_size=2g
                     inactive=10m use_temp_path=off;
    # The language an answer is in: the first of Accept-Language (?lang= is in the URL).
    map $http_accept_language $public_search_lang {{
        "~^\s*(?<tag>[A-Za-z]{{2,3}}(?:[-_][A-Za-z0-9]{{2,8}})?)" $tag;
        default "";
    }}
    # Whether the client takes gzip (every browser does): the app then sends the gzip body,
    # with its own ETag. ("gzip;q=0", which no browser sends, is not told apart.)
    map $http_accept_encoding $public_search_gzip {{
        "~*gzip" gzip;
        default "";
    }}
    # --- end ---
    server {{
        listen 127.0.0.1:{port};
        # --- docs/scaling.md: server level ---
        location /api/v2/appointment/sessions/public/ {{
            proxy_pass http://cowin_kit;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            # An answer depends on its path, its query, its language and its encoding,
            # nothing else: the app gets no cookie or token (so it may answer from
            # FastAnswers) and the language and encoding the cache key holds.
            proxy_set_header Cookie "";
            proxy_set_header Authorization "";
            proxy_set_header Accept-Language $public_search_lang;
            proxy_set_header Accept-Encoding $public_search_gzip;
            proxy_cache public_search;
            proxy_cache_key "$request_uri|$public_search_lang|$public_search_gzip";
            # The app sends Vary: Accept-Language, Accept-Encoding; the key already holds
            # both, normalised (browsers spell Accept-Language in hundreds of ways).
            proxy_ignore_headers Vary;
            # Cache-Control: public, max-age=30 sets how long; one request per answer goes
            # to the app at a time, the others wait for it or get the stale copy.
            proxy_cache_lock on;
            proxy_cache_lock_timeout 5s;
            proxy_cache_use_stale updating error timeout http_500 http_502 http_503 http_504;
            proxy_cache_background_update on;
            proxy_cache_revalidate on;   # refreshed with If-None-Match: the app answers 304
            add_header X-Cache-Status $upstream_cache_status always;
        }}
        # --- end ---
        location / {{ proxy_pass http://cowin_kit; }}
    }}
}}
'''


# --- CPU accounting ----------------------------------------------------------------------------

def pin_and_run(target, cpu: int, job: dict, queue) -> None:
    """Run an opening_day round function in a process pinned to one CPU."""
    os.sched_setaffinity(0, {cpu})
    target(job, queue)


def raw_doses_pinned(dep, work, lots, product_id, threads, cpu, queue) -> None:
    os.sched_setaffinity(0, {cpu})
    c0 = cpu_seconds()
    out = raw_doses(dep, work, lots, product_id, threads)
    queue.put(dict(out, cpu=cpu_seconds() - c0))


# --- one figure --------------------------------------------------------------------------------

def figure(label: str, n: int, wall: float, app_cpu: float, db_cpu: float | None, lat: dict,
           errors: int) -> dict:
    return {"label": label, "n": n, "wall": wall, "rate": n / wall if wall else 0.0,
            "app_cpu": app_cpu, "db_cpu": db_cpu, "per_core": n / app_cpu if app_cpu else 0.0,
            "p50": lat["p50"], "p95": lat["p95"], "p99": lat["p99"], "errors": errors}


def ms(x) -> str:
    return "—" if x is None else f"{x * 1000:.2f}"


def print_figure(f: dict) -> None:
    db = "—" if f["db_cpu"] is None else f"{f['db_cpu'] / f['n'] * 1000:.2f}" if f["n"] else "—"
    print(f"  {f['label']:<30} {f['n']:7d} {f['rate']:8.0f} {f['app_cpu'] / f['wall'] * 100:6.0f}"
          f" {f['app_cpu'] / max(1, f['n']) * 1000:8.2f} {db:>8} {f['per_core']:9.0f}"
          f" {f['p50'] * 1000:7.1f} {f['p95'] * 1000:7.1f} {f['p99'] * 1000:7.1f} {f['errors']:5d}")


HEADER = (f"  {'':<30} {'ops':>7} {'ops/s':>8} {'CPU %':>6} {'CPU ms':>8} {'DB ms':>8}"
          f" {'per core':>9} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'err':>5}")


# --- the three kinds ---------------------------------------------------------------------------

def search_paths(plan: dict) -> list[str]:
    return [f"/api/v2/appointment/sessions/public/{what}?district_id={d}&date={day}"
            for what in ("calendarByDistrict", "findByDistrict")
            for d in plan["districts"] for day in plan["dates"]]


def wrk(port: int, paths_file: Path, script: Path, seconds: float, connections: int,
        load_cpu: int) -> dict:
    out = subprocess.run(
        ["taskset", "-c", str(load_cpu), "wrk", "-t1", f"-c{connections}",
         f"-d{max(1, round(seconds))}s", "--timeout", "30s", "-s", str(script),
         f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, env=dict(os.environ, SIZING_PATHS=str(paths_file)))
    line = next((x for x in out.stdout.splitlines() if x.startswith("SIZING ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed:\n{out.stdout}{out.stderr}")
    r = json.loads(line[7:])
    return {"n": r["n"], "wall": r["us"] / 1e6, "errors": r["errors"],
            "lat": {k: r[k] / 1e6 for k in ("p50", "p95", "p99")}}


def measure_http(label, pids: list[int], db_url, opts, run) -> dict:
    """Run ``run()`` (returns n, wall, lat, errors) while metering the pinned pids' CPU."""
    c0 = sum(proc_cpu(p) for p in pids)
    with DbCpu(db_url, opts.load_cpu) as db:
        r = run()
    cpu = sum(proc_cpu(p) for p in pids) - c0
    return figure(label, r["n"], r["wall"], cpu, db.seconds, r["lat"], r["errors"])


def search_kind(dep: Deployment, plan: dict, opts, db_url) -> list[dict]:
    paths = search_paths(plan)
    bodies = {}
    kit_pids = gunicorn_workers(dep.proc.pid)

    def cold():
        """Each answer once, built (nothing cached yet): what a cache miss costs."""
        probe, lat = Client(dep.port), []
        t0 = time.perf_counter()
        for p in paths:
            t1 = time.perf_counter()
            status, raw, resp = probe.request("GET", p[len("/api/v2"):])
            lat.append(time.perf_counter() - t1)
            if status != 200:
                raise RuntimeError(f"{p} -> {status}")
            bodies[p] = (resp.getheader("Content-Type"), raw)
        probe.close()
        return {"n": len(paths), "wall": time.perf_counter() - t0, "errors": 0,
                "lat": {"p50": pct(lat, 50), "p95": pct(lat, 95), "p99": pct(lat, 99)}}
    f = measure_http("search kit, cache miss", kit_pids, db_url, opts, cold)
    f.update(kind="search", side="miss")
    print_figure(f)
    folder = dep.tmp / "sizing"
    folder.mkdir(exist_ok=True)
    (folder / "paths.txt").write_text("\n".join(paths) + "\n", encoding="utf-8")
    (folder / "wrk.lua").write_text(WRK_SCRIPT, encoding="utf-8")
    bare, bare_port = bare_server(folder / "bare", bodies, 1, opts.threads,
                                  port=opts.port + 2,
                                  launcher=("taskset", "-c", str(opts.app_cpu)))
    out = [f]
    # nginx's worker runs as nobody: its folder must not be under the deployment's (0700)
    nginx_dir = Path(tempfile.mkdtemp(prefix="sizing-nginx-"))
    nginx = start_nginx(nginx_dir, opts, dep.port) if opts.nginx else None
    try:
        time.sleep(1)
        bare_pids = gunicorn_workers(bare.pid)
        sides = [("kit", dep.port, kit_pids), ("bare", bare_port, bare_pids)]
        if nginx is not None:
            # nginx's worker and the kit's (which sees a request per answer per 30 s) both
            # pinned to APP_CPU: the CPU of the two together
            sides.append(("nginx", opts.port + 3, gunicorn_workers(nginx.pid) + kit_pids))
        for rnd in range(opts.rounds):
            for side, port, pids in sides:
                f = measure_http(f"search {side} (round {rnd + 1})", pids, db_url, opts,
                                 partial(wrk, port, folder / "paths.txt", folder / "wrk.lua",
                                         opts.seconds, opts.connections, opts.load_cpu))
                f.update(kind="search", side=side)
                out.append(f)
                print_figure(f)
        if nginx is not None:
            c = Client(opts.port + 3)
            statuses = [c.request("GET", paths[0][len("/api/v2"):])[2].getheader("X-Cache-Status")
                        for _ in range(2)]
            c.close()
            print(f"  nginx: {paths[0]} twice more: X-Cache-Status {', '.join(statuses)}")
    finally:
        bare.terminate()
        bare.wait()
        if nginx is not None:
            nginx.terminate()
            nginx.wait()
        shutil.rmtree(nginx_dir, ignore_errors=True)
    print(f"  ({len(paths)} paths: {len(plan['districts'])} districts x {len(plan['dates'])} "
          f"days x 2 endpoints; {sum(len(b) for _k, b in bodies.values()) // len(bodies)} "
          "bytes an answer on average)")
    return out


def start_nginx(folder: Path, opts, kit_port: int) -> subprocess.Popen:
    """nginx with the docs' public-search cache in front of the kit, pinned to APP_CPU."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o777)
    port = opts.port + 3
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=folder, port=port, kit_port=kit_port),
                    encoding="utf-8")
    proc = subprocess.Popen(["taskset", "-c", str(opts.app_cpu), shutil.which("nginx"), "-c",
                             str(conf), "-p", str(folder)], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    end = time.monotonic() + 15
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("nginx exited: " + proc.stderr.read().decode())
        try:
            c = Client(port)
            status, _raw, resp = c.request(
                "GET", "/appointment/sessions/public/calendarByDistrict?district_id=1"
                "&date=01-01-2030")
            c.close()
            if resp.getheader("X-Cache-Status"):
                return proc
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("nginx did not answer")


def summarise_round(label, outs, started, cpu, db) -> dict:
    res = [r for o in outs for r in o["results"]]
    ends = [r[2] for r in res]
    wall = (max(ends) - started) if ends else float("nan")
    ok = [r for r in res if r[0] == 200]
    lat = [r[1] for r in res]
    errors = sum(r[0] not in (200, 409) for r in res)
    f = figure(label, len(ok), wall, cpu, db, {"p50": pct(lat, 50), "p95": pct(lat, 95),
                                               "p99": pct(lat, 99)}, errors)
    f["refused"] = len(res) - len(ok) - errors
    return f


def booking_kind(dep: Deployment, plan: dict, opts, db_url, raw_path) -> list[dict]:
    kit_pids = gunicorn_workers(dep.proc.pid)
    got = {}

    def journeys():
        """Each client logs in by OTP and registers a person (3 calls), 16 at a time."""
        t0 = time.perf_counter()
        got["accounts"] = accounts(dep, opts.clients)
        return {"n": opts.clients, "wall": time.perf_counter() - t0, "errors": 0,
                "lat": {"p50": float("nan"), "p95": float("nan"), "p99": float("nan")}}
    f = measure_http("OTP login + registration", kit_pids, db_url, opts, journeys)
    f.update(kind="registration", side="kit")
    print_figure(f)
    tokens, refs, _dni = got["accounts"]
    per_client = max(8, -(-opts.raw_people // opts.clients))
    people = clone_people(dep, refs, per_client)
    raw_ids = [pid for lst in people for _r, pid in lst]
    out = [f]
    for rnd in range(opts.rounds):
        for side in ("kit", "raw"):
            reset_bookings(dep)
            start = time.time() + 1.0
            until = start + opts.seconds
            if side == "kit":
                jobs = [{"port": dep.port, "plan": plan, "until": until, "start": start,
                         "target": "spread",
                         "clients": [{"token": tokens[i], "people": [r for r, _ in people[i]]}
                                     for i in idx]}
                        for idx in split(list(range(opts.clients)), opts.procs)]
                target, pids = kit_round_proc, kit_pids
            else:
                jobs = [{"kind": dep.kind, "url": db_url, "path": raw_path, "plan": plan,
                         "until": until, "start": start, "target": "spread",
                         "threads": opts.raw_workers,
                         "people": split(raw_ids, opts.raw_workers)}]
                target, pids = partial(pin_and_run, raw_round_proc, opts.app_cpu), []
            c0 = sum(proc_cpu(p) for p in pids)
            with DbCpu(db_url, opts.load_cpu) as db:
                outs = spawn(target, jobs)
            cpu = (sum(proc_cpu(p) for p in pids) - c0) if side == "kit" else outs[0]["cpu"]
            f = summarise_round(f"booking {side} (round {rnd + 1})", outs, start, cpu,
                                db.seconds)
            f.update(kind="booking", side=side)
            out.append(f)
            print_figure(f)
    reset_bookings(dep)
    return out


def dose_kind(dep: Deployment, opts, db_url) -> list[dict]:
    import multiprocessing as mp
    n_fac = max(1, opts.vaccinators // 2)
    per_round = opts.base_doses + opts.doses
    data = seed_day(dep, n_fac, opts.vaccinators, per_round * opts.rounds)
    kit_pids = gunicorn_workers(dep.proc.pid)
    out = []
    appts = data["appointments"]
    for rnd in range(opts.rounds):
        chunk = appts[rnd * per_round:(rnd + 1) * per_round]
        base_work, day_work = chunk[:opts.base_doses], chunk[opts.base_doses:]
        # the baseline, pinned where the app's worker runs
        queue = mp.get_context("fork").Queue()
        with DbCpu(db_url, opts.load_cpu) as db:
            p = mp.get_context("fork").Process(target=raw_doses_pinned, args=(
                dep, base_work, data["lots"], data["product_id"], opts.raw_dose_workers,
                opts.app_cpu, queue))
            p.start()
            base = queue.get()
            p.join()
        f = figure(f"dose raw (round {rnd + 1})", base["n"], base["wall"], base["cpu"],
                   db.seconds, base, 0)
        f.update(kind="dose", side="raw")
        # the day: meters start once the vaccinators have logged in
        meter: dict = {}

        def logged_in(meter=meter):
            meter["c0"] = sum(proc_cpu(p) for p in kit_pids)
            meter["db"] = DbCpu(db_url, opts.load_cpu).__enter__()
        day = the_day(dep, data, day_work, kill=False, logged_in=logged_in)
        cpu = sum(proc_cpu(p) for p in kit_pids) - meter["c0"]
        meter["db"].__exit__(None, None, None)
        day["sms_worker"].terminate()
        day["sms_worker"].wait()
        errors = sum(n for st, n in day["statuses"].items() if st not in (200, 201))
        k = figure(f"dose kit (round {rnd + 1})", day["n"], day["wall"], cpu,
                   meter["db"].seconds, day, errors)
        k.update(kind="dose", side="kit")
        out += [k, f]
        print_figure(k)
        print_figure(f)
    return out


# --- the reference layouts of docs/scaling.md ---------------------------------------------------

INDIA = 1_380  # million people, 2021 (approximately)
PEAK = {  # per million people at the peak, from Co-WIN's days (see docs/scaling.md)
    "calls": 55_000 / INDIA,  # API calls/s, 28 April 2021
    "journeys": 8_000_000 / 10_800 / INDIA,  # registrations/s (OTP login + register: 3 calls)
    "doses": 2 * 700 / INDIA,  # doses/s: India's busiest day averaged 700/s; x2 for its peak
}
PEAK["bookings"] = 0.025 * PEAK["calls"]  # 2 % bookings + 0.5 % reschedules and cancels
PEAK["searches"] = PEAK["calls"] - 3 * PEAK["journeys"] - PEAK["bookings"]
# distinct public answers: India's ~750 districts and ~19,300 postal codes, 2 endpoints each,
# 7 days, 2 languages; a shared cache asks the app for each at most once per max-age (30 s)
ANSWERS_PER_MILLION = (750 + 19_300) / INDIA * 2 * 7 * 2
UTILISATION = 0.5  # cores are sized to be half busy at the peak


def layout(summary: dict, figs: list[dict]) -> list[str]:
    """Cores for 10 M, 100 M and 1 B people from this run's PostgreSQL figures."""
    def per_op(kind, side):
        fs = [f for f in figs if f["kind"] == kind and f["side"] == side]
        n = sum(f["n"] for f in fs)
        return (sum(f["app_cpu"] for f in fs) / n, sum(f["db_cpu"] or 0 for f in fs) / n)
    miss, journey = per_op("search", "miss"), per_op("registration", "kit")
    book, dose, hit = per_op("booking", "kit"), per_op("dose", "kit"), per_op("search", "kit")
    cache = per_op("search", "nginx")[0] if "search nginx" in summary else None
    lines = [f"  per operation, app / PostgreSQL CPU ms: search hit {hit[0] * 1e3:.2f} / "
             f"{hit[1] * 1e3:.2f}, miss {miss[0] * 1e3:.1f} / {miss[1] * 1e3:.1f}, OTP login + "
             f"registration {journey[0] * 1e3:.1f} / {journey[1] * 1e3:.1f}, booking "
             f"{book[0] * 1e3:.1f} / {book[1] * 1e3:.1f}, dose {dose[0] * 1e3:.1f} / "
             f"{dose[1] * 1e3:.1f}" + (f"; nginx cache hit {cache * 1e3:.2f}" if cache else ""),
             f"  {'people':>6} {'calls/s':>8} {'searches':>9} {'journeys':>8} {'bookings':>8} "
             f"{'doses':>6} {'to app':>7} {'app cores':>9} {'cache cores':>11} "
             f"{'primary cores':>13} {'replica cores':>13}"]
    for millions, label in ((10, "10 M"), (100, "100 M"), (1000, "1 B")):
        r = {k: v * millions for k, v in PEAK.items()}
        upstream = min(r["searches"], ANSWERS_PER_MILLION * millions / 30)
        app = (upstream * miss[0] + r["journeys"] * journey[0] + r["bookings"] * book[0]
               + r["doses"] * dose[0]) / UTILISATION
        primary = (r["journeys"] * journey[1] + r["bookings"] * book[1]
                   + r["doses"] * dose[1]) / UTILISATION
        replica = upstream * miss[1] / UTILISATION
        edge = r["searches"] * (cache or hit[0]) / UTILISATION
        lines.append(f"  {label:>6} {r['calls']:8.0f} {r['searches']:9.0f} {r['journeys']:8.1f} "
                     f"{r['bookings']:8.1f} {r['doses']:6.0f} {upstream:7.0f} {app:9.1f} "
                     f"{edge:11.1f} {primary:13.1f} {replica:13.1f}")
    return lines


# --- one database ------------------------------------------------------------------------------

def ratios(figs: list[dict]) -> dict:
    lines = {}
    for kind, side, base in (("search", "kit", "bare"), ("booking", "kit", "raw"),
                             ("dose", "kit", "raw"), ("search", "nginx", "kit")):
        kit = [f for f in figs if f["kind"] == kind and f["side"] == side]
        ref = [f for f in figs if f["kind"] == kind and f["side"] == base]
        if not kit or not ref:
            continue
        n_k, n_r = sum(f["n"] for f in kit), sum(f["n"] for f in ref)
        wall_k, wall_r = sum(f["wall"] for f in kit), sum(f["wall"] for f in ref)
        cpu_k, cpu_r = sum(f["app_cpu"] for f in kit), sum(f["app_cpu"] for f in ref)
        db_k = (sum(f["db_cpu"] for f in kit) / n_k
                if kit[0]["db_cpu"] is not None and n_k else None)
        db_r = (sum(f["db_cpu"] for f in ref) / n_r
                if ref[0]["db_cpu"] is not None and n_r else None)
        lines[f"{kind} {side}"] = {
            "base": base, "kit_rate": n_k / wall_k, "base_rate": n_r / wall_r,
            "kit_per_core": n_k / cpu_k if cpu_k else 0, "base_per_core": n_r / cpu_r if cpu_r
            else 0, "kit_db_ms": None if db_k is None else db_k * 1000,
            "base_db_ms": None if db_r is None else db_r * 1000,
            "kit_p": [pct([f[p] for f in kit], 50) for p in ("p50", "p95", "p99")]}
    return lines


def run_one(kind: str, opts, port: int) -> dict:
    dep = Deployment(kind, opts.pg_url, 1, opts.threads, None)
    dep.pg_db = f"bench_sizing_{os.getpid()}"
    dep.launcher = ["taskset", "-c", str(opts.app_cpu)]
    dep.fixed_port = port
    try:
        t0 = time.perf_counter()
        dep.provision()
        plan = seed_sessions(dep, opts.days, 1_000_000)
        dep.start()
        db_url = dep.db_url if kind == "postgresql" else None
        raw_path = None
        if kind == "sqlite":
            from cowin_kit.config import load_settings
            raw_path = load_settings(dep.instance, environ=dep.env())["DATABASE_URL"].split(
                "sqlite:///", 1)[1]
        print(f"\n=== {kind}: one {dep.server} worker x {opts.threads} threads pinned to "
              f"CPU {opts.app_cpu}; load and database backends on CPU {opts.load_cpu}; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; setup "
              f"{time.perf_counter() - t0:.0f} s ===")
        print("  ops/s: on the one pinned core (wall); CPU %: of that core used by the pinned "
              "process;\n  CPU ms / DB ms: per operation, pinned process / PostgreSQL backends;"
              " per core: ops per CPU-second of the pinned process")
        print(HEADER)
        figs = search_kind(dep, plan, opts, db_url)
        figs += booking_kind(dep, plan, opts, db_url, raw_path)
        figs += dose_kind(dep, opts, db_url)
        summary = ratios(figs)
        print(f"\n  {kind}: A / B (all rounds)             ops/s on 1 core      per core"
              "          DB ms/op      A's p50/p95/p99 ms")
        for k, r in summary.items():
            db = ("" if r["kit_db_ms"] is None else
                  f"{r['kit_db_ms']:6.2f} / {r['base_db_ms']:5.2f}")
            print(f"  {k:<14} vs {r['base']:<4} {r['kit_rate']:7.0f} / {r['base_rate']:6.0f} "
                  f"= {r['kit_rate'] / r['base_rate']:.2f}   {r['kit_per_core']:6.0f} / "
                  f"{r['base_per_core']:6.0f} = {r['kit_per_core'] / r['base_per_core']:.2f}"
                  f"   {db:>15}   " + " / ".join(f"{x * 1000:.0f}" for x in r["kit_p"]))
        if kind == "postgresql" and {"search miss", "dose kit"} <= {
                f"{f['kind']} {f['side']}" for f in figs} and any(
                f["kind"] == "registration" for f in figs):
            print("\n  reference layouts from these figures (docs/scaling.md: peak rates per "
                  f"million people, cores {UTILISATION:.0%} busy at the peak; 'to app': "
                  "searches/s that reach the app through a shared cache)")
            print("\n".join(layout(summary, figs)))
        return {"kind": kind, "figures": figs, "summary": summary,
                "load": os.getloadavg()}
    finally:
        dep.stop()
        dep.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seconds", type=float, default=6, help="length of a timed round")
    parser.add_argument("--rounds", type=int, default=2, help="kit/baseline alternations")
    parser.add_argument("--app-cpu", type=int, default=0, help="the CPU the server is pinned to")
    parser.add_argument("--load-cpu", type=int, default=1,
                        help="the CPU for the load generators and the database backends")
    parser.add_argument("--threads", type=int, default=4, help="gthread threads of the worker")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--clients", type=int, default=48, help="booking HTTP clients")
    parser.add_argument("--procs", type=int, default=2, help="booking generator processes")
    parser.add_argument("--raw-workers", type=int, default=16, help="raw-SQL booking threads")
    parser.add_argument("--raw-people", type=int, default=12000,
                        help="people copied for the booking rounds, over all clients")
    parser.add_argument("--days", type=int, default=5, help="days with sessions to search")
    parser.add_argument("--vaccinators", type=int, default=40)
    parser.add_argument("--raw-dose-workers", type=int, default=8,
                        help="raw-SQL dose threads (the kit's pool holds 15 connections)")
    parser.add_argument("--doses", type=int, default=300, help="doses over HTTP a round")
    parser.add_argument("--base-doses", type=int, default=2000, help="raw-SQL doses a round")
    parser.add_argument("--port", type=int, default=18500,
                        help="first of the ports used (kit +0/+1, bare server +2)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--no-nginx", dest="nginx", action="store_false",
                        help="skip search through nginx's cache (run when nginx is installed)")
    opts = parser.parse_args()
    if not shutil.which("wrk") or not shutil.which("taskset"):
        parser.error("needs wrk and taskset (apt install wrk util-linux)")
    if opts.nginx and not shutil.which("nginx"):
        print("nginx is not installed: search through its cache is skipped")
        opts.nginx = False
    cpus = os.sched_getaffinity(0)
    if {opts.app_cpu, opts.load_cpu} - cpus or opts.app_cpu == opts.load_cpu:
        parser.error(f"--app-cpu and --load-cpu must be two of the CPUs {sorted(cpus)}")
    os.sched_setaffinity(0, {opts.load_cpu})  # this process and what it starts: the load side
    started = dt.datetime.now(dt.UTC)
    print(f"sizing.py, {started:%Y-%m-%d %H:%M} UTC, load average "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    kinds = ["sqlite", "postgresql"] if opts.db == "both" else [opts.db]
    results = [run_one(kind, opts, opts.port + i) for i, kind in enumerate(kinds)]
    print(f"\nfinished {dt.datetime.now(dt.UTC):%H:%M} UTC, load average "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    if opts.json:
        with tempfile.NamedTemporaryFile("w", delete=False, dir=Path(opts.json).parent) as f:
            json.dump({"started": started.isoformat(), "results": results}, f, default=str)
        os.replace(f.name, opts.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
