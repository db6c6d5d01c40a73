from __future__ import annotations

import datetime as dt
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cowin_kit.db import Base, UTCDateTime, utcnow
from cowin_kit.programmes.models import Product
from cowin_kit.scheduling.models import Facility


class VaccineLot(Base):
    """A lot (batch) of a product received at a facility. A dose names its lot; a lot is
    refused once expired or used up. ``doses_used`` changes only through one conditional
    UPDATE (doses_used < doses_received), like a session's places."""

    __tablename__ = "vaccine_lot"
    __table_args__ = (
        UniqueConstraint("facility_id", "product_id", "lot_number"),
        CheckConstraint("doses_used >= 0 AND doses_used <= doses_received", name="used_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    lot_number: Mapped[str] = mapped_column(String(40))
    expires_on: Mapped[dt.date] = mapped_column(Date)
    doses_received: Mapped[int] = mapped_column(Integer)
    doses_used: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product: Mapped[Product] = relationship()


class Dose(Base):
    """A dose given to a beneficiary (recorded by cowin_kit.vaccination.service). The
    eligibility rules read this history to know a person's next dose, its product and its
    window."""

    __tablename__ = "dose"
    # A person's dose N of a programme is recorded once, so a retried recording never adds a
    # second one; a child's routine series and COVID-19 series are counted apart.
    __table_args__ = (UniqueConstraint("beneficiary_id", "programme_id", "dose_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    # The product's programme, kept on the dose so the constraint above can name it.
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    dose_number: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id"))
    given_on: Mapped[dt.date] = mapped_column(Date)
    appointment_id: Mapped[str | None] = mapped_column(ForeignKey("appointment.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Recorded at a centre (issue 11): the lot, the site of the injection, the moment, who
    # gave it, and the client's idempotency key (a retried, double-tapped or replayed
    # recording finds this dose instead of adding one). Older and imported doses lack them.
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("vaccine_lot.id"))
    site: Mapped[str | None] = mapped_column(String(20))
    given_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    vaccinator_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A dose outside the schedule, given on a supervisor's word: who, and why.
    override_reason: Mapped[str | None] = mapped_column(String(500))
    overridden_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # The batch that counted this dose in the rollups (cowin_kit.reporting.rollups); None
    # until the worker folds it in. Recording a dose writes nothing else for the reports.
    rollup_batch: Mapped[int | None] = mapped_column(Integer, index=True)

    product: Mapped[Product] = relationship()
    lot: Mapped[VaccineLot | None] = relationship()
    # Where it was given (certificates name the centre).
    facility: Mapped[Facility | None] = relationship()
