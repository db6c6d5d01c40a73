"""What the home page tells people about the deployment (no Flask here). Its figures come
from the dose rollups (cowin_kit.reporting.queries), never from counting rows; the view
keeps the overview REPORTS_CACHE_SECONDS in the figures cache."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cowin_kit.collation import sorted_by_name
from cowin_kit.geography.models import Division
from cowin_kit.geography.service import division_name
from cowin_kit.i18n import country_name, language_name
from cowin_kit.profiles import Profile
from cowin_kit.programmes.models import Programme
from cowin_kit.registration.choices import local_name
from cowin_kit.registration.models import IdDocumentType
from cowin_kit.reporting import queries
from cowin_kit.scheduling.models import Facility


@dataclass
class DriveFigures:
    """The nation's figures for the main (first active) programme, from the rollups."""

    programme: str  # its name in the reader's language
    doses: int
    first: int  # people with a first dose
    full: int  # people who completed a primary schedule
    share_first: float | None  # percent of the population; None when it is not known
    share_full: float | None
    as_of: object = None  # datetime of the last fold, or None


@dataclass
class Overview:
    country: str
    languages: list[tuple[str, str, bool]]  # the country's: (code, name in itself, offered here)
    level1_name: str
    figures: DriveFigures | None  # None: no active programme
    demo_centres: bool
    programmes: list[dict]
    id_documents: list[str]
    issuer: str
    document_name: str
    divisions: list[str]  # level-1 names in the reader's language, sorted
    paid_centres: int
    currency: str  # ISO 4217 code; pages name it in the reader's language


def deployment_overview(session: Session, profile: Profile, lang: str,
                        offered: list[str]) -> Overview:
    default = profile.default_language
    level1 = profile["admin_levels"][0]
    programmes = []
    for p in session.scalars(select(Programme).where(Programme.is_active.is_(True))
                             .order_by(Programme.id)):
        programmes.append({
            "name": local_name(p.name, p.names, lang, default),
            "phases": [{"name": local_name(ph.name, ph.names, lang, default),
                        "starts_on": ph.starts_on} for ph in p.phases],
            "products": [{"name": pr.name, "doses": pr.primary_doses,
                          "min_age": pr.min_age_years,
                          "boosters": sum(1 for d in pr.doses if d.is_booster)}
                         for pr in p.products if pr.is_active],
        })
    docs = [local_name(t.name, t.names, lang, default)
            for t in session.scalars(select(IdDocumentType)
                                     .where(IdDocumentType.is_active.is_(True))
                                     .order_by(IdDocumentType.sort_order))]
    demo = bool(session.scalar(select(func.count()).select_from(Facility)
                               .where(Facility.is_demo.is_(True))))
    cert = profile["certificate"]
    return Overview(
        country=country_name(profile.code, lang),
        languages=[(code, language_name(code), code in offered) for code in profile.languages],
        level1_name=local_name(level1["name"], level1["names"], lang, default),
        figures=drive_figures(session, profile, lang),
        demo_centres=demo,
        programmes=programmes,
        id_documents=docs,
        issuer=local_name(cert["issuer"], cert["issuer_names"], lang, default),
        document_name=cert.get("document_name") or "",
        paid_centres=session.scalar(select(func.count()).select_from(Facility)
                                    .where(Facility.fee_type == "Paid")) or 0,
        currency=profile["currency"],
        divisions=sorted_by_name((division_name(d, lang) for d in session.scalars(
            select(Division).where(Division.level == 1))), lang),
    )


def drive_figures(session: Session, profile: Profile, lang: str) -> DriveFigures | None:
    """Doses given in the nation and the people they stand for, for the main programme."""
    try:
        programme = queries.programme_figures(session, lang, None, profile.default_language)
    except queries.ReportError:  # no active programme
        return None
    nation = queries.nation(profile, lang)
    counts = queries.totals(session, nation, programme)
    return DriveFigures(programme.name, counts.total, counts.first, counts.full,
                        queries.share(counts.first, nation.population),
                        queries.share(counts.full, nation.population), queries.as_of(session))
