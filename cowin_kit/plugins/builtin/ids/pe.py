"""Peru: DNI, carné de extranjería, PTP/CPP."""
from __future__ import annotations

from stdnum.pe import cui

from cowin_kit.plugins.builtin.ids.base import RegexProvider, StdnumProvider
from cowin_kit.plugins.interfaces import N_


class PeruDni(StdnumProvider):
    """Peru's Documento Nacional de Identidad: 8 digits, optionally followed by the check
    character printed on the card (the CUI), which is verified when given.

    Source: RENIEC; python-stdnum's ``stdnum.pe.cui`` (check digit or letter, mod 11).
    The canonical form is the 8-digit DNI, so "10117410" and "10117410-2" are one person.

    >>> d = PeruDni()
    >>> d.validate("10117410")
    '10117410'
    >>> d.validate("10117410-2")
    '10117410'
    >>> d.validate("10117410-3")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number's check digit does not match: look for a mistyped character.
    >>> d.validate("1011741")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> d.mask("10117410")
    'XXXXXX10'
    """

    code = "pe.dni"
    country = "PE"
    name = N_("National identity document (DNI)")
    hint = N_("The 8 digits of the DNI; the check digit after the hyphen is optional.")
    example = "10117410"
    module = cui

    def canonical(self, number: str) -> str:
        return number[:8]


class PeruForeignerCard(RegexProvider):
    """Peru's carné de extranjería (foreigner's identity card), issued by MIGRACIONES.

    Source: MIGRACIONES issues 9-digit numbers on current cards; older cards and SUNAT's
    register accept up to 12 alphanumeric characters. No check digit is published, so only
    the format is checked.

    >>> c = PeruForeignerCard()
    >>> c.validate("001234567")
    '001234567'
    >>> c.validate("1234")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    """

    code = "pe.ce"
    country = "PE"
    name = N_("Foreigner's identity card (carné de extranjería)")
    hint = N_("The number on the card, 9 digits (older cards: up to 12 letters and digits).")
    example = "001234567"
    lengths = (8, 9, 10, 11, 12)
    pattern = r"[A-Z0-9]+"


class PeruTemporaryPermit(RegexProvider):
    """Peru's Permiso Temporal de Permanencia (PTP) and Carné de Permiso Temporal de
    Permanencia (CPP) for Venezuelan migrants, issued by MIGRACIONES.

    Source: MIGRACIONES resolutions on the PTP (2017) and CPP (2021). The number's layout
    is not published as a standard; 9 to 15 letters and digits are accepted and no
    checksum is checked. A ministry that knows the exact format should tighten this.

    >>> t = PeruTemporaryPermit()
    >>> t.validate("ptp-123456789")
    'PTP123456789'
    >>> t.validate("12")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    """

    code = "pe.ptp"
    country = "PE"
    name = N_("Temporary stay permit (PTP/CPP)")
    hint = N_("The permit number as printed, 9 to 15 letters and digits.")
    example = "PTP123456789"
    lengths = tuple(range(9, 16))
    pattern = r"[A-Z0-9]+"
