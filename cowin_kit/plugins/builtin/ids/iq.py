"""Iraq: the unified national card."""
from __future__ import annotations

from cowin_kit.plugins.builtin.ids.base import SEPARATORS, RegexProvider, ascii_digits
from cowin_kit.plugins.interfaces import N_


class NationalCard(RegexProvider):
    """Iraq's unified national card (البطاقة الوطنية الموحدة / کارتی نیشتمانی): the national
    identification number printed on its front.

    Source: the Ministry of Interior, General Directorate of Nationality, which issues the
    card from 2016 (National Card Law No. 3 of 2016), replacing the civil status identity
    card and the nationality certificate. The national identification number on the front
    has 12 digits (the MRZ's document-number field also has 12). The card also shows a
    9-character access number for its chip (two letters and seven digits), which is not
    accepted here. No check digit of the 12-digit number is published, and the meaning of
    its digits is not documented in a source verified here, so only the format is checked.
    Arabic-Indic digits are read as 0-9, so a number typed on an Arabic keyboard has the same
    canonical form.

    >>> c = NationalCard()
    >>> c.validate("1990 1234 5678")
    '199012345678'
    >>> c.validate("١٩٩٠١٢٣٤٥٦٧٨")  # Arabic-Indic digits
    '199012345678'
    >>> c.validate("12345")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> c.validate("AB1234567")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> c.validate("19901234567A")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> c.mask("199012345678")
    'XXXXXXXX5678'
    """

    code = "iq.national-card"
    country = "IQ"
    name = N_("Unified national card")
    hint = N_("The 12-digit national identification number on the front of the card.")
    example = "199012345678"
    lengths = (12,)
    pattern = r"[0-9]{12}"

    def normalize(self, raw: str) -> str:
        if not isinstance(raw, str):
            return ""
        return SEPARATORS.sub("", ascii_digits(raw)).upper()
