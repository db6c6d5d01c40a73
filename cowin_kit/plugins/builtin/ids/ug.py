"""Uganda: the National Identification Number (NIN) of citizens and the Alien
Identification Number (AIN) of resident non-citizens."""
from __future__ import annotations

import re

from cowin_kit.plugins.builtin.ids.base import RegexProvider
from cowin_kit.plugins.interfaces import N_, InvalidIdNumber

MSG_CITIZEN_NIN = N_("This is a citizen's NIN: choose the National Identification Number "
                     "(NIN) as the document.")


class Nin(RegexProvider):
    """Uganda's National Identification Number, issued by the National Identification and
    Registration Authority (NIRA) and printed on the national ID card (Ndaga Muntu).

    Source: Registration of Persons Act, 2015, and the Registration of Persons Regulations,
    2015 (S.I. No. 67), which establish the number but do not publish its layout. As seen
    on issued cards, a citizen's NIN has 14 letters and digits, beginning "C" and "M" or "F"
    for the holder's sex; secondary sources say the next two digits are the last two of the
    year of birth, which is not checked here. Only numbers beginning CM or CF followed by 12
    letters or digits are accepted. Non-citizens are registered with the Alien
    Identification Number NIRA gives them (``ug.ain``), a separate document. No check
    digit is published, so only the format is checked.

    >>> n = Nin()
    >>> n.validate("CM9001234567AB")
    'CM9001234567AB'
    >>> n.validate("cf 8501 2345 6789")
    'CF850123456789'
    >>> n.validate("AM9001234567AB")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> n.validate("CX9001234567AB")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> n.validate("CM900123")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> n.mask("CM9001234567AB")
    'XXXXXXXXXX67AB'
    """

    code = "ug.nin"
    country = "UG"
    name = N_("National Identification Number (NIN)")
    hint = N_("The 14 letters and digits of the NIN on the national ID card, e.g. "
              "CM9001234567AB.")
    example = "CM9001234567AB"
    lengths = (14,)
    pattern = r"C[MF][A-Z0-9]{12}"


class AlienIdNumber(RegexProvider):
    """Uganda's Alien Identification Number (AIN), which NIRA assigns to legally resident
    non-citizens and prints on the alien identity card.

    Source: Registration of Persons Act, 2015, which makes NIRA register citizens and
    legally resident aliens; the Ugandan Embassy in Abu Dhabi (abudhabi.mofa.go.ug,
    "National ID"): NIRA assigns "National Identification / Alien Identification Numbers
    (NINs/AINs)"; NIRA registers aliens aged 18 and over who hold a work or residence
    permit (wikiprocedure, "National Identification Number Registration of Alien
    Persons"). NIRA publishes no layout of the AIN. UNVERIFIED: it is read like the NIN
    printed on the same register's cards, 14 letters and digits with at least one digit;
    a citizen's NIN (beginning CM or CF) is refused here so that it is registered as a NIN.

    >>> a = AlienIdNumber()
    >>> a.validate("AM 9001 2345 67AB")
    'AM9001234567AB'
    >>> a.validate("CM9001234567AB")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: This is a citizen's NIN: choose the National Identification Number (NIN) as the document.
    >>> a.validate("AM90012345")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> a.validate("ABCDEFGHIJKLMN")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> a.mask("AM9001234567AB")
    'XXXXXXXXXX67AB'
    """

    code = "ug.ain"
    country = "UG"
    name = N_("Alien Identification Number (AIN)")
    hint = N_("The 14 letters and digits of the identification number on the alien "
              "identity card NIRA issues to residents who are not citizens.")
    example = "AM9001234567AB"
    lengths = (14,)
    pattern = r"[A-Z0-9]*[0-9][A-Z0-9]*"

    def validate(self, number: str) -> str:
        compact = super().validate(number)
        if re.fullmatch(Nin.pattern, compact):
            raise InvalidIdNumber("format", MSG_CITIZEN_NIN)
        return compact
