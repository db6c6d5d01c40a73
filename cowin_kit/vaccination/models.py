from __future__ import annotations

import datetime as dt
from datetime import datetime

from sqlalchemy import Date, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cowin_kit.db import Base, UTCDateTime, utcnow
from cowin_kit.programmes.models import Product


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

    product: Mapped[Product] = relationship()
