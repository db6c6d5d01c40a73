"""Panama: cédula de identidad personal and resident's card."""
from __future__ import annotations

import re

from cowin_kit.plugins.builtin.ids.base import MSG_EMPTY, MSG_FORMAT, SEPARATORS, RegexProvider
from cowin_kit.plugins.interfaces import N_, InvalidIdNumber

# Hyphen-like characters people paste from word processors, read as hyphens.
_DASHES = re.compile("[\u2010-\u2015\u2212\ufe63\uff0d]")
# A cédula as typed, after separators became single hyphens: the prefix (a province 1-13,
# possibly with one leading zero, possibly followed by AV or PI; or PE, E, N), the tomo
# (volume, up to 4 digits) and the asiento (entry, up to 6 digits), zero-padded or not.
_TYPED = re.compile(r"(PE|E|N|0?(?:1[0-3]?|[2-9])(?:AV|PI)?)-([0-9]{1,4})-([0-9]{1,6})")
# The canonical layout: no leading zeros, tomo and asiento at least 1.
_CEDULA = r"(?:PE|E|N|(?:1[0-3]?|[2-9])(?:AV|PI)?)-[1-9][0-9]{0,3}-[1-9][0-9]{0,5}"
_RESIDENT_CEDULA = r"E-[1-9][0-9]{0,3}-[1-9][0-9]{0,5}"


def _cedula_layout(raw: str) -> str:
    """Capitals, spaces and other separators read as one hyphen, and, when the result is a
    cédula, leading zeros dropped: '08 - 0123 - 000456' becomes '8-123-456'."""
    parts = [p for p in SEPARATORS.split(_DASHES.sub("-", raw.upper())) if p]
    if len(parts) >= 2 and parts[0].isascii() and parts[0].isdigit() and parts[1] in ("AV", "PI"):
        parts[:2] = [parts[0] + parts[1]]  # '1 AV-12-345' and '1-AV-12-345' mean 1AV-12-345
    typed = "-".join(parts)
    match = _TYPED.fullmatch(typed)
    if not match:
        return typed
    prefix, tomo, asiento = match.groups()
    if prefix[0] == "0":
        prefix = prefix[1:]
    return f"{prefix}-{int(tomo)}-{int(asiento)}"


class Cedula(RegexProvider):
    """Panama's cédula de identidad personal, issued by the Tribunal Electoral.

    Source: the Tribunal Electoral's numbering (Dirección Nacional de Cedulación), as
    printed on the card: a prefix, the tomo (volume, up to 4 digits) and the asiento
    (entry, up to 6 digits) of the civil-registry record, joined by hyphens. The prefix is
    the province or comarca of registration, 1 to 13 (13 is Panamá Oeste), followed by AV
    for Panamanians registered before the civil registry ("antes de la vigencia") or PI
    for the indigenous population (1AV, 8PI); or PE (Panamanian born abroad), E (foreign
    resident) or N (naturalised). There is no check digit, so only the format is checked.

    The hyphens are kept: without them '8-12-3456' and '8-123-456', two people, would be
    one string. Spaces or dots may stand for the hyphens, and leading zeros in padded
    forms are dropped, so '08-0123-000456' and '8 123 456' are both '8-123-456'. A number
    typed without any separator cannot be split and is refused. Volume and entry numbers
    start at 1.

    >>> c = Cedula()
    >>> c.validate("8-123-456")
    '8-123-456'
    >>> c.validate("08 - 0123 - 000456")
    '8-123-456'
    >>> c.validate("8-12-3456")
    '8-12-3456'
    >>> c.validate("pe-12-345")
    'PE-12-345'
    >>> c.validate("E-8-12345")
    'E-8-12345'
    >>> c.validate("1 AV 1234 12345")
    '1AV-1234-12345'
    >>> c.validate("14-123-456")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> c.validate("8123456")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> c.validate("8-12345-456")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> c.validate("8-0-456")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> c.mask("8-123-456")
    'XXXXXX456'
    """

    code = "pa.cedula"
    country = "PA"
    name = N_("Personal identity card (cédula)")
    hint = N_("Prefix, volume and entry joined by hyphens, as printed: 8-123-456, PE-12-345, "
              "E-8-12345 or N-19-1234.")
    example = "8-123-456"
    pattern = _CEDULA

    def normalize(self, raw: str) -> str:
        if not isinstance(raw, str):
            return ""
        return _cedula_layout(raw)


def _looks_like_e_cedula(layout: str) -> bool:
    """E, tomo and asiento: an E followed by two hyphenated parts (or more, to refuse)."""
    return layout.startswith("E-") and layout.count("-") >= 2


class ResidentCard(RegexProvider):
    """A foreign resident's card in Panama.

    Source: the Servicio Nacional de Migración (SNM) gives foreign residents a carné
    migratorio (in process, provisional or permanent); permanent residents also get from
    the Tribunal Electoral a cédula with the prefix E (E-8-12345), numbered like
    ``Cedula``. Neither publishes a check digit. SNM does not publish the layout of its
    carné number, so this is uncertain: the E cédula is checked as in ``Cedula`` and kept
    in that layout; any other number is accepted as 6 to 15 letters and digits with at
    least one digit, in capitals without separators. A Panamanian cédula with any other
    prefix (8-123-456) is refused here. "E" followed only by digits (E812345, E-1234567)
    could be an E cédula typed without its separators, which cannot be split, so it is
    refused with a format error (the hint asks for the hyphens): one card, one string.

    >>> r = ResidentCard()
    >>> r.validate("e-8-012345")
    'E-8-12345'
    >>> r.validate("e 3 1234")
    'E-3-1234'
    >>> r.validate("ab-1234567")
    'AB1234567'
    >>> r.validate("8-123-456")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> r.validate("E-8-0")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> r.validate("1234")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> r.validate("E812345")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> r.mask("E-8-12345")
    'XXXXXX345'
    """

    code = "pa.carne-residente"
    country = "PA"
    name = N_("Resident's card (carné de residente)")
    hint = N_("Your E cédula with its hyphens (E-8-12345), or the number on your Migración "
              "card, 6 to 15 letters and digits.")
    example = "E-8-12345"
    lengths = tuple(range(6, 16))
    pattern = r"[A-Z0-9]*[0-9][A-Z0-9]*"

    def normalize(self, raw: str) -> str:
        if not isinstance(raw, str):
            return ""
        layout = _cedula_layout(raw)
        if _looks_like_e_cedula(layout):
            return layout
        return SEPARATORS.sub("", _DASHES.sub("-", raw)).upper()

    def validate(self, number: str) -> str:
        if not isinstance(number, str):
            raise InvalidIdNumber("length", MSG_EMPTY)
        layout = _cedula_layout(number)
        if _looks_like_e_cedula(layout):
            if re.fullmatch(_RESIDENT_CEDULA, layout):
                return layout
            raise InvalidIdNumber("format", MSG_FORMAT)
        if layout.isascii() and re.fullmatch(_CEDULA, layout):
            raise InvalidIdNumber("format", MSG_FORMAT)  # a citizen's cédula, not a resident's
        if re.fullmatch(r"E[0-9]+", self.normalize(number)):
            raise InvalidIdNumber("format", MSG_FORMAT)  # an E cédula without its hyphens
        return super().validate(number)
