"""Time slots: the one way a slot is written and read back, and when one has ended.

A slot is written as its start and end. The kit writes Co-WIN's form, "09:00AM-11:00AM"
(the API's answers, the portal's forms, which send it back); people type "09:00-11:00"
(the staff pages, the sessions CSV). Both are read by the same grammar, so whatever the
kit shows can be given back anywhere:

>>> parse("09:00AM-11:00AM")
SlotTimes(starts=datetime.time(9, 0), ends=datetime.time(11, 0))
>>> parse("9.30 – 13:00")
SlotTimes(starts=datetime.time(9, 30), ends=datetime.time(13, 0))
>>> text(dt.time(11), dt.time(13))
'11:00AM-01:00PM'
>>> parse_list("09:00-11:00; 11:00-13:00") == [parse("09:00-11:00"), parse("11:00-13:00")]
True

A time is hours and minutes (``:`` or ``.`` between them, seconds allowed), on the 24-hour
clock or followed by AM/PM; slots in a list are separated by commas, semicolons or new
lines. Flask-free; a slot that cannot be read is a :class:`SlotError` (a user error of
field ``slots``).
"""
from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple

from cowin_kit.errors import UserError
from cowin_kit.plugins.interfaces import N_

MSG_NOT_A_SLOT = N_("Write each slot as a start and an end time, like 09:00-11:00 "
                    "(not “%(slot)s”).")
MSG_NOT_A_TIME = N_("“%(slot)s” is not a time of day.")

_TIME = r"(\d{1,2})[:.](\d{2})(?::(\d{2}))?(?:\s*([AaPp][Mm]))?"
_ONE_TIME = re.compile(rf"^{_TIME}$")
_RANGE = re.compile(rf"^{_TIME}\s*[-–—]\s*{_TIME}$")
_SEPARATORS = re.compile(r"[,;\n]")
_LONGEST = 40  # no slot is written longer: anything longer is refused unread


class SlotTimes(NamedTuple):
    """A slot's start and end (local times of the session's day)."""

    starts: dt.time
    ends: dt.time


class SlotError(UserError):
    """A slot that cannot be read: ``msgid`` is MSG_NOT_A_SLOT (not written like a slot) or
    MSG_NOT_A_TIME (written like one, but an impossible time); param ``slot`` is the text."""


def _time(hour: str, minute: str, second: str | None, half: str | None) -> dt.time:
    """ValueError for an impossible time (25:00, 09:60, 13:00PM)."""
    h = int(hour)
    if half is not None:
        if h > 12:
            raise ValueError(hour)
        h = h % 12 + (12 if half.lower() == "pm" else 0)
    return dt.time(h, int(minute), int(second or 0))


def parse(raw: str) -> SlotTimes:
    """One slot, "09:00-11:00" or "09:00AM-11:00AM"; SlotError otherwise. That it ends after
    it starts is the session's rule, checked where sessions are made."""
    part = raw.strip()
    m = _RANGE.match(part) if len(part) <= _LONGEST else None
    if m is None:
        raise SlotError(MSG_NOT_A_SLOT, "slots", slot=part)
    groups = m.groups()
    try:
        return SlotTimes(_time(*groups[:4]), _time(*groups[4:]))
    except ValueError:
        raise SlotError(MSG_NOT_A_TIME, "slots", slot=part) from None


def parse_list(raw: str) -> list[SlotTimes]:
    """Slots separated by commas, semicolons or new lines (empty parts are skipped); an
    empty list when there is none."""
    return [parse(part) for part in _SEPARATORS.split(raw or "") if part.strip()]


def parse_start(raw: str) -> dt.time | None:
    """The start a booking names: a slot ("09:00AM-11:00AM", "09:00-11:00") or its start
    alone ("09:00", "09:00:00", "09:00AM"); None when it is neither."""
    part = raw.strip()
    if len(part) > _LONGEST:
        return None
    m = _ONE_TIME.match(part) or _RANGE.match(part)
    if m is None:
        return None
    try:
        return _time(*m.groups()[:4])
    except ValueError:
        return None


def text(starts: dt.time, ends: dt.time) -> str:
    """Co-WIN's slot text, "09:00AM-11:00AM", which :func:`parse` reads back."""
    return f"{starts.strftime('%I:%M%p')}-{ends.strftime('%I:%M%p')}"


def slot_text(slot) -> str:
    """The text of a slot row (anything with ``starts`` and ``ends``)."""
    return text(slot.starts, slot.ends)


def has_ended(day: dt.date, ends: dt.time, *, today: dt.date, now: dt.time) -> bool:
    """Whether a slot of ``day`` ending at ``ends`` can no longer be booked: it ended
    before ``now`` today (``today``/``now`` in the deployment's time zone), or its day is
    past."""
    if day != today:
        return day < today
    return ends.replace(tzinfo=None) <= now


__all__ = ["MSG_NOT_A_SLOT", "MSG_NOT_A_TIME", "SlotError", "SlotTimes", "has_ended", "parse",
           "parse_list", "parse_start", "slot_text", "text"]
