"""Reading the audit log, without Flask: an administrator's area only, filtered, a page at a
time, or as CSV rows for the export.

Area: an event belongs to the division it concerns (AuditEvent.division_id); a state or
district administrator sees the events of its divisions, a national administrator every
event, national ones (no division) included.

The export carries no personal data: no client address (``source``), and, in case an
older event holds one, no e-mail address or long run of digits (an ID or mobile number)
in the target or the details.
"""
from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cowin_kit.accounts.models import AuditEvent
from cowin_kit.geography.models import Division

CSV_COLUMNS = ("at_utc", "actor", "action", "target", "division", "details")
EXPORT_BATCH = 1000
_EMAIL = re.compile(r"[^@\s\"',;:<>]+@[^@\s\"',;:<>]+")
# An ID or a mobile number (ids of rows are shorter; UUIDs are left whole).
_LONG_NUMBER = re.compile(r"(?<![\w-])\+?\d{7,}(?![\w-])")
_PERSONAL_KEYS = {"email", "mobile", "phone", "id_number", "password", "name", "otp", "code",
                  "ip", "source"}


@dataclass
class AuditFilter:
    action: str = ""  # exact, or a prefix ending in "." ("staff." for every staff action)
    actor: str = ""  # exact, e.g. "staff:12" or "cli:root"
    since: datetime | None = None  # UTC, inclusive
    until: datetime | None = None  # UTC, exclusive


def _query(columns, area: list[int] | None, f: AuditFilter):
    query = select(*columns)
    if area is not None:
        query = query.where(AuditEvent.division_id.in_(area))
    action = f.action.strip()
    if action.endswith("."):
        escaped = action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(AuditEvent.action.like(f"{escaped}%", escape="\\"))
    elif action:
        query = query.where(AuditEvent.action == action)
    if f.actor.strip():
        query = query.where(AuditEvent.actor == f.actor.strip())
    if f.since is not None:
        query = query.where(AuditEvent.at >= f.since)
    if f.until is not None:
        query = query.where(AuditEvent.at < f.until)
    return query


def count_events(session: Session, area: list[int] | None, f: AuditFilter) -> int:
    return session.scalar(_query([func.count(AuditEvent.id)], area, f)) or 0


def events(session: Session, area: list[int] | None, f: AuditFilter, *, offset: int = 0,
           limit: int = 50) -> list[AuditEvent]:
    """Newest first (the id breaks ties within one instant)."""
    return list(session.scalars(_query([AuditEvent], area, f)
                                .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                                .offset(offset).limit(limit)))


RECENT = 2000


def recent_actions(session: Session, area: list[int] | None) -> list[str]:
    """The actions of the area's newest events, as suggestions for the filter: bounded by
    the index on ``at``, however long the log."""
    newest = (_query([AuditEvent.action], area, AuditFilter())
              .order_by(AuditEvent.at.desc()).limit(RECENT).subquery())
    return list(session.scalars(select(newest.c.action).distinct().order_by(newest.c.action)))


def division_codes(session: Session, ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(Division.id, Division.code)
                                .where(Division.id.in_(ids))).all())


def scrub(text: str) -> str:
    """``text`` without e-mail addresses or long numbers."""
    return _LONG_NUMBER.sub("[number]", _EMAIL.sub("[e-mail]", text))


def _details(details) -> str:
    if not isinstance(details, dict):
        return ""
    kept = {k: v for k, v in details.items() if k.lower() not in _PERSONAL_KEYS}
    return scrub(json.dumps(kept, sort_keys=True, ensure_ascii=False, default=str))


def csv_chunks(session: Session, area: list[int] | None, f: AuditFilter,
               after: tuple[datetime, int] | None = None,
               header: bool = True) -> Iterator[tuple[str, tuple[datetime, int] | None]]:
    """The filtered log as CSV text, a batch of rows at a time (newest first), so a long
    log is streamed, never held whole in memory: (text, the (at, id) of its last row).
    Keyset pagination on (at, id), a unique order: ``after`` goes on after that row (the
    export carried on on another database, cowin_kit.streamed), ``header`` writes the
    column names first (with the first batch: a failure before that chunk is one before
    anything was sent)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if header:
        writer.writerow(CSV_COLUMNS)
    while True:
        query = _query([AuditEvent], area, f)
        if after is not None:
            at, last_id = after
            query = query.where((AuditEvent.at < at)
                                | ((AuditEvent.at == at) & (AuditEvent.id < last_id)))
        batch = list(session.scalars(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                                     .limit(EXPORT_BATCH)))
        codes = division_codes(session, (e.division_id for e in batch))
        for e in batch:
            writer.writerow([e.at.strftime("%Y-%m-%dT%H:%M:%SZ"), scrub(e.actor), e.action,
                             scrub(e.target or ""), codes.get(e.division_id, ""),
                             _details(e.details)])
        if batch:
            after = (batch[-1].at, batch[-1].id)
        if buffer.tell():
            yield buffer.getvalue(), after
            buffer.seek(0)
            buffer.truncate()
        if len(batch) < EXPORT_BATCH:
            return
