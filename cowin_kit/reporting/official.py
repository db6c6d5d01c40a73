"""Officials' reports: how the centres of an area are used, its adverse events by
seriousness, and the districts where coverage lags. Flask-free; counts only, never a row
about a person. The staff pages, the CSV exports and `cowin-kit reports export` call these.

Every report takes a ``Scope`` (``scope_for``): the area asked for, checked against the
official's own (a request outside it is ``queries.OutsideArea``, 403), the divisions it
covers (None: the whole country) and, for a centre, its facility. Dates are checked with
``queries.date_range``.

- Utilisation, per centre and for the whole scope, over the days of the range: sessions
  held (cancelled ones left out), places offered (each dose's capacity plus the walk-in
  quota), places taken (booked, walk-ins included; a cancelled appointment gives its place
  back), people vaccinated (doses recorded at the centre, from the rollups plus the doses
  not folded in yet), no-shows (appointments marked missed) and utilisation (vaccinated /
  places offered, in percent).
- Adverse events reported in the range, per division one level below the area (per centre
  at the lowest level, or the one centre), by seriousness and by symptom.
- Coverage: each district of the area (``level``, by default Co-WIN's district, the
  second level), its people with a first dose and with a full schedule as shares of its
  population, as of the range's end, lowest first. A district *lags* when a share is
  below the reference by more than LAG_POINTS percentage points, or by more than
  LAG_FRACTION of the reference when that is smaller (so the rule still finds the
  laggards early in a drive, when every share is small). The reference is the area's
  share (its districts' doses over their population); for an area of one district, the
  nation's. Districts without a population figure are listed apart, with their counts.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Integer, func, or_, select
from sqlalchemy.orm import Session

from cowin_kit.geography.models import Division
from cowin_kit.geography.service import division_name
from cowin_kit.plugins.interfaces import N_
from cowin_kit.registration.choices import local_name
from cowin_kit.replicas import read_whole
from cowin_kit.reporting import queries
from cowin_kit.reporting.models import NATION, DoseRollup, DoseRollupTotal
from cowin_kit.reporting.queries import Area, Counts, OutsideArea, ProgrammeFigures, ReportError
from cowin_kit.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Facility,
    SessionCapacity,
    VaccinationSession,
)
from cowin_kit.scheduling.search import descendant_ids
from cowin_kit.vaccination.aefi_models import AefiReport
from cowin_kit.vaccination.aefi_terms import Seriousness
from cowin_kit.vaccination.models import Dose

DISTRICT_LEVEL = 2  # Co-WIN's district: the second administrative level
LAG_POINTS = 5.0  # percentage points below the reference
LAG_FRACTION = 0.2  # ... or a fifth of the reference, when that is less

MSG_OWN_CENTRE = N_("Your reports are those of your own centre.")
MSG_BAD_LEVEL = N_("Choose one of the levels of the list.")
DEFAULT_DAYS = 30  # the range a report covers when none is asked for


def date_range(start: str | None, end: str | None, today: dt.date) -> tuple[dt.date, dt.date]:
    """queries.date_range, with the officials' default range."""
    return queries.date_range(start, end, today, DEFAULT_DAYS)


# --- the scope ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """What a report covers: ``area`` as asked, the divisions under it (None: the whole
    country) and the one centre (None: every centre of those divisions)."""

    area: Area
    division_ids: tuple[int, ...] | None
    facility_id: int | None = None

    def details(self) -> dict:
        """The scope for the audit log and an export's parameters: codes, nothing personal."""
        kind = "facility" if self.area.is_facility else (
            "nation" if self.area.is_nation else "division")
        return {"area": self.area.code, "area_kind": kind}


def scope_for(session: Session, profile, lang: str, *, division: str | None = None,
              facility: str | None = None, allowed: list[int] | None = None,
              own_facility: int | None = None) -> Scope:
    """The scope a request names (a centre's code, else a division's, else the nation),
    checked: unknown codes are a ReportError (400); an area outside ``allowed`` (the
    official's divisions, None: the country) is OutsideArea (403). ``own_facility``: a
    facility manager's centre, the only scope such a user may have (asked for by default)."""
    if own_facility is not None:
        own = session.get(Facility, own_facility)
        if not division and not facility:
            facility = own.code
        area = queries.resolve_area(session, profile, lang, division=division,
                                    facility=facility)
        if area.facility_id != own_facility:
            raise OutsideArea(MSG_OWN_CENTRE, "facility" if facility else "division")
    else:
        area = queries.resolve_area(session, profile, lang, division=division,
                                    facility=facility)
        queries.check_in_area(area, allowed)
    if area.is_facility:
        return Scope(area, (area.division_id,), area.facility_id)
    if area.is_nation:
        return Scope(area, None)
    return Scope(area, tuple(descendant_ids(session, area.division_id)))


def _facilities(scope: Scope):
    """WHERE clauses choosing the scope's centres."""
    if scope.facility_id is not None:
        return [Facility.id == scope.facility_id]
    if scope.division_ids is not None:
        return [Facility.division_id.in_(scope.division_ids)]
    return []


def _facility_name(f: Facility, lang: str) -> str:
    return local_name(f.name, f.names, lang, "")


def percent(part: int, whole: int | None) -> float | None:
    return None if not whole else round(100.0 * part / whole, 1)


# --- facility utilisation ----------------------------------------------------------------------

@dataclass
class Utilisation:
    """One centre's figures (or the scope's, summed) over the range."""

    code: str = ""
    name: str = ""
    division: str = ""
    sessions: int = 0
    capacity: int = 0
    booked: int = 0
    vaccinated: int = 0
    no_shows: int = 0

    @property
    def utilisation(self) -> float | None:
        return percent(self.vaccinated, self.capacity)

    def add(self, other: Utilisation) -> None:
        for name in ("sessions", "capacity", "booked", "vaccinated", "no_shows"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _reported_facilities(scope: Scope, start: dt.date, end: dt.date):
    """The scope's centres a report lists: the active ones, and any other that held a
    session in the range (a centre closed since still answers for its days)."""
    held = select(VaccinationSession.facility_id).where(
        VaccinationSession.date >= start, VaccinationSession.date <= end)
    return select(Facility).where(*_facilities(scope),
                                  or_(Facility.is_active.is_(True), Facility.id.in_(held)))


def count_facilities(session: Session, scope: Scope, start: dt.date, end: dt.date) -> int:
    stmt = _reported_facilities(scope, start, end)
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def _figures(session: Session, ids, start: dt.date, end: dt.date) -> dict[int, Utilisation]:
    """Facility id -> figures, for the centres ``ids`` (a list or a subquery of ids)."""
    out: dict[int, Utilisation] = defaultdict(Utilisation)
    vs = VaccinationSession
    held = (vs.facility_id.in_(ids), vs.date >= start, vs.date <= end, vs.cancelled_at.is_(None))
    for fid, n, quota, walk_ins in session.execute(
            select(vs.facility_id, func.count(), func.sum(vs.walk_in_quota).cast(Integer),
                   func.sum(vs.walk_ins).cast(Integer)).where(*held).group_by(vs.facility_id)):
        row = out[fid]
        row.sessions, row.capacity, row.booked = n, quota or 0, walk_ins or 0
    for fid, capacity, booked in session.execute(
            select(vs.facility_id, func.sum(SessionCapacity.capacity).cast(Integer),
                   func.sum(SessionCapacity.booked).cast(Integer))
            .join(SessionCapacity, SessionCapacity.session_id == vs.id)
            .where(*held).group_by(vs.facility_id)):
        out[fid].capacity += capacity or 0
        out[fid].booked += booked or 0
    for fid, n in session.execute(
            select(vs.facility_id, func.count()).join(Appointment, Appointment.session_id == vs.id)
            .where(*held, Appointment.status == AppointmentStatus.MISSED.value)
            .group_by(vs.facility_id)):
        out[fid].no_shows = n
    r = DoseRollup
    for fid, n in session.execute(
            select(r.facility_id, func.sum(r.doses).cast(Integer))
            .where(r.facility_id.in_(ids), r.day >= start, r.day <= end)
            .group_by(r.facility_id)):
        out[fid].vaccinated += n or 0
    for fid, n in session.execute(  # recorded since the worker last folded doses in
            select(Dose.facility_id, func.count())
            .where(Dose.rollup_batch.is_(None), Dose.facility_id.in_(ids),
                   Dose.given_on >= start, Dose.given_on <= end)
            .group_by(Dose.facility_id)):
        out[fid].vaccinated += n
    return out


def facility_utilisation(session: Session, scope: Scope, start: dt.date, end: dt.date,
                         lang: str, *, offset: int = 0,
                         limit: int | None = None) -> list[Utilisation]:
    """The scope's centres by code (a page of them: ``offset``, ``limit``), each with its
    figures over the range."""
    stmt = _reported_facilities(scope, start, end).order_by(Facility.code).offset(offset)
    centres = list(session.scalars(stmt.limit(limit) if limit is not None else stmt))
    figures = _figures(session, [f.id for f in centres], start, end) if centres else {}
    divisions = dict(session.execute(select(Division.id, Division)
                                     .where(Division.id.in_({f.division_id for f in centres}))
                                     ).all()) if centres else {}
    rows = []
    for f in centres:
        row = Utilisation(f.code, _facility_name(f, lang),
                          division_name(divisions[f.division_id], lang))
        row.add(figures.get(f.id, Utilisation()))
        rows.append(row)
    return rows


def utilisation_total(session: Session, scope: Scope, start: dt.date,
                      end: dt.date) -> Utilisation:
    """The scope's figures over the range, all its centres summed."""
    ids = select(Facility.id).where(*_facilities(scope)).scalar_subquery()
    total = Utilisation()
    for row in _figures(session, ids, start, end).values():
        total.add(row)
    return total


# --- adverse events ----------------------------------------------------------------------------

SERIOUSNESS = tuple(s.value for s in Seriousness)


@dataclass
class EventCounts:
    """Adverse events in one division (or centre), by seriousness and by symptom code."""

    code: str
    name: str
    by_seriousness: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SERIOUSNESS, 0))
    by_symptom: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.by_seriousness.values())

    def add(self, seriousness: str, symptoms) -> None:
        self.by_seriousness[seriousness] = self.by_seriousness.get(seriousness, 0) + 1
        self.by_symptom.update(symptoms or [])


@dataclass
class AdverseEvents:
    rows: list[EventCounts]  # per division (or centre), by name
    total: EventCounts  # the scope's
    by: str  # "division" or "facility": what the rows are


def _groups(session: Session, scope: Scope, lang: str) -> tuple[str, dict, dict]:
    """What the adverse-events rows are: ("division", {division id: group id}, {group id:
    (code, name)}) for the divisions one level below the area (the level-1 divisions for
    the nation), or ("facility", …) for the centres of a lowest-level division or the one
    centre asked for."""
    area = scope.area
    if area.is_facility:
        f = session.get(Facility, area.facility_id)
        return "facility", {}, {f.id: (f.code, _facility_name(f, lang))}
    parents = dict(session.execute(
        select(Division.id, Division.parent_id).where(
            *([Division.id.in_(scope.division_ids)] if scope.division_ids is not None else [])
        )).all())
    top = None if area.is_nation else area.division_id
    below = [d for d, p in parents.items() if p == top and d != top]
    if not below:
        centres = session.scalars(select(Facility).where(Facility.division_id == top))
        return "facility", {}, {f.id: (f.code, _facility_name(f, lang)) for f in centres}
    member = {}
    for d in parents:  # each division's ancestor one level below the area
        walk = d
        while walk is not None and parents.get(walk) != top:
            walk = parents.get(walk)
        if walk is not None:
            member[d] = walk
    names = {d.id: (d.code, division_name(d, lang))
             for d in session.scalars(select(Division).where(Division.id.in_(below)))}
    return "division", member, names


def adverse_events(session: Session, scope: Scope, start: dt.date, end: dt.date,
                   lang: str) -> AdverseEvents:
    """Adverse events reported from ``start`` to ``end`` (the day each was reported), per
    division one level below the area (or per centre), by seriousness and symptom. Reports
    about a dose given without a centre count in the nation's total only."""
    by, member, names = _groups(session, scope, lang)
    r = AefiReport
    stmt = (select(r.division_id, Dose.facility_id, r.seriousness, r.symptoms)
            .join(Dose, Dose.id == r.dose_id)
            .where(r.reported_on >= start, r.reported_on <= end))
    if scope.facility_id is not None:
        stmt = stmt.where(Dose.facility_id == scope.facility_id)
    elif scope.division_ids is not None:
        stmt = stmt.where(r.division_id.in_(scope.division_ids))

    def fold(read: Session) -> AdverseEvents:
        rows = {key: EventCounts(code, name) for key, (code, name) in names.items()}
        total = EventCounts(scope.area.code, scope.area.name)
        for division_id, facility_id, seriousness, symptoms in read.execute(
                stmt.execution_options(yield_per=2000)):
            total.add(seriousness, symptoms)
            key = facility_id if by == "facility" else member.get(division_id)
            if key in rows:
                rows[key].add(seriousness, symptoms)
        return AdverseEvents(sorted(rows.values(), key=lambda e: e.name.casefold()), total, by)

    # The rows stream from a server-side cursor: a replica stopping while they come is
    # only seen mid-loop, so the whole count is made again on the primary (read_whole).
    return read_whole(session, fold)


# --- districts where coverage lags -------------------------------------------------------------

@dataclass
class DistrictCoverage:
    code: str
    name: str
    parent: str  # the level-1 division it lies in ("" for a level-1 division)
    population: int | None
    counts: Counts
    share_first: float | None = None
    share_full: float | None = None
    lags_first: bool = False
    lags_full: bool = False

    @property
    def lags(self) -> bool:
        return self.lags_first or self.lags_full


@dataclass
class Coverage:
    as_of: dt.date
    level: int
    reference: str  # "area" or "nation": what the shares are compared with
    reference_first: float | None
    reference_full: float | None
    districts: list[DistrictCoverage]  # with a population, lowest first-dose share first
    without_population: list[DistrictCoverage]  # by name

    @property
    def lagging(self) -> int:
        return sum(1 for d in self.districts if d.lags)


def lags(share: float | None, reference: float | None) -> bool:
    """The rule of the module's docstring: more than LAG_POINTS percentage points below the
    reference, or more than LAG_FRACTION of it when that is less.

    >>> lags(44.9, 50.0), lags(45.0, 50.0), lags(3.9, 5.0), lags(4.1, 5.0)
    (True, False, True, False)
    """
    if share is None or reference is None:
        return False
    margin = min(LAG_POINTS, LAG_FRACTION * reference)
    return reference - share > margin + 1e-9


def district_levels(session: Session, scope: Scope) -> list[int]:
    """The levels a coverage report may compare at: the area's own level and those below."""
    query = select(Division.level).distinct()
    if scope.division_ids is not None:
        query = query.where(Division.id.in_(scope.division_ids))
    return sorted(session.scalars(query))


def default_level(levels: list[int]) -> int:
    return min(DISTRICT_LEVEL, max(levels)) if levels else DISTRICT_LEVEL


def _counts_by_division(session: Session, ids: list[int], programme: ProgrammeFigures,
                        end: dt.date, today: dt.date) -> dict[int, Counts]:
    out = {d: Counts() for d in ids}
    if end >= today:
        t = DoseRollupTotal
        stmt = select(t.division_id, t.product_id, t.dose_number, func.sum(t.doses).cast(Integer))
        where = [t.division_id.in_(ids), t.facility_id == NATION]
        group = (t.division_id, t.product_id, t.dose_number)
    else:
        r = DoseRollup
        stmt = select(r.division_id, r.product_id, r.dose_number, func.sum(r.doses).cast(Integer))
        where = [r.division_id.in_(ids), r.facility_id == NATION, r.day <= end]
        group = (r.division_id, r.product_id, r.dose_number)
    if not ids:
        return out
    for division_id, product_id, dose, n in session.execute(
            stmt.where(*where, group[1].in_(programme.products)).group_by(*group)):
        out[division_id].add(programme, product_id, dose, n)
    return out


def coverage(session: Session, profile, lang: str, scope: Scope, programme: ProgrammeFigures,
             end: dt.date, today: dt.date, level: int | None = None) -> Coverage:
    """Each district of the scope (divisions at ``level``; default: default_level) with its
    coverage as of ``end``, ranked and flagged (the module's docstring gives the rule)."""
    if scope.area.is_facility:
        raise ReportError(MSG_OWN_CENTRE, "facility")
    levels = district_levels(session, scope)
    level = default_level(levels) if level is None else level
    if level not in levels:
        raise ReportError(MSG_BAD_LEVEL, "level")
    query = select(Division).where(Division.level == level)
    if scope.division_ids is not None:
        query = query.where(Division.id.in_(scope.division_ids))
    found = list(session.scalars(query))
    counts = _counts_by_division(session, [d.id for d in found], programme, end, today)
    table = profile["reporting"]["population"]
    districts = []
    for d in found:
        top = d
        while top.parent is not None:
            top = top.parent
        districts.append(DistrictCoverage(
            d.code, division_name(d, lang), division_name(top, lang) if top is not d else "",
            d.population or table.get(d.code), counts[d.id]))
    known = [d for d in districts if d.population]
    if len(known) > 1:
        people = sum(d.population for d in known)
        reference = "area"
        ref_first = queries.share(sum(d.counts.first for d in known), people)
        ref_full = queries.share(sum(d.counts.full for d in known), people)
    else:
        nation = queries.nation(profile, lang)
        reference = "nation"
        if end >= today:
            c = queries.totals(session, nation, programme)
        else:
            c = _counts_by_division(session, [NATION], programme, end, today)[NATION]
        ref_first = queries.share(c.first, nation.population)
        ref_full = queries.share(c.full, nation.population)
    for d in known:
        d.share_first = queries.share(d.counts.first, d.population)
        d.share_full = queries.share(d.counts.full, d.population)
        d.lags_first = lags(d.share_first, ref_first)
        d.lags_full = lags(d.share_full, ref_full)
    known.sort(key=lambda d: (d.share_first, d.share_full, d.name.casefold()))
    apart = sorted((d for d in districts if not d.population), key=lambda d: d.name.casefold())
    return Coverage(min(end, today), level, reference, ref_first, ref_full, known, apart)


__all__ = ["DISTRICT_LEVEL", "LAG_FRACTION", "LAG_POINTS", "AdverseEvents", "Coverage",
           "DistrictCoverage", "EventCounts", "Scope", "Utilisation", "adverse_events",
           "count_facilities", "coverage", "date_range", "default_level", "district_levels",
           "facility_utilisation", "lags", "percent", "scope_for", "utilisation_total"]
