"""Wall time of `cowin-kit init` per country profile, on SQLite and PostgreSQL.

    python benchmarks/init_time.py [--pg postgresql://postgres@127.0.0.1:5432/postgres] [--demo]
        [--countries PE,IN]

Runs the installed `cowin-kit` command as an operator would, in a fresh temporary folder
per run (so the times include interpreter start-up and imports). PostgreSQL runs get a new
database each, created and dropped through the --pg server. Not part of the test run.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from cowin_kit.profiles import shipped_codes


def run_init(country: str, url: str | None, demo: bool) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        args = [shutil.which("cowin-kit") or "cowin-kit", "init", "--country", country,
                "--instance", str(Path(tmp) / "inst"), "--no-input",
                "--admin-email", "bench@example.org"]
        if url:
            args += ["--database-url", url]
        if demo:
            args.append("--demo")
        started = time.perf_counter()
        done = subprocess.run(args, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"init --country {country} failed:\n{done.stdout}{done.stderr}")
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="PostgreSQL server URL (a database to connect to)")
    parser.add_argument("--demo", action="store_true")
    parser.add_argument("--countries", default=",".join(shipped_codes()))
    parser.add_argument("--repeat", type=int, default=1)
    opts = parser.parse_args()
    countries = [c.strip().upper() for c in opts.countries.split(",") if c.strip()]
    admin = create_engine(opts.pg.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT") if opts.pg else None
    print(f"{'country':<8}{'SQLite s':>10}{'PostgreSQL s':>14}")
    totals = {"sqlite": [], "pg": []}
    for country in countries:
        lite = min(run_init(country, None, opts.demo) for _ in range(opts.repeat))
        totals["sqlite"].append(lite)
        pg = None
        if admin is not None:
            runs = []
            for i in range(opts.repeat):
                name = f"bench_init_{country.lower()}_{i}"
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                url = admin.url.set(database=name).render_as_string(hide_password=False)
                try:
                    runs.append(run_init(country, url, opts.demo))
                finally:
                    with admin.connect() as conn:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            pg = min(runs)
            totals["pg"].append(pg)
        pg_text = f"{pg:.2f}" if pg is not None else "-"
        print(f"{country:<8}{lite:>10.2f}{pg_text:>14}", flush=True)
    for label, pick in (("median", statistics.median), ("max", max)):
        pg_text = f"{pick(totals['pg']):.2f}" if totals["pg"] else "-"
        print(f"{label:<8}{pick(totals['sqlite']):>10.2f}{pg_text:>14}")


if __name__ == "__main__":
    main()
