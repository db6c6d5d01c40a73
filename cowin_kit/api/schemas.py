"""marshmallow schemas for the Co-WIN v2 API: query parameters, JSON bodies and answers.

They are both the contract and its check: the OpenAPI document at /api/openapi.json is
generated from them (cowin_kit.api.openapi), and the views load their query strings and
bodies with the same schemas (cowin_kit.api.body.load_query and load_body find the schema of
the endpoint in openapi.ENDPOINTS), so the document and the checks cannot drift.

A request field's error messages are message ids (``N_``) with ``%(name)s`` for the field's
name (and ``%(min)s``/``%(max)s``/``%(choices)s`` from its validators), translated when the
refusal is answered; a field whose value a domain checks again keeps the domain's words.
Fields unknown to a schema are ignored, as they always were; an empty optional query
parameter is as good as absent (Co-WIN clients send empty filters).
"""
from __future__ import annotations

import datetime as dt
import re
import uuid

from marshmallow import EXCLUDE, Schema, fields, validate

from cowin_kit.api.errors import MESSAGES
from cowin_kit.db import MAX_INT
from cowin_kit.plugins.interfaces import N_
from cowin_kit.registration import service as registration
from cowin_kit.scheduling import booking

DATE = {"description": "A date written DD-MM-YYYY.", "example": "21-05-2021",
        "pattern": r"^\d{2}-\d{2}-\d{4}$"}
UUID = {"description": "A UUID.", "format": "uuid",
        "example": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}
# The reference id the API gives a registered person (beneficiary_reference_id).
REFERENCE = {"description": "A beneficiary's 14-digit reference id.", "pattern": "^[0-9]{14}$",
             "example": "12345678901234"}

MSG_REQUIRED = N_("%(name)s is required.")
MSG_TEXT = N_("%(name)s must be text.")
MSG_WHOLE = N_("%(name)s must be a whole number.")
MSG_RANGE = N_("%(name)s must be a whole number from %(min)s to %(max)s.")
MSG_ONE_OF = N_("%(name)s must be one of: %(choices)s.")
MSG_DATE = N_("%(name)s must be a date written DD-MM-YYYY, e.g. 21-05-2021.")
MSG_NOT_VALID = MESSAGES[400]  # "The request is not valid."
MSG_DEGREES = N_("lat and long must be decimal degrees, e.g. -12.05 and -77.04.")
MSG_WITHIN = N_("lat must be within ±90 and long within ±180.")
MSG_YEAR = N_("%(name)s must be a year of birth written with 4 digits, e.g. 1980.")
# Years a searched date may be in (also keeps date arithmetic far from its limits).
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _errors(invalid: str, missing: str = MSG_REQUIRED, **more) -> dict:
    """A request field's error messages: a wrong value or type (every way marshmallow has
    of saying so), and a missing or null value."""
    return {"invalid": invalid, "invalid_utf8": invalid, "too_large": invalid,
            "special": invalid, "validator_failed": invalid, "required": missing,
            "null": missing, **more}


class Request(Schema):
    """A query string or a JSON body: unknown fields are ignored (they always were)."""

    class Meta:
        unknown = EXCLUDE


class Text(fields.String):
    """Text; ``strip``: surrounding white space dropped (then blank counts as missing)."""

    def __init__(self, *, strip: bool = False, **kw):
        self.strip = strip
        super().__init__(**kw)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        return text.strip() if self.strip else text


def text(*, strip: bool = False, error: str | None = None, **kw) -> Text:
    """A text field. ``error``: one message for every refusal (a domain's own words)."""
    messages = _errors(error, error) if error else _errors(MSG_TEXT)
    if strip:  # blank is missing
        kw.setdefault("validate", validate.Length(min=1, error=error or MSG_REQUIRED))
    return Text(strip=strip, error_messages=messages, **kw)


def whole(minimum: int = 1, *, below: str | None = None, **kw) -> fields.Integer:
    """A whole number that may reach the database (an id, a dose): JSON integers only,
    from ``minimum`` to the largest integer every database holds. ``below``: the message
    for a number under ``minimum``, when it is not the range's."""
    checks = ([validate.Range(min=minimum, error=below), validate.Range(max=MAX_INT,
                                                                       error=MSG_RANGE)]
              if below else [validate.Range(min=minimum, max=MAX_INT, error=MSG_RANGE)])
    return fields.Integer(strict=True, validate=checks, error_messages=_errors(MSG_WHOLE),
                          **kw)


class Digits(fields.Integer):
    """A whole number in a query string: its decimal digits, nothing else (no sign, no
    spaces), at most 10 of them."""

    def _validated(self, value):
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]{1,10}", value):
            raise self.make_error("invalid")
        return int(value)


def query_whole(minimum: int = 1, *, below: str | None = None, **kw) -> Digits:
    field = whole(minimum, below=below)
    return Digits(validate=field.validators, error_messages=_errors(MSG_WHOLE), **kw)


class Choice(fields.String):
    """One of a few words, in any case and with spaces around; answered in its own case."""

    def __init__(self, choices, **kw):
        self.choices = tuple(choices)
        super().__init__(validate=validate.OneOf(self.choices, error=MSG_ONE_OF), **kw)

    def _deserialize(self, value, attr, data, **kwargs):
        word = super()._deserialize(value, attr, data, **kwargs).strip().casefold()
        return next((c for c in self.choices if c.casefold() == word), word)


def choice(choices, **kw) -> Choice:
    return Choice(choices, error_messages=_errors(MSG_ONE_OF), **kw)


class Day(fields.String):
    """A date written DD-MM-YYYY (as Python's %d-%m-%Y reads it), from FIRST_YEAR to
    LAST_YEAR; loaded as a datetime.date."""

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            day = dt.datetime.strptime(raw, "%d-%m-%Y").date()
        except ValueError:
            raise self.make_error("invalid") from None
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise self.make_error("range")
        return day


def _date(**kw) -> Day:
    return Day(metadata=DATE, error_messages=_errors(MSG_DATE, range=MSG_NOT_VALID), **kw)


class UuidText(fields.String):
    """A UUID in any of the forms Python's uuid.UUID reads; loaded in its canonical form."""

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            return str(uuid.UUID(raw))
        except ValueError:
            raise self.make_error("invalid") from None


def degrees(limit: int, **kw) -> fields.Float:
    return fields.Float(required=True, validate=validate.Range(-limit, limit, error=MSG_WITHIN),
                        error_messages=_errors(MSG_DEGREES, MSG_DEGREES, special=MSG_WITHIN),
                        **kw)


class BirthYear(fields.String):
    """A year of birth, as Co-WIN clients send it: text of up to 4 characters ("1980"), or
    a JSON integer; loaded as an int (whether it is a plausible year is the registration's
    rule)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            if len(raw) <= 4:
                return int(raw)
        except ValueError:
            pass
        raise self.make_error("invalid")


def texts(error: str, item: dict | None = None, **kw) -> fields.List:
    """A list of texts (``item``: their metadata); ``error`` for every refusal of it or of
    an item."""
    return fields.List(fields.String(error_messages=_errors(error, error), metadata=item or {}),
                       error_messages=_errors(error, error), **kw)


def request_messages(schema: Schema) -> list[str]:
    """Every message a request schema's fields and their validators may refuse with."""
    out = []
    for field in schema.fields.values():
        for f in (field, getattr(field, "inner", None)):
            if f is None:
                continue
            out += [m for m in f.error_messages.values()]
            out += [getattr(v, "error", None) for v in f.validators]
    return [m for m in out if m is not None]


# --- errors -------------------------------------------------------------------------------

class ErrorSchema(Schema):
    errorCode = fields.Str(required=True, metadata={"example": "BAD_REQUEST"})
    error = fields.Str(required=True, metadata={
        "description": "What is wrong, in the language of Accept-Language."})


# --- query parameters --------------------------------------------------------------------

class SearchFilters(Request):
    """The optional filters of the session searches; an empty one filters nothing."""
    vaccine = fields.String(error_messages=_errors(MSG_TEXT), metadata={
        "description": "Only sessions of this vaccine: a product's name or code, in any case.",
        "example": "COMIRNATY"})
    min_age_limit = query_whole(0, metadata={
        "description": "Only sessions whose min_age_limit is this.", "example": 18})
    dose = query_whole(1, below=booking.MSG_BAD_DOSE, metadata={
        "description": "Only sessions with places left for this dose "
                       "(available_capacity_doseN > 0).", "example": 1})
    fee_type = choice(["Free", "Paid"], metadata={
        "description": "Only centres of this kind (any case)."})


class PinFields(Request):
    pincode = fields.String(required=True, error_messages=_errors(MSG_TEXT), metadata={
        "description": "A postal code of the deployment's country."})
    date = _date(required=True)


class DistrictFields(Request):
    district_id = query_whole(required=True)
    date = _date(required=True)


# The place and day first: when several parameters are wrong, they are the ones named.
class ByPinQuery(SearchFilters, PinFields):
    pass


class ByDistrictQuery(SearchFilters, DistrictFields):
    pass


class LatLongQuery(Request):
    lat = degrees(90, metadata={"example": -12.05})
    long = degrees(180, metadata={"example": -77.04})


# --- locations and metadata --------------------------------------------------------------

class StateSchema(Schema):
    state_id = fields.Int(required=True)
    state_name = fields.Str(required=True)
    state_name_l = fields.Str(required=True)


class StatesResponse(Schema):
    states = fields.List(fields.Nested(StateSchema), required=True)
    ttl = fields.Int(metadata={"description": "Hours a client may keep the list."})


class DistrictSchema(Schema):
    district_id = fields.Int(required=True)
    district_name = fields.Str(required=True)
    district_name_l = fields.Str(required=True)


class DistrictsResponse(Schema):
    districts = fields.List(fields.Nested(DistrictSchema), required=True)
    ttl = fields.Int()


class IdTypeSchema(Schema):
    id = fields.Int(required=True)
    type = fields.Str(required=True)
    type_l = fields.Str(required=True)
    code = fields.Str(required=True)


class IdTypesResponse(Schema):
    types = fields.List(fields.Nested(IdTypeSchema), required=True)


class GenderSchema(Schema):
    id = fields.Int(required=True)
    gender = fields.Str(required=True)
    gender_l = fields.Str(required=True)


class GendersResponse(Schema):
    genders = fields.List(fields.Nested(GenderSchema), required=True)


# --- centres and sessions ----------------------------------------------------------------

class CentreFields(Schema):
    center_id = fields.Int(required=True)
    name = fields.Str(required=True)
    name_l = fields.Str()
    address = fields.Str()
    address_l = fields.Str()
    state_name = fields.Str()
    state_name_l = fields.Str()
    district_name = fields.Str()
    district_name_l = fields.Str()
    block_name = fields.Str()
    block_name_l = fields.Str()
    pincode = fields.Str(metadata={"description": "The country's postal code."})
    lat = fields.Float(allow_none=True)
    long = fields.Float(allow_none=True)
    from_ = fields.Str(data_key="from", metadata={"example": "09:00:00"})
    to = fields.Str(metadata={"example": "17:00:00"})
    fee_type = fields.Str(validate=validate.OneOf(["Free", "Paid"]))


class SessionFields(Schema):
    session_id = fields.Str(required=True, metadata=UUID)
    date = _date(required=True)
    available_capacity = fields.Int(required=True)
    available_capacity_dose1 = fields.Int()
    available_capacity_dose2 = fields.Int()
    available_capacity_dose3 = fields.Int()
    min_age_limit = fields.Int()
    max_age_limit = fields.Int(allow_none=True)
    allow_all_age = fields.Bool()
    vaccine = fields.Str()
    fee = fields.Str(metadata={"example": "0"})
    walkin_ind = fields.Str(validate=validate.OneOf(["Y", "N"]))
    from_ = fields.Str(data_key="from", metadata={"example": "09:00:00"})
    to = fields.Str(metadata={"example": "13:00:00"})
    slots = fields.List(fields.Str(metadata={"example": "09:00AM-11:00AM"}))


class SessionSchema(CentreFields, SessionFields):
    """One session, flat: the centre's fields and the session's in one object."""


class SessionsResponse(Schema):
    sessions = fields.List(fields.Nested(SessionSchema), required=True)


class VaccineFeeSchema(Schema):
    vaccine = fields.Str(required=True)
    fee = fields.Str(required=True)


class CentreCalendarSchema(CentreFields):
    """A centre with its sessions over 7 days."""
    vaccine_fees = fields.List(fields.Nested(VaccineFeeSchema),
                               metadata={"description": "Paid centres only."})
    sessions = fields.List(fields.Nested(SessionFields), required=True)


class CalendarResponse(Schema):
    centers = fields.List(fields.Nested(CentreCalendarSchema), required=True)


class NearbyCentreSchema(Schema):
    center_id = fields.Int(required=True)
    name = fields.Str(required=True)
    name_l = fields.Str()
    district_name = fields.Str()
    district_name_l = fields.Str()
    state_name = fields.Str()
    state_name_l = fields.Str()
    block_name = fields.Str()
    block_name_l = fields.Str()
    pincode = fields.Str()
    lat = fields.Float(allow_none=True)
    long = fields.Float(allow_none=True)
    location = fields.Str()
    distance_km = fields.Float()


class NearbyCentresResponse(Schema):
    centers = fields.List(fields.Nested(NearbyCentreSchema), required=True)
    ttl = fields.Int()


# --- login ---------------------------------------------------------------------------------

class GenerateOtpRequest(Request):
    mobile = text(strip=True, required=True, metadata={"example": "987654321"})


class GenerateOtpResponse(Schema):
    txnId = fields.Str(required=True, metadata=UUID)


class ConfirmOtpRequest(Request):
    txnId = text(strip=True, required=True, metadata=UUID)
    otp = text(strip=True, required=True, metadata={
        "description": "The SHA-256 hex digest of the 6-digit code.",
        "pattern": "^[0-9A-Fa-f]{64}$"})


class TokenResponse(Schema):
    token = fields.Str(required=True)


class PartnerTokenResponse(TokenResponse):
    isNewAccount = fields.Str(required=True, validate=validate.OneOf(["Y", "N"]))


class StatusResponse(Schema):
    status = fields.Str(required=True, metadata={"example": "logged out"})


# --- beneficiaries and appointments --------------------------------------------------------

class NewBeneficiaryRequest(Request):
    name = text(required=True, error=registration.MSG_NAME)
    birth_year = BirthYear(required=True, error_messages=_errors(MSG_YEAR),
                           metadata={"example": "1980", "pattern": "^[0-9]{4}$"})
    gender_id = fields.Integer(
        strict=True, required=True,
        validate=validate.OneOf([1, 2, 3], error=registration.MSG_GENDER),
        error_messages=_errors(registration.MSG_GENDER, registration.MSG_GENDER),
        metadata={"description": "1 male, 2 female, 3 other (genders)"})
    photo_id_type = whole(required=True)
    photo_id_number = text(required=True)
    comorbidity_ind = text(allow_none=True,
                           metadata={"description": '"Y" adds the comorbidities group'})
    priority_groups = texts(registration.MSG_UNKNOWN_GROUP, allow_none=True, metadata={
        "description": "Priority groups of the country profile's eligibility phases, e.g. "
                       "health-workers"})


class NewBeneficiaryResponse(Schema):
    beneficiary_reference_id = fields.Str(required=True, metadata={"example": "12345678901234"})


class DeleteBeneficiaryRequest(Request):
    beneficiary_reference_id = text(required=True, error=booking.MSG_CHOOSE_BENEFICIARY,
                                    metadata=REFERENCE)


class AppointmentSchema(Schema):
    appointment_id = fields.Str(required=True, metadata=UUID)
    center_id = fields.Int()
    name = fields.Str()
    state_name = fields.Str()
    district_name = fields.Str()
    block_name = fields.Str()
    from_ = fields.Str(data_key="from")
    to = fields.Str()
    dose = fields.Int()
    session_id = fields.Str(metadata=UUID)
    date = _date()
    slot = fields.Str(metadata={"example": "09:00AM-11:00AM"})
    secret_code = fields.Str(metadata={"example": "1234"})


class BeneficiarySchema(Schema):
    beneficiary_reference_id = fields.Str(required=True)
    name = fields.Str(required=True)
    birth_year = fields.Str()
    gender = fields.Str()
    mobile_number = fields.Str(metadata={"description": "The last 4 digits."})
    photo_id_type = fields.Str()
    photo_id_number = fields.Str(metadata={"description": "Masked."})
    id_verification_status = fields.Str()
    vaccination_status = fields.Str()
    vaccine = fields.Str()
    dose1_date = fields.Str()
    dose2_date = fields.Str()
    appointments = fields.List(fields.Nested(AppointmentSchema))


class BeneficiariesResponse(Schema):
    beneficiaries = fields.List(fields.Nested(BeneficiarySchema), required=True)


class ScheduleRequest(Request):
    dose = whole(required=True)
    session_id = text(required=True, metadata=UUID)
    slot = text(required=True, metadata={"example": "09:00AM-11:00AM"})
    beneficiaries = texts(booking.MSG_CHOOSE_BENEFICIARY, required=True,
                          validate=validate.Length(min=1, error=booking.MSG_CHOOSE_BENEFICIARY),
                          item=REFERENCE)


class ScheduleResponse(Schema):
    appointment_confirmation_no = fields.Str(required=True, metadata=UUID)
    appointment_ids = fields.List(fields.Str(), required=True)


class RescheduleRequest(Request):
    appointment_id = text(required=True, metadata=UUID)
    session_id = text(required=True, metadata=UUID)
    slot = text(required=True)


class SlipQuery(Request):
    appointment_id = UuidText(required=True, metadata=UUID,
                              error_messages=_errors(booking.MSG_BAD_APPOINTMENT_ID,
                                                     booking.MSG_BAD_APPOINTMENT_ID))
    # Read by the view as it always was: html or pdf, in any case; anything else leaves
    # the choice to the Accept header.
    format = fields.String(error_messages=_errors(MSG_TEXT), metadata={
        "enum": ["html", "pdf"],
        "description": "html for the slip as a page instead of a PDF (default: by the "
                       "Accept header)."})


class CancelRequest(Request):
    appointment_id = text(required=True, metadata=UUID)
    beneficiariesToCancel = texts(booking.MSG_CHOOSE_BENEFICIARY, item=REFERENCE,
                                  allow_none=True, metadata={
        "description": "Cancel these people's appointments in the same session."})
