"""The OpenAPI 3 document of the /api/v2 routes, generated from cowin_kit.api.schemas with
apispec, served at /api/openapi.json, and a readable page of the same at /api.

Every /api/v2 rule of the app's url_map needs an entry in ENDPOINTS (keyed by the Flask
endpoint name); tests/test_openapi.py fails when one is missing.
"""
from __future__ import annotations

import copy
import json
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, Response, current_app, render_template, request
from marshmallow import fields

from cowin_kit.api import report_schemas, schemas as s
from cowin_kit.db import MAX_INT
from cowin_kit.runtime import deployment

API_PREFIX = "/api/v2"
# Co-WIN served its public vaccination report under v1; the kit serves it at the same path.
COWIN_V1_PREFIX = "/api/v1/reports/"
GROUPS = ("public", "login", "logged-in")
ERROR_TEXT = {400: "Malformed input, or a wrong OTP", 401: "No valid token, or an expired OTP",
              403: "Not allowed; on login, OTP throttling (as Co-WIN)",
              404: "Not found (including another account's)",
              409: "Conflicts with the current state",
              413: "The request body is larger than MAX_CONTENT_LENGTH",
              429: "Too many requests",
              503: "Temporarily unavailable (the database is down, busy or timed out); "
                   "retry after Retry-After seconds"}

# A certificate download: the PDF of the person's current certificate version, built once
# and then served as stored (ETag: the file's content key; If-None-Match gives a 304).
CERTIFICATE_PDF = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}

# endpoint name -> what the document says about it. "query"/"body"/"answer" are schemas;
# "answer" None means 204 No Content; "errors" the error statuses it may answer.
ENDPOINTS: dict[str, dict] = {
    "api_public.states": dict(
        group="public", summary="List the first-level divisions (states).",
        answer=s.StatesResponse, errors=()),
    "api_public.districts": dict(
        group="public", summary="List the districts of a state.",
        answer=s.DistrictsResponse, errors=(404,)),
    "api_public.blocks": dict(
        group="public", summary="List the blocks of a district (the divisions under it).",
        answer=s.BlocksResponse, errors=(404,)),
    "api_public.id_types": dict(
        group="public", summary="List the accepted ID document types.",
        answer=s.IdTypesResponse, errors=()),
    "api_public.genders": dict(
        group="public", summary="List the genders.", answer=s.GendersResponse, errors=()),
    "api_public.find_by_pin": dict(
        group="public", summary="Sessions on one day at centres with a postal code.",
        query=s.ByPinQuery, answer=s.SessionsResponse, errors=(400,)),
    "api_public.find_by_district": dict(
        group="public", summary="Sessions on one day in a district.",
        query=s.ByDistrictQuery, answer=s.SessionsResponse, errors=(400, 404)),
    "api_public.calendar_by_pin": dict(
        group="public", summary="Centres with a postal code and their sessions over 7 days.",
        query=s.ByPinQuery, answer=s.CalendarResponse, errors=(400,)),
    "api_public.calendar_by_district": dict(
        group="public", summary="Centres in a district and their sessions over 7 days.",
        query=s.ByDistrictQuery, answer=s.CalendarResponse, errors=(400, 404)),
    "api_public.find_by_lat_long": dict(
        group="public", summary="Centres nearest to a point, nearest first.",
        query=s.LatLongQuery, answer=s.NearbyCentresResponse, errors=(400,)),
    "api_public.certificate_public_download": dict(
        group="public", summary="Download a family member's vaccination certificate (PDF) "
                                "with the token of /auth/public/confirmOTP for the mobile "
                                "number they are registered with.",
        auth=True, query=s.CertificateQuery, answer=None, errors=(400, 404),
        content=CERTIFICATE_PDF),
    "api_auth.public_generate_otp": dict(
        group="login", summary="Send a one-time password to a mobile number.",
        body=s.GenerateOtpRequest, answer=s.GenerateOtpResponse, errors=(400, 429)),
    "api_auth.public_confirm_otp": dict(
        group="login", summary="Confirm the one-time password; get a Bearer token.",
        body=s.ConfirmOtpRequest, answer=s.TokenResponse, errors=(400, 401, 429)),
    "api_auth.partner_generate_otp": dict(
        group="login", summary="Send a one-time password (partner apps).",
        body=s.GenerateOtpRequest, answer=s.GenerateOtpResponse, errors=(400, 429)),
    "api_auth.partner_confirm_otp": dict(
        group="login", summary="Confirm the one-time password (partner apps); get a token.",
        body=s.ConfirmOtpRequest, answer=s.PartnerTokenResponse, errors=(400, 401, 429)),
    "api_auth.web_generate_otp": dict(
        group="login", summary="Send a one-time password (Co-WIN's web-app login).",
        body=s.GenerateMobileOtpRequest, answer=s.GenerateOtpResponse, errors=(400, 401, 403)),
    "api_auth.web_confirm_otp": dict(
        group="login", summary="Confirm the one-time password (Co-WIN's web-app login); get a "
                               "Bearer token.",
        body=s.ConfirmOtpRequest, answer=s.TokenResponse, errors=(400, 401, 403)),
    "api_auth.get_recaptcha": dict(
        group="login", summary="A captcha to answer in appointment/schedule (when the "
                               "deployment asks for one).",
        auth=True, answer=s.CaptchaResponse, errors=(403,)),
    "api_auth.logout": dict(
        group="login", summary="Revoke the Bearer token.", auth=True,
        answer=s.StatusResponse, errors=(401,)),
    "api_citizen.new_beneficiary": dict(
        group="logged-in", summary="Register a family member.",
        body=s.NewBeneficiaryRequest, answer=s.NewBeneficiaryResponse,
        errors=(400, 409, 429)),
    "api_citizen.delete_beneficiary": dict(
        group="logged-in", summary="Delete a family member who has no recorded dose.",
        body=s.DeleteBeneficiaryRequest, answer=None, errors=(400, 404, 409)),
    "api_citizen.beneficiaries": dict(
        group="logged-in", summary="The account's family members and their appointments.",
        answer=s.BeneficiariesResponse, errors=()),
    "api_citizen.schedule": dict(
        group="logged-in", summary="Book family members into a session and slot.",
        body=s.ScheduleRequest, answer=s.ScheduleResponse, errors=(400, 404, 409)),
    "api_citizen.reschedule": dict(
        group="logged-in", summary="Move an appointment to another session or slot.",
        body=s.RescheduleRequest, answer=None, errors=(400, 404, 409)),
    "api_citizen.cancel": dict(
        group="logged-in", summary="Cancel an appointment (or a family's, together).",
        body=s.CancelRequest, answer=None, errors=(400, 404, 409)),
    "api_citizen.appointment_slip": dict(
        group="logged-in", summary="Download an appointment's slip (PDF, or HTML).",
        query=s.SlipQuery, answer=None, errors=(400, 404),
        content={"application/pdf": {"schema": {"type": "string", "format": "binary"}},
                 "text/html": {"schema": {"type": "string"}}}),
    "api_citizen.auth_findByPin": dict(
        group="logged-in", summary="Sessions on one day at centres with a postal code.",
        query=s.ByPinQuery, answer=s.SessionsResponse, errors=(400,)),
    "api_citizen.auth_findByDistrict": dict(
        group="logged-in", summary="Sessions on one day in a district.",
        query=s.ByDistrictQuery, answer=s.SessionsResponse, errors=(400, 404)),
    "api_citizen.auth_calendarByPin": dict(
        group="logged-in", summary="Centres with a postal code and their sessions over 7 days.",
        query=s.ByPinQuery, answer=s.CalendarResponse, errors=(400,)),
    "api_citizen.auth_calendarByDistrict": dict(
        group="logged-in", summary="Centres in a district and their sessions over 7 days.",
        query=s.ByDistrictQuery, answer=s.CalendarResponse, errors=(400, 404)),
    "api_citizen.report_aefi": dict(
        group="logged-in", summary="Report an adverse event following immunisation of a "
                                   "family member who has a recorded dose.",
        body=s.AefiRequest, answer=s.AefiResponse, errors=(400, 404)),
    "api_citizen.certificate_download": dict(
        group="logged-in", summary="Download a family member's vaccination certificate (PDF, "
                                   "in their language and English).",
        query=s.CertificateQuery, answer=None, errors=(400, 404), content=CERTIFICATE_PDF),
    "api_certificates.verify_certificate": dict(
        group="public", summary="Verify a certificate's QR code (EU DCC HC1 or SMART Health "
                                "Card) against this deployment's keys and revocation list.",
        body=s.VerifyCertificateRequest, answer=s.VerifyCertificateResponse,
        errors=(400, 429)),
}

# The reports API (cowin_kit.api.reports) documents its own endpoints.
ENDPOINTS.update(report_schemas.ENDPOINTS)

_CONVERTER = re.compile(r"<(?:[a-z_]+(?:\([^)]*\))?:)?([A-Za-z_][A-Za-z0-9_]*)>")
_PATH_PARAM = re.compile(r"<(?:([a-z_]+)(?:\([^)]*\))?:)?([A-Za-z_][A-Za-z0-9_]*)>")
# What a route converter accepts, as an OpenAPI schema (``id`` is cowin_kit.app.IdConverter).
PATH_TYPES = {"int": {"type": "integer", "minimum": 0},
              "id": {"type": "integer", "minimum": 1, "maximum": MAX_INT}}


def api_routes(app: Flask) -> list[tuple[str, str, str]]:
    """(Flask rule, method, endpoint) for every /api/v2 route (and Co-WIN's v1 report), in
    path order."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith((API_PREFIX + "/", COWIN_V1_PREFIX)):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                out.append((rule.rule, method, rule.endpoint))
    return sorted(out)


def undocumented_routes(app: Flask) -> list[tuple[str, str, str]]:
    return [r for r in api_routes(app) if r[2] not in ENDPOINTS]


def openapi_path(rule: str) -> str:
    return _CONVERTER.sub(r"{\1}", rule)


def requires_login(entry: dict) -> bool:
    return entry.get("auth", entry["group"] == "logged-in")


def _operation(rule: str, method: str, endpoint: str) -> dict:
    entry = ENDPOINTS.get(endpoint) or dict(group="public", summary=endpoint, errors=())
    op: dict = {"summary": entry["summary"], "operationId": f"{method.lower()}_{endpoint}",
                "tags": [entry["group"]]}
    params = [{"in": "path", "name": name, "required": True,
               "schema": PATH_TYPES.get(converter, {"type": "string"})}
              for converter, name in _PATH_PARAM.findall(rule)]
    if entry.get("query"):
        params.append({"in": "query", "schema": entry["query"]})
    if params:
        op["parameters"] = params
    if entry.get("body"):
        op["requestBody"] = {"required": True,
                             "content": {"application/json": {"schema": entry["body"]}}}
    answer = entry.get("answer")
    responses: dict = {}
    if entry.get("content"):
        responses["200"] = {"description": "OK", "content": entry["content"]}
    elif answer is None and entry.get("errors") != (404,):
        responses["204"] = {"description": "Done; no content."}
    elif answer is not None:
        responses["200"] = {"description": "OK",
                            "content": {"application/json": {"schema": answer}}}
    errors = set(entry.get("errors", ()))
    if requires_login(entry):
        errors.add(401)
        op["security"] = [{"bearerAuth": []}]
    if entry["group"] == "login":
        errors.update((403, 429))  # 403: OTP throttling, as Co-WIN (api.cowin_codes)
    if entry.get("body"):
        errors.add(413)
    errors.add(503)  # any operation, when its database cannot answer in time
    for status in sorted(errors):
        responses[str(status)] = {"$ref": f"#/components/responses/E{status}"}
    op["responses"] = responses
    return op


def build_spec(app: Flask) -> dict:
    """The OpenAPI document (without ``servers``, which depends on the request)."""
    from cowin_kit import __version__

    spec = APISpec(title="cowin-kit API (Co-WIN v2 compatible)", version=__version__,
                   openapi_version="3.0.3", plugins=[MarshmallowPlugin()],
                   info={"description": "See docs/api.md. Dates are answered DD-MM-YYYY and "
                                        "accepted as DD-MM-YYYY or DD-MM-YY; errors are "
                                        "{\"errorCode\", \"error\"} in the caller's language."})
    spec.components.schema("Error", schema=s.ErrorSchema)
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for status, text in ERROR_TEXT.items():
        spec.components.response(f"E{status}", {
            "description": text,
            "content": {"application/json": {"schema": "Error"}}})
    by_path: dict[str, dict] = {}
    for rule, method, endpoint in api_routes(app):
        by_path.setdefault(rule, {})[method.lower()] = _operation(rule, method, endpoint)
    for rule, operations in by_path.items():
        spec.path(path=openapi_path(rule), operations=operations)
    spec.tag({"name": "public", "description": "No login needed."})
    spec.tag({"name": "login", "description": "Mobile OTP login; Bearer tokens."})
    spec.tag({"name": "logged-in", "description": "Send Authorization: Bearer <token>."})
    return spec.to_dict()


def cached_spec(app: Flask) -> dict:
    cache = app.extensions.setdefault("cowin_kit_openapi", {})
    if "doc" not in cache:
        cache["doc"] = build_spec(app)
    return cache["doc"]


bp = Blueprint("api_docs", __name__)


@bp.get("/api/openapi.json")
def openapi_json():
    doc = copy.copy(cached_spec(current_app))
    # Never from the Host header: this answer is kept by shared caches, and a forged Host
    # would send every client of that cache to the forger's server. PUBLIC_URL when set;
    # otherwise a URL relative to where the document was fetched (OpenAPI 3).
    public_url = (deployment().settings.get("PUBLIC_URL") or "").rstrip("/")
    doc["servers"] = [{"url": public_url + request.script_root if public_url
                       else request.script_root or "/"}]
    return Response(json.dumps(doc, ensure_ascii=False, indent=1), mimetype="application/json",
                    headers={"Cache-Control": "public, max-age=3600",
                             "Access-Control-Allow-Origin": "*"})


def _example(rule: str, method: str, entry: dict, base: str, pincode: str = "110001") -> str:
    path = _CONVERTER.sub("1", rule)
    query = entry.get("query")
    if query is not None:
        examples = {"pincode": pincode, "date": "21-05-2021", "district_id": "1",
                    "lat": "-12.05", "long": "-77.04"}
        required = [n for n, f in query().fields.items() if f.required]
        if required:
            path += "?" + "&".join(f"{n}={examples.get(n, '…')}" for n in required)
    parts = ["curl"]
    if method != "GET":
        parts += ["-X", method]
    if requires_login(entry):
        parts += ["-H", '"Authorization: Bearer $TOKEN"']  # double quotes: the shell fills it
    body = entry.get("body")
    if body is not None:
        sample = {f.data_key or n: ([] if isinstance(f, fields.List) else
                                    1 if isinstance(f, fields.Integer) else "…")
                  for n, f in body().fields.items() if f.required}
        parts += ["-H", "'Content-Type: application/json'", "-d",
                  "'" + json.dumps(sample, ensure_ascii=False) + "'"]
    parts.append(f"'{base}{path}'")
    return " ".join(parts)


def _parameters(rule: str, entry: dict) -> list[dict]:
    out = [{"name": n, "where": "path", "required": True} for n in _CONVERTER.findall(rule)]
    for kind in ("query", "body"):
        schema = entry.get(kind)
        if schema is not None:
            out += [{"name": f.data_key or n, "where": kind, "required": f.required}
                    for n, f in schema().fields.items()]
    return out


@bp.get("/api")
def api_page():
    # The curl examples need an absolute address: PUBLIC_URL when set. Without it, the
    # address the visitor used (the Host header); that answer is then only for that
    # visitor, never for a shared cache that would hand a forged Host to everyone.
    public_url = (deployment().settings.get("PUBLIC_URL") or "").rstrip("/")
    base = public_url + request.script_root if public_url else request.url_root.rstrip("/")
    pincode = str(deployment().profile["postal_code_example"])
    groups = {g: [] for g in GROUPS}
    for rule, method, endpoint in api_routes(current_app):
        entry = ENDPOINTS.get(endpoint) or dict(group="public", summary=endpoint, errors=())
        groups[entry["group"]].append({
            "method": method, "path": openapi_path(rule), "summary": entry["summary"],
            "name": rule.rsplit("/", 1)[-1], "login": requires_login(entry),
            "parameters": _parameters(rule, entry),
            "curl": _example(rule, method, entry, base, pincode)})
    response = current_app.make_response(render_template("api.html", groups=groups))
    if not public_url:
        response.headers["Cache-Control"] = "private, no-cache"
        response.vary.add("Host")
    return response
