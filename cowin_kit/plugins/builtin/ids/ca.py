"""Canada: provincial health card numbers (Ontario, Quebec, British Columbia, Alberta)."""
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
