"""The one reader of API input: JSON bodies (json_body, load_body) and query strings
(load_query), loaded with the endpoint's documented schema (cowin_kit.api.schemas, as
openapi.ENDPOINTS lists it), whose refusals are answered in Co-WIN's error shape naming the
field (refusal). Every API endpoint that takes a body or a query uses them.

It refuses, with a 400 in the API's error shape, what would otherwise reach the services
and the database as an outage or a crash: JSON nested deeper than any request needs (the
standard parser recurses, and 1,000 levels in 2 kB exhausted the stack), text the databases
cannot hold or encode (a NUL, which PostgreSQL refuses; an unpaired surrogate, which no
UTF-8 encoder takes), numbers outside the range I-JSON (RFC 7493) allows, NaN and
infinities; then the schema refuses integers outside the range it declares (an id beyond
PostgreSQL's INTEGER), wrong types and missing fields. The body's size is bounded before it
is read, by MAX_CONTENT_LENGTH (werkzeug answers 413).
"""
from __future__ import annotations

import json
import math
import re

from flask import request
from flask_babel import lazy_gettext
from marshmallow import Schema, ValidationError, validate

from cowin_kit.api.errors import ApiError
from cowin_kit.plugins.interfaces import N_

MAX_DEPTH = 16  # the deepest body of the API is 2 levels (an object holding a list)
MAX_SAFE_INTEGER = 2 ** 53 - 1  # I-JSON: integers a double represents exactly

MSG_SEND_JSON = N_("Send a JSON object in the request body.")
MSG_TOO_DEEP = N_("The JSON in the request body is nested too deeply (at most %(max)s "
                  "levels).")
MSG_BAD_TEXT = N_("%(name)s contains a character that is not allowed (a NUL or an unpaired "
                  "surrogate).")
MSG_BAD_NUMBER = N_("%(name)s must be a number within the range JSON numbers can carry.")

_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")


def _constant(name: str) -> float:
    """NaN, Infinity, -Infinity: not JSON, but read, so that _check_values refuses them
    naming the field they were sent in (as it does 1e400, which parses as infinity)."""
    return float(name)


def json_body() -> dict:
    """The request's JSON object, checked as described above; ApiError (400) otherwise.

    The body is read as JSON whatever its declared type: Go's default client declares
    none, others say text/plain or application/x-www-form-urlencoded. That lets a page of
    another site send it from a browser without asking first (a "simple" cross-origin
    request), which is harmless here because nothing that reads bodies here trusts a
    browser's credentials: every logged-in /api/v2 call is authenticated by its
    Authorization: Bearer header alone (api.auth.bearer_token, otp.authenticate), which a
    browser never adds by itself and a cross-origin page cannot set without a preflight
    the API does not grant; no cookie logs anyone in to the API. A view that trusted a
    cookie (the portal's and staff pages do, with CSRF tokens) must not read its body
    here. The body's bytes are read as they came (never as form fields, which would
    consume them), and a body that is not a JSON object is refused as before."""
    raw = request.get_data(cache=True, parse_form_data=False)  # 413 beyond MAX_CONTENT_LENGTH
    # A streamed (chunked) body stops at MAX_CONTENT_LENGTH without a word: asking for one
    # more byte answers 413 when there was more, instead of parsing a truncated body.
    request.stream.read(1)
    try:
        data = json.loads(raw, parse_constant=_constant)
    except RecursionError:
        raise ApiError(MSG_TOO_DEEP, max=MAX_DEPTH) from None
    except ValueError:  # not JSON, not UTF-8, or an integer of thousands of digits
        raise ApiError(MSG_SEND_JSON) from None
    if not isinstance(data, dict):
        raise ApiError(MSG_SEND_JSON)
    _check_values(data)
    return data


def _field_name(key) -> str:
    """The top-level key to name in a refusal: only a plain, short name is echoed back."""
    return key if isinstance(key, str) and _NAME.fullmatch(key) else lazy_gettext("a field")


def _check_values(data: dict) -> None:
    """Walk the whole body without recursion (so its depth cannot exhaust the stack)."""
    stack = [(value, 2, key) for key, value in data.items()]
    for key in data:
        if _NOT_TEXT.search(key):
            raise ApiError(MSG_BAD_TEXT, name=_field_name(None))
    while stack:
        value, depth, top = stack.pop()
        if isinstance(value, str):
            if _NOT_TEXT.search(value):
                raise ApiError(MSG_BAD_TEXT, name=_field_name(top))
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if abs(value) > MAX_SAFE_INTEGER:
                raise ApiError(MSG_BAD_NUMBER, name=_field_name(top))
        elif isinstance(value, float):
            if not math.isfinite(value):  # 1e400 parses as infinity
                raise ApiError(MSG_BAD_NUMBER, name=_field_name(top))
        else:
            if depth > MAX_DEPTH:
                raise ApiError(MSG_TOO_DEEP, max=MAX_DEPTH)
            if isinstance(value, dict):
                if any(_NOT_TEXT.search(k) for k in value):
                    raise ApiError(MSG_BAD_TEXT, name=_field_name(top))
                value = value.values()
            stack.extend((item, depth + 1, top) for item in value)


def load_body(fast=None) -> dict:
    """The request's JSON body (json_body), loaded with the endpoint's documented body
    schema: the values as the schema deserializes them; ApiError (400) naming the field.
    ``fast``: a function giving the schema's load of the common, valid bodies without it
    (or None, and the schema loads the body), for a hot endpoint (schemas.schedule_fast)."""
    data = json_body()
    if fast is not None:
        loaded = fast(data)
        if loaded is not None:
            return loaded
    return load(_schema("body"), data)


def load_query() -> dict:
    """The request's query string, loaded with the endpoint's documented query schema. An
    empty optional parameter is as good as absent; a repeated one counts once (the first)."""
    schema = _schema("query")
    args = request.args
    data = {key: args[key] for key in args
            if args[key] != "" or (key in schema.fields and schema.fields[key].required)}
    return load(schema, data)


_SCHEMAS: dict = {}


def _schema(kind: str) -> Schema:
    """The endpoint's schema of ``kind`` ("body" or "query"), as openapi.ENDPOINTS documents
    it: the views never name a schema, so the one they load is the one documented."""
    from cowin_kit.api.openapi import ENDPOINTS

    cls = (ENDPOINTS.get(request.endpoint) or {}).get(kind)
    if cls is None:
        raise LookupError(f"{request.endpoint} documents no {kind} schema in openapi.ENDPOINTS")
    if cls not in _SCHEMAS:  # loading does not change a schema: one instance serves all
        _SCHEMAS[cls] = cls()
    return _SCHEMAS[cls]


def load(schema: Schema, data) -> dict:
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise refusal(schema, exc) from None


def refusal(schema: Schema, exc: ValidationError) -> ApiError:
    """The ApiError for a schema's refusal: every wrong field, in the schema's order, each
    with its message (a message id; cowin_kit.api.schemas) and the params it may name: the
    field, and its validators' min, max and choices (or the field's own ``params``).

    Every field, not only the first: a client that sent two wrong values (a spec-generated
    client sending photo_id_type "abc" and gender_id 1.5) is told about both, and is never
    left fixing the one named while the other goes unmentioned."""
    messages = exc.messages if isinstance(exc.messages, dict) else {}
    found = []
    for name, field in schema.fields.items():
        key = field.data_key or name
        if key in messages:
            found.append(ApiError(_first(messages[key]), key, name=key, **_params(field)))
    if not found:
        return ApiError(None)  # not a field's (the body is not an object): the general 400
    return found[0] if len(found) == 1 else Refusals(found)


class Refusals(ApiError):
    """Several fields refused at once: the first one's field and message id (what the API's
    error shape keeps), the text of each in turn, in the reader's language."""

    def __init__(self, refusals: list[ApiError]):
        self.others = refusals[1:]
        first = refusals[0]
        super().__init__(first.msgid, first.field, **first.params)

    def text(self, gettext=None) -> str:
        return " ".join([super().text(gettext), *(e.text(gettext) for e in self.others)])


def _first(message) -> str:
    """The first message of a field's errors (a list; a dict by index for a list's items)."""
    while not isinstance(message, str):
        message = next(iter(message.values() if isinstance(message, dict) else message))
    return message


def _params(field) -> dict:
    params = {}
    checks = [*field.validators, *getattr(getattr(field, "inner", None), "validators", ())]
    lows = [v.min for v in checks if isinstance(v, validate.Range) and v.min is not None]
    highs = [v.max for v in checks if isinstance(v, validate.Range) and v.max is not None]
    if lows or highs:
        params.update(min=max(lows) if lows else "…", max=min(highs) if highs else "…")
    for v in checks:
        if isinstance(v, validate.OneOf):
            params["choices"] = ", ".join(map(str, v.choices))
    params.update(getattr(field, "params", {}))  # inputs.Day's years
    return params
