"""The dose rollups: counts of doses by area × product × dose number × age band × gender,
per day (DoseRollup) and for all time (DoseRollupTotal), kept by cowin_kit.reporting.rollups.

An *area* is a pair (division_id, facility_id) with 0 meaning "all":

- (0, 0) the nation;
- (D, 0) division D at any level, with everything under it;
- (D, F) facility F, whose own division is D.

A dose counts once in each area it lies in: the nation, each of its facility's divisions up
to level 1, and the facility. So any area's figures are one indexed range of one table, the
nation's as cheap as a facility's, and no dashboard ever sums dose rows. Doses recorded
without a facility (imported history) count in the nation only.

The age band is the lower bound of the profile's band the person's age (by year of birth,
as Co-WIN counted it) falls in on the day of the dose.
"""
from __future__ import annotations

import datetime as dt
from datetime import datetime

from sqlalchemy import JSON, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cowin_kit.db import Base, UTCDateTime

NATION = 0  # division_id of the nation's rows; facility_id of a division's rows


class DoseRollup(Base):
    """Doses given on ``day`` in an area, by product, dose number, age band and gender."""

    __tablename__ = "dose_rollup"
    # Covering: an area's days (the dashboard's daily figures) are read from the index
    # alone, not from rows scattered over the table by folds and rebuilds.
    __table_args__ = (Index("ix_dose_rollup_area_day", "division_id", "facility_id", "day",
                            "product_id", "dose_number", "doses"),)

    division_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    facility_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    product_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dose_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    age_band: Mapped[int] = mapped_column(Integer, primary_key=True)
    gender: Mapped[str] = mapped_column(String(20), primary_key=True)
    doses: Mapped[int] = mapped_column(Integer)


class DoseRollupTotal(Base):
    """Doses ever given in an area, by product, dose number, age band and gender."""

    __tablename__ = "dose_rollup_total"
    # Covering: an area's totals and the areas one level down, from the index alone.
    __table_args__ = (Index("ix_dose_rollup_total_area", "division_id", "facility_id",
                            "product_id", "dose_number", "age_band", "gender", "doses"),)

    division_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    facility_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dose_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    age_band: Mapped[int] = mapped_column(Integer, primary_key=True)
    gender: Mapped[str] = mapped_column(String(20), primary_key=True)
    doses: Mapped[int] = mapped_column(Integer)


class RollupState(Base):
    """One row: the last batch of doses folded into the rollups, and when, and the age bands
    the rollups are counted in. Folding locks it, so two workers never fold the same doses."""

    __tablename__ = "rollup_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_batch: Mapped[int] = mapped_column(Integer, default=0)
    folded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rebuilt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The bands every row is counted in (set by the first fold and by a rebuild): folds keep
    # using them, so a changed profile never mixes two sets of bands; rebuild adopts it.
    age_bands: Mapped[list | None] = mapped_column(JSON)
