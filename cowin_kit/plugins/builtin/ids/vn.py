"""Viet Nam: the citizen identity card (CCCD / thẻ căn cước) and the older CMND."""
from __future__ import annotations

from datetime import date

from cowin_kit.plugins.builtin.ids.base import MSG_FORMAT, RegexProvider
from cowin_kit.plugins.interfaces import N_, InvalidIdNumber

# Codes of the 63 provinces and centrally-run cities (place of birth registration), from the
# appendix of Circular 07/2016/TT-BCA; they are the administrative codes of Decision
# 124/2004/QĐ-TTg, which leaves gaps (003, 005, 007, ... are not used).
PROVINCE_CODES = frozenset("""
    001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033
    034 035 036 037 038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066
    067 068 070 072 074 075 077 079 080 082 083 084 086 087 089 091 092 093 094 095 096
""".split())


class CitizenId(RegexProvider):
    """Viet Nam's 12-digit personal identification number (số định danh cá nhân), printed on
    the citizen identity card (căn cước công dân, CCCD; "thẻ căn cước" from 1 July 2024) and
    given to children without a card.

    Source: Decree 137/2015/NĐ-CP and Circular 07/2016/TT-BCA, article 7 and appendix
    (replaced by Circular 59/2021/TT-BCA, article 4, with the same codes): 3 digits for the
    province or city where the birth was registered, 1 digit for century and gender (0/1:
    20th century male/female, 2/3: 21st, 4/5: 22nd, 6/7: 23rd, 8/9: 24th), the last 2 digits
    of the year of birth, and 6 random digits. The province code must be one of the 63 codes
    of the official list, and the year of birth that the century digit and year give must
    not be in the future (so 4 to 9 are refused today). There is no check digit.

    Uncertain: the decree also provides a code of the country where a birth was registered
    abroad, but no list of such codes is known here, so such numbers are refused; and the
    2025 merger of provinces may bring new codes. A deployment that meets either should
    extend ``PROVINCE_CODES``.

    >>> c = CitizenId()
    >>> c.validate("001099012345")
    '001099012345'
    >>> c.validate("079 203 000 123")
    '079203000123'
    >>> c.validate("003099012345")  # 003 is not a province code
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> c.validate("001499012345")  # born in 2199
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> c.validate("00109901234")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> c.mask("001099012345")
    'XXXXXXXX2345'
    """

    code = "vn.cccd"
    country = "VN"
    name = N_("Citizen identity card (CCCD) / personal identification number")
    hint = N_("The 12 digits of the personal identification number on the card.")
    example = "001099012345"
    lengths = (12,)
    pattern = r"[0-9]{12}"

    def validate(self, number: str) -> str:
        compact = super().validate(number)
        century = 1900 + 100 * (int(compact[3]) // 2)
        if compact[:3] not in PROVINCE_CODES or century + int(compact[4:6]) > date.today().year:
            raise InvalidIdNumber("format", MSG_FORMAT)
        return compact


class OldIdCard(RegexProvider):
    """Viet Nam's people's identity card (chứng minh nhân dân, CMND), replaced by the CCCD
    and no longer valid after 31 December 2024, but widely used in 2021-2022.

    Source: Decree 05/1999/NĐ-CP (9-digit number), amended by Decree 106/2013/NĐ-CP; a
    12-digit CMND (Circular 27/2012/TT-BCA) was issued in some provinces from 2012 until the
    CCCD replaced it in 2016. Both lengths are accepted. No check digit exists and the
    digits' meaning is not checked: the first digits of a 9-digit number are an old code of
    the issuing province; a 12-digit CMND follows the CCCD layout and, as far as known here,
    its number is kept on its holder's CCCD.

    >>> c = OldIdCard()
    >>> c.validate("012345678")
    '012345678'
    >>> c.validate("001 099 012 345")
    '001099012345'
    >>> c.validate("12345678")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> c.validate("01234567A")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> c.mask("012345678")
    'XXXXXX678'
    """

    code = "vn.cmnd"
    country = "VN"
    name = N_("People's identity card (CMND)")
    hint = N_("The 9 digits of the CMND (12 digits on cards issued from 2012).")
    example = "012345678"
    lengths = (9, 12)
    pattern = r"[0-9]{9}|[0-9]{12}"
