"""Open data: the drive's counts for researchers and the public, as CSV and JSON files with
a data dictionary and a Frictionless Data Package descriptor (datapackage.json).

Flask-free. Read from the dose rollups (cowin_kit.reporting.models), never from a person's
rows, so no name, ID number or reference can reach a file. Three tables, all counting doses:

- ``doses_daily_national``: per day, the nation's doses, first, second and later doses;
- ``doses_daily_by_division``: per day, level-1 division, product and dose number;
- ``doses_monthly_by_age_gender``: per calendar month, level-1 division, age band, gender
  and dose number. Monthly, because age × gender × dose per day and division would be
  mostly small cells, and so mostly suppressed.

Days run to the end of ``through`` (the CLI and the page: yesterday, in the deployment's
time zone), so a day's figures are whole and two exports on the same day agree. Doses
recorded without a centre (imported history) have an empty division code, so the
division tables add up to the nation's.

Cells under the profile's ``[reporting] min_cell`` (k) are suppressed together with the
cells that would give them away (cowin_kit.reporting.suppression); the groups are every
sum the files let a reader form: a day's national figures against the division table, the
national columns against each other, a month's division and dose in the daily table
against the monthly one, and a month's national days against the monthly table.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Integer, func, select
from sqlalchemy.orm import Session

from cowin_kit.geography.models import Division
from cowin_kit.geography.service import division_name
from cowin_kit.programmes.models import Product, Programme
from cowin_kit.registration.choices import GENDERS
from cowin_kit.reporting import rollups
from cowin_kit.reporting.models import NATION, DoseRollup
from cowin_kit.reporting.queries import as_of, band_label
from cowin_kit.reporting.suppression import suppress

NATIONAL, BY_DIVISION, BY_AGE_GENDER = (
    "doses_daily_national", "doses_daily_by_division", "doses_monthly_by_age_gender")
NO_DIVISION = ""  # doses recorded without a centre: in the nation only
DOSE_COLUMNS = ("first_doses", "second_doses", "later_doses")  # dose 1, 2, 3 and more


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # a Frictionless field type
    meaning: str
    unit: str = ""
    allowed: str = ""  # in words, for the data dictionary
    count: bool = False  # a count of doses, suppressed when small


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    description: str
    columns: tuple[Column, ...]


def _count(name: str, meaning: str, zero: bool = False) -> Column:
    low = "0, or " if zero else ""
    return Column(name, "integer", meaning + " Empty (CSV) or null (JSON): suppressed.",
                  "doses", f"{low}an integer of at least k (datapackage.json: "
                           "suppression.min_cell), or empty", count=True)


SUPPRESSED = Column("suppressed", "boolean",
                    "true when a count on this row is suppressed (written empty / null).",
                    "", "true, false")
DATE = Column("date", "date", "The day the doses were given, in the deployment's time zone.",
              "", "YYYY-MM-DD")
DIVISION_CODE = Column("division_code", "string",
                       "Level-1 division (ISO 3166-2) where the centre that gave the doses "
                       "lies; empty for doses recorded without a centre (imported history).",
                       "", "")
DIVISION_NAME = Column("division_name", "string", "The level-1 division's name.", "", "")
DOSE_NUMBER = Column("dose_number", "integer",
                     "The dose's place in the person's schedule of that product: 1 first, 2 "
                     "second, and so on; boosters follow the primary doses.", "", "1 or more")

TABLES = (
    Table(NATIONAL, "Doses per day, nationally",
          "Every day from the first dose to the last whole day, days without doses as 0.",
          (DATE,
           _count("doses", "Doses given on the day.", zero=True),
           _count("first_doses", "Doses with dose number 1.", zero=True),
           _count("second_doses", "Doses with dose number 2.", zero=True),
           _count("later_doses", "Doses with dose number 3 or more (third primary doses "
                                 "and boosters).", zero=True),
           SUPPRESSED)),
    Table(BY_DIVISION, "Doses per day by level-1 division, product and dose number",
          "One row per day, division, product and dose number with at least one dose; a "
          "combination without a row had no dose.",
          (DATE, DIVISION_CODE, DIVISION_NAME,
           Column("programme_code", "string", "The vaccination programme's code.", "", ""),
           Column("product_code", "string", "The product's code within its programme.", "",
                  ""),
           Column("product_name", "string", "The product's name.", "", ""),
           DOSE_NUMBER,
           _count("doses", "Doses given."),
           SUPPRESSED)),
    Table(BY_AGE_GENDER, "Doses per month by level-1 division, age band, gender and dose "
                         "number",
          "One row per calendar month, division, age band, gender and dose number with at "
          "least one dose; a combination without a row had no dose.",
          (Column("month", "yearmonth", "The calendar month the doses were given in.", "",
                  "YYYY-MM"),
           DIVISION_CODE, DIVISION_NAME,
           Column("age_band", "string",
                  "The person's age band on the day of the dose (age = the year of the dose "
                  "minus the year of birth), from the profile's [reporting] age_bands.",
                  "years", ""),
           Column("age_from", "integer", "The age band's lower bound.", "years", ""),
           Column("gender", "string", "The gender the person registered with.", "", ""),
           DOSE_NUMBER,
           _count("doses", "Doses given."),
           SUPPRESSED)),
)
TABLE = {t.name: t for t in TABLES}
DICTIONARY = "data_dictionary"
PACKAGE = "datapackage.json"
DICTIONARY_COLUMNS = ("table", "column", "type", "meaning", "unit", "allowed_values")


def file_names() -> list[str]:
    """Every file an export writes, in the order the page lists them."""
    names = [f"{t.name}.{ext}" for t in TABLES for ext in ("csv", "json")]
    return [*names, f"{DICTIONARY}.csv", f"{DICTIONARY}.json", PACKAGE]


# --- what the rollups hold -------------------------------------------------------------------

@dataclass
class Source:
    """The counts the files are made of, keyed by plain values (no database ids)."""

    bands: list[int]
    through: dt.date
    divisions: dict[str, str] = field(default_factory=dict)  # level-1 code -> name
    products: dict[tuple[str, str], str] = field(default_factory=dict)  # -> name
    # (day, division code, programme code, product code, dose number) -> doses
    daily: dict[tuple, int] = field(default_factory=dict)
    # ("YYYY-MM", division code, age band, gender, dose number) -> doses
    monthly: dict[tuple, int] = field(default_factory=dict)


def _month(session: Session, day):
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(day, "YYYY-MM")
    return func.strftime("%Y-%m", day)


def _with_unplaced(found: dict, nation: dict, key_at: int) -> dict:
    """Add the nation's doses that no level-1 division holds, as division NO_DIVISION
    (``key_at``: where the division code goes in the key)."""
    placed: dict[tuple, int] = defaultdict(int)
    for key, n in found.items():
        placed[key[:key_at] + key[key_at + 1:]] += n
    for rest, n in nation.items():
        if n - placed.get(rest, 0) > 0:
            found[rest[:key_at] + (NO_DIVISION,) + rest[key_at:]] = n - placed.get(rest, 0)
    return found


def gather(session: Session, profile, through: dt.date, lang: str) -> Source:
    """The counts up to ``through``, from the rollups' level-1 and national rows."""
    source = Source(rollups.counted_bands(session, profile["reporting"]["age_bands"]),
                    through)
    level1 = {d.id: d for d in session.scalars(select(Division).where(Division.level == 1))}
    code = {i: d.code for i, d in level1.items()}
    source.divisions = {d.code: division_name(d, lang) for d in level1.values()}
    products = {}
    for p, programme in session.execute(select(Product, Programme.code).join(
            Programme, Programme.id == Product.programme_id)):
        products[p.id] = (programme, p.code)
        source.products[(programme, p.code)] = p.name
    r = DoseRollup
    doses = func.sum(r.doses).cast(Integer)
    where = (r.facility_id == NATION, r.division_id.in_([NATION, *level1]), r.day <= through)
    found, nation = {}, {}
    for day, division, product, dose, n in session.execute(
            select(r.day, r.division_id, r.product_id, r.dose_number, doses).where(*where)
            .group_by(r.day, r.division_id, r.product_id, r.dose_number)):
        if division == NATION:
            nation[(day, *products[product], dose)] = n
        else:
            found[(day, code[division], *products[product], dose)] = n
    source.daily = _with_unplaced(found, nation, 1)
    month = _month(session, r.day).label("month")
    found, nation = {}, {}
    for m, division, band, gender, dose, n in session.execute(
            select(month, r.division_id, r.age_band, r.gender, r.dose_number, doses)
            .where(*where).group_by(month, r.division_id, r.age_band, r.gender,
                                    r.dose_number)):
        if division == NATION:
            nation[(m, band, gender, dose)] = n
        else:
            found[(m, code[division], band, gender, dose)] = n
    source.monthly = _with_unplaced(found, nation, 1)
    return source


# --- the published tables --------------------------------------------------------------------

@dataclass
class OpenData:
    """The tables' rows (counts None where suppressed) and what was suppressed."""

    source: Source
    k: int
    rows: dict[str, list[dict]]
    suppressed: dict[str, int]  # cells per table
    primary: int = 0
    complementary: int = 0


def _dose_column(dose: int) -> str:
    return DOSE_COLUMNS[min(dose, 3) - 1]


def build(source: Source, k: int) -> OpenData:
    """The three tables, with small cells and their giveaways suppressed."""
    values: list[int] = []
    table_of: list[str] = []

    def cell(value: int, table: str) -> int:
        values.append(value)
        table_of.append(table)
        return len(values) - 1

    daily = {key: cell(n, BY_DIVISION) for key, n in sorted(source.daily.items()) if n > 0}
    monthly = {key: cell(n, BY_AGE_GENDER) for key, n in sorted(source.monthly.items())
               if n > 0}
    days = sorted({key[0] for key in daily})
    if days:  # every day to the last whole one, days without doses as 0
        days = [days[0] + dt.timedelta(days=i)
                for i in range((max(days[-1], source.through) - days[0]).days + 1)]
    totals = {(day, c): 0 for day in days for c in ("doses", *DOSE_COLUMNS)}
    for (day, *_rest, dose), i in daily.items():
        totals[(day, "doses")] += values[i]
        totals[(day, _dose_column(dose))] += values[i]
    national = {key: cell(n, NATIONAL) for key, n in totals.items()}

    # Every sum a reader can form from the files: the cells of each group.
    groups: dict[tuple, list[int]] = defaultdict(list)
    for day in days:
        groups[("day", day)] = [national[(day, c)] for c in ("doses", *DOSE_COLUMNS)]
        groups[("day-all", day)].append(national[(day, "doses")])
        for c in DOSE_COLUMNS:
            groups[("day-dose", day, c)].append(national[(day, c)])
        month = day.strftime("%Y-%m")
        groups[("month-all", month)].append(national[(day, "doses")])
        for c in DOSE_COLUMNS:
            groups[("month-dose", month, c)].append(national[(day, c)])
    for (day, division, _programme, _product, dose), i in daily.items():
        groups[("day-all", day)].append(i)
        groups[("day-dose", day, _dose_column(dose))].append(i)
        groups[("month-division-dose", day.strftime("%Y-%m"), division, dose)].append(i)
    for (month, division, _band, _gender, dose), i in monthly.items():
        groups[("month-division-dose", month, division, dose)].append(i)
        groups[("month-all", month)].append(i)
        groups[("month-dose", month, _dose_column(dose))].append(i)
    # National figures are the last to go.
    priority = [1 if t == NATIONAL else 0 for t in table_of]
    primary, complementary = suppress(values, list(groups.values()), k, priority)
    hidden = primary | complementary

    def shown(i: int) -> int | None:
        return None if i in hidden else values[i]

    rows: dict[str, list[dict]] = {t.name: [] for t in TABLES}
    for day in days:
        cells = {c: national[(day, c)] for c in ("doses", *DOSE_COLUMNS)}
        rows[NATIONAL].append({"date": day, **{c: shown(i) for c, i in cells.items()},
                               "suppressed": any(i in hidden for i in cells.values())})
    for (day, division, programme, product, dose), i in daily.items():
        rows[BY_DIVISION].append({
            "date": day, "division_code": division,
            "division_name": source.divisions.get(division, ""),
            "programme_code": programme, "product_code": product,
            "product_name": source.products.get((programme, product), product),
            "dose_number": dose, "doses": shown(i), "suppressed": i in hidden})
    for (month, division, band, gender, dose), i in monthly.items():
        rows[BY_AGE_GENDER].append({
            "month": month, "division_code": division,
            "division_name": source.divisions.get(division, ""),
            "age_band": band_label(source.bands, band), "age_from": band,
            "gender": gender, "dose_number": dose, "doses": shown(i),
            "suppressed": i in hidden})
    counted = defaultdict(int)
    for i in hidden:
        counted[table_of[i]] += 1
    return OpenData(source, k, rows, {t.name: counted[t.name] for t in TABLES},
                    len(primary), len(complementary))


# --- the files -------------------------------------------------------------------------------

def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _csv(header, rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_text(row[c]) for c in header])
    return out.getvalue().encode("utf-8")


def _json(data) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=1,
                       default=lambda v: v.isoformat()) + "\n").encode("utf-8")


def _json_rows(rows: list[dict]) -> bytes:
    """An array of objects, one per line: a third of the size of indented JSON, and still
    readable (and greppable) line by line."""
    lines = ",\n".join(json.dumps(r, ensure_ascii=False, separators=(",", ":"),
                                   default=lambda v: v.isoformat()) for r in rows)
    return f"[\n{lines}\n]\n".encode() if rows else b"[]\n"


def _allowed(table: Table, column: Column, data: OpenData) -> str:
    """The allowed values in words, with the lists this deployment's data can hold."""
    source = data.source
    if column.name == "division_code":
        return ", ".join(sorted(source.divisions)) + ", or empty"
    if column.name == "age_band":
        return ", ".join(band_label(source.bands, b) for b in source.bands)
    if column.name == "age_from":
        return ", ".join(str(b) for b in source.bands)
    if column.name == "gender":
        return ", ".join(code for _i, code, _label in GENDERS)
    if column.name == "programme_code":
        return ", ".join(sorted({p for p, _c in source.products}))
    if column.name == "product_code":
        return ", ".join(sorted({c for _p, c in source.products}))
    return column.allowed.replace("at least k", f"at least {data.k}")


def dictionary_rows(data: OpenData) -> list[dict]:
    return [{"table": t.name, "column": c.name, "type": c.type, "meaning": c.meaning,
             "unit": c.unit, "allowed_values": _allowed(t, c, data)}
            for t in TABLES for c in t.columns]


def _schema(table: Table, data: OpenData) -> dict:
    fields = []
    for c in table.columns:
        f = {"name": c.name, "type": c.type, "description": c.meaning}
        if c.unit:
            f["unit"] = c.unit
        if c.name == "gender":
            f["constraints"] = {"enum": [code for _i, code, _label in GENDERS]}
        elif c.name == "age_band":
            f["constraints"] = {"enum": [band_label(data.source.bands, b)
                                         for b in data.source.bands]}
        elif c.count or c.name == "dose_number":
            f["constraints"] = {"minimum": 0 if c.count else 1}
        fields.append(f)
    return {"fields": fields, "missingValues": [""]}


@dataclass
class Export:
    """The files (name -> bytes) and what a reader of the command's output wants to know."""

    files: dict[str, bytes]
    data: OpenData
    extracted: dt.datetime

    def rows(self, name: str) -> int | None:
        stem = name.rsplit(".", 1)[0]
        if stem in TABLE:
            return len(self.data.rows[stem])
        if stem == DICTIONARY:
            return sum(len(t.columns) for t in TABLES)
        return None

    def suppressed(self, name: str) -> int | None:
        return self.data.suppressed.get(name.rsplit(".", 1)[0])


def render(data: OpenData, profile, *, extracted: dt.datetime,
           figures_as_of: dt.datetime | None = None, country: str = "",
           source_title: str = "") -> Export:
    """Every file of the export, as bytes."""
    from cowin_kit import __version__

    reporting = profile["reporting"]
    files: dict[str, bytes] = {}
    for t in TABLES:
        header = [c.name for c in t.columns]
        files[f"{t.name}.csv"] = _csv(header, data.rows[t.name])
        files[f"{t.name}.json"] = _json_rows(data.rows[t.name])
    dictionary = dictionary_rows(data)
    files[f"{DICTIONARY}.csv"] = _csv(DICTIONARY_COLUMNS, dictionary)
    files[f"{DICTIONARY}.json"] = _json_rows(dictionary)

    def resource(name: str, title: str, description: str, fmt: str, schema=None) -> dict:
        body = files[name]
        out = {"profile": "tabular-data-resource",
               "name": name.replace(".", "-").replace("_", "-"), "path": name, "title": title,
               "description": description, "format": fmt,
               "mediatype": "text/csv" if fmt == "csv" else "application/json",
               "encoding": "utf-8"}
        if fmt == "csv":  # frictionless-py cannot count the bytes of JSON data: its validate
            # would then fail on JSON resources that state them
            out.update(bytes=len(body), hash="sha256:" + hashlib.sha256(body).hexdigest())
        if schema is not None:
            out["schema"] = schema
        return out

    resources = []
    for t in TABLES:
        schema = _schema(t, data)
        resources.append(resource(f"{t.name}.csv", t.title, t.description, "csv", schema))
        resources.append(resource(f"{t.name}.json", t.title,
                                  t.description + " The same rows as the CSV file, as a JSON "
                                  "array of objects.", "json", schema))
    dictionary_schema = {"fields": [{"name": c, "type": "string"} for c in DICTIONARY_COLUMNS]}
    resources.append(resource(f"{DICTIONARY}.csv", "Data dictionary",
                              "Every column of every table: type, meaning, unit, allowed "
                              "values.", "csv", dictionary_schema))
    resources.append(resource(f"{DICTIONARY}.json", "Data dictionary",
                              "The data dictionary as a JSON array of objects.", "json",
                              dictionary_schema))
    days = [r["date"] for r in data.rows[NATIONAL]]
    package = {
        "profile": "tabular-data-package",
        "name": f"vaccination-doses-{profile.code.lower()}",
        "title": f"Vaccination doses, {country or profile.code}",
        "description": "Doses of the national vaccination drive, counted by day, division, "
                       "product, dose number, age band and gender. Counts only: never a row "
                       "about a person. Counts under min_cell are suppressed, and so are the "
                       "counts that would give them away by subtraction.",
        "created": extracted.isoformat(timespec="seconds"),
        "licenses": [{"name": reporting["licence"], "path": reporting["licence_url"],
                      "title": reporting["licence"]}],
        "sources": [{"title": source_title or "The dose records of the vaccination drive, "
                                              "as counted by the deployment's rollups",
                     "version": f"cowin-kit {__version__}"}],
        "temporal": {"start": days[0].isoformat() if days else None,
                     "end": data.source.through.isoformat()},
        "figures_as_of": figures_as_of.isoformat(timespec="seconds") if figures_as_of
        else None,
        "suppression": {
            "min_cell": data.k,
            "zero_published": True,
            "marker": "an empty value (CSV) or null (JSON), and suppressed = true on its row",
            "rule": "A count of 1 to min_cell - 1 doses is suppressed. In every sum a reader "
                    "can form from these files (a day's national figures against the division "
                    "table, the national columns against each other, a month's division and "
                    "dose in the daily table against the monthly table, a month's national "
                    "days against the monthly table) where exactly one count is suppressed, "
                    "the smallest other non-zero count is suppressed too, until no such sum "
                    "is left.",
            "primary_cells": data.primary,
            "complementary_cells": data.complementary},
        "resources": resources,
    }
    files[PACKAGE] = _json(package)
    return Export(files, data, extracted)


def last_whole_day(now: dt.datetime, tz: str) -> dt.date:
    """Yesterday in the deployment's time zone: the last day whose doses are all in."""
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(tz)).date() - dt.timedelta(days=1)


def export(session: Session, profile, *, lang: str, now: dt.datetime, tz: str,
           through: dt.date | None = None) -> Export:
    """Build every file from the rollups (``session``: the read session)."""
    from cowin_kit.i18n import country_name

    through = through or last_whole_day(now, tz)
    source = gather(session, profile, through, lang)
    data = build(source, profile["reporting"]["min_cell"])
    return render(data, profile, extracted=now, figures_as_of=as_of(session),
                  country=country_name(profile.code, lang))


def write(directory: Path, files: dict[str, bytes]) -> None:
    """Write each file beside its old copy and move it over it: a reader never sees half a
    file, and running again replaces the files."""
    for name, body in files.items():
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(body)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, directory / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


__all__ = ["BY_AGE_GENDER", "BY_DIVISION", "DICTIONARY", "NATIONAL", "NO_DIVISION", "PACKAGE",
           "TABLES", "Export", "OpenData", "Source", "build", "dictionary_rows", "export",
           "file_names", "gather", "last_whole_day", "render", "write"]
