"""Uganda: the National Identification Number (NIN)."""
from __future__ import annotations

from cowin_kit.plugins.builtin.ids.base import RegexProvider
from cowin_kit.plugins.interfaces import N_


class Nin(RegexProvider):
    """Uganda's National Identification Number, issued by the National Identification and
    Registration Authority (NIRA) and printed on the national ID card (Ndaga Muntu).

    Source: Registration of Persons Act, 2015, and the Registration of Persons Regulations,
    2015 (S.I. No. 67), which establish the number but do not publish its layout. As seen
    on issued cards, a citizen's NIN has 14 letters and digits, beginning "C" and "M" or "F"
    for the holder's sex; secondary sources say the next two digits are the last two of the
    year of birth, which is not checked here. Only numbers beginning CM or CF followed by 12
    letters or digits are accepted; numbers NIRA gives to non-citizens, if they begin
    otherwise, are refused (not verified here). No check digit is published, so only the
    format is checked.

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
