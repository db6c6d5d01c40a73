"""ICAO 9303 transliteration of names for the EU DCC's ``fnt`` (cowin_kit.certificates.names):
names as people of the shipped profiles' languages write them."""
import re

import pytest
from hypothesis import given, settings, strategies as st

from cowin_kit.certificates.names import MAX_LENGTH, icao

PATTERN = re.compile(r"^[A-Z<]*$")  # the EU DCC schema's, for fnt and gnt


@pytest.mark.parametrize(("language", "name", "expected"), [
    # Spanish (PE, MX, DO, PA): accents dropped, Ñ → N, hyphens and spaces → <.
    ("es", "María José Quispe-Ñahui", "MARIA<JOSE<QUISPE<NAHUI"),
    ("es", "Úrsula Güemes de la Peña", "URSULA<GUEEMES<DE<LA<PENA"),
    # Ukrainian (UA): the Ukrainian variant of ICAO's Cyrillic table.
    ("uk", "Олександр Шевченко", "OLEKSANDR<SHEVCHENKO"),
    ("uk", "Юлія Гнатюк", "YULIIA<HNATIUK"),
    ("uk", "Євген Ковальчук-Щербина", "YEVHEN<KOVALCHUK<SHCHERBYNA"),
    ("uk", "Марʼяна Їжак", "MARIANA<YIZHAK"),
    ("uk", "Ґалаґан Зграя", "GALAGAN<ZGHRAIA"),
    # Russian names in a deployment whose language is not Cyrillic: the base table.
    ("es", "Юлия Щеглова", "IULIIA<SHCHEGLOVA"),
    ("es", "Хабиб Цой Жуков", "KHABIB<TSOI<ZHUKOV"),
    # Arabic (AE, IQ): ICAO's Arabic table.
    ("ar", "محمد بن راشد", "MXHMD<BN<RAXSHD"),
    ("ar", "عائشة", "EAXIXSHXAH"),
    # Hindi (IN): Devanagari with its inherent vowel.
    ("hi", "रमेश कुमार", "RAMESH<KUMAR"),
    ("hi", "सीता देवी", "SITA<DEVI"),
    ("hi", "प्रकाश सिंह", "PRAKASH<SINGH"),
    # Vietnamese (VN): the Latin script with its marks dropped; Đ → D.
    ("vi", "Nguyễn Thị Hương", "NGUYEN<THI<HUONG"),
    ("vi", "Trần Văn Đức", "TRAN<VAN<DUC"),
    # Azerbaijani (AZ): Ə → A as Azerbaijan's passports write it, Ü/Ö as ICAO's table.
    ("az", "Əliyev İlham Heydər oğlu", "ALIYEV<ILHAM<HEYDAR<OGLU"),
    ("az", "Gülnarə Məmmədova", "GUELNARA<MAMMADOVA"),
])
def test_names_of_the_shipped_languages(language, name, expected):
    assert icao(name, language) == expected


def test_arabic_shadda_and_teh_marbuta():
    # Shadda doubles the letter it sits on; teh marbuta is XAH at the end of a name only.
    assert icao("محمّد") == "MXHMMD"
    assert icao("فاطمة") == "FAXTTMXAH" and icao("ةب") == "XTAB"


def test_the_other_indian_scripts():
    assert icao("রবীন্দ্রনাথ ঠাকুর") == "RABINDRANATH<THAKUR"  # Bengali
    assert icao("మహేష్ బాబు") == "MAHESH<BABU"  # Telugu
    assert icao("ಕನ್ನಡ") == "KANNADA"  # Kannada keeps the final vowel
    assert icao("முத்து") == "MUTHTHU"  # Tamil ta → TH
    assert icao("ਸਿੱਧੂ") == "SIDDHU"  # Gurmukhi addak doubles


def test_apostrophes_are_dropped_and_other_marks_separate():
    assert icao("D'Angelo  O’Neil,  Jr.") == "DANGELO<ONEIL<JR"
    assert icao("--Ana--") == "ANA"
    assert icao("") == "" and icao("🙂 123") == ""


def test_long_names_are_cut_to_the_schema_limit_without_a_trailing_filler():
    result = icao("Ana " + "B" * 75 + " Carla")
    assert len(result) <= MAX_LENGTH and not result.endswith("<")
    assert icao("Ω" * 200) == "O" * MAX_LENGTH


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_any_text_gives_a_valid_fnt(name):
    result = icao(name)
    assert PATTERN.match(result) and len(result) <= MAX_LENGTH
    assert not result.startswith("<") and not result.endswith("<") and "<<" not in result
