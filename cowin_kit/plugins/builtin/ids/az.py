"""Azerbaijan: the identity card's personal identification number (FIN)."""
from __future__ import annotations

from cowin_kit.plugins.builtin.ids.base import SEPARATORS, RegexProvider
from cowin_kit.plugins.interfaces import N_

# The FIN uses neither the letter I nor the letter O; people who type them mean 1 and 0.
# "İ" is the capital of "i" on an Azerbaijani keyboard (Python upper-cases "i" to "I").
NOT_USED = str.maketrans({"O": "0", "I": "1", "İ": "1"})


class IdCard(RegexProvider):
    """The identity card of a citizen of Azerbaijan (şəxsiyyət vəsiqəsi): its personal
    identification number, the FIN (Fərdi İdentifikasiya Nömrəsi, formerly PİN).

    Source: Cabinet of Ministers resolution No. 92 of 19 May 2005 (procedure for assigning
    the personal identification number): a lifelong code of non-repeating characters picked
    at random by the State Register of the Population, also given to resident foreigners,
    stateless persons and refugees. On the card it is 7 characters: digits and capital
    letters of the English alphabet except I and O (per the explanations published with the
    card; the resolution itself gives no alphabet). No check digit is published, so only the
    format is checked. On older cards the FIN is the first 7 of the last 8 characters of the
    MRZ's last line; the 8th is not part of it. The card's own number (series AA or AZE and
    digits) is a different number and is not accepted here.

    The letters O and I never occur, so when typed they are read as the digits 0 and 1.

    >>> f = IdCard()
    >>> f.validate("4nk7r2p")
    '4NK7R2P'
    >>> f.validate("5GXM-4DZ")
    '5GXM4DZ'
    >>> f.validate("5GXM4DO")  # the letter O is read as the digit 0
    '5GXM4D0'
    >>> f.validate("5GXM4D")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> f.validate("5GXM4D!")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> f.validate("5GXM4DƏ")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> f.mask("4NK7R2P")
    'XXXXX2P'
    """

    code = "az.id-card"
    country = "AZ"
    name = N_("Identity card (FIN code)")
    hint = N_("The 7-character FIN code on the identity card: Latin letters and digits.")
    example = "4NK7R2P"
    lengths = (7,)
    pattern = r"[0-9A-HJ-NP-Z]{7}"

    def normalize(self, raw: str) -> str:
        if not isinstance(raw, str):
            return ""
        return SEPARATORS.sub("", raw).upper().translate(NOT_USED)
