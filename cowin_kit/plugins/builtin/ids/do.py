"""Dominican Republic: the cédula de identidad y electoral, and the birth certificate
(acta de nacimiento) of minors, who have no cédula."""
from __future__ import annotations

import re
from datetime import date

from stdnum.do import cedula

from cowin_kit.plugins.builtin.ids.base import (
    MSG_EMPTY,
    MSG_FORMAT,
    SEPARATORS,
    StdnumProvider,
    _MaskMixin,
    ascii_digits,
)
from cowin_kit.plugins.interfaces import N_, IdProvider, InvalidIdNumber

MSG_ACTA_PARTS = N_("Write the five numbers that locate the birth certificate: civil registry "
                    "office, book, folio, certificate and year, e.g. 1-123-45-678-2008.")


class Cedula(StdnumProvider):
    """The Dominican Republic's cédula de identidad y electoral, issued by the Junta
    Central Electoral (JCE).

    Source: python-stdnum's ``stdnum.do.cedula``: 11 digits (printed 001-1391820-5), the
    last a Luhn check digit. Some cédulas issued before the check digit was enforced do not
    pass it; stdnum keeps a whitelist of those (a few have 10 digits) and they are accepted
    as they are. The canonical form is the digits without hyphens.

    >>> c = Cedula()
    >>> c.validate("001-1391820-5")
    '00113918205'
    >>> c.validate("22400022111")
    '22400022111'
    >>> c.validate("00000021249")
    '00000021249'
    >>> c.validate("00113918204")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number's check digit does not match: look for a mistyped character.
    >>> c.validate("0011391820A")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> c.validate("001-139182")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> c.mask("001-1391820-5")
    'XXXXXXXX205'
    """

    code = "do.cedula"
    country = "DO"
    name = N_("Identity and electoral card (cédula)")
    hint = N_("The 11 digits of the cédula, e.g. 001-1391820-5; the hyphens are optional.")
    example = "00113918205"
    module = cedula


# Most digits each part of an acta's registry reference may have: oficialía, libro, folio,
# acta; the year has four.
_ACTA_WIDTHS = (4, 5, 4, 6)


class BirthCertificate(_MaskMixin, IdProvider):
    """The registry reference of a Dominican birth certificate (acta de nacimiento), for
    minors, who get a cédula only at 18.

    Source: the Junta Central Electoral (JCE) keeps the civil registry: a birth is recorded
    by an Oficialía del Estado Civil in a book (libro), on a folio, as a numbered
    certificate (acta) of a year, and certified copies cite these five numbers (as Latin
    American civil registries do; no JCE page describing the numbering was found, so this
    reference is UNVERIFIED). Minors were vaccinated
    from 12 years from 12 June 2021, accompanied by a parent or guardian who signed the
    informed consent (PAI / Vacúnate RD, El Día, 11 June 2021); the PAI did not publish
    which document a minor had to show (Despierta el Sur, June 2021), so the birth
    certificate every minor has is listed besides the passport. UNVERIFIED: the number of
    digits of each part is not published; up to 4 (oficialía), 5 (libro), 4 (folio) and 6
    (acta) are accepted, and a year from 1900 to this year. The canonical form is the five
    numbers without leading zeros, joined by hyphens.

    >>> b = BirthCertificate()
    >>> b.validate("0001 / 00123 / 0045 / 000678 / 2008")
    '1-123-45-678-2008'
    >>> b.validate("1-123-45-678-2008")
    '1-123-45-678-2008'
    >>> b.validate("123-45-678-2008")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: Write the five numbers that locate the birth certificate: civil registry office, book, folio, certificate and year, e.g. 1-123-45-678-2008.
    >>> b.validate("1-123-45-678-1850")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> b.validate("1-123-A5-678-2008")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> b.mask("1-123-45-678-2008")
    'XXXXXXXXXXXXX2008'
    """

    code = "do.birth-certificate"
    country = "DO"
    name = N_("Birth certificate (acta de nacimiento)")
    hint = N_("For minors: the civil registry office, book, folio, certificate number and "
              "year printed on the birth certificate, e.g. 1-123-45-678-2008.")
    example = "1-123-45-678-2008"

    def normalize(self, raw: str) -> str:
        if not isinstance(raw, str):
            return ""
        parts = [p for p in SEPARATORS.split(ascii_digits(raw).upper()) if p]
        return "-".join(parts)

    def validate(self, number: str) -> str:
        parts = self.normalize(number).split("-") if isinstance(number, str) else []
        parts = [p for p in parts if p]
        if not parts:
            raise InvalidIdNumber("length", MSG_EMPTY)
        if not all(p.isascii() and p.isdigit() for p in parts):
            raise InvalidIdNumber("format", MSG_FORMAT)
        if len(parts) != 5:
            raise InvalidIdNumber("length", MSG_ACTA_PARTS)
        *refs, year = parts
        if (any(len(p) > width or int(p) == 0 for p, width in zip(refs, _ACTA_WIDTHS,
                                                                    strict=True))
                or not re.fullmatch(r"[0-9]{4}", year)
                or not 1900 <= int(year) <= date.today().year):
            raise InvalidIdNumber("format", MSG_FORMAT)
        return "-".join([*(str(int(p)) for p in refs), year])
