from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cowin_kit.db import Base


class Programme(Base):
    __tablename__ = "programme"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    disease: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    names: Mapped[dict] = mapped_column(JSON, default=dict)
    # Whether a person may take a later dose of another product than their first.
    allow_mixed_products: Mapped[bool] = mapped_column(Boolean, default=False)
    # Whether a booster may be of another product than the primary series.
    mixed_boosters: Mapped[bool] = mapped_column(Boolean, default=False)
    # How age is counted: "birth_year" (Co-WIN: the year of the session minus the year of
    # birth) or "date_of_birth" (a childhood schedule counts weeks and months from birth).
    age_from: Mapped[str] = mapped_column(String(20), default="birth_year",
                                          server_default="birth_year")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    products: Mapped[list[Product]] = relationship(back_populates="programme",
                                                     order_by="Product.id")
    phases: Mapped[list[EligibilityPhase]] = relationship(back_populates="programme",
                                                            order_by="EligibilityPhase.sort_order")


class Product(Base):
    __tablename__ = "product"
    __table_args__ = (UniqueConstraint("programme_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    manufacturer: Mapped[str] = mapped_column(String(200))
    # EU DCC value-set code (e.g. EU/1/20/1528), where the product has one.
    dcc_product: Mapped[str | None] = mapped_column(String(60))
    # Its EU DCC vaccine type (vaccine-prophylaxis, e.g. 1119349007) and marketing
    # authorisation holder or manufacturer (vaccine-mah-manf, e.g. ORG-100030215): from the
    # profile, else cowin_kit.certificates.valuesets' table for the product.
    dcc_vaccine_type: Mapped[str | None] = mapped_column(String(60))
    dcc_manufacturer: Mapped[str | None] = mapped_column(String(60))
    # The CDC CVX code (SMART Health Cards) and WHO ICD-11 vaccine code (DDCC:VS): from the
    # profile, else the table's for dcc_product; None for a product neither knows.
    cvx: Mapped[str | None] = mapped_column(String(8))
    icd11: Mapped[str | None] = mapped_column(String(16))
    min_age_years: Mapped[int] = mapped_column(Integer, default=18)
    max_age_years: Mapped[int | None] = mapped_column(Integer)
    # The ages as the profile states them ("6 weeks", "4 years"), when it does; the whole
    # years above then hold their complete years (for sessions, which count in years).
    min_age: Mapped[str | None] = mapped_column(String(20))
    max_age: Mapped[str | None] = mapped_column(String(20))
    primary_doses: Mapped[int] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    programme: Mapped[Programme] = relationship(back_populates="products")
    doses: Mapped[list[DoseRule]] = relationship(back_populates="product",
                                                   order_by="DoseRule.dose_number")


class DoseRule(Base):
    """When dose N of a product may be given, counted from the previous dose: from the
    minimum interval on, recommended before the maximum (a hard limit only when
    ``max_interval_hard``), and not before the person's ``min_age`` when one is set."""

    __tablename__ = "dose_rule"
    __table_args__ = (UniqueConstraint("product_id", "dose_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    dose_number: Mapped[int] = mapped_column(Integer)
    is_booster: Mapped[bool] = mapped_column(Boolean, default=False)
    min_interval_days: Mapped[int] = mapped_column(Integer, default=0)
    max_interval_days: Mapped[int | None] = mapped_column(Integer)
    # The intervals as the profile states them ("6 weeks"); when empty, the days above.
    min_interval: Mapped[str | None] = mapped_column(String(20))
    max_interval: Mapped[str | None] = mapped_column(String(20))
    max_interval_hard: Mapped[bool] = mapped_column(Boolean, default=False,
                                                    server_default=false())
    min_age: Mapped[str | None] = mapped_column(String(20))

    product: Mapped[Product] = relationship(back_populates="doses")


class EligibilityPhase(Base):
    __tablename__ = "eligibility_phase"
    __table_args__ = (UniqueConstraint("programme_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    names: Mapped[dict] = mapped_column(JSON, default=dict)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    starts_on: Mapped[date | None] = mapped_column(Date)
    min_age_years: Mapped[int | None] = mapped_column(Integer)
    groups: Mapped[list] = mapped_column(JSON, default=list)

    programme: Mapped[Programme] = relationship(back_populates="phases")
