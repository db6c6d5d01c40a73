"""The dashboard's figures for one area and programme, as one plain, JSON-ready dict: the
public page renders it, `/api/v2/reports/dashboard` sends it, so both always agree.

Flask-free. Numbers are numbers (pages format them in the reader's language), names are in
``lang``, dates are ISO strings. "today" is live: the rollups' figure for today plus the
doses recorded since the worker last folded them in.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cowin_kit.geography.models import Division
from cowin_kit.reporting import queries, rollups
from cowin_kit.reporting.queries import Area, Counts, ProgrammeFigures
from cowin_kit.scheduling.models import Facility
from cowin_kit.vaccination.models import Dose


def counts_dict(c: Counts, population: int | None = None) -> dict:
    out = {"doses": c.total, "first": c.first, "full": c.full, "booster": c.booster,
           "by_dose": {str(k): v for k, v in sorted(c.by_dose.items())}}
    if population is not None:
        out["population"] = population
        out["share_first"] = queries.share(c.first, population)
        out["share_full"] = queries.share(c.full, population)
        out["share_booster"] = queries.share(c.booster, population)
    return out


def area_dict(a: Area) -> dict:
    kind = "facility" if a.is_facility else "nation" if a.is_nation else "division"
    return {"code": a.code, "name": a.name, "kind": kind, "level": a.level,
            "population": a.population}


def live_today(session: Session, area: Area, programme: ProgrammeFigures,
               today: dt.date) -> Counts:
    """Today's doses in the area: folded ones from the rollup, the rest from the doses."""
    return _add_pending(session, area, programme, today,
                        queries.on_day(session, area, programme, today))


def unfolded_doses(area: Area, programme: ProgrammeFigures, day: dt.date, *cols):
    """SELECT ``cols`` over the doses of the programme given on ``day`` in the area that the
    worker has not folded into the rollups yet (the divisions under the area by a recursive
    CTE): the other half of any live figure."""
    stmt = select(*cols).select_from(Dose).where(
        Dose.rollup_batch.is_(None), Dose.given_on == day,
        Dose.product_id.in_(programme.products))
    if area.is_facility:
        return stmt.where(Dose.facility_id == area.facility_id)
    if not area.is_nation:
        down = select(Division.id).where(Division.id == area.division_id).cte(
            "down", recursive=True)
        down = down.union_all(select(Division.id).join(down, Division.parent_id == down.c.id))
        stmt = stmt.join(Facility, Facility.id == Dose.facility_id).where(
            Facility.division_id.in_(select(down.c.id)))
    return stmt


def _add_pending(session: Session, area: Area, programme: ProgrammeFigures, today: dt.date,
                 counts: Counts) -> Counts:
    """Add today's doses not folded in yet (one query)."""
    stmt = unfolded_doses(area, programme, today, Dose.product_id, Dose.dose_number,
                          func.count()).group_by(Dose.product_id, Dose.dose_number)
    for product_id, dose, n in session.execute(stmt):
        counts.add(programme, product_id, dose, n)
    return counts


def _copy(c: Counts) -> Counts:
    return Counts(c.total, c.first, c.full, c.booster, dict(c.by_dose))


def dashboard_figures(session: Session, profile, lang: str, area: Area,
                      programme: ProgrammeFigures, start: dt.date, end: dt.date,
                      today: dt.date) -> dict:
    bands = rollups.counted_bands(session, profile["reporting"]["age_bands"])
    as_of = queries.as_of(session)
    # totals, products, age and gender from one query; today's folded doses from the
    # daily figures when the range ends today (the usual case).
    parts = queries.breakdown(session, area, programme)
    days = queries.daily(session, area, programme, start, end)
    folded_today = next((c for d, c in days if d == today), None)
    today_counts = (live_today(session, area, programme, today) if folded_today is None
                    else _add_pending(session, area, programme, today, _copy(folded_today)))
    return {
        "area": area_dict(area),
        "trail": [area_dict(a) for a in area.trail],
        "programme": {"code": programme.code, "name": programme.name},
        "programmes": [{"code": p.code, "name": p.name}
                       for p in queries.programmes(session, lang, profile.default_language)],
        "as_of": as_of.isoformat() if as_of else None,
        "population_year": profile["reporting"]["population_year"],
        "population_source": profile["reporting"]["population_source"],
        "today": {"date": today.isoformat(),
                  **counts_dict(today_counts)},
        "totals": counts_dict(parts.totals, area.population),
        "range": {"from": start.isoformat(), "to": end.isoformat()},
        "daily": [{"date": d.isoformat(), **counts_dict(c)}
                  for d, c in days],
        "products": [{"code": p.code, "name": p.name, **counts_dict(c)}
                     for p, c in parts.by_product],
        "age_gender": [{"band": band, "label": queries.band_label(bands, band),
                        "gender": gender, **counts_dict(c)}
                       for (band, gender), c in sorted(parts.by_age_gender.items())],
        "children": [{**area_dict(k.area), **counts_dict(k.counts, k.area.population)}
                     for k in queries.children(session, area, programme, profile, lang)],
    }


__all__ = ["area_dict", "counts_dict", "dashboard_figures", "live_today", "unfolded_doses"]
