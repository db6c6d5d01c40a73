"""Officials' reports as CSV files: an export is a job (ReportExport) the worker builds in
chunks, so a national report over every centre never holds a request open.

Flask-free. ``request_export`` writes the job (queued, its rows counted); an export of at
most SMALL_EXPORT rows is built at once by the caller with ``build``. The worker's task
(``work``, every POLL_SECONDS) claims the oldest job waiting (a lease, so two workers never
build one job and a crashed worker's job is taken over), appends CHUNK_ROWS rows at a time
to the file and commits ``rows_done`` after each chunk (the page's progress bar); the file's
committed length is kept too, so a chunk written but not committed is cut off and written
again. Files live in the instance folder (FOLDER) under a random name, readable by the
owner only; ``cleanup`` removes exports finished more than KEEP ago. Every cell is guarded
against spreadsheet formulas (csvfiles.spreadsheet_cell). Counts only: no row is about a
person.

Who may read an export (its progress page, its file): the user who asked for it, or an
administrator whose area covers the exported area (``may_read``).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from cowin_kit.accounts.models import StaffUser
from cowin_kit.accounts.roles import ADMIN_ROLES, Can, can
from cowin_kit.accounts.service import audit, in_area
from cowin_kit.csvfiles import spreadsheet_cell
from cowin_kit.db import utcnow
from cowin_kit.reporting import official, queries
from cowin_kit.reporting.export_models import ExportStatus, ReportExport, ReportKind
from cowin_kit.reporting.official import Scope

log = logging.getLogger(__name__)

FOLDER = "report-exports"  # under the instance folder
CHUNK_ROWS = 500  # rows per chunk (one commit of progress)
SMALL_EXPORT = 1000  # rows: built at once, in the request
POLL_SECONDS = 2  # how often the worker looks for exports to build
WORK_SECONDS = 1.0  # the worker builds for about this long, then lets the others run
LEASE = dt.timedelta(minutes=2)  # a claim's life; renewed with every chunk
KEEP = dt.timedelta(days=2)  # a finished export's file is removed after this

COLUMNS = {
    ReportKind.UTILISATION: ["centre_code", "centre", "division", "sessions", "places_offered",
                             "places_taken", "vaccinated", "no_shows", "utilisation_percent"],
    ReportKind.ADVERSE_EVENTS: ["code", "name", "minor", "severe", "serious", "total"],
    ReportKind.COVERAGE: ["division_code", "division", "in", "population", "first_dose",
                          "full_schedule", "first_dose_percent", "full_schedule_percent",
                          "lags_first_dose", "lags_full_schedule"],
}


def folder_for(instance_path) -> Path:
    return Path(instance_path or ".") / FOLDER


def file_path(folder: Path, export: ReportExport) -> Path | None:
    return folder / export.file_name if export.file_name else None


# --- what an export holds ----------------------------------------------------------------------

class Rows:
    """The header and the rows of one report for one scope and range, page by page."""

    def __init__(self, session: Session, profile, kind: str, params: dict, today: dt.date):
        self.session, self.profile, self.kind = session, profile, ReportKind(kind)
        self.lang = params.get("lang") or profile.default_language
        self.scope = official.scope_for(session, profile, self.lang,
                                        division=params.get("division") or None,
                                        facility=params.get("facility") or None)
        self.start, self.end = official.date_range(params.get("from"), params.get("to"), today)
        self.params, self.today = params, today
        self._all: list[list] | None = None
        self.symptoms: list[str] = []

    def header(self) -> list[str]:
        if self.kind == ReportKind.ADVERSE_EVENTS:
            self._rows()
            return COLUMNS[self.kind] + [f"symptom_{code}" for code in self.symptoms]
        return list(COLUMNS[self.kind])

    def total(self) -> int:
        if self.kind == ReportKind.UTILISATION:
            return official.count_facilities(self.session, self.scope, self.start, self.end)
        return len(self._rows())

    def page(self, offset: int, limit: int) -> list[list]:
        if self.kind == ReportKind.UTILISATION:
            return [[u.code, u.name, u.division, u.sessions, u.capacity, u.booked, u.vaccinated,
                     u.no_shows, "" if u.utilisation is None else u.utilisation]
                    for u in official.facility_utilisation(self.session, self.scope, self.start,
                                                           self.end, self.lang, offset=offset,
                                                           limit=limit)]
        return self._rows()[offset:offset + limit]

    def _rows(self) -> list[list]:
        """The small reports, whole (a few hundred districts at most)."""
        if self._all is not None:
            return self._all
        if self.kind == ReportKind.ADVERSE_EVENTS:
            from cowin_kit.vaccination.aefi import profile_symptoms

            events = official.adverse_events(self.session, self.scope, self.start, self.end,
                                             self.lang)
            known = [s.code for s in profile_symptoms(self.profile)]
            seen = {c for e in events.rows for c in e.by_symptom} | set(events.total.by_symptom)
            self.symptoms = known + sorted(seen - set(known))
            self._all = [[e.code, e.name, *e.by_seriousness.values(), e.total,
                          *[e.by_symptom.get(c, 0) for c in self.symptoms]]
                         for e in events.rows]
        else:
            programme = queries.programme_figures(self.session, self.lang,
                                                  self.params.get("programme") or None,
                                                  self.profile.default_language)
            level = self.params.get("level")
            report = official.coverage(self.session, self.profile, self.lang, self.scope,
                                       programme, self.end, self.today,
                                       int(level) if level else None)

            def row(d):
                return [d.code, d.name, d.parent, d.population or "", d.counts.first,
                        d.counts.full, _blank(d.share_first), _blank(d.share_full),
                        "yes" if d.lags_first else "", "yes" if d.lags_full else ""]
            self._all = [row(d) for d in report.districts + report.without_population]
        return self._all


def _blank(value):
    return "" if value is None else value


def csv_text(rows: list[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows([spreadsheet_cell(v) for v in row] for row in rows)
    return out.getvalue()


def write_csv(rows: Rows, out, progress: Callable[[int], None] | None = None) -> int:
    """The whole report to ``out`` (a text file), CHUNK_ROWS at a time; ``progress(n)``
    after each chunk. Returns the rows written (`cowin-kit reports export`)."""
    out.write(csv_text([rows.header()]))
    done, total = 0, rows.total()
    while done < total:
        page = rows.page(done, CHUNK_ROWS)
        if not page:
            break
        out.write(csv_text(page))
        done += len(page)
        if progress:
            progress(len(page))
    return done


# --- the jobs ----------------------------------------------------------------------------------

def request_export(session: Session, profile, *, kind: str, params: dict, scope: Scope,
                   user: StaffUser | None, actor: str, today: dt.date) -> ReportExport:
    """A queued export of ``kind`` for ``scope`` (already checked against the user's area)
    with its rows counted; audited. Flushed, not committed."""
    params = {k: v for k, v in params.items() if v not in (None, "")}
    total = Rows(session, profile, kind, params, today).total()
    export = ReportExport(kind=ReportKind(kind).value, status=ExportStatus.QUEUED.value,
                          params=params, rows_total=total, rows_done=0, bytes_done=0,
                          division_id=None if scope.area.is_nation else scope.area.division_id,
                          facility_id=scope.facility_id,
                          requested_by=user.id if user is not None else None)
    session.add(export)
    session.flush()
    audit(session, actor, "report.export_requested", f"report_export:{export.id}",
          division_id=export.division_id, kind=export.kind, rows=total, **scope.details(),
          **{k: v for k, v in params.items() if k in ("from", "to", "programme", "level")})
    return export


def build_chunk(session: Session, read: Session, profile, export: ReportExport, folder: Path,
                today: dt.date, rows: Rows | None = None, *, chunk: int = CHUNK_ROWS) -> Rows:
    """Append the next ``chunk`` rows of ``export`` to its file and commit its progress
    (``session`` writes the job; ``read`` reads the figures). Returns the Rows, for the
    next call."""
    rows = rows or Rows(read, profile, export.kind, export.params, today)
    if not export.file_name:
        export.file_name = f"{export.id}-{secrets.token_hex(16)}.csv"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / export.file_name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.truncate(export.bytes_done)  # drop a chunk written but never committed
        fh.seek(export.bytes_done)
        text = ""
        if export.bytes_done == 0:
            text = csv_text([rows.header()])
            export.rows_total = rows.total()
        page = rows.page(export.rows_done, chunk) if export.rows_done < export.rows_total else []
        text += csv_text(page)
        fh.write(text.encode("utf-8"))
        size = fh.tell()
    export.rows_done += len(page)
    export.bytes_done = size
    if export.rows_done >= export.rows_total or not page:
        export.status = ExportStatus.DONE.value
        export.finished_at = utcnow()
        export.claimed_until = None
    else:
        export.status = ExportStatus.RUNNING.value
        export.claimed_until = utcnow() + LEASE
    session.commit()
    return rows


def build(session: Session, read: Session, profile, export: ReportExport, folder: Path,
          today: dt.date) -> None:
    """Build the whole export now (a small one, in the request)."""
    rows = None
    while export.status not in (ExportStatus.DONE.value, ExportStatus.FAILED.value):
        rows = build_chunk(session, read, profile, export, folder, today, rows)


def _claim(session: Session, now: dt.datetime) -> ReportExport | None:
    waiting = (ReportExport.status.in_((ExportStatus.QUEUED.value, ExportStatus.RUNNING.value)),
               or_(ReportExport.claimed_until.is_(None), ReportExport.claimed_until < now))
    candidate = session.scalar(select(ReportExport.id).where(*waiting)
                               .order_by(ReportExport.created_at, ReportExport.id).limit(1))
    if candidate is None:
        return None
    claimed = session.execute(
        update(ReportExport).where(ReportExport.id == candidate, *waiting)
        .values(claimed_until=now + LEASE, status=ExportStatus.RUNNING.value)
        .execution_options(synchronize_session=False)).rowcount
    session.commit()
    return session.get(ReportExport, candidate) if claimed else None


def work(session: Session, read: Session, profile, folder: Path, today: dt.date, *,
         seconds: float = WORK_SECONDS, chunk: int = CHUNK_ROWS) -> int:
    """The worker's task: clean up old exports, then build the oldest waiting export for
    about ``seconds`` (one chunk at least). Returns the rows written."""
    cleanup(session, folder, utcnow())
    export = _claim(session, utcnow())
    if export is None:
        return 0
    started, before, rows = time.monotonic(), export.rows_done, None
    try:
        while export.status == ExportStatus.RUNNING.value:
            rows = build_chunk(session, read, profile, export, folder, today, rows, chunk=chunk)
            if time.monotonic() - started >= seconds:
                break
    except Exception as exc:  # a report that cannot be built must not be retried forever
        session.rollback()
        log.exception("report export %s failed", export.id)
        session.execute(update(ReportExport).where(ReportExport.id == export.id).values(
            status=ExportStatus.FAILED.value, error=type(exc).__name__[:200],
            finished_at=utcnow(), claimed_until=None))
        session.commit()
        return 0
    if export.status == ExportStatus.RUNNING.value:  # the next call (any worker) goes on
        export.claimed_until = None
        session.commit()
    return export.rows_done - before


def cleanup(session: Session, folder: Path, now: dt.datetime) -> int:
    """Remove the exports (rows and files) finished more than KEEP ago, and those waiting
    that long (nobody builds them). Returns how many."""
    old = list(session.scalars(select(ReportExport).where(or_(
        ReportExport.finished_at < now - KEEP,
        ReportExport.created_at < now - KEEP - KEEP))))
    for export in old:
        path = file_path(folder, export)
        if path is not None:
            path.unlink(missing_ok=True)
    if old:
        session.execute(delete(ReportExport).where(ReportExport.id.in_([e.id for e in old])))
        session.commit()
    return len(old)


def may_read(export: ReportExport, user: StaffUser, area: list[int] | None) -> bool:
    """The user who asked for it, or an administrator (Can.VIEW_REPORTS, an area role)
    whose area covers what was exported."""
    if export.requested_by == user.id:
        return True
    if user.role not in ADMIN_ROLES or not can(user, Can.VIEW_REPORTS):
        return False
    return area is None or (export.division_id is not None and in_area(area, export.division_id))


def recent(session: Session, user: StaffUser, limit: int = 10) -> list[ReportExport]:
    """The user's own exports, newest first."""
    return list(session.scalars(select(ReportExport).where(ReportExport.requested_by == user.id)
                                .order_by(ReportExport.created_at.desc(), ReportExport.id.desc())
                                .limit(limit)))


__all__ = ["CHUNK_ROWS", "COLUMNS", "FOLDER", "KEEP", "POLL_SECONDS", "SMALL_EXPORT", "Rows",
           "build", "build_chunk", "cleanup", "csv_text", "file_path", "folder_for", "may_read",
           "recent", "request_export", "work", "write_csv"]
