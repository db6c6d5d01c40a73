"""Ukraine: ID card, booklet passport, RNOKPP, birth certificate, residence permit, refugee
certificate."""
from __future__ import annotations

import re

from stdnum.ua import rntrc

from cowin_kit.plugins.builtin.ids.base import (
    MSG_EMPTY,
    MSG_FORMAT,
    MSG_LENGTH,
    SEPARATORS,
    RegexProvider,
    StdnumProvider,
)
from cowin_kit.plugins.interfaces import N_, InvalidIdNumber

# The 33 capital letters of the Ukrainian alphabet, used in the series of booklet documents.
UA_LETTERS = "АБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЬЮЯ"

# Latin capitals that look like Ukrainian ones: people type them on a Latin keyboard, or a
# Russian one (which has no І). Mapped to Cyrillic, so one series has one spelling.
LATIN_TO_CYRILLIC = str.maketrans("ABCEHIKMOPTXY", "АВСЕНІКМОРТХУ")

# Roman numerals in a birth certificate's series are stored with the Latin letters I, V, X;
# the Cyrillic look-alikes І and Х that people type for them are mapped back.
ROMAN_TO_LATIN = str.maketrans("ІХ", "IX")
ROMAN_NUMERAL = r"X{0,3}(?:IX|IV|V?I{0,3})"  # 1 to 39; emptiness is checked separately


class _CyrillicSeriesProvider(RegexProvider):
    """A format check for documents whose series is Cyrillic: the letters are compared in
    Cyrillic (Latin look-alikes mapped), and only the ASCII digits 0-9 count as digits."""

    def normalize(self, raw: str) -> str:
        if not isinstance(raw, str):
            return ""
        return SEPARATORS.sub("", raw).upper().translate(LATIN_TO_CYRILLIC)

    def validate(self, number: str) -> str:
        compact = self.normalize(number)
        if not compact:
            raise InvalidIdNumber("length", MSG_EMPTY)
        if self.lengths and len(compact) not in self.lengths:
            raise InvalidIdNumber("length", MSG_LENGTH)
        if not re.fullmatch(self.pattern, compact):  # the pattern spells out its characters
            raise InvalidIdNumber("format", MSG_FORMAT)
        return compact


class IdCard(RegexProvider):
    """The passport of a citizen of Ukraine in ID-card form, issued from 2016: its document
    number.

    Source: Cabinet of Ministers resolution No. 302 of 25 March 2015 (sample and procedure of
    the ID-card passport) under the Law "On the Unified State Demographic Register" (No.
    5492-VI of 20 November 2012). The document number has 9 digits. The card also carries
    the 13-character record number (УНЗР, YYYYMMDD-NNNNN), which is not accepted here. No
    check digit of the printed document number is published (the MRZ check digit is not
    part of it), so only the format is checked.

    >>> c = IdCard()
    >>> c.validate("000123456")
    '000123456'
    >>> c.validate("004 567 890")
    '004567890'
    >>> c.validate("19900101-01234")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> c.validate("00012345А")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> c.mask("000123456")
    'XXXXXX456'
    """

    code = "ua.id-card"
    country = "UA"
    name = N_("Passport of a citizen of Ukraine, ID-card form")
    hint = N_("The 9-digit document number on the card, not the record number (UNZR).")
    example = "000123456"
    lengths = (9,)
    pattern = r"[0-9]{9}"


class PassportBook(_CyrillicSeriesProvider):
    """The older passport of a citizen of Ukraine in booklet form, still valid.

    Source: Regulation on the passport of a citizen of Ukraine, approved by resolution of the
    Verkhovna Rada No. 2503-XII of 26 June 1992: a series of two Cyrillic capital letters and
    a 6-digit number (e.g. МК 123456). Booklets were issued until the ID card replaced them in
    2016. No check digit exists, so only the format is checked; any two letters of the
    Ukrainian alphabet are accepted, because the list of series in use is not published.

    The canonical form is in Cyrillic without a space: Latin look-alike letters typed for the
    series (A B C E H I K M O P T X Y) are mapped to their Cyrillic twins, so "MK123456" typed
    on a Latin keyboard and "МК 123456" are one person.

    >>> p = PassportBook()
    >>> p.validate("МК 123456")
    'МК123456'
    >>> p.validate("mk123456")  # Latin letters
    'МК123456'
    >>> p.validate("сн-000001")
    'СН000001'
    >>> p.validate("МК12345")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> p.validate("12МК3456")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> p.validate("ЫЭ123456")  # Russian letters, not Ukrainian
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> p.mask("МК123456")
    'XXXXXX56'
    """

    code = "ua.passport-book"
    country = "UA"
    name = N_("Passport of a citizen of Ukraine, booklet form")
    hint = N_("The series of two Cyrillic letters and the 6-digit number, e.g. МК 123456.")
    example = "МК123456"
    lengths = (8,)
    pattern = f"[{UA_LETTERS}]{{2}}[0-9]{{6}}"


class Rnokpp(StdnumProvider):
    """The registration number of the taxpayer's record card (РНОКПП, RNOKPP), formerly the
    "identification code": 10 digits, the last a check digit.

    Source: Tax Code of Ukraine, article 70 (State Tax Service register of individuals);
    python-stdnum's ``stdnum.ua.rntrc`` (weights -1, 5, 7, 9, 4, 6, 10, 5, 7; sum mod 11
    mod 10). The first five digits count the days from 31.12.1899 to the date of birth; this
    is not checked. People who refused a number on religious grounds have no RNOKPP (their
    passport carries a mark instead), so it should not be the only document a deployment
    accepts.

    >>> r = Rnokpp()
    >>> r.validate("1759013776")
    '1759013776'
    >>> r.validate("25 30 41-40 71")
    '2530414071'
    >>> r.validate("1759013770")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number's check digit does not match: look for a mistyped character.
    >>> r.validate("12345")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> r.validate("17590137A6")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> r.mask("1759013776")
    'XXXXXXX776'
    """

    code = "ua.rnokpp"
    country = "UA"
    name = N_("Taxpayer registration number (RNOKPP)")
    hint = N_("The 10 digits of the taxpayer registration number (the former identification "
              "code).")
    example = "1759013776"
    module = rntrc

    def normalize(self, raw: str) -> str:
        # stdnum's compact only removes spaces; people also type hyphens and dots.
        return SEPARATORS.sub("", super().normalize(raw))


class BirthCertificate(_CyrillicSeriesProvider):
    """A Ukrainian birth certificate (свідоцтво про народження), for children and adolescents
    who have no ID card yet: its series and number.

    Source: Cabinet of Ministers resolution No. 1025 of 10 November 2010 (samples of the
    certificates of civil-status registration). The series is a Roman numeral and two
    Cyrillic letters, the number 6 digits (e.g. І-БК 123456). No check digit exists, so only
    the format is checked. Roman numerals I to XXXIX are accepted; the exact set of numerals
    and letter pairs in use is not published (Soviet-era certificates used the same layout).

    The canonical form is the Roman numeral in Latin letters (Cyrillic І and Х typed for it
    are mapped to I and X), a hyphen, the letters in Cyrillic (Latin look-alikes mapped) and
    the number without a space. The parts are read from the right (6 digits, 2 letters, the
    numeral), so the hyphen may be left out.

    >>> b = BirthCertificate()
    >>> b.validate("І-БК 123456")  # Cyrillic І
    'I-БК123456'
    >>> b.validate("I-БK 123456")  # Latin I and K
    'I-БК123456'
    >>> b.validate("ii ік 000123")
    'II-ІК000123'
    >>> b.validate("БК 123456")  # no Roman numeral
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> b.validate("IIII-БК 123456")  # not a Roman numeral
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> b.validate("I-БК 1234")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> b.mask("І-БК 123456")
    'XXXXXXX456'
    """

    code = "ua.birth-certificate"
    country = "UA"
    name = N_("Birth certificate")
    hint = N_("The series (a Roman numeral and two Cyrillic letters) and the 6-digit number, "
              "e.g. І-БК 123456.")
    example = "I-БК123456"
    lengths = tuple(range(10, 17))  # a numeral of 1 to 7 characters, "-", 2 letters, 6 digits
    pattern = f"(?!-){ROMAN_NUMERAL}-[{UA_LETTERS}]{{2}}[0-9]{{6}}"

    def normalize(self, raw: str) -> str:
        if not isinstance(raw, str):
            return ""
        compact = SEPARATORS.sub("", raw).upper()
        if len(compact) <= 8:
            return compact.translate(LATIN_TO_CYRILLIC)
        numeral, letters, digits = compact[:-8], compact[-8:-6], compact[-6:]
        return (numeral.translate(ROMAN_TO_LATIN) + "-"
                + letters.translate(LATIN_TO_CYRILLIC) + digits)


class ResidencePermit(RegexProvider):
    """A Ukrainian permanent or temporary residence permit (посвідка на постійне / тимчасове
    проживання) of a foreigner or stateless person, in card form: its document number.

    Source: Cabinet of Ministers resolutions No. 321 (permanent) and No. 322 (temporary) of
    25 April 2018; the cards are issued through the Unified State Demographic Register from
    1 June 2018 and carry a 9-digit document number, like the ID-card passport. No check
    digit is published, so only the format is checked. Older booklet permits (resolution
    No. 251 of 28 March 2012) are not accepted: their layout is not verified here; their
    holders can register with their passport.

    >>> r = ResidencePermit()
    >>> r.validate("000123456")
    '000123456'
    >>> r.validate("001-234-567")
    '001234567'
    >>> r.validate("12345678")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> r.validate("ІН123456А")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    """

    code = "ua.residence-permit"
    country = "UA"
    name = N_("Permanent or temporary residence permit")
    hint = N_("The 9-digit document number on the residence permit card.")
    example = "000123456"
    lengths = (9,)
    pattern = r"[0-9]{9}"


class RefugeeCertificate(_CyrillicSeriesProvider):
    """A Ukrainian refugee certificate or certificate of a person in need of complementary
    protection (посвідчення біженця / особи, яка потребує додаткового захисту).

    Source: Law of Ukraine "On refugees and persons in need of complementary or temporary
    protection" (No. 3671-VI of 8 July 2011), article 26; Cabinet of Ministers resolution
    No. 202 of 14 March 2012 (regulation on the refugee certificate), issued by the State
    Migration Service. The number's layout is not published in a form verified here. Two
    layouts are accepted, by analogy with the other Ukrainian documents: a booklet series of
    two Cyrillic letters and a 6-digit number, or a 9-digit document number as on cards
    issued through the Unified State Demographic Register. No checksum is checked. A
    ministry that knows the exact format should tighten this.

    >>> c = RefugeeCertificate()
    >>> c.validate("ББ 012345")
    'ББ012345'
    >>> c.validate("000123456")
    '000123456'
    >>> c.validate("ББ 0123")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> c.validate("Б1012345")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    """

    code = "ua.refugee-certificate"
    country = "UA"
    name = N_("Refugee or complementary-protection certificate")
    hint = N_("The number as printed: two Cyrillic letters and 6 digits, or 9 digits.")
    example = "ББ012345"
    lengths = (8, 9)
    pattern = f"[{UA_LETTERS}]{{2}}[0-9]{{6}}|[0-9]{{9}}"
