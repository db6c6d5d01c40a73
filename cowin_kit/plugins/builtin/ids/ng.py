"""Nigeria: National Identification Number (NIN)."""
from __future__ import annotations

from cowin_kit.plugins.builtin.ids.base import RegexProvider
from cowin_kit.plugins.interfaces import N_


class Nin(RegexProvider):
    """Nigeria's National Identification Number, issued by the National Identity
    Management Commission (NIMC) and shown on the NIN slip and the national e-ID card.

    Source: NIMC (National Identity Management Commission Act 2007; the NIN slip and
    e-ID card): 11 digits, randomly assigned. NIMC publishes no checksum, so only the
    length and the digits are checked; a mistyped digit is caught only by online
    verification against NIMC's register. The canonical form is the 11 digits.

    >>> n = Nin()
    >>> n.validate("12345678901")
    '12345678901'
    >>> n.validate("7012 345 6789")
    '70123456789'
    >>> n.validate("1234567890")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> n.validate("1234567890A")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> n.validate("١٢٣٤٥٦٧٨٩٠١")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> n.mask("12345678901")
    'XXXXXXXX901'
    """

    code = "ng.nin"
    country = "NG"
    name = N_("National Identification Number (NIN)")
    hint = N_("The 11 digits of the NIN, as on the NIN slip or the national ID card.")
    example = "12345678901"
    lengths = (11,)
    pattern = r"[0-9]{11}"
