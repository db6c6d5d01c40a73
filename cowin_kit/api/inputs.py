"""The field types of the API's input (query strings and JSON bodies) and the messages they
refuse with, for the request schemas of cowin_kit.api.schemas.

A request field's error messages are message ids (``N_``) with ``%(name)s`` for the field's
name (and ``%(min)s``/``%(max)s``/``%(choices)s`` from its validators), translated when the
refusal is answered (cowin_kit.api.body.refusal); a field whose value a domain checks again
keeps the domain's words. Loading is as lenient as the views were before the schemas checked:
Co-WIN clients that worked keep working.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import uuid

from marshmallow import EXCLUDE, Schema, fields, validate

from cowin_kit.api.errors import MESSAGES
from cowin_kit.db import MAX_INT
from cowin_kit.plugins.interfaces import N_

DATE = {"description": "A date written DD-MM-YYYY.", "example": "21-05-2021",
        "pattern": r"^\d{2}-\d{2}-\d{4}$"}
# A date the API is sent: Co-WIN took a two-digit year too (05-12-26 is 5 December 2026).
INPUT_DATE = {**DATE, "description": "A date written DD-MM-YYYY; DD-MM-YY is accepted too "
                                     "(a year 20YY).",
              "pattern": r"^\d{2}-\d{2}-(\d{2}){1,2}$"}
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
MSG_DATE_YEARS = N_("%(name)s must be a date in the years %(first)s to %(last)s.")
MSG_NOT_VALID = MESSAGES[400]  # "The request is not valid."
MSG_DEGREES = N_("lat and long must be decimal degrees, e.g. -12.05 and -77.04.")
MSG_WITHIN = N_("lat must be within ±90 and long within ±180.")
MSG_YEAR = N_("%(name)s must be a year of birth written with 4 digits, e.g. 1980.")
# Years a searched date may be in (also keeps date arithmetic far from its limits).
FIRST_YEAR, LAST_YEAR = 2000, 2100


def refusals(invalid: str, missing: str = MSG_REQUIRED, **more) -> dict:
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
    messages = refusals(error, error) if error else refusals(MSG_TEXT)
    if strip:  # blank is missing
        kw.setdefault("validate", validate.Length(min=1, error=error or MSG_REQUIRED))
    return Text(strip=strip, error_messages=messages, **kw)


class Whole(fields.Integer):
    """A whole number in a JSON body, in any form Co-WIN clients send one: a JSON integer
    (1), an integral JSON number (1.0: the spec types these fields ``number``, so a client
    generated from it sends floats), or text holding one (" 1 ", "1", "1.0": clients that
    send every value as text). Refused: fractions (1.5, "1.5"), other text ("1e0", "abc",
    ""), booleans (True is an int to Python, not a number to a client), lists and objects;
    the range is the validators' (so a huge value is told the range)."""

    # Text: a sign, at most 30 digits (int() of thousands of digits is slow), any ".000".
    _TEXT = re.compile(r"\s*([+-]?[0-9]{1,30})(?:\.0*)?\s*")

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return int(value)
        if isinstance(value, str) and (match := self._TEXT.fullmatch(value)):
            return int(match.group(1))
        raise self.make_error("invalid")


# How the OpenAPI document says it: the type is the one to send, the rest is tolerated.
WHOLE_TOO = "Also accepted as an integral number (1.0) or as text (\"1\")."


def _tolerant(metadata: dict | None) -> dict:
    metadata = dict(metadata or {})
    metadata["description"] = " ".join(filter(None, [metadata.get("description"),
                                                     WHOLE_TOO]))
    return metadata


def whole(minimum: int = 1, *, below: str | None = None, metadata: dict | None = None,
          **kw) -> Whole:
    """A whole number that may reach the database (an id, a dose), in a JSON body (Whole),
    from ``minimum`` to the largest integer every database holds. ``below``: the message
    for a number under ``minimum``, when it is not the range's."""
    return Whole(validate=_range(minimum, below), error_messages=refusals(MSG_WHOLE),
                 metadata=_tolerant(metadata), **kw)


def _range(minimum: int, below: str | None) -> list:
    if below:
        return [validate.Range(min=minimum, error=below),
                validate.Range(max=MAX_INT, error=MSG_RANGE)]
    return [validate.Range(min=minimum, max=MAX_INT, error=MSG_RANGE)]


def one_of_numbers(choices, error: str, **kw) -> Whole:
    """One of a few whole numbers (a gender's id), in any form Whole reads. A value that is
    not a whole number is told so, naming the field; a whole number not in ``choices``, or
    none, gets ``error`` (the domain's words)."""
    return Whole(validate=validate.OneOf(choices, error=error),
                 error_messages=refusals(MSG_WHOLE, error),
                 metadata=_tolerant(kw.pop("metadata", None)), **kw)


class Digits(fields.Integer):
    """A whole number in a query string: its decimal digits, nothing else (no sign, no
    spaces), at most 10 of them."""

    def _validated(self, value):
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]{1,10}", value):
            raise self.make_error("invalid")
        return int(value)


def query_whole(minimum: int = 1, *, below: str | None = None, **kw) -> Digits:
    """A whole number in a query string: decimal digits only (Digits)."""
    return Digits(validate=_range(minimum, below), error_messages=refusals(MSG_WHOLE), **kw)


class Choice(fields.String):
    """One of a few words, in any case and with spaces around; answered in its own case."""

    def __init__(self, choices, **kw):
        self.choices = tuple(choices)
        super().__init__(validate=validate.OneOf(self.choices, error=MSG_ONE_OF), **kw)

    def _deserialize(self, value, attr, data, **kwargs):
        word = super()._deserialize(value, attr, data, **kwargs).strip().casefold()
        return next((c for c in self.choices if c.casefold() == word), word)


def choice(choices, **kw) -> Choice:
    return Choice(choices, error_messages=refusals(MSG_ONE_OF), **kw)


class Day(fields.String):
    """A date written DD-MM-YYYY (as Python's %d-%m-%Y reads it: "1-5-2021" too) or, as
    Co-WIN took it, DD-MM-YY; loaded as a datetime.date, from FIRST_YEAR to LAST_YEAR
    unless ``any_year``.

    The century of a two-digit year: a day the API is asked about (a search, an event's
    onset) is in 20YY, the only century FIRST_YEAR to LAST_YEAR allow. A date of birth
    (``any_year``) is in the century of the body's birth_year when that ends in the same
    two digits (the person said so), else in the latest year ending in them that is not
    after this one: in 2026, 05-12-26 is born 2026 and 05-12-27 is born 1927.
    """

    params = {"first": FIRST_YEAR, "last": LAST_YEAR}  # for MSG_DATE_YEARS (body.refusal)

    def __init__(self, *, any_year: bool = False, **kw):
        self.any_year = any_year
        super().__init__(**kw)

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs)
        # "DD-MM-" as strptime reads it, then exactly two digits: a two-digit year.
        short = re.fullmatch(r"(.{3,5}-)([0-9]{2})", raw)
        if short:
            raw = f"{short.group(1)}{self._century(int(short.group(2)), data):04d}"
        try:
            day = dt.datetime.strptime(raw, "%d-%m-%Y").date()
        except ValueError:
            raise self.make_error("invalid") from None
        if not self.any_year and not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise self.make_error("range")
        return day

    def _century(self, yy: int, data) -> int:
        if not self.any_year:
            return 2000 + yy
        said = data.get("birth_year") if isinstance(data, dict) else None
        try:
            said = int(str(said).strip())
        except ValueError:
            said = None
        if said is not None and 0 < said < 10000 and said % 100 == yy:
            return said
        this_year = dt.datetime.now(dt.UTC).year
        return this_year - (this_year - yy) % 100


def day(**kw) -> Day:
    """A date the API is sent (DD-MM-YYYY or DD-MM-YY, see Day); a year outside
    FIRST_YEAR to LAST_YEAR is refused naming the field and the years."""
    return Day(metadata=INPUT_DATE, error_messages=refusals(MSG_DATE, range=MSG_DATE_YEARS),
               **kw)


def birth_day(**kw) -> Day:
    """A date of birth: any year (whether it fits the year of birth, and is not in the
    future, is the registration's rule); a two-digit year as Day says."""
    return Day(any_year=True, error_messages=refusals(MSG_DATE), metadata={
        **INPUT_DATE, "description": "The date of birth, written DD-MM-YYYY (or DD-MM-YY: "
                                     "the century of birth_year, else the latest year not "
                                     "after this one); in the year of birth. Optional: "
                                     "asked for by programmes that count age from it (a "
                                     "child's routine vaccines).",
        "example": "15-06-2020"}, **kw)


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
                        error_messages=refusals(MSG_DEGREES, MSG_DEGREES, special=MSG_WITHIN),
                        **kw)


class BirthYear(fields.String):
    """A year of birth, as Co-WIN clients send it: text of up to 4 characters ("1980"), or
    a JSON number that is a whole one (1980, 1980.0); loaded as an int (whether it is a
    plausible year is the registration's rule)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return int(value)  # a client that sends every number as a double: 1980.0
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
    return fields.List(fields.String(error_messages=refusals(error, error), metadata=item or {}),
                       error_messages=refusals(error, error), **kw)


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
