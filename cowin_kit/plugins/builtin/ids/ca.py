"""Canada: the health card numbers of the 13 provinces and territories."""
from __future__ import annotations

import calendar

from stdnum import luhn
from stdnum.ca import bc_phn

from cowin_kit.plugins.builtin.ids.base import MSG_FORMAT, RegexProvider, StdnumProvider
from cowin_kit.plugins.interfaces import N_, InvalidIdNumber


def _luhn_on_health_number(number: str) -> bool:
    return luhn.is_valid(number[:10])


class OntarioHealthCard(RegexProvider):
    """Ontario's health number, on the OHIP health card issued by the Ministry of Health.

    Source: Ontario Ministry of Health (Health Card Validation specifications): a
    10-digit health number whose last digit is a Luhn (modulus 10) check digit, followed
    on photo cards by a version code of letters that changes each time a card is reissued
    (red-and-white cards have none). The version code is accepted when typed (one or two
    letters, as the ministry's fields are left-justified two-letter fields) but is not part
    of the canonical form: the 10 digits identify the person for life.

    >>> o = OntarioHealthCard()
    >>> o.validate("1234-567-897-ab")
    '1234567897'
    >>> o.validate("9876 543 217")
    '9876543217'
    >>> o.validate("1234567898")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number's check digit does not match: look for a mistyped character.
    >>> o.validate("12345678")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> o.validate("1234567897A1")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> o.mask("1234567897")
    'XXXXXXX897'
    """

    code = "ca.on-health-card"
    country = "CA"
    name = N_("Ontario health card (OHIP)")
    hint = N_("The 10-digit health number; the letters of the version code are optional.")
    example = "1234567897"
    lengths = (10, 11, 12)
    pattern = r"[0-9]{10}[A-Z]{0,2}"
    checksum = _luhn_on_health_number

    def validate(self, number: str) -> str:
        return super().validate(number)[:10]


def _ramq_birth_date_is_possible(number: str) -> bool:
    """The YYMMDD part of a RAMQ number: month 01-12 (51-62 for women), a day that exists
    in that month. The century is not in the number, so 29 February is allowed in every
    year divisible by 4 (00 may be 2000)."""
    year, month, day = int(number[4:6]), int(number[6:8]), int(number[8:10])
    if month > 50:
        month -= 50
    if not 1 <= month <= 12 or day < 1:
        return False
    return day <= calendar.monthrange(2000 + year, month)[1]


class QuebecHealthCard(RegexProvider):
    """Quebec's health insurance number (numéro d'assurance maladie), on the card issued by
    the Régie de l'assurance maladie du Québec (RAMQ).

    Source: RAMQ's description of the health insurance card: 4 letters (the first 3 of the
    surname at birth and the first of the given name) and 8 digits: the year (2 digits),
    month (plus 50 for women) and day of birth, then a 2-digit administrative code of the
    Régie. The birth date is checked for a month and day that exist; RAMQ publishes no
    check digit, so the administrative code is not checked. The canonical form is the 12
    characters in capitals, without spaces.

    >>> q = QuebecHealthCard()
    >>> q.validate("lapj 8503 1512")
    'LAPJ85031512'
    >>> q.validate("ROYM 7062 2411")
    'ROYM70622411'
    >>> q.validate("ROYM 7013 2411")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> q.validate("ROYM 7102 2911")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> q.validate("ROYM 7062 24")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> q.mask("LAPJ 8503 1512")
    'XXXXXXXX1512'
    """

    code = "ca.qc-health-card"
    country = "CA"
    name = N_("Quebec health insurance card (RAMQ)")
    hint = N_("The 4 letters and 8 digits of the health insurance number, e.g. LAPJ 8503 1512.")
    example = "LAPJ85031512"
    lengths = (12,)
    pattern = r"[A-Z]{4}[0-9]{8}"

    def validate(self, number: str) -> str:
        compact = super().validate(number)
        if not _ramq_birth_date_is_possible(compact):
            raise InvalidIdNumber("format", MSG_FORMAT)
        return compact


class BritishColumbiaPhn(StdnumProvider):
    """British Columbia's Personal Health Number (PHN), on the BC Services Card.

    Source: python-stdnum's ``stdnum.ca.bc_phn`` (after the BC Ministry of Health's client
    registry conformance standards): 10 digits, the first always 9, the last a modulus 11
    check digit over digits 2 to 9. The canonical form is the 10 digits.

    >>> b = BritishColumbiaPhn()
    >>> b.validate("9698 658 215")
    '9698658215'
    >>> b.validate("9876-543-218")
    '9876543218'
    >>> b.validate("9698648215")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number's check digit does not match: look for a mistyped character.
    >>> b.validate("5736504210")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> b.validate("969865821")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> b.mask("9698 658 215")
    'XXXXXXX215'
    """

    code = "ca.bc-phn"
    country = "CA"
    name = N_("British Columbia personal health number (PHN)")
    hint = N_("The 10 digits of the PHN on the BC Services Card, starting with 9.")
    example = "9698658215"
    module = bc_phn


class AlbertaHealthCard(RegexProvider):
    """Alberta's personal health number (PHN, also the ULI), on the Alberta Health Care
    Insurance Plan (AHCIP) personal health card.

    Source: Alberta Health, AHCIP personal health card: a 9-digit number printed as
    12345-6789. Alberta Health publishes no check-digit algorithm (third-party code claims
    a Luhn or a modulus 11 check, and they disagree), so only the format is checked. The
    canonical form is the 9 digits without the hyphen.

    >>> a = AlbertaHealthCard()
    >>> a.validate("12345-6789")
    '123456789'
    >>> a.validate("98765 4321")
    '987654321'
    >>> a.validate("12345-678")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> a.validate("12345-678O")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> a.mask("12345-6789")
    'XXXXXX789'
    """

    code = "ca.ab-health-card"
    country = "CA"
    name = N_("Alberta personal health card (AHCIP)")
    hint = N_("The 9 digits of the personal health number, printed as 12345-6789.")
    example = "123456789"
    lengths = (9,)
    pattern = r"[0-9]{9}"


# The other nine provinces and territories publish no check digit for their health numbers,
# so only the layout is checked; the ministry of each should confirm it (see the profile's
# notes, which list the rules not confirmed against the issuer's own specification).


class ManitobaHealthCard(RegexProvider):
    """Manitoba's Personal Health Identification Number (PHIN), on the Manitoba Health card.

    Source: Doctors Manitoba, "Cancellation of Manitoba health numbers": the card carries a
    6-character family registration number and the 9-digit PHIN of each person; CBC News,
    "Manitoba changing 6-digit health card numbers" (2023): from 1 March 2023 the family
    number may hold a letter, the 9-digit PHIN does not change. Only the PHIN identifies
    the person, so only it is accepted. No check digit is published.

    >>> m = ManitobaHealthCard()
    >>> m.validate("123 456 789")
    '123456789'
    >>> m.validate("A12345")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> m.validate("12345678A")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> m.mask("123456789")
    'XXXXXX789'
    """

    code = "ca.mb-health-card"
    country = "CA"
    name = N_("Manitoba health card (PHIN)")
    hint = N_("The 9-digit personal health identification number (PHIN), not the "
              "6-character family registration number.")
    example = "123456789"
    lengths = (9,)
    pattern = r"[0-9]{9}"


class SaskatchewanHealthCard(RegexProvider):
    """Saskatchewan's Health Services Number (HSN), on the health services card issued by
    eHealth Saskatchewan.

    Source: UNVERIFIED. The 9-digit layout is the one Canadian billing and data-protection
    references give (e.g. OpenText IDOL's Canadian health-number grammar); we found no
    eHealth Saskatchewan specification to confirm it. Third-party code claims a Luhn check
    digit, which eHealth Saskatchewan does not publish, so only 9 digits are required.

    >>> s = SaskatchewanHealthCard()
    >>> s.validate("987 654 321")
    '987654321'
    >>> s.validate("98765432")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> s.validate("98765432I")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    """

    code = "ca.sk-health-card"
    country = "CA"
    name = N_("Saskatchewan health services card (HSN)")
    hint = N_("The 9-digit health services number on the card.")
    example = "987654321"
    lengths = (9,)
    pattern = r"[0-9]{9}"


class NewBrunswickMedicareCard(RegexProvider):
    """New Brunswick's Medicare number, on the card of the New Brunswick Department of Health.

    Source: UNVERIFIED. Ontario billing-software guidance for reciprocal medical billing
    (MD Billing support, "How to verify and bill out of province health insurance")
    describes a New Brunswick number of 9 digits without version code; we found no
    Department of Health specification to confirm it. No check digit is published.

    >>> n = NewBrunswickMedicareCard()
    >>> n.validate("123-456-789")
    '123456789'
    >>> n.validate("1234567890")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> n.validate("12345678X")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    """

    code = "ca.nb-medicare-card"
    country = "CA"
    name = N_("New Brunswick Medicare card")
    hint = N_("The 9-digit Medicare number on the card.")
    example = "123456789"
    lengths = (9,)
    pattern = r"[0-9]{9}"


class NovaScotiaHealthCard(RegexProvider):
    """Nova Scotia's health card number (MSI), issued by Medical Services Insurance.

    Source: UNVERIFIED. The 10-digit layout is the one Canadian billing and data-protection
    references give; we found no Medical Services Insurance specification to confirm it.
    No check digit is published.

    >>> n = NovaScotiaHealthCard()
    >>> n.validate("0123 456 789")
    '0123456789'
    >>> n.validate("123456789")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> n.validate("012345678O")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    """

    code = "ca.ns-health-card"
    country = "CA"
    name = N_("Nova Scotia health card (MSI)")
    hint = N_("The 10-digit health card number.")
    example = "0123456789"
    lengths = (10,)
    pattern = r"[0-9]{10}"


class PrinceEdwardIslandHealthCard(RegexProvider):
    """Prince Edward Island's health card number, issued by Health PEI.

    Source: UNVERIFIED. The 8-digit layout is the one Canadian billing and data-protection
    references give; we found no Health PEI specification to confirm it. No check digit
    is published.

    >>> p = PrinceEdwardIslandHealthCard()
    >>> p.validate("1234 5678")
    '12345678'
    >>> p.validate("123456789")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> p.validate("1234567A")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    """

    code = "ca.pe-health-card"
    country = "CA"
    name = N_("Prince Edward Island health card")
    hint = N_("The 8-digit health number on the card.")
    example = "12345678"
    lengths = (8,)
    pattern = r"[0-9]{8}"


class NewfoundlandMcpCard(RegexProvider):
    """Newfoundland and Labrador's Medical Care Plan (MCP) number, on the MCP card.

    Source: UNVERIFIED. The 12-digit layout is the one Canadian billing and data-protection
    references give; we found no specification of the Department of Health and Community
    Services to confirm it. No check digit is published.

    >>> n = NewfoundlandMcpCard()
    >>> n.validate("123 456 789 012")
    '123456789012'
    >>> n.validate("12345678901")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> n.validate("12345678901A")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    """

    code = "ca.nl-mcp-card"
    country = "CA"
    name = N_("Newfoundland and Labrador MCP card")
    hint = N_("The 12-digit Medical Care Plan (MCP) number on the card.")
    example = "123456789012"
    lengths = (12,)
    pattern = r"[0-9]{12}"


class YukonHealthCard(RegexProvider):
    """Yukon's health care insurance plan number (YHCIP), on the Yukon health care card.

    Source: UNVERIFIED. The 9-digit layout is the one Canadian billing and data-protection
    references give; we found no Yukon Health and Social Services specification to confirm
    it. No check digit is published.

    >>> y = YukonHealthCard()
    >>> y.validate("002 345 678")
    '002345678'
    >>> y.validate("0023456789")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> y.validate("00234567B")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    """

    code = "ca.yt-health-card"
    country = "CA"
    name = N_("Yukon health care card (YHCIP)")
    hint = N_("The 9-digit health care number on the card.")
    example = "002345678"
    lengths = (9,)
    pattern = r"[0-9]{9}"


class NorthwestTerritoriesHealthCard(RegexProvider):
    """The Northwest Territories' health care number, on the NWT Health Care Card.

    Source: Ontario Ministry of Health, OHIP INFOBulletin 220902 (13 September 2022):
    "H" was added to the valid characters of the NWT health service number in the
    ministry's Province and Territory Codes, so the number holds a letter. UNVERIFIED: the
    layout of one letter followed by 7 digits is the one billing references give, and the
    ministry's table of valid letters could not be read, so any one letter is accepted. No
    check digit is published.

    >>> n = NorthwestTerritoriesHealthCard()
    >>> n.validate("n1234567")
    'N1234567'
    >>> n.validate("H 123 4567")
    'H1234567'
    >>> n.validate("12345678")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> n.validate("N123456")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    """

    code = "ca.nt-health-card"
    country = "CA"
    name = N_("Northwest Territories health care card")
    hint = N_("The health care number on the card: one letter and 7 digits, e.g. N1234567.")
    example = "N1234567"
    lengths = (8,)
    pattern = r"[A-Z][0-9]{7}"


class NunavutHealthCard(RegexProvider):
    """Nunavut's health care number, on the Nunavut Health Care Card.

    Source: Ontario Ministry of Health, OHIP bulletin 4334 (Nunavut health card, 1999):
    every Nunavut health number begins with 1; digits 2 to 7 are the holder's former NWT
    health care number and the 9th digit is a programme eligibility indicator, so the
    number has 9 digits. No check digit is published.

    >>> n = NunavutHealthCard()
    >>> n.validate("123 456 789")
    '123456789'
    >>> n.validate("223456789")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> n.validate("12345678")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    """

    code = "ca.nu-health-card"
    country = "CA"
    name = N_("Nunavut health care card")
    hint = N_("The 9-digit health care number on the card, starting with 1.")
    example = "123456789"
    lengths = (9,)
    pattern = r"1[0-9]{8}"
