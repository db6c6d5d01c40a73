"""The reports API's query parameters and answers (cowin_kit.api.reports), for the OpenAPI
document: ENDPOINTS is merged into cowin_kit.api.openapi.ENDPOINTS, so load_query reads each
endpoint's query string with the schema documented here."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from cowin_kit.api.inputs import MSG_TEXT, Request, query_whole, refusals
from cowin_kit.plugins.interfaces import N_

MSG_CODE = N_("%(name)s must be a code of at most 64 printable characters.")
CODE_LENGTH = 64
DATES = "YYYY-MM-DD (or DD-MM-YYYY)"


def code(**metadata) -> fields.String:
    """A division, centre or programme code: printable (a NUL never reaches the database)."""
    return fields.String(
        validate=[validate.Length(min=1, max=CODE_LENGTH, error=MSG_CODE),
                  validate.Regexp(r"^[^\x00-\x1f\x7f]*$", error=MSG_CODE)],
        error_messages=refusals(MSG_CODE), metadata=metadata)


def date_text(description: str, example: str, **kw) -> fields.String:
    # Checked by cowin_kit.reporting.queries.parse_date (both formats), not here.
    return fields.String(error_messages=refusals(MSG_TEXT), metadata={
        "description": description, "example": example}, **kw)


# --- query parameters ----------------------------------------------------------------------

class AreaQuery(Request):
    division = code(description="A division's code at any level (e.g. PE-LMA, 1501); "
                                "default: the nation.", example="PE-LMA")
    facility = code(description="A centre's code (wins over division).",
                    example="DEMO-PE-0001")
    programme = code(description="A programme's code; default: the first active one.",
                     example="covid19")
    from_ = date_text(f"The first day of the daily series, {DATES}; default: 89 days "
                      "before `to`. At most 731 days.", "2021-05-01", data_key="from")
    to = date_text(f"The last day of the daily series, {DATES}; default: today in the "
                   "deployment's time zone.", "2021-05-31")


class PublicReportQuery(Request):
    state_id = query_whole(0, metadata={
        "description": "A state_id of admin/location/states; empty or 0: the nation.",
        "example": 1})
    district_id = query_whole(0, metadata={
        "description": "A district_id of admin/location/districts/{state_id}; empty or 0: "
                       "the whole state.", "example": 2})
    date = date_text("The report's day, YYYY-MM-DD as Co-WIN took it (DD-MM-YYYY too); "
                     "default: today. Totals count every dose up to its end.", "2021-05-21")
    programme = code(description="A programme's code; default: the first active one.",
                     example="covid19")


# --- the dashboard's figures ---------------------------------------------------------------

class AreaFields(Schema):
    code = fields.Str(required=True, metadata={"example": "PE-LMA"})
    name = fields.Str(required=True, metadata={"description": "In the request's language."})
    kind = fields.Str(required=True, validate=validate.OneOf(["nation", "division",
                                                              "facility"]))
    level = fields.Int(allow_none=True, metadata={
        "description": "0 the nation, 1… a division's level, null a centre."})
    population = fields.Int(allow_none=True)


class CountFields(Schema):
    doses = fields.Int(required=True, metadata={"description": "Doses given."})
    first = fields.Int(required=True, metadata={"description": "People with a first dose."})
    full = fields.Int(required=True, metadata={
        "description": "People who completed a primary schedule."})
    booster = fields.Int(required=True, metadata={"description": "People with a booster."})
    by_dose = fields.Dict(keys=fields.Str(), values=fields.Int(), required=True, metadata={
        "description": "Doses by dose number (\"1\", \"2\", …)."})


class CoverageFields(CountFields):
    population = fields.Int(allow_none=True)
    share_first = fields.Float(allow_none=True, metadata={"description": "Percent."})
    share_full = fields.Float(allow_none=True)
    share_booster = fields.Float(allow_none=True)


class ProgrammeSchema(Schema):
    code = fields.Str(required=True)
    name = fields.Str(required=True)


class DayCounts(CountFields):
    date = fields.Str(required=True, metadata={"example": "2021-05-21"})


class RangeSchema(Schema):
    from_ = fields.Str(data_key="from", required=True)
    to = fields.Str(required=True)


class ProductCounts(CountFields):
    code = fields.Str(required=True)
    name = fields.Str(required=True)


class AgeGenderCounts(CountFields):
    band = fields.Int(required=True, metadata={"description": "The band's lower bound."})
    label = fields.Str(required=True, metadata={"example": "18–44"})
    gender = fields.Str(required=True, metadata={"example": "female"})


class ChildCounts(AreaFields, CoverageFields):
    pass


class AnswerHead(Schema):
    area = fields.Nested(AreaFields, required=True)
    programme = fields.Nested(ProgrammeSchema, required=True)
    as_of = fields.Str(allow_none=True, metadata={
        "description": "When doses were last counted into the figures (UTC, ISO 8601)."})


class SummaryResponse(AnswerHead):
    trail = fields.List(fields.Nested(AreaFields), required=True, metadata={
        "description": "The areas above, from the nation down."})
    today = fields.Nested(DayCounts, required=True, metadata={"description": "Live."})
    totals = fields.Nested(CoverageFields, required=True)


class DailyResponse(AnswerHead):
    range = fields.Nested(RangeSchema, required=True)
    daily = fields.List(fields.Nested(DayCounts), required=True)


class AreasResponse(AnswerHead):
    children = fields.List(fields.Nested(ChildCounts), required=True, metadata={
        "description": "One level down: level-1 divisions, a division's divisions, or the "
                       "centres of the lowest level; by name."})


class ProductsResponse(AnswerHead):
    products = fields.List(fields.Nested(ProductCounts), required=True)


class AgeGenderResponse(AnswerHead):
    age_gender = fields.List(fields.Nested(AgeGenderCounts), required=True)


class DashboardResponse(SummaryResponse, DailyResponse, AreasResponse, ProductsResponse,
                        AgeGenderResponse):
    programmes = fields.List(fields.Nested(ProgrammeSchema), required=True)
    population_year = fields.Int(allow_none=True)
    population_source = fields.Str()


# --- Co-WIN's public report ----------------------------------------------------------------

class VaccinationBlock(Schema):
    """topBlock.vaccination. Besides these, one integer per product: its code in lower
    case (Co-WIN's covishield, covaxin…), the doses given of it."""
    total = fields.Int(required=True, metadata={"description": "People with a first dose."})
    male = fields.Int(metadata={"description": "People with a first dose, by gender."})
    female = fields.Int()
    others = fields.Int()
    today = fields.Int(required=True, metadata={"description": "Doses given on `date`."})
    tot_dose_1 = fields.Int(required=True)
    tot_dose_2 = fields.Int(required=True)
    tot_pd = fields.Int(metadata={"description": "First boosters (precaution doses)."})
    total_doses = fields.Int(required=True)
    today_dose_one = fields.Int()
    today_dose_two = fields.Int()
    today_dose_pd = fields.Int()
    today_male = fields.Int()
    today_female = fields.Int()
    today_others = fields.Int()
    yesterday_vac = fields.Int()
    yesterday_dose_one = fields.Int()
    yesterday_dose_two = fields.Int()
    yesterday_dose_pd = fields.Int()


class SitesBlock(Schema):
    total = fields.Int(required=True, metadata={
        "description": "Centres that have given a dose up to `date`."})
    today = fields.Int(required=True, metadata={"description": "Centres that gave one on it."})


class TopBlock(Schema):
    vaccination = fields.Nested(VaccinationBlock, required=True)
    sites = fields.Nested(SitesBlock, required=True)


class GroupByItem(Schema):
    """A state (with state_id, state_name), a district (district_id, district_name) or a
    centre (session_site_id, session_site_name)."""
    id = fields.Int(required=True)
    title = fields.Str(required=True, metadata={"description": "In the request's language."})
    state_id = fields.Int()
    state_name = fields.Str()
    district_id = fields.Int()
    district_name = fields.Str()
    session_site_id = fields.Int()
    session_site_name = fields.Str()
    total = fields.Int(required=True, metadata={"description": "People with a first dose."})
    partial_vaccinated = fields.Int(required=True)
    totally_vaccinated = fields.Int(required=True)
    precaution_dose = fields.Int(required=True)
    today = fields.Int(required=True, metadata={"description": "Doses given on `date`."})


class DayVaccination(Schema):
    vaccine_date = fields.Str(required=True, metadata={"example": "2021-05-20"})
    count = fields.Int(required=True)
    dose_one = fields.Int(required=True)
    dose_two = fields.Int(required=True)
    dose_pd = fields.Int(required=True)


class VaccinationByAge(Schema):
    """People with a first dose by the profile's age bands: Co-WIN's names where a band is
    Co-WIN's (vac_12_14, vac_15_17, vac_18_45, vac_45_60, above_60), else vac_LOW_HIGH
    (both ages included) and above_LOW for the last band."""
    total = fields.Int(required=True)
    vac_12_14 = fields.Int()
    vac_15_17 = fields.Int()
    vac_18_45 = fields.Int()
    vac_45_60 = fields.Int()
    above_60 = fields.Int()


class PublicReportResponse(Schema):
    topBlock = fields.Nested(TopBlock, required=True)
    getBeneficiariesGroupBy = fields.List(fields.Nested(GroupByItem), required=True)
    last7DaysVaccination = fields.List(fields.Nested(DayVaccination), required=True)
    vaccinationByAge = fields.Nested(VaccinationByAge, required=True)
    reportFor = fields.Str(metadata={"example": "State : 1 & District: 2 | 2021-05-21"})
    timestamp = fields.Str(allow_none=True, metadata={
        "description": "When doses were last counted in, in the deployment's time zone.",
        "example": "2021-05-21 14:05:00"})


def _entry(summary: str, answer) -> dict:
    return dict(group="public", summary=summary, query=AreaQuery, answer=answer, errors=(400,))


ENDPOINTS: dict[str, dict] = {
    "api_reports.dashboard": _entry(
        "The public dashboard's figures for an area and programme (the page's own data).",
        DashboardResponse),
    "api_reports.summary": _entry(
        "An area's totals (with coverage) and today's live count.", SummaryResponse),
    "api_reports.daily": _entry("Doses per day from `from` to `to`.", DailyResponse),
    "api_reports.areas": _entry("The areas one level down, with their figures.",
                                AreasResponse),
    "api_reports.products": _entry("An area's figures by product.", ProductsResponse),
    "api_reports.age_gender": _entry("An area's figures by age band and gender.",
                                     AgeGenderResponse),
    "api_reports.public_report": dict(
        group="public", summary="Co-WIN's public vaccination report (getPublicReports) for "
                                "the nation, a state or a district on a day.",
        query=PublicReportQuery, answer=PublicReportResponse, errors=(400,)),
}

__all__ = ["ENDPOINTS", "MSG_CODE"]
