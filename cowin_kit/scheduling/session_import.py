"""Sessions from a CSV file: the command line's ``sessions import`` and the staff pages'
upload. All lines or none: every wrong line is named (``CsvProblems``) before anything is
written. The problems are English, like the other imports' (operators' files, logs)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cowin_kit.plugins.builtin.ids.base import whole_number
from cowin_kit.programmes.models import Product
from cowin_kit.scheduling import slots as slot_grammar
from cowin_kit.scheduling.booking import BookingError
from cowin_kit.scheduling.models import Facility, VaccinationSession
from cowin_kit.scheduling.sessions import (
    MAX_QUOTA,
    BelowBooked,
    check_values,
    create_session,
    find_session,
    update_session,
)
from cowin_kit.scheduling.slots import SlotTimes

SESSION_COLUMNS = ("facility_code", "date", "vaccine", "min_age", "capacity_dose1", "slots")
SESSION_OPTIONAL = ("max_age", "fee", "walk_in_quota")
CAPACITY_PREFIX = "capacity_dose"


@dataclass(frozen=True)
class SessionLine:
    """A line of the file, read and checked: the session it makes (or updates)."""

    facility: Facility
    date: dt.date
    product: Product
    min_age: int
    max_age: int | None
    capacities: dict[int, int]
    slots: list[SlotTimes]
    fee: Decimal
    walk_in_quota: int | None = None  # None: not in the file (kept as it is on an update)

    @property
    def key(self) -> tuple[int, dt.date, int]:
        """What makes it the same session: its centre, day and vaccine."""
        return self.facility.id, self.date, self.product.id


def _parse_slots(raw: str) -> list[SlotTimes]:
    try:
        return slot_grammar.parse_list(raw)
    except slot_grammar.SlotError as exc:
        part = exc.params["slot"]
        if exc.msgid == slot_grammar.MSG_NOT_A_TIME:
            raise ValueError(f"slot {part!r} has an impossible time") from None
        raise ValueError(f"slot {part!r} is not like 09:00-11:00") from None


def _parse_row(row: dict[str, str], today: dt.date, facilities: dict[str, Facility],
               products: dict[str, list[Product]]) -> SessionLine:
    """The line's session, or ValueError naming every problem of the line."""
    problems = []
    facility = facilities.get(row["facility_code"])
    if facility is None:
        problems.append(f"unknown facility_code {row['facility_code']!r}")
    elif not facility.is_active:
        problems.append(f"facility_code {facility.code} is a deactivated centre")
    date = None
    try:
        date = dt.datetime.strptime(row["date"], "%d-%m-%Y").date()
        if date < today:
            problems.append(f"date {row['date']} is in the past")
    except ValueError:
        problems.append(f"date {row['date']!r} is not a DD-MM-YYYY date")
    matches = products.get(row["vaccine"], [])
    product = matches[0] if len(matches) == 1 else None
    if not matches:
        problems.append(f"unknown vaccine {row['vaccine']!r}; use a product code of the "
                        "profile (e.g. " + ", ".join(sorted(products)[:4]) + ")")
    elif len(matches) > 1:
        problems.append(f"vaccine {row['vaccine']!r} is in several programmes")

    def whole(column, empty=None):
        value = row.get(column, "")
        if value == "":
            return empty
        if whole_number(value) is None:
            problems.append(f"{column} {value!r} is not a whole number of 0 or more")
            return empty
        return whole_number(value)

    min_age, max_age = whole("min_age", 0), whole("max_age")
    walk_in_quota = whole("walk_in_quota")
    if walk_in_quota is not None and walk_in_quota > MAX_QUOTA:
        problems.append(f"walk_in_quota {walk_in_quota} is above {MAX_QUOTA}")
    capacities = {}
    for column in row:
        if column.startswith(CAPACITY_PREFIX):
            number = column[len(CAPACITY_PREFIX):]
            if whole_number(number) is None or whole_number(number) < 1:
                problems.append(f"column {column} should be {CAPACITY_PREFIX}<N>, N from 1")
                continue
            cap = whole(column)
            if cap is not None:
                capacities[whole_number(number)] = cap
    try:
        slots = _parse_slots(row["slots"])
    except ValueError as exc:
        problems.append(str(exc))
        slots = []
    fee = Decimal(0)
    if row.get("fee"):
        try:
            fee = Decimal(row["fee"])
            if not fee.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            problems.append(f"fee {row['fee']!r} is not a number")
            fee = Decimal(0)
    if facility is not None and facility.fee_type == "Free" and fee:
        problems.append(f"fee must be 0: {facility.code} is a free centre")
    if problems:
        raise ValueError("; ".join(problems))
    try:
        check_values(product, min_age, max_age, capacities, slots, fee)
    except BookingError as exc:
        raise ValueError(f"{exc.field}: {exc}") from None
    return SessionLine(facility, date, product, min_age, max_age, capacities, slots, fee,
                       walk_in_quota)


def import_sessions_csv(session: Session, path: Path | str, *, today: dt.date,
                        progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Create or update sessions from a CSV file (see SESSION_COLUMNS). The whole file is
    checked first; nothing is written when a line is wrong (CsvProblems names them).
    A session is the same when its facility, date and vaccine are: a second import updates
    its ages, fee and capacities (never below the places already booked) and adds slots."""
    from cowin_kit.csvfiles import CsvProblems, read_rows

    rows = read_rows(path, SESSION_COLUMNS, optional=SESSION_OPTIONAL,
                     optional_prefixes=(CAPACITY_PREFIX,))
    facilities = {f.code: f for f in session.scalars(select(Facility))}
    products: dict[str, list[Product]] = {}
    for p in session.scalars(select(Product).where(Product.is_active.is_(True))):
        products.setdefault(p.code, []).append(p)
    problems: list[tuple[int, str]] = []
    parsed: list[tuple[int, VaccinationSession | None, SessionLine]] = []
    seen: dict[tuple, int] = {}
    for line, row in rows:
        try:
            new = _parse_row(row, today, facilities, products)
        except ValueError as exc:
            problems.append((line, str(exc)))
            continue
        if new.key in seen:
            problems.append((line, f"the same session as line {seen[new.key]}"))
            continue
        seen[new.key] = line
        existing = find_session(session, *new.key)
        if existing is not None and existing.cancelled_at is not None:
            problems.append((line, "this session was cancelled; it cannot be changed"))
            continue
        if existing is not None:
            if new.walk_in_quota is not None and new.walk_in_quota < existing.walk_ins:
                problems.append((line, f"walk_in_quota {new.walk_in_quota} is below the "
                                       f"{existing.walk_ins} walk-in place(s) already taken"))
            for cap in existing.capacities:
                wanted = new.capacities.get(cap.dose_number)
                if wanted is not None and wanted < cap.booked:
                    problems.append((line, f"capacity_dose{cap.dose_number} {wanted} is below "
                                           f"the {cap.booked} place(s) already booked"))
        parsed.append((line, existing, new))
    if problems:
        raise CsvProblems(str(path), problems)
    created = updated = 0
    for line, existing, new in parsed:
        if existing is None:
            create_session(session, new.facility, new.date, new.product, new.min_age,
                           new.max_age, new.capacities, new.slots, new.fee,
                           walk_in_quota=new.walk_in_quota or 0)
            created += 1
        else:
            try:
                update_session(session, existing, min_age=new.min_age, max_age=new.max_age,
                               capacities=new.capacities, slots=new.slots, fee=new.fee,
                               walk_in_quota=new.walk_in_quota)
            except BelowBooked as exc:
                column = f"capacity_dose{exc.dose}" if exc.dose else "walk_in_quota"
                problem = f"{column} {exc.capacity} is below the places booked meanwhile"
                raise CsvProblems(str(path), [(line, problem)]) from None
            updated += 1
        if progress:
            progress(1)
    session.flush()
    return {"created": created, "updated": updated}


__all__ = ["CAPACITY_PREFIX", "SESSION_COLUMNS", "SESSION_OPTIONAL", "SessionLine",
           "import_sessions_csv"]
