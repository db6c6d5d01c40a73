"""Vaccination centres."""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cowin_kit.csvfiles import CsvProblems, read_rows, translated_names
from cowin_kit.geography.models import Division
from cowin_kit.profiles import Profile
from cowin_kit.scheduling.models import FEE_TYPES, Facility

FACILITY_COLUMNS = ("code", "name", "address", "division_code", "postal_code",
                    "latitude", "longitude", "fee_type")
# Column widths of Facility, checked up front so a long value is a line-numbered problem
# rather than a database error on PostgreSQL (SQLite would silently store it).
FACILITY_LENGTHS = {"code": 40, "name": 200, "address": 400, "postal_code": 20}


def import_facilities_csv(session: Session, path: Path | str, profile: Profile, *,
                          is_demo: bool = False,
                          progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Create or update centres from a CSV file; safe to run twice. All lines or none."""
    rows = read_rows(path, FACILITY_COLUMNS, optional_prefixes=("name_",))
    divisions = {d.code: d for d in session.scalars(select(Division))}
    postal = re.compile(profile["postal_code_pattern"])
    problems: list[tuple[int, str]] = []
    parsed = []
    seen: dict[str, int] = {}
    for line, row in rows:
        code = row["code"]
        if not code:
            problems.append((line, "code is empty"))
        elif code in seen:
            problems.append((line, f"code {code} is repeated (first on line {seen[code]})"))
        seen[code] = line
        if not row["name"]:
            problems.append((line, "name is empty"))
        for col, limit in FACILITY_LENGTHS.items():
            if len(row[col]) > limit:
                problems.append((line, f"{col} has {len(row[col])} characters; shorten it to "
                                       f"at most {limit}"))
        if row["division_code"] not in divisions:
            problems.append((line, f"division_code {row['division_code']!r} is not a known "
                                   "division; import it first with `cowin-kit geo import`"))
        if row["postal_code"] and not postal.fullmatch(row["postal_code"]):
            problems.append((line, f"postal_code {row['postal_code']!r} does not match the "
                                   f"{profile.code} pattern {profile['postal_code_pattern']}"))
        coords = []
        for col, limit in (("latitude", 90), ("longitude", 180)):
            value = row[col]
            if not value:
                coords.append(None)
                continue
            if value.count(",") == 1 and "." not in value:
                value = value.replace(",", ".")  # a decimal comma, as Excel writes in Peru
            try:
                number = float(value)
            except ValueError:
                problems.append((line, f"{col} {value!r} is not a number"))
                coords.append(None)
                continue
            if not -limit <= number <= limit:
                problems.append((line, f"{col} {value} is outside ±{limit}"))
            coords.append(number)
        fee = row["fee_type"] or "Free"
        if fee not in FEE_TYPES:
            problems.append((line, f"fee_type {fee!r} must be Free or Paid"))
        parsed.append((row, coords, fee))
    if problems:
        raise CsvProblems(str(path), problems)
    existing = {f.code: f for f in session.scalars(select(Facility))}
    created = updated = kept = 0
    for row, (lat, lon), fee in parsed:
        facility = existing.get(row["code"])
        if facility is None:
            facility = Facility(code=row["code"], is_demo=is_demo)
            session.add(facility)
            existing[row["code"]] = facility
            created += 1
        elif is_demo and not facility.is_demo:
            kept += 1  # demo data never overwrites a real centre
            continue
        else:
            updated += 1
            facility.is_demo = facility.is_demo and is_demo
        facility.name = row["name"]
        facility.names = {**(facility.names or {}), **translated_names(row)}
        facility.address = row["address"]
        facility.division = divisions[row["division_code"]]
        facility.postal_code = row["postal_code"] or None
        facility.latitude, facility.longitude = lat, lon
        facility.fee_type = fee
        if progress:
            progress(1)
    session.flush()
    return {"created": created, "updated": updated, "kept": kept}
