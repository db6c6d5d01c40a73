"""What the public dashboard page shows, for its view (dashboard_views.py, routes only):
the request read and checked, the figures fetched through the figures cache, and the
charts drawn and numbers formatted in the reader's language.

The figures are dashboard.dashboard_figures' dict, the one the reports API sends too; this
module only turns it into a page. Every check is queries' (resolve_area, programme_figures,
date_range), so the page and the API refuse the same requests with the same reasons.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from babel.dates import format_skeleton
from babel.numbers import format_percent
from flask_babel import format_date, format_datetime, format_number, get_locale, gettext
from markupsafe import Markup

from cowin_kit.i18n import text_direction
from cowin_kit.registration.choices import GENDERS, local_name
from cowin_kit.reporting import charts, queries
from cowin_kit.reporting.dashboard import dashboard_figures
from cowin_kit.reporting.queries import ReportError
from cowin_kit.runtime import deployment, read_session

DEFAULT_DAYS = 90  # the range shown when none is asked for
CODE = re.compile(r"[\w.-]{1,64}")  # what division, centre and programme codes look like
FIELDS = ("division", "facility", "programme", "from", "to")
GENDER_LABELS = {code: label for _id, code, label in GENDERS}


@dataclass
class Asked:
    """The page's query parameters, as given (trimmed), and what was wrong with them:
    field -> the reason, in the reader's language."""

    division: str = ""
    facility: str = ""
    programme: str = ""
    start: str = ""
    end: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args) -> Asked:
        values = {name: (args.get(name) or "").strip()[:200] for name in FIELDS}
        return cls(values["division"], values["facility"], values["programme"],
                   values["from"], values["to"])

    def value(self, name: str) -> str:
        if name in ("from", "to"):
            return self.start if name == "from" else self.end
        return getattr(self, name)

    def date_value(self, name: str) -> str:
        """What a date input shows again after a refusal (it takes YYYY-MM-DD only)."""
        value = self.value(name)
        return value if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else ""

    def refuse(self, exc: ReportError) -> None:
        self.errors.setdefault(exc.field or "division", exc.text(gettext))


def today() -> dt.date:
    """Today in the deployment's time zone (not the server's)."""
    return deployment().today()


def _code(asked: Asked, name: str, message: str) -> str | None:
    """A code parameter, or None; a value no code can have is refused before any query."""
    value = asked.value(name)
    if value and not CODE.fullmatch(value):
        asked.refuse(ReportError(message, name, code=value[:64]))
        return None
    return value or None


def figures(asked: Asked, lang: str) -> dict | None:
    """The dashboard's figures for what was asked, or None with ``asked.errors`` filled in
    (every field that is wrong, not only the first). Computed once per
    REPORTS_CACHE_SECONDS per area, programme, range and language."""
    dep = deployment()
    session = read_session()
    day = today()
    start = end = area = programme = None
    try:
        start, end = queries.date_range(asked.start or None, asked.end or None, day,
                                        DEFAULT_DAYS)
    except ReportError as exc:
        asked.refuse(exc)
    except OverflowError:  # e.g. to=0001-01-01: its default start is before year 1
        name = "to" if asked.end else "from"
        asked.refuse(ReportError(queries.MSG_BAD_DATE, name, value=asked.value(name)[:40]))
    facility = _code(asked, "facility", queries.MSG_UNKNOWN_FACILITY)
    division = _code(asked, "division", queries.MSG_UNKNOWN_DIVISION)
    if "facility" not in asked.errors and "division" not in asked.errors:
        try:
            area = queries.resolve_area(session, dep.profile, lang, division=division,
                                        facility=facility)
        except ReportError as exc:
            asked.refuse(exc)
    code = _code(asked, "programme", queries.MSG_UNKNOWN_PROGRAMME)
    if "programme" not in asked.errors:
        try:
            programme = queries.programme_figures(session, lang, code,
                                                  dep.profile.default_language)
        except ReportError as exc:
            asked.refuse(exc)
    if asked.errors:
        return None
    key = ("dashboard", area.division_id, area.facility_id, programme.code, start, end, day,
           lang)
    return dep.figures_cache.get(
        key, dep.settings["REPORTS_CACHE_SECONDS"],
        lambda: dashboard_figures(session, dep.profile, lang, area, programme, start, end,
                                  day))


def programme_choices(lang: str) -> list[tuple[str, str]]:
    """(code, name) of the active programmes, for the form (also when the request failed)."""
    dep = deployment()
    return [(p.code, p.name) for p in queries.programmes(read_session(), lang,
                                                         dep.profile.default_language)]


# --- the page ---------------------------------------------------------------------------------

def number(value) -> str:
    return format_number(value or 0)


def percent(value: float | None) -> str:
    """A share in percent (12.34 -> "12.3 %" as the reader's language writes it)."""
    if value is None:
        return ""
    if 0 < value < 0.1:  # a start, not nothing: "<0.1%"
        return "<" + format_percent(0.001, locale=str(get_locale()),
                                    decimal_quantization=False)
    return format_percent(round(value, 1) / 100, locale=str(get_locale()),
                          decimal_quantization=False)


def day_label(iso: str, style: str = "short") -> str:
    day = dt.date.fromisoformat(iso)
    if style == "short":  # "5 Mar", "Mar 5", "5 مارس": the reader's order
        return format_skeleton("MMMd", day, locale=str(get_locale()))
    return format_date(day, style)


def as_of_label(iso: str | None) -> str | None:
    """When the figures were counted, in the deployment's time zone (flask-babel's)."""
    if not iso:
        return None
    return format_datetime(dt.datetime.fromisoformat(iso), "medium")


def level_name(level: int | None) -> str:
    """The name of a level of divisions in the reader's language ("Department")."""
    dep = deployment()
    lang = str(get_locale())
    for entry in dep.profile["admin_levels"]:
        if entry["level"] == level:
            return local_name(entry["name"], entry.get("names"), lang,
                              dep.profile.default_language)
    return gettext("Area")


def gender_name(code: str) -> str:
    label = GENDER_LABELS.get(code)
    return gettext(label) if label else (code or gettext("Not stated"))


def link_args(data: dict, asked: Asked) -> dict:
    """The parameters a link to another area keeps: the programme and a range the reader
    chose (a default range stays "the last 90 days", so the link's page stays cacheable)."""
    out = {}
    if asked.programme:
        out["programme"] = data["programme"]["code"]
    if asked.start:
        out["from"] = data["range"]["from"]
    if asked.end:
        out["to"] = data["range"]["to"]
    return out


def age_gender_table(data: dict) -> tuple[list[str], list[tuple[str, list[int], int]]]:
    """(gender codes, rows of (band label, doses per gender, total)), every band of the
    profile in order, every gender that has doses."""
    bands = deployment().profile["reporting"]["age_bands"]
    known = [code for _id, code, _label in GENDERS]
    found = {row["gender"] for row in data["age_gender"]}
    genders = [g for g in known if g in found] + sorted(found - set(known))
    cells = {(row["band"], row["gender"]): row["doses"] for row in data["age_gender"]}
    rows = []
    for band in sorted(set(bands) | {row["band"] for row in data["age_gender"]}):
        values = [cells.get((band, g), 0) for g in genders]
        rows.append((queries.band_label(bands, band), values, sum(values)))
    return genders, rows


def draw_charts(data: dict) -> dict[str, Markup]:
    """The page's four charts, as inline SVG in the reader's language and direction."""
    rtl = text_direction(str(get_locale())) == "rtl"
    empty = gettext("No doses recorded yet.")
    days = data["daily"]
    start, end = day_label(data["range"]["from"], "long"), day_label(data["range"]["to"], "long")
    busiest = max(days, key=lambda d: d["doses"], default=None)
    daily_desc = gettext("Doses given each day from %(start)s to %(end)s: %(total)s in all.",
                         start=start, end=end, total=number(sum(d["doses"] for d in days)))
    if busiest and busiest["doses"]:
        daily_desc += " " + gettext("The most on %(day)s: %(doses)s.",
                                    day=day_label(busiest["date"], "long"),
                                    doses=number(busiest["doses"]))
    out = {"daily": charts.columns(
        [(day_label(d["date"]), d["doses"]) for d in days], chart_id="chart-daily",
        title=gettext("Doses per day"), desc=daily_desc, empty_text=empty, fmt=number,
        rtl=rtl)}
    out["products"] = charts.bars(
        [(p["name"], p["doses"]) for p in data["products"]], chart_id="chart-products",
        title=gettext("Doses by vaccine"),
        desc=gettext("Doses given of each vaccine; the table below has the numbers."),
        empty_text=empty, fmt=number, rtl=rtl)
    genders, rows = age_gender_table(data)
    out["age_gender"] = charts.grouped_bars(
        # "0–11", "60+" are numbers: left-to-right marks keep them in order in an rtl line.
        [(f"\u200e{label}\u200e" if rtl else label, values) for label, values, _total in rows],
        [gender_name(g) for g in genders],
        chart_id="chart-age-gender", title=gettext("Doses by age and gender"),
        desc=gettext("Doses given in each age group, one bar per gender; the table below has "
                     "the numbers."), empty_text=empty, fmt=number, rtl=rtl)
    if data["children"]:
        out["children"] = charts.bars(
            [(c["name"], c["doses"]) for c in data["children"]], chart_id="chart-children",
            title=gettext("Doses by area"),
            desc=gettext("Doses given in each area of %(area)s; the table below has the "
                         "numbers.", area=data["area"]["name"]),
            empty_text=empty, fmt=number, rtl=rtl)
    return {name: Markup(svg) for name, svg in out.items()}  # noqa: S704 (escaped in charts)

__all__ = ["DEFAULT_DAYS", "Asked", "age_gender_table", "as_of_label", "day_label",
           "draw_charts", "figures", "gender_name", "level_name", "link_args", "number",
           "percent", "programme_choices", "today"]
