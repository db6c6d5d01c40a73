"""The one reader of JSON request bodies: every API endpoint that takes a body uses it.

It refuses, with a 400 in the API's error shape, what would otherwise reach the services
and the database as an outage or a crash: JSON nested deeper than any request needs (the
standard parser recurses, and 1,000 levels in 2 kB exhausted the stack), text the databases
cannot hold or encode (a NUL, which PostgreSQL refuses; an unpaired surrogate, which no
UTF-8 encoder takes), numbers outside the range I-JSON (RFC 7493) allows, NaN and
infinities, and integers outside the range that the endpoint's documented schema declares
(an id beyond PostgreSQL's INTEGER). The body's size is bounded before it is read, by
MAX_CONTENT_LENGTH (werkzeug answers 413).
"""
from __future__ import annotations

import json
import math
import re

from flask import request
from flask_babel import lazy_gettext
from marshmallow import ValidationError, fields, validate

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
MSG_RANGE = N_("%(name)s must be a whole number from %(min)s to %(max)s.")

_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity, -Infinity


def json_body() -> dict:
    """The request's JSON object, checked as described above; ApiError (400) otherwise."""
    if not request.is_json:
        raise ApiError(MSG_SEND_JSON)
    raw = request.get_data(cache=True)  # 413 beyond MAX_CONTENT_LENGTH, before reading
    # A streamed (chunked) body stops at MAX_CONTENT_LENGTH without a word: asking for one
    # more byte answers 413 when there was more, instead of parsing a truncated body.
    request.stream.read(1)
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise ApiError(MSG_TOO_DEEP, max=MAX_DEPTH) from None
    except ValueError:  # not JSON, not UTF-8, or an integer of thousands of digits
        raise ApiError(MSG_SEND_JSON) from None
    if not isinstance(data, dict):
        raise ApiError(MSG_SEND_JSON)
    _check_values(data)
    _check_declared_integers(data)
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


def _check_declared_integers(data: dict) -> None:
    """Integers the endpoint's schema declares (cowin_kit.api.schemas, as documented in
    the OpenAPI document) must pass that field's own validators, e.g. an id's range. The
    views still check types and presence, with their own messages."""
    from cowin_kit.api.openapi import ENDPOINTS

    schema = (ENDPOINTS.get(request.endpoint) or {}).get("body")
    if schema is None:
        return
    for name, field in schema().fields.items():
        key = field.data_key or name
        value = data.get(key)
        if not isinstance(field, fields.Integer) or isinstance(value, bool) or not isinstance(
                value, int):
            continue
        try:
            field.deserialize(value)
        except ValidationError:
            low, high = integer_range(field)
            raise ApiError(MSG_RANGE, name=key, min=low, max=high) from None


def integer_range(field: fields.Integer) -> tuple:
    """The (min, max) of a field's Range validator, for messages."""
    ranges = [v for v in field.validators if isinstance(v, validate.Range)]
    return (ranges[0].min, ranges[0].max) if ranges else ("…", "…")
