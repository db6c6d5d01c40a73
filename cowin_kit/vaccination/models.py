from __future__ import annotations

import datetime as dt
from datetime import datetime

from sqlalchemy import Date, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cowin_kit.db import Base, UTCDateTime, utcnow
from cowin_kit.programmes.models import Product


class Dose(Base):
    """A dose given to a beneficiary. Booking reads this history to know a person's next
    dose, its product and its earliest and latest date."""

    __tablename__ = "dose"
    # A person's dose N is recorded once, so a retried recording never adds a second one.
    __table_args__ = (UniqueConstraint("beneficiary_id", "dose_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    dose_number: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id"))
    given_on: Mapped[dt.date] = mapped_column(Date)
    appointment_id: Mapped[str | None] = mapped_column(ForeignKey("appointment.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product: Mapped[Product] = relationship()
