"""An officials' report exported as CSV: a job the worker builds in chunks
(cowin_kit.reporting.exports holds the rules)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cowin_kit.db import Base, UTCDateTime, one_of, utcnow


class ReportKind(StrEnum):
    """The officials' reports (cowin_kit.reporting.official)."""

    UTILISATION = "utilisation"  # sessions, places, booked, vaccinated, no-shows per centre
    ADVERSE_EVENTS = "adverse_events"  # adverse events by seriousness and symptom
    COVERAGE = "coverage"  # districts where coverage lags


class ExportStatus(StrEnum):
    QUEUED = "queued"  # waits for the worker
    RUNNING = "running"  # rows_done of rows_total written
    DONE = "done"  # the file is complete
    FAILED = "failed"  # ``error`` says why


class ReportExport(Base):
    """One CSV export of a report: who asked, for what (``params``: the area's codes, the
    dates, the programme, the language of the names), and how far it is. The file lives in
    the instance folder (``file_name``, random) until it is cleaned up."""

    __tablename__ = "report_export"
    __table_args__ = (
        one_of("kind", ReportKind), one_of("status", ExportStatus),
        Index("ix_report_export_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default=ExportStatus.QUEUED.value)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    # The area exported: its division (None: the nation) and facility (None: every one).
    division_id: Mapped[int | None] = mapped_column(ForeignKey("division.id"))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id"))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    bytes_done: Mapped[int] = mapped_column(Integer, default=0)  # the file's committed length
    file_name: Mapped[str | None] = mapped_column(String(80))
    error: Mapped[str | None] = mapped_column(String(200))
    # A worker building it holds it until then (another takes it over after a crash).
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
