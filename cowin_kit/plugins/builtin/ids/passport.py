"""Passports of any country (ICAO Doc 9303)."""
from __future__ import annotations

from cowin_kit.plugins.builtin.ids.base import RegexProvider
from cowin_kit.plugins.interfaces import N_


class Passport(RegexProvider):
    """A passport number as printed on the data page.

    Source: ICAO Doc 9303, Part 4 (machine-readable passports): the document number field
    is 9 characters of A–Z and 0–9 (shorter numbers are padded with '<' in the MRZ, which
    people do not type). Issuing states use 6 to 9 characters; the MRZ check digit is not
    part of the printed number, so no checksum can be verified offline.

    >>> p = Passport()
    >>> p.validate("k 1234567")
    'K1234567'
    >>> p.validate("C03005988")
    'C03005988'
    >>> p.validate("12345")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> p.validate("K12345Ä7")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> p.mask("K1234567")
    'XXXXXX67'
    """

    code = "passport"
    country = ""
    name = N_("Passport")
    hint = N_("The passport number on the photo page, 6 to 9 letters and digits.")
    example = "K1234567"
    lengths = (6, 7, 8, 9)
    pattern = r"[A-Z0-9]*[0-9][A-Z0-9]*"
