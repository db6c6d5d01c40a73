"""The kit's wall clock: what day and hour it is where the deployment is.

Every rule about days (today's sessions, a walk-in, the date a dose is recorded on, the
reports' "today", the demo week of sessions) asks this module, never ``datetime.now()``:
then one setting moves the day for the services, the views, the CLI and the worker alike.
Tests pin it (see :mod:`cowin_kit.testing`), so a run that crosses midnight in a profile's
time zone sees one day throughout, the day its demo data was seeded for.

Stored timestamps (``created_at``, expiries, leases) are not days: they stay on
:func:`cowin_kit.db.utcnow`, the real time.

>>> import datetime as dt
>>> with fixed(dt.datetime(2031, 3, 3, 4, 59, 59, tzinfo=dt.UTC)):
...     today("America/Lima"), today("Asia/Kolkata"), local_now("America/Lima").time()
(datetime.date(2031, 3, 2), datetime.date(2031, 3, 3), datetime.time(23, 59, 59))
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo


def real_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


_source: Callable[[], dt.datetime] = real_now


def now() -> dt.datetime:
    """The wall clock's instant, timezone-aware in UTC."""
    return _source()


def local_now(timezone: str) -> dt.datetime:
    """The wall clock in ``timezone`` (the deployment's: ``Deployment.timezone``)."""
    return now().astimezone(ZoneInfo(timezone))


def today(timezone: str) -> dt.date:
    """The date in ``timezone``: a centre's day, not the server's."""
    return local_now(timezone).date()


def set_source(source: Callable[[], dt.datetime] | dt.datetime | None
               ) -> Callable[[], dt.datetime]:
    """Make the wall clock read ``source`` (a function giving an aware datetime, or a fixed
    aware instant; None: the real time), process-wide (a live server's threads see it too).
    Returns the previous source, to put back."""
    global _source
    previous = _source
    if source is None:
        _source = real_now
    elif isinstance(source, dt.datetime):
        if source.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        instant = source.astimezone(dt.UTC)
        _source = lambda: instant  # noqa: E731
    else:
        _source = source
    return previous


@contextmanager
def fixed(instant: dt.datetime) -> Iterator[dt.datetime]:
    """The wall clock stopped at ``instant`` inside the block."""
    previous = set_source(instant)
    try:
        yield instant
    finally:
        set_source(previous)


__all__ = ["fixed", "local_now", "now", "real_now", "set_source", "today"]
