"""United Arab Emirates: the Emirates ID."""
from __future__ import annotations

from datetime import date

from stdnum import luhn

from cowin_kit.plugins.builtin.ids.base import (
    MSG_CHECKSUM,
    MSG_FORMAT,
    SEPARATORS,
    RegexProvider,
    ascii_digits,
)
from cowin_kit.plugins.interfaces import N_, InvalidIdNumber

FIRST_YEAR = 1900  # no holder alive was born earlier


class EmiratesId(RegexProvider):
    """The Emirates ID card number (رقم الهوية), held by UAE citizens and residents,
    children included.

    Source: the Federal Authority for Identity, Citizenship, Customs and Port Security (ICP,
    formerly the Emirates Identity Authority). The number has 15 digits, printed
    784-YYYY-NNNNNNN-C: 784 is the UAE's ISO 3166-1 numeric code, YYYY usually the holder's
    year of birth, NNNNNNN a serial number and C a Luhn check digit over the other 14
    (python-stdnum's ``stdnum.luhn``). The prefix must be 784, YYYY a year from 1900 to this
    year, and the Luhn digit must match.

    Uncertain: YYYY is not always the year of birth (the ICP does not document when it is
    not); only a year outside 1900 to this year is refused.

    Arabic-Indic digits are read as 0-9; the canonical form has no hyphens.

    >>> e = EmiratesId()
    >>> e.validate("784-1990-1234567-6")
    '784199012345676'
    >>> e.validate("784 1985 1234567 3")
    '784198512345673'
    >>> e.validate("٧٨٤-١٩٩٠-١٢٣٤٥٦٧-٦")  # Arabic-Indic digits
    '784199012345676'
    >>> e.validate("784-1990-1234567-5")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number's check digit does not match: look for a mistyped character.
    >>> e.validate("785-1990-1234567-6")  # not the UAE's code
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> e.validate("784-2990-1234567-8")  # a year in the future
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> e.validate("784-1990-123456-6")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> e.mask("784-1990-1234567-6")
    'XXXXXXXXXXX5676'
    """

    code = "ae.emirates-id"
    country = "AE"
    name = N_("Emirates ID")
    hint = N_("The 15 digits of the Emirates ID, written 784-YYYY-NNNNNNN-C.")
    example = "784199012345676"
    lengths = (15,)
    pattern = r"784[0-9]{12}"

    def normalize(self, raw: str) -> str:
        if not isinstance(raw, str):
            return ""
        return SEPARATORS.sub("", ascii_digits(raw)).upper()

    def validate(self, number: str) -> str:
        compact = super().validate(number)  # length, digits and the 784 prefix
        if not FIRST_YEAR <= int(compact[3:7]) <= date.today().year:
            raise InvalidIdNumber("format", MSG_FORMAT)
        if not luhn.is_valid(compact):
            raise InvalidIdNumber("checksum", MSG_CHECKSUM)
        return compact
