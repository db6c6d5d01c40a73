"""Seed a realistic population and N dose records, fast, and time the rollups over them.

    python benchmarks/seed_population.py [--db sqlite|postgresql|both]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--doses N]
        [--facilities 5000] [--provinces 196] [--districts 1874]
        [--rollups rebuild|fold|both|none] [--keep] [--seed 13]

Per database: a fresh `cowin-kit init --country PE --demo` instance in a temporary folder
(PostgreSQL: a database `bench_seed_<pid>` made through --pg-url, dropped afterwards unless
--keep), then:

1. **geography**: the PE profile's 26 level-1 divisions get their population (INEI's
   2020 projections, rounded); --provinces provinces (level 2, more in populous regions)
   and --districts districts (level 3) are generated under them with populations, and
   --facilities centres are spread over the districts by population (at least one each).
   All through the kit's own CSV imports (geography.service.import_divisions_csv,
   scheduling.service.import_facilities_csv).
2. **people and doses**: people registered with a DNI (unique id_number_hash, masked and
   "encrypted" ID, a 14-digit reference), birth years from Peru's age pyramid (5 and over),
   genders 50.5 % female, 49.3 % male, 0.2 % other; each has a home centre (by population).
   The drive lasts the 365 days up to today: phases open for 60+ on day 0, 18-59 on day 60,
   12-17 on day 150, 5-11 on day 240; first doses follow each phase's opening with a
   capacity ramp-up over the first 75 days and a weekly rhythm (Sundays about a third of a
   weekday); second doses follow the product's interval (88 %), boosters 150+ days after
   (adults, about half), moved off Sundays like people do. Products of the PE profile's
   COVID-19 programme by age (5-11 Comirnaty only, 12-17 Comirnaty or Spikevax, adults all
   four; boosters Comirnaty or Spikevax). Stops at exactly --doses doses.
   PostgreSQL: COPY (psycopg), one COPY per table per chunk of 100,000 people, every index
   and constraint in place; then VACUUM ANALYZE of the two tables (timed apart).
   SQLite: executemany in one transaction per chunk. Rows/s reported.
3. **rollups**: `--rollups rebuild` (default) writes the doses counted (rollup_batch 0, "the
   seed counted them") and times rollups.rebuild(); `fold` leaves them uncounted (NULL)
   and times rollups.fold_all() as the worker would after an upgrade; `both` folds, then
   rebuilds. Then checks that the nation's rollups hold every dose (exit 1 otherwise).

Defaults: 10,000,000 doses on PostgreSQL, 200,000 on SQLite. `seed()` is also called by
benchmarks/dashboard.py and tests/test_benchmark_seed.py. Only talks to 127.0.0.1.
"""
from __future__ import annotations

import argparse
import bisect
import csv
import datetime as dt
import hashlib
import math
import os
import queue
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

COUNTRY = "PE"
DRIVE_DAYS = 365
CHUNK = 100_000  # people per COPY / transaction

# INEI's population projections for 2020 (rounded to thousands), by ISO 3166-2 code. Lima
# region (PE-LIM) is the department without Metropolitan Lima (PE-LMA).
REGIONS = {
    "PE-AMA": 427_000, "PE-ANC": 1_180_000, "PE-APU": 431_000, "PE-ARE": 1_498_000,
    "PE-AYA": 669_000, "PE-CAJ": 1_454_000, "PE-CAL": 1_130_000, "PE-CUS": 1_358_000,
    "PE-HUC": 761_000, "PE-HUV": 366_000, "PE-ICA": 976_000, "PE-JUN": 1_362_000,
    "PE-LAL": 2_017_000, "PE-LAM": 1_311_000, "PE-LIM": 1_060_000, "PE-LMA": 9_675_000,
    "PE-LOR": 1_028_000, "PE-MDD": 174_000, "PE-MOQ": 193_000, "PE-PAS": 272_000,
    "PE-PIU": 2_048_000, "PE-PUN": 1_238_000, "PE-SAM": 900_000, "PE-TAC": 371_000,
    "PE-TUM": 252_000, "PE-UCA": 590_000,
}
# Peru's age pyramid (share of the population in %, INEI 2020), 5-year bands from 5; the
# last band is 80-94. Under-fives are not in the COVID-19 programme.
PYRAMID = [(5, 8.3), (10, 8.2), (15, 8.0), (20, 8.3), (25, 8.3), (30, 7.7), (35, 7.1),
           (40, 6.5), (45, 5.8), (50, 5.1), (55, 4.4), (60, 3.6), (65, 2.9), (70, 2.1),
           (75, 1.5), (80, 1.9)]
# (lowest age, day the phase opened, share of the group that registers, booster share)
GROUPS = [(60, 0, 0.92, 0.55), (18, 60, 0.85, 0.45), (12, 150, 0.75, 0.20), (5, 240, 0.55, 0.0)]
PRODUCTS_BY_AGE = {  # (product code, weight)
    5: [("comirnaty", 1.0)],
    12: [("comirnaty", 0.7), ("spikevax", 0.3)],
    18: [("bbibp-corv", 0.3), ("comirnaty", 0.45), ("vaxzevria", 0.15), ("spikevax", 0.1)],
}
BOOSTERS = [("comirnaty", 0.6), ("spikevax", 0.4)]
WEEKDAY = [1.0, 1.05, 1.05, 1.0, 0.95, 0.7, 0.35]  # Monday .. Sunday
GIVEN = ["María", "Rosa", "Ana", "Luz", "Carmen", "Juana", "Elena", "Julia", "Sofía", "Flor",
         "José", "Luis", "Juan", "Carlos", "Jorge", "Pedro", "Miguel", "César", "Víctor",
         "Wilber", "Yaneth", "Nilda", "Edwin", "Percy", "Ruth", "Marco", "Gladys", "Hugo"]
SURNAMES = ["Quispe", "Flores", "Sánchez", "Rodríguez", "García", "Mamani", "Huamán", "Rojas",
            "Chávez", "Vásquez", "Ramos", "Torres", "Díaz", "Mendoza", "Castillo", "Condori",
            "Ccori", "Espinoza", "Ramírez", "Gutiérrez", "Cruz", "Pérez", "Vargas", "Apaza",
            "Ticona", "Gonzales", "Salazar", "Choque", "Paredes", "Cárdenas"]


@dataclass
class Stats:
    people: int = 0
    doses: int = 0
    by_number: dict = field(default_factory=dict)
    divisions: int = 0
    facilities: int = 0
    geography_s: float = 0.0
    load_s: float = 0.0
    vacuum_s: float = 0.0
    keys_s: float = 0.0  # restoring indexes and constraints (PostgreSQL), part of load_s
    keys: dict = field(default_factory=dict)  # dropped during COPY: i(ndex), u(nique), f(oreign)
    generate_s: float = 0.0  # drawing the rows in Python, part of load_s
    write_s: dict = field(default_factory=dict)  # table -> seconds writing it, part of load_s
    first_day: dt.date | None = None
    last_day: dt.date | None = None


class Progress:
    """A one-line progress bar on stderr (only on a terminal, or when forced)."""

    def __init__(self, total: int, label: str, enabled: bool = True):
        self.total, self.label, self.started = total, label, time.perf_counter()
        self.enabled = enabled

    def update(self, done: int, rows: int) -> None:
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.started
        share = done / self.total if self.total else 1
        eta = elapsed / share - elapsed if share else 0
        bar = "#" * int(share * 30)
        sys.stderr.write(f"\r  {self.label} [{bar:<30}] {share:6.1%} {done:,}/{self.total:,}"
                         f"  {rows / elapsed if elapsed else 0:,.0f} rows/s  ETA {eta:5.0f} s ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


# --- geography --------------------------------------------------------------------------------

def _split(total: int, n: int, rng: random.Random, sigma: float = 0.8) -> list[int]:
    """``total`` split into ``n`` lognormal parts (each at least 1)."""
    weights = [rng.lognormvariate(0, sigma) for _ in range(n)]
    s = sum(weights)
    return [max(1, round(total * w / s)) for w in weights]


def _spread(total: int, weights: list[float], minimum: int) -> list[int]:
    """``total`` items over len(weights) places, proportionally, at least ``minimum`` each
    (largest remainders)."""
    n = len(weights)
    rest = max(0, total - minimum * n)
    s = sum(weights) or 1
    raw = [rest * w / s for w in weights]
    out = [minimum + int(r) for r in raw]
    left = total - sum(out)
    for i in sorted(range(n), key=lambda i: raw[i] - int(raw[i]), reverse=True)[:max(0, left)]:
        out[i] += 1
    return out


def geography(session, profile, folder: Path, rng: random.Random, *, provinces: int,
              districts: int, facilities: int) -> tuple[list[tuple[int, float]], int]:
    """Import the generated divisions and centres: ([(facility id, share of the people
    it serves)] for every generated centre, divisions in the file)."""
    from cowin_kit.geography.service import import_divisions_csv
    from cowin_kit.scheduling.models import Facility
    from cowin_kit.scheduling.service import import_facilities_csv

    provinces = max(provinces, len(REGIONS))
    districts = max(districts, provinces)
    codes = sorted(REGIONS)
    per_region = _spread(provinces, [math.sqrt(REGIONS[c]) for c in codes], 1)
    rows = [[c, 1, "", c, "", REGIONS[c]] for c in codes]  # names stay the profile's
    prov = []  # (code, population)
    for code, n in zip(codes, per_region, strict=True):
        short = code[3:]
        for i, pop in enumerate(_split(REGIONS[code], n, rng), 1):
            p_code = f"{short}{i:02d}"
            rows.append([p_code, 2, code, f"Provincia {short} {i:02d}", "", pop])
            prov.append((p_code, pop))
    per_prov = _spread(districts, [pop for _c, pop in prov], 1)
    dist = []
    for (p_code, p_pop), n in zip(prov, per_prov, strict=True):
        for j, pop in enumerate(_split(p_pop, n, rng), 1):
            d_code = f"{p_code}{j:03d}"
            rows.append([d_code, 3, p_code, f"Distrito {p_code}-{j:03d}", "", pop])
            dist.append((d_code, pop))
    path = folder / "seed-divisions.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["code", "level", "parent_code", "name", "postal_code", "population"])
        w.writerows(rows)
    import_divisions_csv(session, path, profile)
    per_dist = _spread(facilities, [pop for _c, pop in dist], 1)
    fac_rows, weight = [], {}
    n = 0
    for (d_code, pop), k in zip(dist, per_dist, strict=True):
        for _ in range(k):
            n += 1
            code = f"SEED-{n:06d}"
            fac_rows.append([code, f"Centro de vacunación {n} — {d_code}",
                             f"Av. Principal {rng.randint(1, 2000)}", d_code, "", "", "",
                             "Free"])
            weight[code] = pop / k * rng.lognormvariate(0, 0.4)
    path = folder / "seed-facilities.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["code", "name", "address", "division_code", "postal_code", "latitude",
                    "longitude", "fee_type"])
        w.writerows(fac_rows)
    import_facilities_csv(session, path, profile)
    session.commit()
    ids = dict(session.execute(select(Facility.code, Facility.id)
                               .where(Facility.code.like("SEED-%"))).all())
    total = sum(weight.values())
    return [(ids[c], w / total) for c, w in weight.items()], len(rows)


# --- people and doses -------------------------------------------------------------------------

def _cum(weights: list[float]) -> list[float]:
    out, s = [], 0.0
    for w in weights:
        s += w
        out.append(s)
    return [x / s for x in out]


class Generator:
    """Draws people and their doses (see the module's notes); all randomness from ``rng``."""

    def __init__(self, rng: random.Random, today: dt.date, facilities, products: dict):
        self.rng, self.today = rng, today
        self.start = today - dt.timedelta(days=DRIVE_DAYS - 1)
        days = [self.start + dt.timedelta(days=t) for t in range(DRIVE_DAYS)]
        self.day_iso = [d.isoformat() for d in days]
        self.weekday = [d.weekday() for d in days]
        ramp = [min(1.0, 0.1 + t / 75) * WEEKDAY[self.weekday[t]] for t in range(DRIVE_DAYS)]
        # First-dose day per group: after the phase opens, demand decays over ~70 days.
        self.first_day = {}
        for lowest, opens, _reg, _boost in GROUPS:
            w = [ramp[t] * math.exp(-(t - opens) / 70) if t >= opens else 0.0
                 for t in range(DRIVE_DAYS)]
            self.first_day[lowest] = _cum(w)
        ages = []  # (age, weight) for one-year ages, registrants only
        for lo, share in PYRAMID:
            top = 95 if lo == 80 else lo + 5
            reg = next(r for low, _o, r, _b in GROUPS if lo >= low)
            for a in range(lo, top):
                ages.append((a, share / (top - lo) * reg))
        self.ages = [a for a, _w in ages]
        self.age_cum = _cum([w for _a, w in ages])
        self.fac_ids = [f for f, _w in facilities]
        self.fac_cum = _cum([w for _f, w in facilities])
        self.products = products  # code -> (id, min interval, max interval)
        self.by_age = {k: ([products[c][0] for c, _w in v], _cum([w for _c, w in v]),
                           [products[c] for c, _w in v]) for k, v in PRODUCTS_BY_AGE.items()}
        self.boost_ids = [products[c][0] for c, _w in BOOSTERS]
        self.boost_cum = _cum([w for _c, w in BOOSTERS])
        # created_at: 10:00-17:59 in Lima = 15:00-22:59 UTC.
        self.times = [f"{15 + m // 60:02d}:{m % 60:02d}:00" for m in range(0, 480, 7)]

    def _weekday_shift(self, t: int) -> int:
        """People avoid weekends: a Sunday dose moves to Monday most times, a Saturday
        one sometimes."""
        wd, r = self.weekday[t] if t < DRIVE_DAYS else 0, self.rng.random()
        if wd == 6 and r < 0.6:
            return t + 1
        if wd == 5 and r < 0.3:
            return t + 2
        return t

    def person(self):
        """(birth year, gender, [(dose number, product id, facility id, day index)], day
        registered)."""
        rng, random_ = self.rng, self.rng.random
        age = self.ages[bisect.bisect(self.age_cum, random_())]
        r = random_()
        gender = "female" if r < 0.505 else "male" if r < 0.998 else "other"
        group = 60 if age >= 60 else 18 if age >= 18 else 12 if age >= 12 else 5
        home = self.fac_ids[bisect.bisect(self.fac_cum, random_())]
        t1 = bisect.bisect(self.first_day[group], random_())
        doses = []
        if t1 < DRIVE_DAYS and random_() < 0.94:  # some register and never come
            pool = self.by_age[18 if group == 60 else group]
            k = bisect.bisect(pool[1], random_())
            pid, lo, hi = pool[2][k]
            doses.append((1, pid, home, t1))
            if random_() < 0.88:
                t2 = self._weekday_shift(t1 + rng.randint(lo, hi))
                if t2 < DRIVE_DAYS:
                    doses.append((2, pid, home, t2))
                    boost = next(b for low, _o, _r, b in GROUPS if group == low)
                    if random_() < boost:
                        t3 = self._weekday_shift(t2 + 150 + int(rng.expovariate(1 / 40)))
                        if t3 < DRIVE_DAYS:
                            where = home if random_() < 0.8 else self.fac_ids[
                                bisect.bisect(self.fac_cum, random_())]
                            doses.append((3, self.boost_ids[bisect.bisect(
                                self.boost_cum, random_())], where, t3))
        registered = max(0, min(t1, DRIVE_DAYS - 1) - rng.randint(0, 20))
        return self.today.year - age, gender, doses, registered


def _ids(conn, table: str) -> int:
    return conn.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}").scalar() + 1


BEN_COLS = ("id", "reference_id", "name", "birth_year", "gender", "priority_groups",
            "language", "id_document_type_id", "id_number_hash", "id_number_encrypted",
            "id_number_masked", "id_verification_status", "id_verification_reference",
            "created_at")
DOSE_COLS = ("id", "beneficiary_id", "programme_id", "dose_number", "product_id",
             "facility_id", "given_on", "created_at", "rollup_batch")
# What an encrypted ID number looks like (a Fernet token's length); never read here.
ENCRYPTED = "gAAAAAB" + "x" * 113


def seed(db, profile, *, doses: int, facilities: int = 5000, provinces: int = 196,
         districts: int = 1874, counted: bool = True, seed: int = 13,
         progress: bool = True, folder: Path | None = None,
         chunk: int = CHUNK) -> Stats:
    """Seed the geography, people and ``doses`` doses into ``db`` (a cowin_kit.db.Database
    of a provisioned PE instance). ``counted``: rollup_batch 0 (then rebuild the rollups)
    rather than NULL (then fold them). On PostgreSQL the secondary indexes, unique
    constraints and foreign keys of the two tables are dropped during the COPY and restored
    (so checked) after it, whatever happens."""
    from cowin_kit.programmes.models import Product, Programme
    from cowin_kit.registration.models import IdDocumentType

    rng = random.Random(seed)
    stats = Stats()
    today = dt.datetime.now(ZoneInfo(profile["timezone"])).date()
    started = time.perf_counter()
    with db.session() as s, tempfile.TemporaryDirectory() as tmp:
        fac, stats.divisions = geography(s, profile, folder or Path(tmp), rng,
                                         provinces=provinces, districts=districts,
                                         facilities=facilities)
        stats.facilities = len(fac)
        programme = s.scalar(select(Programme.id).where(Programme.code == "covid19"))
        products = {}
        for p in s.scalars(select(Product).where(Product.programme_id == programme)):
            second = next(d for d in p.doses if d.dose_number == 2)
            lo = second.min_interval_days or 21
            products[p.code] = (p.id, lo, second.max_interval_days or lo + 21)
        dni = s.scalar(select(IdDocumentType.id).where(IdDocumentType.code == "dni"))
    stats.geography_s = time.perf_counter() - started
    gen = Generator(rng, today, fac, products)
    stats.first_day, stats.last_day = gen.start, today
    pg = db.engine.dialect.name == "postgresql"
    with db.engine.connect() as conn:
        taken = conn.execute(text("SELECT count(*) FROM beneficiary WHERE reference_id "
                                  "LIKE :p"), {"p": "7%"}).scalar()
        if taken:
            raise SystemExit("this database has people with references 7…: seed a fresh one")
        ids = (_next_id(conn, "beneficiary"), _next_id(conn, "dose"))
        conn.rollback()
        raw = conn.connection.dbapi_connection
        started = time.perf_counter()
        dropped = _drop_keys(raw) if pg else []
        try:
            chunks = _chunks(gen, stats, doses, ids, programme, dni, "0" if counted else None,
                             f"{seed}-{time.time_ns()}".encode(), chunk, pg)
            _load(raw, pg, chunks, Progress(doses, "doses", progress), stats)
        finally:
            raw.rollback()
            if dropped:
                t0 = time.perf_counter()
                _restore_keys(raw, dropped)
                stats.keys_s = time.perf_counter() - t0
                stats.keys = {k: sum(1 for kind, _sql in dropped if kind == k)
                              for k in ("i", "u", "f")}
        stats.load_s = time.perf_counter() - started
        if pg:
            with raw.cursor() as cur:
                for table in ("beneficiary", "dose"):
                    cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                f"(SELECT max(id) FROM {table}))")
            raw.commit()
            started = time.perf_counter()
            raw.autocommit = True
            with raw.cursor() as cur:
                cur.execute("VACUUM ANALYZE beneficiary")
                cur.execute("VACUUM ANALYZE dose")
            raw.autocommit = False
            stats.vacuum_s = time.perf_counter() - started
    return stats


def _next_id(conn, table: str) -> int:
    return conn.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}").scalar() + 1


def _chunks(gen: Generator, stats: Stats, doses: int, ids: tuple[int, int], programme: int,
            dni: int, batch: str | None, salt: bytes, chunk: int, pg: bool):
    """Yield (people rows, dose rows) per ``chunk`` people until ``doses`` doses: COPY text
    on PostgreSQL, tuples on SQLite (times as SQLAlchemy stores them there)."""
    rng = gen.rng
    person_id, dose_id = ids
    suffix = "+00" if pg else ".000000"
    times = [t + suffix for t in gen.times]
    while stats.doses < doses:
        t0 = time.perf_counter()
        people, dose_rows = [], []
        for _ in range(chunk):
            year, gender, given, reg = gen.person()
            pid = person_id
            person_id += 1
            ref = f"7{pid:013d}"
            h = hashlib.sha256(salt + ref.encode()).hexdigest()
            name = (f"{GIVEN[int(rng.random() * len(GIVEN))]} "
                    f"{SURNAMES[int(rng.random() * len(SURNAMES))]} "
                    f"{SURNAMES[int(rng.random() * len(SURNAMES))]}")
            people.append((pid, ref, name, year, gender, "[]",
                           "qu" if rng.random() < 0.03 else "es", dni, h, ENCRYPTED,
                           f"XXXX{pid % 10000:04d}", "unverified", "",
                           f"{gen.day_iso[reg]} {times[pid % len(times)]}"))
            for number, product, facility, t in given:
                dose_rows.append((dose_id, pid, programme, number, product, facility,
                                  gen.day_iso[t], f"{gen.day_iso[t]} {times[dose_id % len(times)]}",
                                  batch))
                dose_id += 1
                stats.by_number[number] = stats.by_number.get(number, 0) + 1
            stats.doses += len(given)
            if stats.doses >= doses:
                break
        if stats.doses > doses:  # stop at exactly ``doses``
            extra = stats.doses - doses
            for row in dose_rows[-extra:]:
                stats.by_number[row[3]] -= 1
            del dose_rows[-extra:]
            stats.doses = doses
        stats.people += len(people)
        if pg:
            people, dose_rows = _copy_text(people), _copy_text(dose_rows)
        stats.generate_s += time.perf_counter() - t0
        yield people, dose_rows, stats.doses


def _load(raw, pg: bool, chunks, bar: Progress, stats: Stats) -> None:
    """Write the chunks while the next one is drawn in a thread (the COPY waits on the
    server without the GIL)."""
    ready: queue.Queue = queue.Queue(maxsize=2)

    def produce():
        try:
            for item in chunks:
                ready.put(item)
        except BaseException as exc:  # noqa: BLE001 - re-raised by the writer
            ready.put(exc)
        ready.put(None)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    rows = 0
    while (item := ready.get()) is not None:
        if isinstance(item, BaseException):
            raise item
        people, dose_rows, done = item
        t1 = time.perf_counter()
        if not pg and not raw.in_transaction:
            raw.execute("BEGIN")
        for table, cols, data in (("beneficiary", BEN_COLS, people),
                                  ("dose", DOSE_COLS, dose_rows)):
            if pg:
                with raw.cursor() as cur, cur.copy(
                        f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    copy.write(data)
                rows += data.count("\n")
            else:
                raw.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
                                f"({', '.join('?' * len(cols))})", data)
                rows += len(data)
            t2 = time.perf_counter()
            stats.write_s[table] = stats.write_s.get(table, 0.0) + t2 - t1
            t1 = t2
        raw.commit()
        stats.write_s["commit"] = stats.write_s.get("commit", 0.0) + time.perf_counter() - t1
        bar.update(done, rows)
    producer.join()
    bar.close()


def _copy_text(rows: list[tuple]) -> str:
    """Rows in COPY's text format (values never hold tabs, newlines or backslashes)."""
    return "".join("\t".join("\\N" if v is None else str(v) for v in row) + "\n"
                   for row in rows)


def _drop_keys(raw) -> list[tuple[str, str]]:
    """Drop the secondary indexes, unique constraints and foreign keys of beneficiary and
    dose (each row would otherwise cost a look-up per foreign key and a random insert per
    index): [(what, SQL that restores it)], unique ones before the foreign keys."""
    with raw.cursor() as cur:
        cur.execute("SELECT contype, conrelid::regclass::text, conname, "
                    "pg_get_constraintdef(oid) FROM pg_constraint WHERE contype IN ('u', 'f') "
                    "AND conrelid IN ('beneficiary'::regclass, 'dose'::regclass) "
                    "ORDER BY contype DESC, 2, 3")
        constraints = cur.fetchall()
        cur.execute("SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                    "FROM pg_index i WHERE i.indrelid IN ('beneficiary'::regclass, "
                    "'dose'::regclass) AND NOT i.indisprimary AND NOT EXISTS (SELECT 1 FROM "
                    "pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1")
        indexes = cur.fetchall()
        restore = []
        for kind, table, name, definition in constraints:  # foreign keys first
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            restore.append((kind, f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
        for name, definition in indexes:
            cur.execute(f'DROP INDEX "{name}"')
            restore.append(("i", definition))
    raw.commit()
    return restore[::-1]  # indexes, unique constraints, then foreign keys


def _restore_keys(raw, dropped) -> None:
    """Build the indexes again and add the constraints: PostgreSQL checks every row."""
    with raw.cursor() as cur:
        for _kind, sql in dropped:
            cur.execute(sql)
    raw.commit()


# --- rollups ----------------------------------------------------------------------------------

def time_rollups(db, profile, mode: str) -> dict:
    """Fold and/or rebuild: {"fold": (s, doses), "rebuild": (s, doses)}."""
    from cowin_kit.reporting import rollups

    bands = profile["reporting"]["age_bands"]
    out = {}
    with db.session() as s:
        if mode in ("fold", "both"):
            t0 = time.perf_counter()
            n = rollups.fold_all(s, bands)
            out["fold"] = (time.perf_counter() - t0, n)
        if mode in ("rebuild", "both"):
            t0 = time.perf_counter()
            n = rollups.rebuild(s, bands)
            out["rebuild"] = (time.perf_counter() - t0, n)
    return out


def check_rollups(db) -> dict:
    """Doses in the nation's rollups (daily and all-time) against the dose rows."""
    from cowin_kit.reporting.models import NATION, DoseRollup, DoseRollupTotal
    from cowin_kit.vaccination.models import Dose

    with db.session() as s:
        return {
            "doses": s.scalar(select(func.count()).select_from(Dose)),
            "daily": s.scalar(select(func.coalesce(func.sum(DoseRollup.doses), 0)).where(
                DoseRollup.division_id == NATION, DoseRollup.facility_id == NATION)),
            "total": s.scalar(select(func.coalesce(func.sum(DoseRollupTotal.doses), 0)).where(
                DoseRollupTotal.division_id == NATION, DoseRollupTotal.facility_id == NATION)),
            "rollup_rows": s.scalar(select(func.count()).select_from(DoseRollup)),
        }


def table_sizes(db) -> str:
    if db.engine.dialect.name != "postgresql":
        path = db.engine.url.database
        return f"database file {os.path.getsize(path) / 2**20:,.0f} MB"
    with db.engine.connect() as conn:
        parts = []
        for t in ("beneficiary", "dose", "dose_rollup", "dose_rollup_total"):
            parts.append(f"{t} " + conn.execute(text(
                "SELECT pg_size_pretty(pg_total_relation_size(:t))"), {"t": t}).scalar())
        return ", ".join(parts)


def describe(kind: str, stats: Stats, opts_doses: int) -> None:
    rows = stats.people + stats.doses
    print(f"  geography: {stats.divisions:,} divisions in the file, {stats.facilities:,} "
          f"centres, imported in {stats.geography_s:.1f} s")
    print(f"  people {stats.people:,}, doses {stats.doses:,} (dose 1 / 2 / booster: "
          + " / ".join(f"{stats.by_number.get(n, 0):,}" for n in (1, 2, 3))
          + f"), {stats.first_day} to {stats.last_day}")
    how = "executemany, every index and constraint in place"
    if kind == "postgresql":
        k = stats.keys
        how = (f"COPY; {k.get('i', 0)} indexes, {k.get('u', 0)} unique constraints and "
               f"{k.get('f', 0)} foreign keys dropped during it and restored after, "
               f"restoring took {stats.keys_s:.1f} s, included")
    print(f"  load ({how}): {stats.load_s:.1f} s, {rows / stats.load_s:,.0f} rows/s "
          f"({stats.doses / stats.load_s:,.0f} doses/s)")
    print(f"    drawing the rows in Python {stats.generate_s:.1f} s (in a thread, beside the "
          "writes), writing "
          + ", ".join(f"{k} {v:.1f} s" for k, v in stats.write_s.items()))
    if stats.vacuum_s:
        print(f"  VACUUM ANALYZE beneficiary, dose: {stats.vacuum_s:.1f} s")


def run_one(kind: str, opts) -> bool:
    from booking_storm import Deployment

    import cowin_kit.models  # noqa: F401 - every table, for the ORM's foreign keys
    from cowin_kit.profiles import load_profile

    doses = opts.doses or (10_000_000 if kind == "postgresql" else 200_000)
    dep = Deployment(kind, opts.pg_url, 2, 4, None)
    dep.pg_db = f"bench_seed_{os.getpid()}"
    profile = load_profile(COUNTRY)
    ok = True
    try:
        dep.provision()
        db = dep.database()
        print(f"\n== {kind}: {doses:,} doses ==")
        stats = seed(db, profile, doses=doses, facilities=opts.facilities,
                     provinces=opts.provinces, districts=opts.districts,
                     counted=opts.rollups != "fold" and opts.rollups != "both", seed=opts.seed,
                     progress=not opts.quiet)
        describe(kind, stats, doses)
        timed = time_rollups(db, profile, opts.rollups)
        for what, (secs, n) in timed.items():
            label = "rollups.fold_all() (the worker's fold, 50,000 a batch)" if what == "fold" \
                else "rollups.rebuild() (cowin-kit reports rebuild)"
            print(f"  {label}: {secs:.1f} s for {n:,} doses, {n / secs:,.0f} doses/s")
        if opts.rollups != "none":
            c = check_rollups(db)
            good = c["doses"] == c["daily"] == c["total"]
            print(f"  check: {c['doses']:,} dose rows, the nation's rollups count {c['daily']:,}"
                  f" (daily) and {c['total']:,} (all time); {c['rollup_rows']:,} daily rollup "
                  f"rows {'OK' if good else 'MISMATCH'}")
            ok &= good
        print(f"  sizes: {table_sizes(db)}")
        db.dispose()
        if opts.keep:
            print(f"  kept: --instance {dep.instance}"
                  + (f" (database {dep.pg_db})" if kind == "postgresql" else ""))
    finally:
        if not opts.keep:
            dep.cleanup()
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="postgresql")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--doses", type=int, default=0,
                        help="default 10,000,000 on PostgreSQL, 200,000 on SQLite")
    parser.add_argument("--facilities", type=int, default=5000)
    parser.add_argument("--provinces", type=int, default=196)
    parser.add_argument("--districts", type=int, default=1874)
    parser.add_argument("--rollups", choices=("rebuild", "fold", "both", "none"),
                        default="rebuild")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--keep", action="store_true",
                        help="keep the instance and database (for benchmarks/dashboard.py)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    opts = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    kinds = ("sqlite", "postgresql") if opts.db == "both" else (opts.db,)
    ok = all([run_one(kind, opts) for kind in kinds])
    print("\nall checks passed" if ok else "\nSOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
