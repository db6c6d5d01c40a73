"""marshmallow schemas for the Co-WIN v2 API: query parameters, JSON bodies and answers.

They document the contract (the OpenAPI document at /api/openapi.json is generated from
them by cowin_kit.api.openapi); the views keep their own checks so status codes and error
texts stay exactly as docs/api.md describes them.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from cowin_kit.db import MAX_INT

DATE = {"description": "A date written DD-MM-YYYY.", "example": "21-05-2021"}
UUID = {"description": "A UUID.", "format": "uuid",
        "example": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}
# The reference id the API gives a registered person (beneficiary_reference_id).
REFERENCE = {"description": "A beneficiary's 14-digit reference id.", "pattern": "^[0-9]{14}$",
             "example": "12345678901234"}


def whole(minimum: int = 1, **kw):
    """A whole number that may reach the database (an id, a dose): JSON integers only,
    from ``minimum`` to the largest integer every database holds. The API's body reader
    (cowin_kit.api.body) refuses a value outside the range; the OpenAPI document shows it."""
    return fields.Int(strict=True, validate=validate.Range(min=minimum, max=MAX_INT), **kw)


def _date(**kw):
    return fields.Str(validate=validate.Regexp(r"^\d{2}-\d{2}-\d{4}$"), metadata=DATE, **kw)


# --- errors -------------------------------------------------------------------------------

class ErrorSchema(Schema):
    errorCode = fields.Str(required=True, metadata={"example": "BAD_REQUEST"})
    error = fields.Str(required=True, metadata={
        "description": "What is wrong, in the language of Accept-Language."})


# --- query parameters --------------------------------------------------------------------

class SearchFilters(Schema):
    """The optional filters of the session searches; an empty one filters nothing."""
    vaccine = fields.Str(metadata={
        "description": "Only sessions of this vaccine: a product's name or code, in any case.",
        "example": "COMIRNATY"})
    min_age_limit = whole(0, metadata={
        "description": "Only sessions whose min_age_limit is this.", "example": 18})
    dose = whole(1, metadata={
        "description": "Only sessions with places left for this dose "
                       "(available_capacity_doseN > 0).", "example": 1})
    fee_type = fields.Str(validate=validate.OneOf(["Free", "Paid"]), metadata={
        "description": "Only centres of this kind (any case)."})


class ByPinQuery(SearchFilters):
    pincode = fields.Str(required=True, metadata={
        "description": "A postal code of the deployment's country."})
    date = _date(required=True)


class ByDistrictQuery(SearchFilters):
    district_id = whole(required=True)
    date = _date(required=True)


class LatLongQuery(Schema):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90),
                       metadata={"example": -12.05})
    long = fields.Float(required=True, validate=validate.Range(-180, 180),
                        metadata={"example": -77.04})


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

class GenerateOtpRequest(Schema):
    mobile = fields.Str(required=True, validate=validate.Length(min=1),
                        metadata={"example": "987654321"})


class GenerateOtpResponse(Schema):
    txnId = fields.Str(required=True, metadata=UUID)


class ConfirmOtpRequest(Schema):
    otp = fields.Str(required=True, validate=validate.Length(min=1), metadata={
        "description": "The SHA-256 hex digest of the 6-digit code.",
        "pattern": "^[0-9A-Fa-f]{64}$"})
    txnId = fields.Str(required=True, validate=validate.Length(min=1), metadata=UUID)


class TokenResponse(Schema):
    token = fields.Str(required=True)


class PartnerTokenResponse(TokenResponse):
    isNewAccount = fields.Str(required=True, validate=validate.OneOf(["Y", "N"]))


class StatusResponse(Schema):
    status = fields.Str(required=True, metadata={"example": "logged out"})


# --- beneficiaries and appointments --------------------------------------------------------

class NewBeneficiaryRequest(Schema):
    name = fields.Str(required=True)
    birth_year = fields.Str(required=True, metadata={"example": "1980", "pattern": "^[0-9]{4}$"})
    gender_id = whole(required=True, metadata={"enum": [1, 2, 3], "description":
                                               "1 male, 2 female, 3 other (genders)"})
    photo_id_type = whole(required=True)
    photo_id_number = fields.Str(required=True)
    comorbidity_ind = fields.Str(metadata={"description": '"Y" adds the comorbidities group'})
    priority_groups = fields.List(fields.Str(), metadata={
        "description": "Priority groups of the country profile's eligibility phases, e.g. "
                       "health-workers"})


class NewBeneficiaryResponse(Schema):
    beneficiary_reference_id = fields.Str(required=True, metadata={"example": "12345678901234"})


class DeleteBeneficiaryRequest(Schema):
    beneficiary_reference_id = fields.Str(required=True, metadata=REFERENCE)


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


class ScheduleRequest(Schema):
    dose = whole(required=True)
    session_id = fields.Str(required=True, metadata=UUID)
    slot = fields.Str(required=True, metadata={"example": "09:00AM-11:00AM"})
    beneficiaries = fields.List(fields.Str(metadata=REFERENCE), required=True,
                                validate=validate.Length(min=1))


class ScheduleResponse(Schema):
    appointment_confirmation_no = fields.Str(required=True, metadata=UUID)
    appointment_ids = fields.List(fields.Str(), required=True)


class RescheduleRequest(Schema):
    appointment_id = fields.Str(required=True, metadata=UUID)
    session_id = fields.Str(required=True, metadata=UUID)
    slot = fields.Str(required=True)


class SlipQuery(Schema):
    appointment_id = fields.Str(required=True, metadata=UUID)
    format = fields.Str(validate=validate.OneOf(["html"]), metadata={
        "description": "html for the slip as a page instead of a PDF."})


class CancelRequest(Schema):
    appointment_id = fields.Str(required=True, metadata=UUID)
    beneficiariesToCancel = fields.List(fields.Str(metadata=REFERENCE), metadata={
        "description": "Cancel these people's appointments in the same session."})
