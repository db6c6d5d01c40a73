"""India: Aadhaar, PAN, voter ID (EPIC), driving licence, pension passbook (PPO), NPR
smart card, UDID card, ration card — the photo IDs Co-WIN accepted at registration."""
from __future__ import annotations

from datetime import date

from stdnum.in_ import aadhaar, epic, pan

from cowin_kit.plugins.builtin.ids.base import (
    MSG_FORMAT,
    RegexProvider,
    StdnumProvider,
    whole_number,
)
from cowin_kit.plugins.interfaces import N_, InvalidIdNumber

# The two-letter state and union-territory codes the Regional Transport Offices use: the
# state codes of the registration marks MoRTH notifies under the Motor Vehicles Act, 1988,
# which Sarathi also puts at the head of licence numbers. Current and former codes are
# both listed: CG Chhattisgarh and CH Chandigarh; DD Daman and Diu (since 2020 the merged
# UT of Dadra and Nagar Haveli and Daman and Diu) and DN Dadra and Nagar Haveli; OD and
# formerly OR Odisha; TS and, since March 2024, TG Telangana; UK and formerly UA
# Uttarakhand; LA Ladakh since 2019.
RTO_STATE_CODES = frozenset((
    "AN", "AP", "AR", "AS", "BR", "CG", "CH", "DD", "DL", "DN", "GA", "GJ", "HP", "HR",
    "JH", "JK", "KA", "KL", "LA", "LD", "MH", "ML", "MN", "MP", "MZ", "NL", "OD", "OR",
    "PB", "PY", "RJ", "SK", "TG", "TN", "TR", "TS", "UA", "UK", "UP", "WB",
))


MSG_PAN_NOT_A_PERSON = N_("This PAN is not a person's: the fourth character of an "
                          "individual's PAN is P.")


def _plausible_year(text: str) -> bool:
    """True when ``text`` is a year from 1900 to the current year."""
    year = whole_number(text)
    return year is not None and 1900 <= year <= date.today().year


class Aadhaar(StdnumProvider):
    """Aadhaar, the 12-digit number UIDAI issues to residents of India.

    Source: UIDAI, "A UID Numbering Scheme" (2010): 11 random digits that never start with
    0 or 1, and a Verhoeff check digit; python-stdnum's ``stdnum.in_.aadhaar``, which also
    rejects palindromes. The 16-digit Virtual ID (VID) is a different number and is not
    accepted here. The canonical form is the 12 digits without spaces.

    >>> a = Aadhaar()
    >>> a.validate("2341 2341 2346")
    '234123412346'
    >>> a.validate("4991-1234-5677")
    '499112345677'
    >>> a.validate("234123412347")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number's check digit does not match: look for a mistyped character.
    >>> a.validate("123412341234")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> a.validate("2341 2341 234")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> a.mask("2341 2341 2346")
    'XXXXXXXX2346'
    """

    code = "in.aadhaar"
    country = "IN"
    name = N_("Aadhaar number")
    hint = N_("The 12 digits on the Aadhaar card or letter (not the 16-digit Virtual ID).")
    example = "234123412346"
    module = aadhaar


class Pan(StdnumProvider):
    """The Permanent Account Number the Income Tax Department issues.

    Source: Income Tax Department (CBDT), PAN tutorial; python-stdnum's ``stdnum.in_.pan``:
    five letters, four digits (0001–9999) and a letter, the fourth letter giving the
    holder type (P for an individual; A, B, C, F, G, H, J, K, L, T for others). Only an
    individual's PAN identifies a person, so any other holder type (a company's, a trust's,
    a firm's…) is refused with its own message, as Co-WIN accepted PAN only as a person's
    photo ID. The last letter is a check character whose algorithm is not published, so it
    is not verified.

    >>> p = Pan()
    >>> p.validate("acupa 7085 r")
    'ACUPA7085R'
    >>> p.validate("AAPPV8261K")
    'AAPPV8261K'
    >>> p.validate("ABMXA3211G")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> p.validate("AAACA1234B")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: This PAN is not a person's: the fourth character of an individual's PAN is P.
    >>> p.validate("ACUPA0000R")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> p.validate("ACUPA7085RR")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> p.mask("ACUPA7085R")
    'XXXXXXX85R'
    """

    code = "in.pan"
    country = "IN"
    name = N_("Permanent Account Number (PAN)")
    hint = N_("The 10 characters on the PAN card: five letters, four digits, one letter.")
    example = "ACUPA7085R"
    module = pan

    def validate(self, number: str) -> str:
        compact = super().validate(number)
        if compact[3] != "P":
            raise InvalidIdNumber("format", MSG_PAN_NOT_A_PERSON)
        return compact


class Epic(StdnumProvider):
    """The Electors Photo Identity Card (voter ID) number the Election Commission issues.

    Source: python-stdnum's ``stdnum.in_.epic``: three letters (the Functional Unique
    Serial Number of the assembly constituency), six digits and a Luhn check digit over
    the seven digits. The Election Commission does not publish the check itself; the rule
    is python-stdnum's. Older cards numbered in a state's own format before the uniform
    3+7 series (for example with slashes) do not pass and must be re-issued or replaced by
    another document.

    >>> e = Epic()
    >>> e.validate("wkh 1186253")
    'WKH1186253'
    >>> e.validate("ABC1234566")
    'ABC1234566'
    >>> e.validate("WKH1186263")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number's check digit does not match: look for a mistyped character.
    >>> e.validate("1231186253")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> e.validate("WKH118625")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> e.mask("WKH1186253")
    'XXXXXXX253'
    """

    code = "in.epic"
    country = "IN"
    name = N_("Voter ID (EPIC)")
    hint = N_("The 10 characters on the voter ID card: three letters and seven digits.")
    example = "WKH1186253"
    module = epic


class DrivingLicence(RegexProvider):
    """A driving licence in the uniform national format of Sarathi, the licence register.

    Source: Ministry of Road Transport and Highways, the Sarathi/NIC uniform DL number
    printed as SS-RRYYYYNNNNNNN: the state or UT code, the RTO code, the year of issue and
    a 7-digit serial — 15 characters without the hyphen. 16 characters are also accepted,
    read as a 3-digit RTO code; we could not confirm which RTOs print one. The state code
    must be one of the RTO codes (``RTO_STATE_CODES``) and the year must be 1900 to this
    year. No check digit exists. Licences in a state's own older format that were never
    migrated to Sarathi do not pass.

    >>> d = DrivingLicence()
    >>> d.validate("MH-14 2011 0062821")
    'MH1420110062821'
    >>> d.validate("dl0419980000123")
    'DL0419980000123'
    >>> d.validate("XX1420110062821")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> d.validate("MH1418990062821")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> d.validate("MH14201100628")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> d.mask("MH-14 2011 0062821")
    'XXXXXXXXXXX2821'
    """

    code = "in.driving-licence"
    country = "IN"
    name = N_("Driving licence")
    hint = N_("The licence number, e.g. MH-14 2011 0062821: state, RTO, year of issue, "
              "serial.")
    example = "MH1420110062821"
    lengths = (15, 16)
    pattern = r"[A-Z]{2}[0-9]{13,14}"

    def validate(self, number: str) -> str:
        compact = super().validate(number)
        year = compact[-11:-7]
        if compact[:2] not in RTO_STATE_CODES or not _plausible_year(year):
            raise InvalidIdNumber("format", MSG_FORMAT)
        return compact


class PensionPassbook(RegexProvider):
    """The Pension Payment Order (PPO) number printed in a pension passbook.

    Source: the Central Pension Accounting Office and EPFO pensioners' portal describe a
    12-digit PPO number: 5 digits for the issuing authority, 2 for the year of issue, 4
    for the serial and a computer check digit (e.g. 709650601302). The check digit's
    algorithm is not published, so it is not verified. Defence, railway and many state
    treasury pensions number their PPOs differently (letters, slashes, other lengths), and
    the passbook was accepted for all pensioners, so only 6 to 20 letters and digits with
    at least one digit are required. A deployment that serves one scheme should tighten it.

    >>> p = PensionPassbook()
    >>> p.validate("70965 06 0130 2")
    '709650601302'
    >>> p.validate("S/012345/2005")
    'S0123452005'
    >>> p.validate("PPO")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> p.validate("PENSIONER")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> p.mask("709650601302")
    'XXXXXXXX1302'
    """

    code = "in.pension-passbook"
    country = "IN"
    name = N_("Pension passbook (PPO number)")
    hint = N_("The Pension Payment Order (PPO) number in the passbook, usually 12 digits.")
    example = "709650601302"
    lengths = tuple(range(6, 21))
    pattern = r"[A-Z0-9]*[0-9][A-Z0-9]*"


class NprSmartCard(RegexProvider):
    """The Resident Identity Card (NPR smart card) of the National Population Register.

    Source: the Office of the Registrar General and Census Commissioner issued these cards
    from 2011 under the Citizenship (Registration of Citizens and Issue of National
    Identity Cards) Rules, 2003, first in coastal villages. No layout of the card number
    has been published; press reports of the roll-out describe a 27-digit TIN built from
    the state, district, sub-district, village and household codes, but this could not be
    confirmed, so only 8 to 30 letters and digits with at least one digit are required and
    nothing is checked beyond that.

    >>> n = NprSmartCard()
    >>> n.validate("2701 0001 0000 1000 0100 0100 001")
    '270100010000100001000100001'
    >>> n.validate("1234-5678-9012-3456")
    '1234567890123456'
    >>> n.validate("1234")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> n.validate("१२३४५६७८९०")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    """

    code = "in.npr-smart-card"
    country = "IN"
    name = N_("NPR smart card")
    hint = N_("The number printed on the National Population Register smart card.")
    example = "270100010000100001000100001"
    lengths = tuple(range(8, 31))
    pattern = r"[A-Z0-9]*[0-9][A-Z0-9]*"


class Udid(RegexProvider):
    """The Unique Disability ID card of the Department of Empowerment of Persons with
    Disabilities (Swavlamban card).

    Source: DEPwD's UDID project description (swavlambancard.gov.in): 18 characters — a
    2-letter state code, 2 digits for the district, 1 for the chief medical officer, 2 for
    the disability type, 4 for the year of birth, a 6-digit running number and a check
    digit. The check digit's algorithm is not published, so it is not verified; the year
    of birth must be 1900 to this year. UDID's state codes are not published as a list
    (Odisha is OD), so any two letters are accepted.

    >>> u = Udid()
    >>> u.validate("OD 26 1 16 2009 001234 5")
    'OD2611620090012345'
    >>> u.validate("mh0120119850123456")
    'MH0120119850123456'
    >>> u.validate("OD2611618990012345")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> u.validate("262611620090012345")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> u.validate("OD261162009001234")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> u.mask("OD2611620090012345")
    'XXXXXXXXXXXXXX2345'
    """

    code = "in.udid"
    country = "IN"
    name = N_("Unique Disability ID (UDID)")
    hint = N_("The 18 characters on the UDID card: two letters, then 16 digits.")
    example = "OD2611620090012345"
    lengths = (18,)
    pattern = r"[A-Z]{2}[0-9]{16}"

    def validate(self, number: str) -> str:
        compact = super().validate(number)
        if not _plausible_year(compact[7:11]):
            raise InvalidIdNumber("format", MSG_FORMAT)
        return compact


class RationCard(RegexProvider):
    """A ration card under the National Food Security Act, issued by a state or UT.

    Source: none national — each state's food and civil supplies department numbers its
    cards in its own format (digits, letters, slashes), and One Nation One Ration Card
    only links the existing state numbers. So 4 to 20 letters and digits are accepted
    after removing separators, and nothing else is checked.

    >>> r = RationCard()
    >>> r.validate("2017 0123 4567")
    '201701234567'
    >>> r.validate("wap/123/456789")
    'WAP123456789'
    >>> r.validate("123")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> r.validate("RC#12345")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    """

    code = "in.ration-card"
    country = "IN"
    name = N_("Ration card")
    hint = N_("The ration card number as printed, 4 to 20 letters and digits.")
    example = "201701234567"
    lengths = tuple(range(4, 21))
    pattern = r"[A-Z0-9]+"
