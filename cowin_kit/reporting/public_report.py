"""The figures of Co-WIN's public "vaccination report" for an area and a day, read from the
rollups: what `/api/v1/reports/v2/getPublicReports` answers (cowin_kit.api.cowin_report
gives them Co-WIN's shape). Flask-free; callers pass the *read* session.

Co-WIN's report is "as of a day": its totals count every dose given up to the end of that
day, its "today" figures the doses given on it. Here, for today, the totals are the all-time
rollups (as of their last fold) and "today" is live (queries + the doses not yet folded,
like the dashboard's); for an earlier day, both come from the daily rollups. Areas are the
nation, a first-level division ("state") or a division under one ("district"); one level
down are the states, the state's districts or the district's centres, each with its
figures.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Integer, func, select
from sqlalchemy.orm import Session

from cowin_kit.collation import sorted_by_name
from cowin_kit.geography.models import Division
from cowin_kit.geography.service import division_name
from cowin_kit.registration.choices import local_name
from cowin_kit.registration.models import Beneficiary
from cowin_kit.reporting import queries
from cowin_kit.reporting.dashboard import live_today, unfolded_doses
from cowin_kit.reporting.models import NATION, DoseRollup, DoseRollupTotal
from cowin_kit.reporting.queries import Area, Counts, ProgrammeFigures
from cowin_kit.scheduling.models import Facility
from cowin_kit.scheduling.search import descendant_ids
from cowin_kit.vaccination.models import Dose

LAST_DAYS = 7  # Co-WIN's last7DaysVaccination: the days before the report's day


@dataclass
class Child:
    """An area one level down: a division or a centre, with its figures up to the day and
    its doses on the day."""

    id: int
    code: str
    name: str  # in the deployment's main language
    name_l: str  # in the request's language
    is_facility: bool
    counts: Counts = field(default_factory=Counts)
    on_day: int = 0


@dataclass
class PublicReport:
    area: Area
    day: dt.date
    totals: Counts  # every dose up to the end of ``day``
    people_by_gender: dict[str, int]  # people with a first dose, by gender
    people_by_band: dict[int, int]  # the same by age band (every band of the profile)
    doses_by_product: dict[str, int]  # product code -> doses
    on_day: Counts  # doses given on ``day`` (live when it is today)
    on_day_by_gender: dict[str, int]
    last_days: list[tuple[dt.date, Counts]]  # the LAST_DAYS days before ``day``
    sites: int  # centres that have given a dose, up to ``day``
    sites_on_day: int  # centres that gave one on ``day``
    children: list[Child]
    as_of: dt.datetime | None


def _area_rows(table, area: Area):
    return (table.division_id == area.division_id, table.facility_id == area.facility_id)


def _chain_ids(facility: Facility) -> list[int]:
    ids, d = [], facility.division
    while d is not None:
        ids.append(d.id)
        d = d.parent
    return ids


class _Reader:
    """The queries of one report: an area, a programme, a day (and today)."""

    def __init__(self, session: Session, area: Area, programme: ProgrammeFigures,
                 day: dt.date, today: dt.date):
        self.session, self.area, self.programme = session, area, programme
        self.day, self.today = day, today
        # Up to the end of ``day``: the all-time rollup for today, else the daily one.
        self.upto = DoseRollupTotal if day >= today else DoseRollup

    @cached_property
    def divisions(self) -> list[int]:
        """The area's division and every division under it."""
        return descendant_ids(self.session, self.area.division_id)

    def _in(self, table) -> list:
        """The rows up to the end of ``day``, of the programme's products."""
        where = [table.product_id.in_(self.programme.products)]
        if table is DoseRollup:
            where.append(DoseRollup.day <= self.day)
        return where

    def _on_day(self, *where) -> list:
        return [DoseRollup.day == self.day, DoseRollup.product_id.in_(self.programme.products),
                *where]

    def _unfolded(self, *cols):
        return unfolded_doses(self.area, self.programme, self.day, *cols)

    def cells(self):
        """(age band, gender, product, dose number, doses) up to the end of ``day``."""
        t = self.upto
        return self.session.execute(
            select(t.age_band, t.gender, t.product_id, t.dose_number,
                   func.sum(t.doses).cast(Integer))
            .where(*_area_rows(t, self.area), *self._in(t))
            .group_by(t.age_band, t.gender, t.product_id, t.dose_number)).all()

    def on_day_by_gender(self) -> dict[str, int]:
        r, out = DoseRollup, {}
        folded = self.session.execute(
            select(r.gender, func.sum(r.doses).cast(Integer))
            .where(*self._on_day(*_area_rows(r, self.area))).group_by(r.gender))
        unfolded = self.session.execute(
            self._unfolded(Beneficiary.gender, func.count())
            .join(Beneficiary, Beneficiary.id == Dose.beneficiary_id)
            .group_by(Beneficiary.gender))
        for gender, n in [*folded, *unfolded]:
            out[gender] = out.get(gender, 0) + n
        return out

    @cached_property
    def unfolded_by_facility(self) -> dict[int, int]:
        """Facility id -> doses given on ``day`` there and not folded yet."""
        return dict(self.session.execute(
            self._unfolded(Dose.facility_id, func.count())
            .where(Dose.facility_id.is_not(None)).group_by(Dose.facility_id)).all())

    def _centres(self, table) -> list:
        """The conditions for the rows of the centres in the area."""
        if self.area.is_facility:
            return list(_area_rows(table, self.area))
        where = [table.facility_id != NATION]
        if not self.area.is_nation:
            where.append(table.division_id.in_(self.divisions))
        return where

    def sites(self) -> tuple[int, int]:
        """(centres that have given a dose up to ``day``, centres that gave one on it)."""
        t, r = self.upto, DoseRollup
        total = self.session.scalar(select(func.count(func.distinct(t.facility_id)))
                                    .where(*self._centres(t), *self._in(t))) or 0
        on_day = set(self.session.scalars(select(r.facility_id).distinct()
                                          .where(*self._on_day(*self._centres(r)))))
        return total, len(on_day | set(self.unfolded_by_facility))

    def children(self, lang: str, default_lang: str) -> list[Child]:
        """One level down, each with its figures up to ``day`` and its doses on it: the
        first-level divisions of the nation, a first-level division's divisions, and the
        centres anywhere under a lower division. Areas without a dose are listed too."""
        area, session, t, r = self.area, self.session, self.upto, DoseRollup
        if area.is_facility:
            return []
        if area.is_nation or area.level == 1:
            subs = session.scalars(select(Division).where(
                Division.level == 1 if area.is_nation
                else Division.parent_id == area.division_id))
            kids = {d.id: Child(d.id, d.code, d.name, division_name(d, lang), False)
                    for d in subs}
            key_t, key_r = t.division_id, r.division_id
            where_t = [t.division_id.in_(kids), t.facility_id == NATION]
            where_r = [r.division_id.in_(kids), r.facility_id == NATION]
        else:
            centres = session.scalars(select(Facility).where(
                Facility.division_id.in_(self.divisions)))
            kids = {f.id: Child(f.id, f.code, f.name,
                                local_name(f.name, f.names, lang, default_lang), True)
                    for f in centres}
            key_t, key_r = t.facility_id, r.facility_id
            where_t = [t.division_id.in_(self.divisions), t.facility_id.in_(kids)]
            where_r = [r.division_id.in_(self.divisions), r.facility_id.in_(kids)]
        if not kids:
            return []
        for key, product_id, dose, n in session.execute(
                select(key_t, t.product_id, t.dose_number, func.sum(t.doses).cast(Integer))
                .where(*where_t, *self._in(t)).group_by(key_t, t.product_id, t.dose_number)):
            kids[key].counts.add(self.programme, product_id, dose, n)
        for key, n in session.execute(select(key_r, func.sum(r.doses).cast(Integer))
                                      .where(*self._on_day(*where_r)).group_by(key_r)):
            kids[key].on_day += n
        for facility_id, n in self.unfolded_by_facility.items():  # where they were given
            kid = kids.get(facility_id)
            if kid is not None and kid.is_facility:
                kid.on_day += n
                continue
            facility = session.get(Facility, facility_id)
            for division_id in _chain_ids(facility) if facility is not None else ():
                kid = kids.get(division_id)
                if kid is not None and not kid.is_facility:
                    kid.on_day += n
                    break
        return sorted_by_name(kids.values(), lang, lambda c: c.name_l)


def public_report(session: Session, profile, lang: str, area: Area,
                  programme: ProgrammeFigures, day: dt.date, today: dt.date) -> PublicReport:
    """The report for ``area`` as of the end of ``day`` (not after ``today``)."""
    read = _Reader(session, area, programme, day, today)
    totals, by_gender = Counts(), {}
    by_band = {b: 0 for b in profile["reporting"]["age_bands"]}
    by_product = {p.code: 0 for p in programme.products.values()}
    for band, gender, product_id, dose, n in read.cells():
        totals.add(programme, product_id, dose, n)
        by_product[programme.products[product_id].code] += n
        if programme.kind(product_id, dose)[0]:
            by_gender[gender] = by_gender.get(gender, 0) + n
            by_band[band] = by_band.get(band, 0) + n
    sites, sites_on_day = read.sites()
    return PublicReport(
        area=area, day=day, totals=totals, people_by_gender=by_gender, people_by_band=by_band,
        doses_by_product=by_product, on_day=live_today(session, area, programme, day),
        on_day_by_gender=read.on_day_by_gender(),
        last_days=queries.daily(session, area, programme, day - dt.timedelta(days=LAST_DAYS),
                                day - dt.timedelta(days=1)),
        sites=sites, sites_on_day=sites_on_day,
        children=read.children(lang, profile.default_language),
        as_of=queries.as_of(session))


__all__ = ["LAST_DAYS", "Child", "PublicReport", "public_report"]
