"""The drive's figures, read from the rollups (cowin_kit.reporting.models): what the public
dashboard, the reports API, the home page and the open data show. Flask-free; every caller
passes the *read* session (a replica may serve it).

A request names an area (``resolve_area``: a division code, a facility code, or nothing for
the nation) and a programme (``programme_figures``: its products and their schedules).
People are counted by their doses: a first dose is a person with at least one dose, the dose
that completes a product's primary schedule (dose number = its primary doses) a person fully
vaccinated, the first dose after it a person with a booster.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import Integer, func, select
from sqlalchemy.orm import Session, joinedload, object_session, selectinload

from cowin_kit.errors import UserError
from cowin_kit.geography.models import Division
from cowin_kit.geography.service import division_name
from cowin_kit.plugins.interfaces import N_
from cowin_kit.programmes.models import Programme
from cowin_kit.registration.choices import local_name
from cowin_kit.reporting.models import NATION, DoseRollup, DoseRollupTotal, RollupState
from cowin_kit.scheduling.models import Facility

MAX_DAYS = 731  # the longest date range one request may ask for (two years)

MSG_UNKNOWN_DIVISION = N_("There is no division with the code %(code)s.")
MSG_UNKNOWN_FACILITY = N_("There is no centre with the code %(code)s.")
MSG_UNKNOWN_PROGRAMME = N_("There is no vaccination programme with the code %(code)s.")
MSG_BAD_DATE = N_("%(value)s is not a date. Write it as YYYY-MM-DD (or DD-MM-YYYY).")
MSG_BAD_RANGE = N_("The start date %(start)s is after the end date %(end)s.")
MSG_LONG_RANGE = N_("Ask for at most %(days)s days at a time.")
MSG_TOO_EARLY = N_("%(value)s is too early: choose a day of the vaccination drive.")


class ReportError(UserError):
    """A report request that cannot be answered as asked (400)."""


class OutsideArea(ReportError):
    """A report about an area outside the official's own (403)."""

    status = 403


@dataclass(frozen=True)
class Area:
    """Where figures are counted: the nation (division_id 0), a division at any level, or a
    facility (facility_id > 0). ``trail`` runs from the nation down to this area's parent,
    for breadcrumbs; ``level`` is 0 for the nation, a division's level, or None for a
    facility."""

    division_id: int
    facility_id: int
    code: str
    name: str
    level: int | None
    trail: tuple[Area, ...] = ()
    population: int | None = None

    @property
    def is_nation(self) -> bool:
        return self.division_id == NATION

    @property
    def is_facility(self) -> bool:
        return self.facility_id != NATION


def _population(division: Division | None, profile) -> int | None:
    table = profile["reporting"]["population"]
    if division is None:
        return table.get(profile.code)
    return division.population or table.get(division.code)


def nation(profile, lang: str) -> Area:
    from cowin_kit.i18n import country_name

    return Area(NATION, NATION, profile.code, country_name(profile.code, lang), 0,
                population=_population(None, profile))


def _division_area(d: Division, profile, lang: str, trail) -> Area:
    return Area(d.id, NATION, d.code, division_name(d, lang), d.level, tuple(trail),
                _population(d, profile))


def _chain(d: Division) -> list[Division]:
    """The divisions from level 1 down to ``d``. Its ancestors are read in one query (a
    recursive CTE) and found again in the session by the parent look-ups."""
    session = object_session(d)
    loaded = []
    if session is not None and d.parent_id is not None:
        up = select(Division.id, Division.parent_id).where(
            Division.id == d.parent_id).cte("up", recursive=True)
        up = up.union_all(select(Division.id, Division.parent_id)
                          .join(up, Division.id == up.c.parent_id))
        loaded = list(session.scalars(select(Division).where(Division.id.in_(
            select(up.c.id)))))  # held here, so the parent look-ups find them
    chain = []
    while d is not None:
        chain.append(d)
        d = d.parent
    del loaded
    return chain[::-1]


def resolve_area(session: Session, profile, lang: str, *, division: str | None = None,
                 facility: str | None = None) -> Area:
    """The area a request names: a facility code, else a division code, else the nation.
    Unknown codes are a ReportError naming the code."""
    top = nation(profile, lang)
    if facility:
        f = session.scalar(select(Facility).where(Facility.code == facility)
                           .options(joinedload(Facility.division)))
        if f is None:
            raise ReportError(MSG_UNKNOWN_FACILITY, "facility", code=facility)
        trail = [top]
        for d in _chain(f.division):
            trail.append(_division_area(d, profile, lang, trail))
        return Area(f.division_id, f.id, f.code, local_name(f.name, f.names, lang, ""), None,
                    tuple(trail))
    if division and division != profile.code:
        d = session.scalar(select(Division).where(Division.code == division))
        if d is None:
            raise ReportError(MSG_UNKNOWN_DIVISION, "division", code=division)
        trail = [top]
        for up in _chain(d)[:-1]:
            trail.append(_division_area(up, profile, lang, trail))
        return _division_area(d, profile, lang, trail)
    return top


def check_in_area(area: Area, allowed: list[int] | None) -> None:
    """Refuse (403) an area outside an official's: ``allowed`` as
    accounts.service.area_division_ids gives it (None: the whole country)."""
    if allowed is None:
        return
    if area.is_nation or area.division_id not in allowed:
        raise OutsideArea(N_("This area is outside yours."), "division")


@dataclass(frozen=True)
class ProductInfo:
    id: int
    code: str
    name: str
    primary_doses: int


@dataclass(frozen=True)
class ProgrammeFigures:
    """A programme and its products, what every figure is counted for."""

    id: int
    code: str
    name: str
    products: dict[int, ProductInfo]

    def kind(self, product_id: int, dose_number: int) -> tuple[bool, bool, bool]:
        """(first dose, completes the primary schedule, first booster) for a dose."""
        primary = self.products[product_id].primary_doses
        return dose_number == 1, dose_number == primary, dose_number == primary + 1


def programmes(session: Session, lang: str, default_lang: str = "") -> list[ProgrammeFigures]:
    """The active programmes, in the profile's order. Read once per session (a request):
    the page or API asks for them, then dashboard_figures again."""
    key = ("cowin_kit.reporting.programmes", lang, default_lang)
    if key in session.info:
        return list(session.info[key])
    out = []
    for p in session.scalars(select(Programme).where(Programme.is_active.is_(True))
                             .order_by(Programme.id).options(selectinload(Programme.products))):
        products = {pr.id: ProductInfo(pr.id, pr.code, pr.name, pr.primary_doses)
                    for pr in sorted(p.products, key=lambda x: x.id)}
        out.append(ProgrammeFigures(p.id, p.code, local_name(p.name, p.names, lang,
                                                             default_lang), products))
    session.info[key] = tuple(out)
    return out


def programme_figures(session: Session, lang: str, code: str | None = None,
                      default_lang: str = "") -> ProgrammeFigures:
    """The programme named by ``code`` (None: the first active one)."""
    found = programmes(session, lang, default_lang)
    if code:
        for p in found:
            if p.code == code:
                return p
        raise ReportError(MSG_UNKNOWN_PROGRAMME, "programme", code=code)
    if not found:
        raise ReportError(MSG_UNKNOWN_PROGRAMME, "programme", code="")
    return found[0]


def parse_date(value: str | None, name: str) -> dt.date | None:
    """YYYY-MM-DD, or Co-WIN's DD-MM-YYYY; None or "" for none; else a ReportError."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text)
        if re.fullmatch(r"\d{2}-\d{2}-\d{4}", text):
            return dt.datetime.strptime(text, "%d-%m-%Y").date()
    except ValueError:
        pass
    raise ReportError(MSG_BAD_DATE, name, value=text[:40])


def date_range(start: str | None, end: str | None, today: dt.date,
               default_days: int = 90) -> tuple[dt.date, dt.date]:
    """The days a request asks for, checked: ``end`` defaults to today, ``start`` to
    ``default_days`` before it; the range holds at most MAX_DAYS days."""
    last = parse_date(end, "to") or today
    try:
        first = parse_date(start, "from") or last - dt.timedelta(days=default_days - 1)
    except OverflowError:  # a default start before the year 1
        raise ReportError(MSG_TOO_EARLY, "to", value=last.isoformat()) from None
    if first > last:
        raise ReportError(MSG_BAD_RANGE, "from", start=first.isoformat(), end=last.isoformat())
    if (last - first).days + 1 > MAX_DAYS:
        raise ReportError(MSG_LONG_RANGE, "from", days=MAX_DAYS)
    return first, last


# --- figures ----------------------------------------------------------------------------------

@dataclass
class Counts:
    """Doses in an area, and the people they stand for."""

    total: int = 0
    first: int = 0  # people with at least one dose
    full: int = 0  # people who completed a primary schedule
    booster: int = 0  # people with a first booster
    by_dose: dict[int, int] = field(default_factory=dict)

    def add(self, programme: ProgrammeFigures, product_id: int, dose_number: int, n: int):
        first, full, booster = programme.kind(product_id, dose_number)
        self.total += n
        self.first += n if first else 0
        self.full += n if full else 0
        self.booster += n if booster else 0
        self.by_dose[dose_number] = self.by_dose.get(dose_number, 0) + n


def _where_area(table, area: Area):
    return (table.division_id == area.division_id, table.facility_id == area.facility_id)


def totals(session: Session, area: Area, programme: ProgrammeFigures) -> Counts:
    t = DoseRollupTotal
    counts = Counts()
    for product_id, dose, n in session.execute(
            select(t.product_id, t.dose_number, func.sum(t.doses).cast(Integer))
            .where(*_where_area(t, area), t.product_id.in_(programme.products))
            .group_by(t.product_id, t.dose_number)):
        counts.add(programme, product_id, dose, n)
    return counts


def on_day(session: Session, area: Area, programme: ProgrammeFigures, day: dt.date) -> Counts:
    return daily(session, area, programme, day, day)[0][1]


def daily(session: Session, area: Area, programme: ProgrammeFigures, start: dt.date,
          end: dt.date) -> list[tuple[dt.date, Counts]]:
    """Each day from ``start`` to ``end`` (days without doses included, as zeros)."""
    r = DoseRollup
    days = {start + dt.timedelta(days=i): Counts() for i in range((end - start).days + 1)}
    for day, product_id, dose, n in session.execute(
            select(r.day, r.product_id, r.dose_number, func.sum(r.doses).cast(Integer))
            .where(*_where_area(r, area), r.day >= start, r.day <= end,
                   r.product_id.in_(programme.products))
            .group_by(r.day, r.product_id, r.dose_number)):
        days[day].add(programme, product_id, dose, n)
    return list(days.items())


def by_product(session: Session, area: Area,
               programme: ProgrammeFigures) -> list[tuple[ProductInfo, Counts]]:
    t = DoseRollupTotal
    out = {pid: Counts() for pid in programme.products}
    for product_id, dose, n in session.execute(
            select(t.product_id, t.dose_number, func.sum(t.doses).cast(Integer))
            .where(*_where_area(t, area), t.product_id.in_(programme.products))
            .group_by(t.product_id, t.dose_number)):
        out[product_id].add(programme, product_id, dose, n)
    return [(programme.products[pid], c) for pid, c in out.items()]


@dataclass
class Breakdown:
    """totals, by_product and by_age_gender of an area, from one query."""

    totals: Counts
    by_product: list[tuple[ProductInfo, Counts]]
    by_age_gender: dict[tuple[int, str], Counts]


def breakdown(session: Session, area: Area, programme: ProgrammeFigures) -> Breakdown:
    """What totals(), by_product() and by_age_gender() give, read in one query."""
    t = DoseRollupTotal
    all_, products = Counts(), {pid: Counts() for pid in programme.products}
    age_gender: dict[tuple[int, str], Counts] = {}
    for band, gender, product_id, dose, n in session.execute(
            select(t.age_band, t.gender, t.product_id, t.dose_number,
                   func.sum(t.doses).cast(Integer))
            .where(*_where_area(t, area), t.product_id.in_(programme.products))
            .group_by(t.age_band, t.gender, t.product_id, t.dose_number)):
        all_.add(programme, product_id, dose, n)
        products[product_id].add(programme, product_id, dose, n)
        age_gender.setdefault((band, gender), Counts()).add(programme, product_id, dose, n)
    return Breakdown(all_, [(programme.products[pid], c) for pid, c in products.items()],
                     age_gender)


def by_age_gender(session: Session, area: Area, programme: ProgrammeFigures,
                  bands: list[int]) -> dict[tuple[int, str], Counts]:
    """(age band, gender) -> counts, every band of the profile present."""
    t = DoseRollupTotal
    out: dict[tuple[int, str], Counts] = {}
    for band, gender, product_id, dose, n in session.execute(
            select(t.age_band, t.gender, t.product_id, t.dose_number,
                   func.sum(t.doses).cast(Integer))
            .where(*_where_area(t, area), t.product_id.in_(programme.products))
            .group_by(t.age_band, t.gender, t.product_id, t.dose_number)):
        out.setdefault((band, gender), Counts()).add(programme, product_id, dose, n)
    return out


def band_label(bands: list[int], band: int) -> str:
    """"18–44", "60+": how a band is written (numbers, the same in every language)."""
    later = [b for b in bands if b > band]
    return f"{band}–{later[0] - 1}" if later else f"{band}+"


@dataclass
class Child:
    area: Area
    counts: Counts


def children(session: Session, area: Area, programme: ProgrammeFigures, profile,
             lang: str) -> list[Child]:
    """The areas one level down, with their figures, by name: the level-1 divisions of the
    nation, a division's divisions, or (at the lowest level) its centres. Areas with no dose
    yet are listed too, with zeros."""
    if area.is_facility:
        return []
    trail = (*area.trail, area)
    t = DoseRollupTotal
    if area.is_nation:
        subs = list(session.scalars(select(Division).where(Division.level == 1)))
    else:
        subs = list(session.scalars(select(Division).where(Division.parent_id == area.division_id)))
    if subs:
        kids = {d.id: Child(_division_area(d, profile, lang, trail), Counts()) for d in subs}
        rows = session.execute(
            select(t.division_id, t.product_id, t.dose_number, func.sum(t.doses).cast(Integer))
            .where(t.division_id.in_(kids), t.facility_id == NATION,
                   t.product_id.in_(programme.products))
            .group_by(t.division_id, t.product_id, t.dose_number))
    else:
        centres = session.scalars(select(Facility).where(
            Facility.division_id == area.division_id))
        kids = {f.id: Child(Area(f.division_id, f.id, f.code,
                                 local_name(f.name, f.names, lang, ""), None, trail),
                            Counts()) for f in centres}
        rows = session.execute(
            select(t.facility_id, t.product_id, t.dose_number, func.sum(t.doses).cast(Integer))
            .where(t.division_id == area.division_id, t.facility_id.in_(kids),
                   t.product_id.in_(programme.products))
            .group_by(t.facility_id, t.product_id, t.dose_number))
    for key, product_id, dose, n in rows:
        kids[key].counts.add(programme, product_id, dose, n)
    return sorted(kids.values(), key=lambda c: c.area.name.casefold())


def as_of(session: Session) -> dt.datetime | None:
    """When doses were last folded into the rollups (the figures' freshness)."""
    return session.scalar(select(RollupState.folded_at).where(RollupState.id == 1))


def share(part: int, population: int | None) -> float | None:
    """A share of the population, in percent (None without a population). Not rounded:
    the first doses of a large country are a tiny share, not 0; pages round for reading."""
    return None if not population else 100.0 * part / population


__all__ = ["MAX_DAYS", "Area", "Breakdown", "Child", "Counts", "OutsideArea", "ProductInfo",
           "ProgrammeFigures", "ReportError", "as_of", "band_label", "breakdown", "by_age_gender",
           "by_product", "check_in_area", "children", "daily", "date_range", "nation",
           "on_day", "parse_date", "programme_figures", "programmes", "resolve_area", "share",
           "totals"]
