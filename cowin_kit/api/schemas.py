"""marshmallow schemas for the Co-WIN v2 API: query parameters, JSON bodies and answers.

They are both the contract and its check: the OpenAPI document at /api/openapi.json is
generated from them (cowin_kit.api.openapi), and the views load their query strings and
bodies with the same schemas (cowin_kit.api.body.load_query and load_body find the schema of
the endpoint in openapi.ENDPOINTS), so the document and the checks cannot drift. The request
fields' types and messages are in cowin_kit.api.inputs. Fields unknown to a request schema
are ignored, as they always were; an empty optional query parameter is as good as absent
(Co-WIN clients send empty filters).
"""
from __future__ import annotations

import datetime as dt
import re

from marshmallow import Schema, fields, validate

from cowin_kit.api.inputs import (
    DATE,
    MSG_TEXT,
    MSG_YEAR,
    REFERENCE,
    UUID,
    BirthYear,
    Request,
    UuidText,
    birth_day,
    choice,
    day,
    degrees,
    one_of_numbers,
    query_whole,
    refusals,
    text,
    texts,
    whole,
)
from cowin_kit.certificates import downloads
from cowin_kit.certificates.verify import REASONS as verify_reasons
from cowin_kit.db import MAX_INT
from cowin_kit.plugins.interfaces import N_
from cowin_kit.programmes.eligibility import MSG_BAD_DOSE
from cowin_kit.registration import service as registration
from cowin_kit.scheduling import booking
from cowin_kit.vaccination import aefi, aefi_terms

# --- errors -------------------------------------------------------------------------------

class ErrorSchema(Schema):
    errorCode = fields.Str(required=True, metadata={"example": "BAD_REQUEST"})
    error = fields.Str(required=True, metadata={
        "description": "What is wrong, in the language of Accept-Language."})


# --- query parameters --------------------------------------------------------------------

class SearchFilters(Request):
    """The optional filters of the session searches; an empty one filters nothing."""
    vaccine = fields.String(error_messages=refusals(MSG_TEXT), metadata={
        "description": "Only sessions of this vaccine: a product's name or code, in any case.",
        "example": "COMIRNATY"})
    min_age_limit = query_whole(0, metadata={
        "description": "Only sessions whose min_age_limit is this.", "example": 18})
    dose = query_whole(1, below=MSG_BAD_DOSE, metadata={
        "description": "Only sessions with places left for this dose "
                       "(available_capacity_doseN > 0).", "example": 1})
    fee_type = choice(["Free", "Paid"], metadata={
        "description": "Only centres of this kind (any case)."})


class PinFields(Request):
    pincode = fields.String(required=True, error_messages=refusals(MSG_TEXT), metadata={
        "description": "A postal code of the deployment's country."})
    date = day(required=True)


class DistrictFields(Request):
    district_id = query_whole(required=True)
    date = day(required=True)
    block_id = query_whole(metadata={
        "description": "Only the centres of this block (a division under the district, "
                       "e.g. Peru's distrito): a block_id of "
                       "admin/location/blocks/{district_id}."})


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


class BlockSchema(Schema):
    block_id = fields.Int(required=True)
    block_name = fields.Str(required=True)
    block_name_l = fields.Str(required=True)


class BlocksResponse(Schema):
    blocks = fields.List(fields.Nested(BlockSchema), required=True)
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

# Co-WIN sent pincode as a JSON integer, and typed clients (Go, TypeScript, C#) declare it so;
# the spec v2.1.0 says string (pydantic turns an integer into one). cowin_kit.scheduling.search
# .pincode_answer is the rule.
PINCODE = {"oneOf": [{"type": "integer"}, {"type": "string"}], "example": 15001,
           "description": "The centre's postal code, as Co-WIN sent it: a JSON integer where "
           "the country's codes are digits (leading zeros dropped: 06000 is 6000; the "
           "searches take either form), 0 for a centre without one (or in a country without "
           "postal codes); a string where the codes have letters (\"K1A 0B1\"), \"\" for a "
           "centre without one."}
LOCALISED = {"description": "In the request's language (Accept-Language), as Co-WIN's *_l "
                            "fields; the same as the plain field when there is no translation."}


def localised():
    return fields.Str(metadata=LOCALISED)


class CentreFields(Schema):
    center_id = fields.Int(required=True)
    name = fields.Str(required=True)
    name_l = localised()
    address = fields.Str()
    address_l = localised()
    state_name = fields.Str(required=True)
    state_name_l = localised()
    district_name = fields.Str(required=True)
    district_name_l = localised()
    block_name = fields.Str(required=True)
    block_name_l = localised()
    pincode = fields.Raw(required=True, metadata=PINCODE)
    lat = fields.Float(allow_none=True)
    long = fields.Float(allow_none=True)
    from_ = fields.Str(required=True, data_key="from", metadata={"example": "09:00:00"})
    to = fields.Str(required=True, metadata={"example": "17:00:00"})
    fee_type = fields.Str(required=True, validate=validate.OneOf(["Free", "Paid"]))


class SessionFields(Schema):
    session_id = fields.Str(required=True, metadata=UUID)
    date = fields.Str(required=True, metadata=DATE)  # answered DD-MM-YYYY
    available_capacity = fields.Int(required=True)
    available_capacity_dose1 = fields.Int()
    available_capacity_dose2 = fields.Int()
    available_capacity_dose3 = fields.Int()
    min_age_limit = fields.Int(required=True)
    max_age_limit = fields.Int(allow_none=True)
    allow_all_age = fields.Bool()
    vaccine = fields.Str(required=True)
    fee = fields.Str(metadata={"example": "0", "description": "A JSON string, as Co-WIN's."})
    walkin_ind = fields.Str(validate=validate.OneOf(["Y", "N"]))
    from_ = fields.Str(data_key="from", metadata={"example": "09:00:00"})
    to = fields.Str(metadata={"example": "13:00:00"})
    slots = fields.List(fields.Str(metadata={"example": "09:00AM-11:00AM"}), required=True)


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
    name_l = localised()
    district_name = fields.Str()
    district_name_l = localised()
    state_name = fields.Str()
    state_name_l = localised()
    block_name = fields.Str()
    block_name_l = localised()
    pincode = fields.Raw(required=True, metadata=PINCODE)
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


class GenerateMobileOtpRequest(GenerateOtpRequest):
    """Co-WIN's web-app login (auth/generateMobileOTP)."""
    secret = fields.Raw(allow_none=True, error_messages=refusals(MSG_TEXT), metadata={
        "type": "string",
        "description": "Identified Co-WIN's web app. Any value (or none) is accepted unless "
                       "the deployment sets COWIN_WEB_SECRET; then only that one (else 401)."})


class CaptchaResponse(Schema):
    captcha = fields.Str(required=True, metadata={
        "description": "An SVG image of a short sum; its <title> asks the same question in "
                       "words, in the language of Accept-Language, for screen readers.",
        "example": '<svg xmlns="http://www.w3.org/2000/svg" ...><title>...</title>...</svg>'})


class StatusResponse(Schema):
    status = fields.Str(required=True, metadata={"example": "logged out"})


# --- beneficiaries and appointments --------------------------------------------------------

class NewBeneficiaryRequest(Request):
    name = text(required=True, error=registration.MSG_NAME)
    birth_year = BirthYear(required=True, error_messages=refusals(MSG_YEAR),
                           metadata={"example": "1980", "pattern": "^[0-9]{4}$"})
    gender_id = one_of_numbers([1, 2, 3], registration.MSG_GENDER, required=True, metadata={
        "description": "1 male, 2 female, 3 other (genders)."})
    photo_id_type = whole(required=True)
    photo_id_number = text(required=True)
    comorbidity_ind = text(allow_none=True,
                           metadata={"description": '"Y" adds the comorbidities group'})
    priority_groups = texts(registration.MSG_UNKNOWN_GROUP, allow_none=True, metadata={
        "description": "Priority groups of the country profile's eligibility phases, e.g. "
                       "health-workers"})
    birth_date = birth_day(allow_none=True)


class NewBeneficiaryResponse(Schema):
    beneficiary_reference_id = fields.Str(required=True, metadata={"example": "12345678901234"})


class DeleteBeneficiaryRequest(Request):
    beneficiary_reference_id = text(required=True, error=booking.MSG_CHOOSE_BENEFICIARY,
                                    metadata=REFERENCE)


class AppointmentSchema(CentreFields):
    """An appointment: its centre's fields and its own (the spec's AppointmentResponseSchema
    is allOf CenterResponseSchema and these)."""
    appointment_id = fields.Str(required=True, metadata=UUID)
    dose = fields.Int(required=True)
    session_id = fields.Str(required=True, metadata=UUID)
    date = fields.Str(required=True, metadata=DATE)  # answered DD-MM-YYYY
    slot = fields.Str(required=True, metadata={"example": "09:00AM-11:00AM"})
    secret_code = fields.Str(metadata={"example": "1234"})


class BeneficiarySchema(Schema):
    beneficiary_reference_id = fields.Str(required=True)
    name = fields.Str(required=True)
    birth_year = fields.Str(required=True, metadata={"example": "1980"})
    birth_date = fields.Str(metadata={**DATE, "description": "The date of birth, when it was "
                                                             "given (DD-MM-YYYY)."})
    gender = fields.Str(required=True)
    mobile_number = fields.Str(required=True, metadata={"description": "The last 4 digits."})
    photo_id_type = fields.Str(required=True)
    photo_id_number = fields.Str(required=True, metadata={"description": "Masked."})
    comorbidity_ind = fields.Str(required=True, validate=validate.OneOf(["Y", "N"]), metadata={
        "description": "Y when the person is in the comorbidities priority group."})
    id_verification_status = fields.Str()
    vaccination_status = fields.Str(validate=validate.OneOf(
        ["Not Vaccinated", "Partially Vaccinated", "Vaccinated"]))
    vaccine = fields.Str(metadata={"description": "The first dose's product, \"\" before "
                                  "one (as Co-WIN's; the spec's enum lists India's products)."})
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
    # Co-WIN's security code; checked only when CAPTCHA_ON_SCHEDULE is on (any value is
    # accepted and ignored otherwise, as clients written for Co-WIN send one).
    captcha = fields.Raw(allow_none=True, error_messages=refusals(MSG_TEXT), metadata={
        "type": "string", "example": "19",
        "description": "The answer to the account's latest auth/getRecaptcha captcha (a "
                       "number), when the deployment asks for one (CAPTCHA_ON_SCHEDULE)."})


def schedule_fast(data: dict) -> dict | None:
    """ScheduleRequest's load of the plain body nearly every booking sends (dose a JSON
    integer in range, session_id and slot texts, beneficiaries a non-empty list of texts,
    captcha absent, null or text), without marshmallow: the same dict as
    ``ScheduleRequest().load(data)``. None for anything else, which the schema then loads
    (or refuses, naming the field). tests/test_lean_booking.py compares the two."""
    dose, people = data.get("dose"), data.get("beneficiaries")
    if (type(dose) is not int or not 1 <= dose <= MAX_INT
            or type(data.get("session_id")) is not str or type(data.get("slot")) is not str
            or type(people) is not list or not people
            or any(type(p) is not str for p in people)):
        return None
    out = {"dose": dose, "session_id": data["session_id"], "slot": data["slot"],
           "beneficiaries": list(people)}
    if "captcha" in data:
        if data["captcha"] is not None and type(data["captcha"]) is not str:
            return None
        out["captcha"] = data["captcha"]
    return out


class ScheduleResponse(Schema):
    appointment_confirmation_no = fields.Str(required=True, metadata=UUID)
    appointment_ids = fields.List(fields.Str(), required=True)


class RescheduleRequest(Request):
    appointment_id = text(required=True, metadata=UUID)
    session_id = text(required=True, metadata=UUID)
    slot = text(required=True)


class SlipQuery(Request):
    appointment_id = UuidText(required=True, metadata=UUID,
                              error_messages=refusals(booking.MSG_BAD_APPOINTMENT_ID,
                                                     booking.MSG_BAD_APPOINTMENT_ID))
    # Read by the view as it always was: html or pdf, in any case; anything else leaves
    # the choice to the Accept header.
    format = fields.String(error_messages=refusals(MSG_TEXT), metadata={
        "enum": ["html", "pdf"],
        "description": "html for the slip as a page instead of a PDF (default: by the "
                       "Accept header)."})


class CancelRequest(Request):
    appointment_id = text(required=True, metadata=UUID)
    beneficiariesToCancel = texts(booking.MSG_CHOOSE_BENEFICIARY, item=REFERENCE,
                                  allow_none=True, metadata={
        "description": "Cancel these people's appointments in the same session."})


# --- adverse events following immunisation (AEFI) -------------------------------------------

MSG_TIME = N_("%(name)s must be a time written HH:MM, e.g. 14:30.")


class ClockTime(fields.String):
    """A time of day written HH:MM (24 hours); loaded as a datetime.time."""

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs).strip()
        try:
            if re.fullmatch(r"[0-9]{1,2}:[0-9]{2}", raw):
                return dt.datetime.strptime(raw, "%H:%M").time()
        except ValueError:
            pass
        raise self.make_error("invalid")


class AefiRequest(Request):
    beneficiary_reference_id = text(required=True, error=booking.MSG_CHOOSE_BENEFICIARY,
                                    metadata=REFERENCE)
    dose = whole(allow_none=True, metadata={
        "description": "The number of the dose it followed (default: the latest dose).",
        "example": 1})
    symptoms = texts(aefi.MSG_CHOOSE_SYMPTOM, required=True, validate=validate.Length(
        min=1, error=aefi.MSG_CHOOSE_SYMPTOM), metadata={
        "description": "Codes of the country profile's AEFI symptoms ([aefi] symptoms; by "
                       "default " + ", ".join(aefi_terms.DEFAULT_SYMPTOMS) + ").",
        "example": ["fever", "headache"]})
    onset_date = day(required=True)
    onset_time = ClockTime(allow_none=True, error_messages=refusals(MSG_TIME), metadata={
        "description": "When it started, HH:MM in the deployment's time zone (optional).",
        "pattern": "^[0-9]{1,2}:[0-9]{2}$", "example": "14:30"})
    seriousness = choice([s.value for s in aefi_terms.Seriousness], required=True, metadata={
        "description": "WHO: minor, severe, or serious (then serious_criteria)."})
    serious_criteria = texts(aefi.MSG_CRITERIA, allow_none=True, metadata={
        "description": "For a serious event, one or more of: "
                       + ", ".join(c.value for c in aefi_terms.SeriousCriterion) + "."})
    outcome = choice([o.value for o in aefi_terms.Outcome], required=True)
    description = text(allow_none=True, metadata={
        "description": "What happened (at most 2,000 characters; needed with 'other')."})


class AefiResponse(Schema):
    aefi_id = fields.Int(required=True, metadata={"description": "The report's number."})
    status = fields.Str(required=True, metadata={"example": "reported"})


class CertificateQuery(Request):
    beneficiary_reference_id = text(
        required=True, error=downloads.MSG_BAD_REFERENCE, metadata=REFERENCE,
        validate=validate.Regexp(downloads.REFERENCE_ID.pattern + r"\Z",
                                 error=downloads.MSG_BAD_REFERENCE))


# --- certificates: verification ------------------------------------------------------------

class VerifyCertificateRequest(Request):
    payload = text(strip=True, required=True, metadata={
        "description": "What the certificate's QR code holds: an EU DCC \"HC1:…\" text, a "
                       "SMART Health Card \"shc:/…\" text or its JWS, or the content of a "
                       ".smart-health-card file.",
        "example": "HC1:NCFOXN%TS3DH3ZSUZK+.V0ETD%65NL-AH…"})


class VerifyCertificateResponse(Schema):
    valid = fields.Bool(required=True, metadata={
        "description": "Signed by a key this deployment trusts, within its validity, "
                       "following the schema, and not revoked."})
    format = fields.Str(required=True, allow_none=True, metadata={
        "description": "hc1 (EU DCC / WHO GDHCN), shc (SMART Health Card), or null when "
                       "the payload is neither.", "enum": ["hc1", "shc", None]})
    kid = fields.Str(required=True, allow_none=True, metadata={
        "description": "The signing key's id: base64 for HC1, the JWK kid for SHC."})
    issuer = fields.Str(required=True, allow_none=True, metadata={
        "description": "The issuing country (HC1) or the issuer's URL (SHC)."})
    reason = fields.Str(required=True, allow_none=True, metadata={
        "description": "Why it is not valid (a stable code), null when valid.",
        "enum": [*verify_reasons, None]})
    message = fields.Str(required=True, metadata={
        "description": "The outcome explained, in the language of Accept-Language."})
    payload = fields.Dict(required=True, allow_none=True, metadata={
        "description": "The decoded certificate: the EU DCC JSON (ver, nam, dob, v/t/r), or "
                       "the SMART Health Card's JWS claims (iss, nbf, vc)."})
