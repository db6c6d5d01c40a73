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

from sqlalchemy import Integer, func, select
from sqlalchemy.orm import Session

from cowin_kit.geography.models import Division
from cowin_kit.geography.service import division_name
from cowin_kit.registration.choices import local_name
from cowin_kit.registration.models import Beneficiary
from cowin_kit.reporting import queries
from cowin_kit.reporting.dashboard import live_today
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


def _upto(table, day: dt.date) -> list:
    """The condition for "up to the end of ``day``": none on the all-time table."""
    return [] if table is DoseRollupTotal else [DoseRollup.day <= day]


def _table(day: dt.date, today: dt.date):
    return DoseRollupTotal if day >= today else DoseRollup


def _unfolded(area: Area, day: dt.date, programme: ProgrammeFigures, session: Session,
              *cols):
    """SELECT ``cols`` over the doses given on ``day`` in ``area`` that are not folded into
    the rollups yet (dashboard.live_today's other half)."""
    stmt = select(*cols).select_from(Dose).where(Dose.rollup_batch.is_(None),
                                                 Dose.given_on == day,
                                                 Dose.product_id.in_(programme.products))
    if area.is_facility:
        stmt = stmt.where(Dose.facility_id == area.facility_id)
    elif not area.is_nation:
        stmt = stmt.join(Facility, Facility.id == Dose.facility_id).where(
            Facility.division_id.in_(descendant_ids(session, area.division_id)))
    return stmt


def _cells(session: Session, area: Area, programme: ProgrammeFigures, day: dt.date,
           today: dt.date):
    """(age band, gender, product, dose number, doses) up to the end of ``day``."""
    t = _table(day, today)
    return session.execute(
        select(t.age_band, t.gender, t.product_id, t.dose_number,
               func.sum(t.doses).cast(Integer))
        .where(*_area_rows(t, area), *_upto(t, day),
               t.product_id.in_(programme.products))
        .group_by(t.age_band, t.gender, t.product_id, t.dose_number)).all()


def _on_day_by_gender(session: Session, area: Area, programme: ProgrammeFigures,
                      day: dt.date) -> dict[str, int]:
    r = DoseRollup
    out: dict[str, int] = {}
    for gender, n in session.execute(
            select(r.gender, func.sum(r.doses).cast(Integer))
            .where(*_area_rows(r, area), r.day == day, r.product_id.in_(programme.products))
            .group_by(r.gender)):
        out[gender] = out.get(gender, 0) + n
    for gender, n in session.execute(
            _unfolded(area, day, programme, session, Beneficiary.gender, func.count())
            .join(Beneficiary, Beneficiary.id == Dose.beneficiary_id)
            .group_by(Beneficiary.gender)):
        out[gender] = out.get(gender, 0) + n
    return out


def _unfolded_by_facility(session: Session, area: Area, programme: ProgrammeFigures,
                          day: dt.date) -> dict[int, int]:
    """Facility id -> doses given on ``day`` there and not folded yet."""
    return {f: n for f, n in session.execute(
        _unfolded(area, day, programme, session, Dose.facility_id, func.count())
        .where(Dose.facility_id.is_not(None)).group_by(Dose.facility_id))}


def _facility_rows(session: Session, table, area: Area):
    """The conditions for the rows of the centres in ``area``."""
    if area.is_facility:
        return _area_rows(table, area)
    where = [table.facility_id != NATION]
    if not area.is_nation:
        where.append(table.division_id.in_(descendant_ids(session, area.division_id)))
    return where


def _sites(session: Session, area: Area, programme: ProgrammeFigures, day: dt.date,
           today: dt.date, unfolded: dict[int, int]) -> tuple[int, int]:
    t = _table(day, today)
    total = session.scalar(
        select(func.count(func.distinct(t.facility_id)))
        .where(*_facility_rows(session, t, area), *_upto(t, day),
               t.product_id.in_(programme.products))) or 0
    r = DoseRollup
    on_day = set(session.scalars(
        select(r.facility_id).distinct()
        .where(*_facility_rows(session, r, area), r.day == day,
               r.product_id.in_(programme.products))))
    return total, len(on_day | set(unfolded))


def _chain_ids(facility: Facility) -> list[int]:
    ids, d = [], facility.division
    while d is not None:
        ids.append(d.id)
        d = d.parent
    return ids


def children(session: Session, area: Area, programme: ProgrammeFigures, lang: str,
             default_lang: str, day: dt.date, today: dt.date,
             unfolded: dict[int, int]) -> list[Child]:
    """One level down, each with its figures up to ``day`` and its doses on it: the
    first-level divisions of the nation, a first-level division's divisions, and the centres
    anywhere under a lower division. Areas without a dose are listed too, with zeros."""
    if area.is_facility:
        return []
    t = _table(day, today)
    r = DoseRollup
    if area.is_nation or area.level == 1:
        subs = session.scalars(select(Division).where(
            Division.level == 1 if area.is_nation else Division.parent_id == area.division_id))
        kids = {d.id: Child(d.id, d.code, d.name, division_name(d, lang), False) for d in subs}
        key_t, key_r = t.division_id, r.division_id
        where_t = [t.division_id.in_(kids), t.facility_id == NATION]
        where_r = [r.division_id.in_(kids), r.facility_id == NATION]
    else:
        divisions = descendant_ids(session, area.division_id)
        centres = session.scalars(select(Facility).where(Facility.division_id.in_(divisions)))
        kids = {f.id: Child(f.id, f.code, f.name, local_name(f.name, f.names, lang,
                                                               default_lang), True)
                for f in centres}
        key_t, key_r = t.facility_id, r.facility_id
        where_t = [t.division_id.in_(divisions), t.facility_id.in_(kids)]
        where_r = [r.division_id.in_(divisions), r.facility_id.in_(kids)]
    if not kids:
        return []
    for key, product_id, dose, n in session.execute(
            select(key_t, t.product_id, t.dose_number, func.sum(t.doses).cast(Integer))
            .where(*where_t, *_upto(t, day), t.product_id.in_(programme.products))
            .group_by(key_t, t.product_id, t.dose_number)):
        kids[key].counts.add(programme, product_id, dose, n)
    for key, n in session.execute(
            select(key_r, func.sum(r.doses).cast(Integer))
            .where(*where_r, r.day == day, r.product_id.in_(programme.products))
            .group_by(key_r)):
        kids[key].on_day += n
    for facility_id, n in unfolded.items():  # not folded yet: counted where they were given
        if facility_id in kids and kids[facility_id].is_facility:
            kids[facility_id].on_day += n
            continue
        facility = session.get(Facility, facility_id)
        for division_id in _chain_ids(facility) if facility is not None else ():
            if division_id in kids and not kids[division_id].is_facility:
                kids[division_id].on_day += n
                break
    return sorted(kids.values(), key=lambda c: c.name_l.casefold())


def public_report(session: Session, profile, lang: str, area: Area,
                  programme: ProgrammeFigures, day: dt.date, today: dt.date) -> PublicReport:
    """The report for ``area`` as of the end of ``day`` (not after ``today``)."""
    bands = profile["reporting"]["age_bands"]
    totals, by_gender = Counts(), {}
    by_band = {b: 0 for b in bands}
    by_product = {p.code: 0 for p in programme.products.values()}
    for band, gender, product_id, dose, n in _cells(session, area, programme, day, today):
        totals.add(programme, product_id, dose, n)
        by_product[programme.products[product_id].code] += n
        if programme.kind(product_id, dose)[0]:
            by_gender[gender] = by_gender.get(gender, 0) + n
            by_band[band] = by_band.get(band, 0) + n
    unfolded = _unfolded_by_facility(session, area, programme, day)
    sites, sites_on_day = _sites(session, area, programme, day, today, unfolded)
    return PublicReport(
        area=area, day=day, totals=totals, people_by_gender=by_gender, people_by_band=by_band,
        doses_by_product=by_product,
        on_day=live_today(session, area, programme, day),
        on_day_by_gender=_on_day_by_gender(session, area, programme, day),
        last_days=queries.daily(session, area, programme, day - dt.timedelta(days=LAST_DAYS),
                                day - dt.timedelta(days=1)),
        sites=sites, sites_on_day=sites_on_day,
        children=children(session, area, programme, lang, profile.default_language, day,
                          today, unfolded),
        as_of=queries.as_of(session))


__all__ = ["LAST_DAYS", "Child", "PublicReport", "children", "public_report"]
