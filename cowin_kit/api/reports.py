"""The reports API: the public dashboard's figures as JSON under /api/v2/reports/…, and
Co-WIN's public vaccination report at its own path. Public (no login), read-only (the read
session), cached and open to other sites' dashboards (CORS).

Each answer is built once per REPORTS_CACHE_SECONDS per process, per endpoint, parameters,
language and day (public.AnswerCache), and carries Cache-Control, a strong ETag and a 304
for If-None-Match. Routes only: the figures are cowin_kit.reporting's, Co-WIN's shape is
cowin_kit.api.cowin_report's; the parameters are checked by report_schemas' schemas and
the reporting layer (ReportError: 400 in Co-WIN's error shape).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, request
from flask_babel import get_locale
from sqlalchemy.orm import Session

from cowin_kit.api import cowin_report
from cowin_kit.api.body import load_query
from cowin_kit.api.errors import register
from cowin_kit.api.public import AnswerCache, respond_cached
from cowin_kit.reporting import queries
from cowin_kit.reporting.dashboard import area_dict, counts_dict, dashboard_figures, live_today
from cowin_kit.reporting.public_report import public_report as build_public_report
from cowin_kit.reporting.queries import Area, ProgrammeFigures
from cowin_kit.runtime import deployment, read_session

bp = Blueprint("api_reports", __name__)
register(bp)

PREFIX = "/api/v2/reports"
CACHE = "cowin_kit.report_answers"  # app.extensions key of the AnswerCache


@bp.after_request
def _cors(response: Response) -> Response:
    """Public dashboards on other sites read these answers (errors included)."""
    headers = response.headers
    headers["Access-Control-Allow-Origin"] = "*"
    headers["Access-Control-Expose-Headers"] = "ETag"
    if request.method == "OPTIONS":  # a preflight: a script may revalidate with its ETag
        headers["Access-Control-Allow-Methods"] = "GET"
        headers["Access-Control-Allow-Headers"] = "If-None-Match"
        headers["Access-Control-Max-Age"] = "86400"
    return response


def _lang() -> str:
    return str(get_locale() or deployment().default_language)


def _today() -> dt.date:
    """Today in the deployment's time zone: the day "today" figures count."""
    return deployment().today()


def _cached(query: dict, build) -> Response:
    """The answer of ``build`` for these (loaded, so canonical) parameters, from the cache
    when it is there: a request that already has it costs no database work at all."""
    ttl = deployment().settings["REPORTS_CACHE_SECONDS"]
    cache = current_app.extensions.get(CACHE)
    if cache is None or cache.ttl != ttl:
        cache = current_app.extensions[CACHE] = AnswerCache(ttl)
    key = (request.endpoint, tuple(sorted(query.items())), _lang(), _today())
    body, tag, gzipped = cache.get_or_build(key, build)
    return respond_cached(body, tag, ttl, gzipped)


@dataclass
class Ask:
    """What a /api/v2/reports request asks for, checked."""

    session: Session
    profile: object
    lang: str
    today: dt.date
    start: dt.date
    end: dt.date
    area: Area
    programme: ProgrammeFigures


def _ask(query: dict) -> Ask:
    """Dates first (no database), then the area, then the programme."""
    dep, session, lang, today = deployment(), read_session(), _lang(), _today()
    raw = {"from": query.get("from_"), "to": query.get("to")}
    for name, value in raw.items():
        cowin_report.check_day(queries.parse_date(value, name), name)
    start, end = queries.date_range(raw["from"], raw["to"], today)
    area = queries.resolve_area(session, dep.profile, lang, division=query.get("division"),
                                facility=query.get("facility"))
    programme = queries.programme_figures(session, lang, query.get("programme"),
                                          dep.profile.default_language)
    return Ask(session, dep.profile, lang, today, start, end, area, programme)


def _head(a: Ask) -> dict:
    as_of = queries.as_of(a.session)
    return {"area": area_dict(a.area),
            "programme": {"code": a.programme.code, "name": a.programme.name},
            "as_of": as_of.isoformat() if as_of else None}


def _route(path: str):
    """GET PREFIX/path: ``figures(ask)`` (a dict) with the query checked and cached."""
    def decorate(figures):
        def view():
            query = load_query()
            return _cached(query, lambda: figures(_ask(query)))
        view.__name__ = figures.__name__
        return bp.get(PREFIX + path)(view)
    return decorate


@_route("/dashboard")
def dashboard(a: Ask) -> dict:
    return dashboard_figures(a.session, a.profile, a.lang, a.area, a.programme, a.start,
                             a.end, a.today)


@_route("/summary")
def summary(a: Ask) -> dict:
    today = live_today(a.session, a.area, a.programme, a.today)
    return {**_head(a), "trail": [area_dict(t) for t in a.area.trail],
            "today": {"date": a.today.isoformat(), **counts_dict(today)},
            "totals": counts_dict(queries.totals(a.session, a.area, a.programme),
                              a.area.population)}


@_route("/daily")
def daily(a: Ask) -> dict:
    return {**_head(a), "range": {"from": a.start.isoformat(), "to": a.end.isoformat()},
            "daily": [{"date": d.isoformat(), **counts_dict(c)}
                      for d, c in queries.daily(a.session, a.area, a.programme, a.start,
                                                a.end)]}


@_route("/areas")
def areas(a: Ask) -> dict:
    return {**_head(a), "children": [
        {**area_dict(k.area), **counts_dict(k.counts, k.area.population)}
        for k in queries.children(a.session, a.area, a.programme, a.profile, a.lang)]}


@_route("/products")
def products(a: Ask) -> dict:
    return {**_head(a), "products": [
        {"code": p.code, "name": p.name, **counts_dict(c)}
        for p, c in queries.by_product(a.session, a.area, a.programme)]}


@_route("/age-gender")
def age_gender(a: Ask) -> dict:
    bands = a.profile["reporting"]["age_bands"]
    found = queries.by_age_gender(a.session, a.area, a.programme, bands)
    return {**_head(a), "age_gender": [
        {"band": band, "label": queries.band_label(bands, band), "gender": gender,
         **counts_dict(c)} for (band, gender), c in sorted(found.items())]}


@bp.get("/api/v1/reports/v2/getPublicReports")
@bp.get(PREFIX + "/public")
def public_report():
    """Co-WIN's public report, at Co-WIN's own path (and beside the others)."""
    query = load_query()
    state_id, district_id = query.get("state_id") or None, query.get("district_id") or None

    def build() -> dict:
        dep, session, lang, today = deployment(), read_session(), _lang(), _today()
        day = cowin_report.report_day(query.get("date"), today)
        area = cowin_report.resolve(session, dep.profile, lang, state_id, district_id)
        programme = queries.programme_figures(session, lang, query.get("programme"),
                                              dep.profile.default_language)
        report = build_public_report(session, dep.profile, lang, area, programme, day, today)
        return cowin_report.answer(report, dep.profile["reporting"]["age_bands"],
                                   dep.timezone, state_id, district_id)
    return _cached(query, build)


__all__ = ["bp"]
