"""ID documents a profile declares as data: a pattern, lengths and an optional standard check
digit, so a ministry needs no Python for a document whose rules are only its format.

In ``profile.toml``::

    [[id_documents]]
    code = "national-id"
    name = "National ID card"
    provider = "format"
    format = { pattern = "[0-9]{7,8}", lengths = [7, 8], example = "12345678" }

The check digits offered are the standard ones python-stdnum implements; a document with
another algorithm needs a plugin (docs/plugins/id-providers.md).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from stdnum import luhn, verhoeff
from stdnum.iso7064 import mod_11_2, mod_97_10

from cowin_kit.plugins.builtin.ids.base import RegexProvider

# The provider name a profile gives a document it declares by format (not an entry point).
DECLARED = "format"

CHECK_DIGITS: dict[str, Callable[[str], bool]] = {
    "luhn": luhn.is_valid,
    "verhoeff": verhoeff.is_valid,
    "iso7064-mod11-2": mod_11_2.is_valid,
    "iso7064-mod97-10": mod_97_10.is_valid,
}


def _checker(name: str) -> Callable[[str], bool]:
    check = CHECK_DIGITS[name]

    def valid(number: str) -> bool:
        try:
            return bool(check(number))
        except Exception:  # stdnum may trip on characters the algorithm does not use
            return False

    return valid


def declared_provider(code: str, spec: Mapping[str, Any], settings: Any = None) -> RegexProvider:
    """A provider for the document ``code`` from its ``format`` table in the profile.

    >>> p = declared_provider("ke.id", {"pattern": "[0-9]{7,8}", "lengths": [7, 8],
    ...                                 "example": "12345678"})
    >>> p.validate(" 1234 5678 ")
    '12345678'
    >>> p.validate("12345")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> p.validate("1234567A")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> luhn_card = declared_provider("x.card", {"pattern": "[0-9]+", "check_digit": "luhn"})
    >>> luhn_card.validate("79927398713")
    '79927398713'
    >>> luhn_card.validate("79927398710")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number's check digit does not match: look for a mistyped character.
    >>> p.mask("12345678")
    'XXXXXX78'
    """
    attrs = {
        "code": code,
        "country": "",
        "name": spec.get("name", code),
        "hint": spec.get("hint", ""),
        "example": spec.get("example", ""),
        "lengths": tuple(spec.get("lengths") or ()),
        "pattern": spec["pattern"],
        "checksum": staticmethod(_checker(spec["check_digit"])) if spec.get("check_digit")
        else None,
    }
    cls = type("DeclaredFormat", (RegexProvider,), attrs)
    return cls(settings)


def format_problems(spec: Mapping[str, Any]) -> list[str]:
    """Why a declared format is unusable (a pattern that does not compile, an example that
    the format itself refuses), for the profile's validation."""
    try:
        re.compile(spec["pattern"])
    except re.error as exc:
        return [f"pattern is not a regular expression: {exc}"]
    example = spec.get("example")
    if example:
        from cowin_kit.plugins.interfaces import InvalidIdNumber

        try:
            declared_provider("check", spec).validate(example)
        except InvalidIdNumber as exc:
            return [f"example {example!r} does not pass the declared format: {exc}"]
    return []
