"""Time and peak memory of `cowin-kit geo import` for a large generated division file.

    python benchmarks/geo_import.py [--rows 100000] [--pg postgresql://postgres@127.0.0.1/postgres]

Provisions a PE instance (SQLite, and PostgreSQL when --pg is given), writes a CSV of
provinces, districts under them (levels 2 and 3 of the PE profile), imports it twice
(the second run updates every row) and prints wall time and peak RSS of each run.
Not part of the test run.
"""
from __future__ import annotations

import argparse
import csv
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text


def write_csv(path: Path, rows: int) -> None:
    provinces = max(1, rows // 100)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["code", "level", "parent_code", "name", "postal_code"])
        for p in range(provinces):
            w.writerow([f"P{p:05d}", 2, "PE-LIM", f"Provincia {p}", ""])
        for d in range(rows - provinces):
            w.writerow([f"D{d:07d}", 3, f"P{d % provinces:05d}", f"Distrito {d}",
                        f"{10000 + d % 89999:05d}"])


def cli(*args: str) -> tuple[float, float]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "cowin_kit", *args], capture_output=True,
                          text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"cowin-kit {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return elapsed, peak_mb


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pg")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "divisions.csv"
        write_csv(data, opts.rows)
        targets = [("SQLite", None)]
        admin = None
        if opts.pg:
            admin = create_engine(opts.pg.replace("postgresql://", "postgresql+psycopg://", 1),
                                  isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text("DROP DATABASE IF EXISTS bench_geo WITH (FORCE)"))
                conn.execute(text("CREATE DATABASE bench_geo"))
            targets.append(("PostgreSQL",
                            admin.url.set(database="bench_geo").render_as_string(False)))
        print(f"{opts.rows} rows")
        for label, url in targets:
            inst = tmp / label
            args = ["init", "--country", "PE", "--instance", str(inst), "--no-input",
                    "--admin-email", "bench@example.org"]
            cli(*args, *(["--database-url", url] if url else []))
            first, mem1 = cli("geo", "import", str(data), "--instance", str(inst))
            second, mem2 = cli("geo", "import", str(data), "--instance", str(inst))
            print(f"{label:<11} first import {first:6.1f} s ({opts.rows / first:8.0f} rows/s), "
                  f"second {second:6.1f} s; peak RSS so far {max(mem1, mem2):6.0f} MB")
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text("DROP DATABASE IF EXISTS bench_geo WITH (FORCE)"))


if __name__ == "__main__":
    main()
