"""Co-WIN's public "vaccination report" (getPublicReports) in Co-WIN's shape, from the
figures of cowin_kit.reporting.public_report: which area the ids name, which day the date
names, and the field names public dashboards built on Co-WIN read. docs/api.md lists what
each field counts and which of Co-WIN's are absent (never filled with a guess)."""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cowin_kit.geography.models import Division
from cowin_kit.plugins.interfaces import N_
from cowin_kit.reporting import queries
from cowin_kit.reporting.public_report import PublicReport
from cowin_kit.reporting.queries import Area, Counts, ReportError

# The same words as the location endpoints' (cowin_kit.api.public), here answered with 400.
MSG_UNKNOWN_STATE = N_("There is no state %(id)s.")
MSG_UNKNOWN_DISTRICT = N_("There is no district %(id)s.")
MSG_NOT_IN_STATE = N_("District %(district)s is not in state %(state)s.")
MSG_FUTURE = N_("There are no figures yet for %(date)s: today is %(today)s.")
MSG_TOO_EARLY = N_("There are no figures before %(year)s.")

FIRST_YEAR = 1900  # no figures before; keeps date arithmetic far from its limits

# Co-WIN's names for its age bands (lower bound, next band's lower bound); other bands are
# named vac_LOW_HIGH with both ages included, and the last one above_LOW.
COWIN_AGE_KEYS = {(12, 15): "vac_12_14", (15, 18): "vac_15_17", (18, 45): "vac_18_45",
                  (45, 60): "vac_45_60"}
GENDER_KEYS = {"male": "male", "female": "female"}  # anything else: "others"


def check_day(day: dt.date | None, name: str) -> dt.date | None:
    if day is not None and day.year < FIRST_YEAR:
        raise ReportError(MSG_TOO_EARLY, name, year=FIRST_YEAR)
    return day


def report_day(raw: str | None, today: dt.date) -> dt.date:
    """The report's day: Co-WIN's YYYY-MM-DD (clients also sent 2021-7-4, and DD-MM-YYYY is
    read too); none: today. A day after today has no figures yet (400)."""
    text = (raw or "").strip()
    match = re.fullmatch(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})", text)
    if match:
        text = "{}-{:0>2}-{:0>2}".format(*match.groups())
    day = check_day(queries.parse_date(text, "date"), "date") or today
    if day > today:
        raise ReportError(MSG_FUTURE, "date", date=day.isoformat(), today=today.isoformat())
    return day


def resolve(session: Session, profile, lang: str, state_id: int | None,
            district_id: int | None) -> Area:
    """The area of Co-WIN's ids, as the location endpoints give them: a state is a
    first-level division, a district one of its divisions. Unknown ids are a 400."""
    state = None
    if state_id:
        state = session.get(Division, state_id)
        if state is None or state.level != 1:
            raise ReportError(MSG_UNKNOWN_STATE, "state_id", id=state_id)
    if district_id:
        district = session.get(Division, district_id)
        if district is None or district.parent is None or district.parent.level != 1:
            raise ReportError(MSG_UNKNOWN_DISTRICT, "district_id", id=district_id)
        if state is not None and district.parent_id != state.id:
            raise ReportError(MSG_NOT_IN_STATE, "district_id", district=district_id,
                              state=state_id)
        return queries.resolve_area(session, profile, lang, division=district.code)
    if state is not None:
        return queries.resolve_area(session, profile, lang, division=state.code)
    return queries.nation(profile, lang)


def age_key(bands: list[int], band: int) -> str:
    later = [b for b in sorted(bands) if b > band]
    if not later:
        return f"above_{band}"
    return COWIN_AGE_KEYS.get((band, later[0])) or f"vac_{band}_{later[0] - 1}"


def _genders(counts: dict[str, int]) -> dict[str, int]:
    out = {"male": 0, "female": 0, "others": 0}
    for gender, n in counts.items():
        out[GENDER_KEYS.get(gender, "others")] += n
    return out


def _doses(c: Counts, one: str, two: str, pd: str) -> dict[str, int]:
    return {one: c.by_dose.get(1, 0), two: c.by_dose.get(2, 0), pd: c.booster}


def _vaccination(r: PublicReport) -> dict:
    t, d = r.totals, r.on_day
    yesterday = r.last_days[-1][1] if r.last_days else Counts()
    people, on_day = _genders(r.people_by_gender), _genders(r.on_day_by_gender)
    head = {"total": t.first, **people}
    tail = {"today": d.total, **_doses(t, "tot_dose_1", "tot_dose_2", "tot_pd"),
            "total_doses": t.total,
            **_doses(d, "today_dose_one", "today_dose_two", "today_dose_pd"),
            **{f"today_{k}": v for k, v in on_day.items()},
            "yesterday_vac": yesterday.total,
            **_doses(yesterday, "yesterday_dose_one", "yesterday_dose_two", "yesterday_dose_pd")}
    # Doses by product, by its code in lower case, as Co-WIN had covishield and covaxin.
    products = {code.lower(): n for code, n in r.doses_by_product.items()
                if code.lower() not in head and code.lower() not in tail}
    return {**head, **products, **tail}


def _group_by(r: PublicReport) -> list[dict]:
    area = r.area
    out = []
    for child in r.children:
        if area.is_nation:
            where = {"state_id": child.id, "state_name": child.name}
        elif not child.is_facility:
            where = {"state_id": area.division_id, "district_id": child.id,
                     "district_name": child.name}
        else:
            where = {"session_site_id": child.id, "session_site_name": child.name}
        c = child.counts
        out.append({**where, "id": child.id, "title": child.name_l, "total": c.first,
                    "partial_vaccinated": c.first - c.full, "totally_vaccinated": c.full,
                    "precaution_dose": c.booster, "today": child.on_day})
    return out


def answer(r: PublicReport, bands: list[int], timezone: str, state_id: int | None,
           district_id: int | None) -> dict:
    as_of = r.as_of.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M:%S") \
        if r.as_of else None
    by_age = {"total": r.totals.first}
    by_age.update({age_key(bands, b): n for b, n in sorted(r.people_by_band.items())})
    return {
        "topBlock": {"vaccination": _vaccination(r),
                     "sites": {"total": r.sites, "today": r.sites_on_day}},
        "getBeneficiariesGroupBy": _group_by(r),
        "last7DaysVaccination": [{"vaccine_date": day.isoformat(), "count": c.total,
                                  **_doses(c, "dose_one", "dose_two", "dose_pd")}
                                 for day, c in r.last_days],
        "vaccinationByAge": by_age,
        "reportFor": f"State : {state_id or ''} & District: {district_id or ''} | "
                     f"{r.day.isoformat()}",
        "timestamp": as_of,
    }


__all__ = ["age_key", "answer", "check_day", "report_day", "resolve"]
