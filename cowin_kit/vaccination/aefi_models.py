"""Adverse events following immunisation: a report and its follow-ups (the rules are in
cowin_kit.vaccination.aefi; the words in aefi_terms)."""
from __future__ import annotations

import datetime as dt
from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cowin_kit.db import Base, UTCDateTime, one_of, utcnow
from cowin_kit.vaccination.aefi_terms import (
    AefiStatus,
    Causality,
    Outcome,
    ReporterKind,
    Seriousness,
)
from cowin_kit.vaccination.models import Dose


class AefiReport(Base):
    """One adverse event after a dose, as the vaccinator or the person reported it.

    ``division_id`` is the division of the facility that gave the dose: the district whose
    officials follow the event up (a dose recorded without a facility leaves it None, and
    only the national level sees the report). ``status`` and ``causality`` are the latest
    follow-up's."""

    __tablename__ = "aefi_report"
    __table_args__ = (
        one_of("seriousness", Seriousness), one_of("outcome", Outcome),
        one_of("status", AefiStatus), one_of("reporter_kind", ReporterKind),
        CheckConstraint("causality IS NULL OR causality IN ('a1', 'a2', 'a3', 'a4', 'b1', "
                        "'b2', 'c', 'd')", name="causality"),
        CheckConstraint("(reporter_kind = 'vaccinator' AND reported_by_staff IS NOT NULL) OR "
                        "(reporter_kind = 'citizen' AND reported_by_account IS NOT NULL)",
                        name="reporter"),
        # The officials' list: their area's reports, serious first, newest first.
        Index("ix_aefi_report_division_listed", "division_id", "reported_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    dose_id: Mapped[int] = mapped_column(ForeignKey("dose.id"), index=True)
    reporter_kind: Mapped[str] = mapped_column(String(12))
    reported_by_staff: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    reported_by_account: Mapped[int | None] = mapped_column(ForeignKey("citizen_account.id"))
    seriousness: Mapped[str] = mapped_column(String(10))
    serious_criteria: Mapped[list] = mapped_column(JSON, default=list)  # SeriousCriterion
    symptoms: Mapped[list] = mapped_column(JSON, default=list)  # the profile's codes
    onset_on: Mapped[dt.date] = mapped_column(Date)
    onset_time: Mapped[dt.time | None] = mapped_column(Time)  # local time, when known
    outcome: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text, default="")
    division_id: Mapped[int | None] = mapped_column(ForeignKey("division.id"))
    status: Mapped[str] = mapped_column(String(14), default=AefiStatus.REPORTED.value)
    causality: Mapped[str | None] = mapped_column(String(2))
    reported_on: Mapped[dt.date] = mapped_column(Date)  # the local day it was reported
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    dose: Mapped[Dose] = relationship()
    follow_ups: Mapped[list[AefiFollowUp]] = relationship(
        back_populates="report", order_by="AefiFollowUp.id")


class AefiFollowUp(Base):
    """A district official's step on a report: its status then, a note, the causality
    category assessed (if any), the outcome learnt (if any)."""

    __tablename__ = "aefi_follow_up"
    __table_args__ = (
        one_of("status", AefiStatus),
        CheckConstraint("causality IS NULL OR causality IN ('a1', 'a2', 'a3', 'a4', 'b1', "
                        "'b2', 'c', 'd')", name="causality"),
        CheckConstraint("outcome IS NULL OR outcome IN ('recovered', 'recovering', "
                        "'not_recovered', 'recovered_with_sequelae', 'died', 'unknown')",
                        name="outcome"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("aefi_report.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    status: Mapped[str] = mapped_column(String(14))
    note: Mapped[str] = mapped_column(Text)
    causality: Mapped[str | None] = mapped_column(String(2))
    outcome: Mapped[str | None] = mapped_column(String(30))

    report: Mapped[AefiReport] = relationship(back_populates="follow_ups")


assert {c.value for c in Causality} == {"a1", "a2", "a3", "a4", "b1", "b2", "c", "d"}
assert {o.value for o in Outcome} == {"recovered", "recovering", "not_recovered",
                                      "recovered_with_sequelae", "died", "unknown"}
