"""Ages and intervals as a schedule states them: "21 days", "6 weeks", "9 months", "1 year".

Months and years are calendar ones (9 months after 31 May is 28 or 29 February), as a
childhood schedule counts them; days and weeks are exact.

>>> parse_duration("6 weeks")
Duration(amount=6, unit='weeks')
>>> str(parse_duration("1 year"))
'1 year'
>>> Duration(9, "months").after(dt.date(2030, 5, 31))
datetime.date(2031, 2, 28)
>>> Duration(4, "weeks").after(dt.date(2030, 1, 1))
datetime.date(2030, 1, 29)
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

UNITS = ("days", "weeks", "months", "years")
_TEXT = re.compile(r"^\s*(\d{1,4})\s*(day|week|month|year)s?\s*$", re.IGNORECASE)
# Rough day counts, only to fill the legacy whole-day and whole-year columns.
_DAYS = {"days": 1, "weeks": 7, "months": 30, "years": 365}


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str  # one of UNITS

    def __str__(self) -> str:
        return f"{self.amount} {self.unit if self.amount != 1 else self.unit[:-1]}"

    def after(self, start: dt.date) -> dt.date:
        """The day ``self`` after ``start``."""
        if self.unit in ("days", "weeks"):
            return start + dt.timedelta(days=self.amount * _DAYS[self.unit])
        months = self.amount * (12 if self.unit == "years" else 1)
        year, month = divmod(start.month - 1 + months, 12)
        year += start.year
        last = calendar.monthrange(year, month + 1)[1]
        return dt.date(year, month + 1, min(start.day, last))

    def plus_one(self) -> Duration:
        return Duration(self.amount + 1, self.unit)

    @property
    def approx_days(self) -> int:
        return self.amount * _DAYS[self.unit]

    @property
    def whole_years(self) -> int:
        """Complete years in it (0 for "9 months")."""
        if self.unit in ("years", "months"):
            return self.amount // (1 if self.unit == "years" else 12)
        return self.approx_days // 366


def parse_duration(text: str) -> Duration:
    """``"6 weeks"`` as a Duration; ValueError naming the expected form otherwise."""
    m = _TEXT.match(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"{text!r} is not a duration; write a whole number and a unit, "
                         "e.g. \"21 days\", \"6 weeks\", \"9 months\" or \"1 year\"")
    return Duration(int(m.group(1)), m.group(2).lower() + "s")


def duration_or_days(text: str | None, days: int | None) -> Duration | None:
    """The duration a rule states: its text when it has one, else its whole days."""
    if text:
        return parse_duration(text)
    return None if days is None else Duration(days, "days")
