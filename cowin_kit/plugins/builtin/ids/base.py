"""Building blocks for ID providers: one on python-stdnum, one on published patterns."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from types import ModuleType
from typing import ClassVar

from stdnum import exceptions as stdnum_errors

from cowin_kit.plugins.interfaces import N_, IdProvider, InvalidIdNumber

SEPARATORS = re.compile(r"[\s\-./_,:]+")


class _AsciiDigits(dict):
    """A str.translate table, filled as it is used: any script's decimal digit -> 0-9."""

    def __missing__(self, code: int) -> int:
        digit = unicodedata.decimal(chr(code), None)
        if digit is None or code < 128:
            raise LookupError(code)  # not a digit (or already ASCII): kept as it is
        self[code] = ord("0") + digit
        return self[code]


_ASCII_DIGITS = _AsciiDigits()


def ascii_digits(text: str) -> str:
    """``text`` with the digits of every script read as 0-9: Arabic-Indic (٠-٩), Eastern
    Arabic-Indic as on Persian, Urdu and Kurdish keyboards (۰-۹), Devanagari (०-९), Bengali,
    fullwidth… Everything else is left as it is, for the caller to accept or refuse.

    >>> ascii_digits("٩٨٧ ۶۵۴ ३२१")
    '987 654 321'
    >>> ascii_digits("12-ab")
    '12-ab'
    """
    return text.translate(_ASCII_DIGITS)


def whole_number(text: str) -> int | None:
    """The whole number ``text`` writes in any script's digits, else None. ``str.isdigit``
    alone is not enough before ``int``: it is true for superscripts such as "²", which
    ``int`` refuses.

    >>> whole_number(" ٤٢ "), whole_number("²"), whole_number("4a"), whole_number("")
    (42, None, None, None)
    """
    digits = ascii_digits(text.strip())
    return int(digits) if digits.isascii() and digits.isdigit() else None


MSG_EMPTY = N_("Enter the number.")
MSG_LENGTH = N_("The number has the wrong number of characters.")
MSG_FORMAT = N_("The number has characters or a layout this document does not use.")
MSG_CHECKSUM = N_("The number's check digit does not match: look for a mistyped character.")


MAX_VISIBLE = 4  # never more characters than this, however long the number


def visible_chars(length: int) -> int:
    """How many trailing characters a masked number of ``length`` may show: a third of it,
    at most 4. An 8-digit DNI shows 2 (its last 4 would leave only 10,000 numbers to try);
    a 12-digit Aadhaar shows 4, as UIDAI's own masked Aadhaar does; 1 or 2 characters, none.

    >>> [visible_chars(n) for n in (2, 3, 5, 6, 8, 9, 11, 12, 20)]
    [0, 1, 1, 2, 2, 3, 3, 4, 4]
    """
    return min(MAX_VISIBLE, max(length, 0) // 3)


def mask_tail(number: str, visible: int = MAX_VISIBLE, fill: str = "X") -> str:
    """Hide all but the last characters: at most ``visible`` of them, and at most a third.

    >>> mask_tail("234123412346")
    'XXXXXXXX2346'
    >>> mask_tail("12345678")
    'XXXXXX78'
    >>> mask_tail("AB12")
    'XXX2'
    >>> mask_tail("")
    ''
    """
    shown = min(visible, visible_chars(len(number)))
    return fill * (len(number) - shown) + (number[len(number) - shown:] if shown else "")


class _MaskMixin:
    def mask(self, number: str) -> str:
        try:
            number = self.normalize(number)
        except Exception:  # masking must never fail, whatever was stored
            number = str(number)
        return mask_tail(number)


class StdnumProvider(_MaskMixin, IdProvider):
    """A provider over a python-stdnum module (``compact`` and ``validate``).

    Subclasses set ``module`` and may override ``canonical`` to strip parts that do not
    identify the person (a check digit people may or may not type), so that one person
    always has one normalised number.
    """

    module: ClassVar[ModuleType]

    def normalize(self, raw: str) -> str:
        if not isinstance(raw, str):
            return ""
        try:
            return self.module.compact(raw).upper()
        except Exception:  # stdnum's compact is not specified for arbitrary text
            return SEPARATORS.sub("", raw).upper()

    def canonical(self, number: str) -> str:
        return number

    def validate(self, number: str) -> str:
        compact = self.normalize(number)
        if not compact:
            raise InvalidIdNumber("length", MSG_EMPTY)
        try:
            valid = self.module.validate(compact)
        except stdnum_errors.InvalidLength:
            raise InvalidIdNumber("length", MSG_LENGTH) from None
        except stdnum_errors.InvalidChecksum:
            raise InvalidIdNumber("checksum", MSG_CHECKSUM) from None
        except Exception:  # InvalidFormat, InvalidComponent, and odd text stdnum trips on
            raise InvalidIdNumber("format", MSG_FORMAT) from None
        return self.canonical(str(valid).upper())


class RegexProvider(_MaskMixin, IdProvider):
    """A provider from a published format: allowed lengths, a pattern, an optional check.

    ``lengths`` are the allowed lengths after normalising, ``pattern`` the full-match
    regular expression, ``checksum`` an optional function returning True for a valid number.
    """

    lengths: ClassVar[tuple[int, ...]] = ()
    pattern: ClassVar[str] = r"[A-Z0-9]+"
    checksum: ClassVar[Callable[[str], bool] | None] = None

    def normalize(self, raw: str) -> str:
        if not isinstance(raw, str):
            return ""
        return SEPARATORS.sub("", raw).upper()

    def validate(self, number: str) -> str:
        compact = self.normalize(number)
        if not compact:
            raise InvalidIdNumber("length", MSG_EMPTY)
        if self.lengths and len(compact) not in self.lengths:
            raise InvalidIdNumber("length", MSG_LENGTH)
        if not compact.isascii() or not re.fullmatch(self.pattern, compact):
            raise InvalidIdNumber("format", MSG_FORMAT)
        check = type(self).checksum
        if check is not None and not check(compact):
            raise InvalidIdNumber("checksum", MSG_CHECKSUM)
        return compact
