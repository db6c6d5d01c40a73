"""A replay of 28 April 2021 on Co-WIN, scaled down to one country on this machine.

    python benchmarks/replay_2021_04_28.py [--population 32741000] [--calls CALLS_PER_S]
        [--seconds 120] [--clients 300] [--procs 3] [--workers 2] [--threads 4]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--port 18510]

On 28 April 2021, when registration opened to everyone over 18, Co-WIN took 55,000 API calls a
second at its peak and 80 lakh (8,000,000) registrations in about three hours, for India's
~1,380 million people. The scaling rule: **the rates are proportional to the population**, so

    calls/s          = 55,000 x population / 1,380,000,000   (39.9 calls/s per million people)
    registrations/s  = 8,000,000 / 10,800 s x population / 1,380,000,000   (0.54 /s per million)

with the default population Peru's (INEI 2020, the 26 departments of seed_population.py:
32,741,000, the demo instance's country): 1,305 calls/s, of which 17.6 registrations/s. In the
kit a registration is an OTP login (generateOTP + confirmOTP: 2 calls) and one
beneficiary/new, so logins/s = registrations/s. Bookings: that day they were open to the 45+
only, "some bookings": 2 % of the calls (an assumption), with 0.25 % reschedules and 0.25 %
cancels; everything else is public search (findByPin, calendarByDistrict, findByDistrict,
anonymous). --calls replaces the population's rate (e.g. to replay at this machine's measured
capacity).

It runs opening_day.py's mix in **open loop** at that fixed rate (opening_day.run_mix with
--rate: operations are due at the rate whether or not the kit keeps up, and a late answer
counts from when it was due) for --seconds against a fresh PE demo instance on PostgreSQL
(the server BENCH_SERVER names, granian as `cowin-kit web` runs it by default, or gunicorn;
--workers x --threads on 127.0.0.1:--port, database `bench_replay_<pid>`, dropped
afterwards), and says whether the kit kept up: answered within the time >= 99 % of what was
offered, nothing dropped, no errors. Per kind: rate, p50/p95/p99, statuses.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
from booking_storm import SERVER, Deployment  # noqa: E402  (scripts beside this one)
from opening_day import accounts, clone_people, run_mix, seed  # noqa: E402
from seed_population import REGIONS  # noqa: E402

COWIN_PEAK_CALLS = 55_000  # API calls/s at the peak, 28 April 2021
COWIN_REGISTRATIONS = 8_000_000  # in the first three hours
COWIN_HOURS = 3
INDIA = 1_380_000_000  # people, 2021 (approximately)
BOOK_SHARE, RESCHEDULE_SHARE, CANCEL_SHARE = 0.02, 0.0025, 0.0025  # of the calls (assumed)


def scaled(population: int, calls: float | None) -> dict:
    """The scaled rates, the mix's weights per operation and the arithmetic as text."""
    share = population / INDIA
    calls = calls or COWIN_PEAK_CALLS * share
    registrations = COWIN_REGISTRATIONS / (COWIN_HOURS * 3600) * share
    logins = registrations
    book, resched, cancel = (calls * BOOK_SHARE, calls * RESCHEDULE_SHARE,
                             calls * CANCEL_SHARE)
    search = calls - 2 * logins - registrations - book - resched - cancel
    ops = {"search": search, "login": logins, "register": registrations, "book": book,
           "reschedule": resched, "cancel": cancel}
    total = sum(ops.values())
    lines = [
        f"population {population:,} = {share:.4%} of India's {INDIA:,}",
        f"calls/s = 55,000 x {share:.5f} = {calls:,.1f}"
        + ("" if calls == COWIN_PEAK_CALLS * share else " (given by --calls)"),
        f"registrations/s = 8,000,000 / 10,800 s x {share:.5f} = {registrations:.1f}; "
        f"OTP logins/s the same ({2 * logins:.1f} calls/s)",
        f"bookings/s = 2 % of the calls = {book:.1f}; reschedules, cancels 0.25 % each = "
        f"{resched:.1f}/s each",
        f"searches/s = the rest = {search:,.1f}",
        f"operations/s offered = {total:,.1f} (a login is 2 calls)"]
    return {"calls": calls, "ops": total, "per_kind": ops, "lines": lines,
            "mix": ",".join(f"{k}={v / total:.6f}" for k, v in ops.items())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=sum(REGIONS.values()),
                        help="people of the country replayed (default Peru's)")
    parser.add_argument("--calls", type=float, help="calls/s instead of the population's")
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--clients", type=int, default=300,
                        help="logged-in client connections the operations are spread over")
    parser.add_argument("--procs", type=int, default=3, help="generator processes")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--grace", type=float, default=10)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--port", type=int, default=18510)
    opts = parser.parse_args()
    plan_rates = scaled(opts.population, opts.calls)
    print(f"replay_2021_04_28.py, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
          f"{os.cpu_count()} CPUs, load average "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    for line in plan_rates["lines"]:
        print("  " + line)

    dep = Deployment("postgresql", opts.pg_url, opts.workers, opts.threads, None)
    dep.pg_db = f"bench_replay_{os.getpid()}"
    dep.fixed_port = opts.port
    try:
        t0 = time.perf_counter()
        dep.provision()
        plan = seed(dep, 5, 1_000_000)
        dep.start()
        tokens, refs, dni = accounts(dep, opts.clients)
        # enough people per client for its share of the bookings (half of them are the mix's)
        per_client = 2 * max(4, int(plan_rates["per_kind"]["book"] * opts.seconds
                                    / opts.clients * 1.5) + 1)
        people = clone_people(dep, refs, per_client)
        print(f"  PE demo instance on PostgreSQL, {SERVER} {opts.workers} workers x "
              f"{opts.threads} threads; {len(plan['sessions'])} sessions at "
              f"{plan['centres']} centres; {opts.clients} clients over {opts.procs} "
              f"processes; setup {time.perf_counter() - t0:.0f} s")
        print(f"\n  -- {opts.seconds:g} s, open loop at {plan_rates['ops']:,.1f} operations/s "
              f"({plan_rates['calls']:,.1f} calls/s) --")
        mix_opts = SimpleNamespace(seconds=opts.seconds, clients=opts.clients, procs=opts.procs,
                                   rate=plan_rates["ops"], grace=opts.grace,
                                   mix=plan_rates["mix"])
        out = run_mix(dep, plan, tokens, people, dni, mix_opts)
    finally:
        dep.stop()
        dep.cleanup()
    kept = (out["in_time"] >= 0.99 * out["offered"] and not out["dropped"]
            and not out["errors"])
    print(f"\n  offered {out['offered'] / opts.seconds:,.1f} operations/s, answered in time "
          f"{out['in_time'] / opts.seconds:,.1f}/s ({out['in_time'] / out['offered']:.1%}); "
          f"errors {out['errors']}, dropped {out['dropped']}")
    print("  KEPT UP" if kept else "  DID NOT KEEP UP")
    print(f"  finished {dt.datetime.now(dt.UTC):%H:%M} UTC, load average "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    return 0 if kept else 1


if __name__ == "__main__":
    sys.exit(main())
