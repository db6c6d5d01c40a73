"""Which Noto font covers which script, found once per process.

The Noto families come from PyPI's ``fontpkg-noto-sans*`` packages, so a PDF needs no system
fonts; scripts PyPI packages no font for are looked up where Linux distributions put Noto
(Debian's ``fonts-noto-core``). A language maps to a script (CLDR's likely script; only the
non-Latin ones are listed), a script to a family:

>>> font_for("hi").family
'Noto Sans Devanagari'
>>> font_for("ar").family, font_for("ar").right_to_left
('Noto Sans Arabic', True)
>>> script_of("pt_BR"), script_of("uk")
('Latn', 'Cyrl')
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from babel import Locale, UnknownLocaleError

# Script → Noto family. Latin, Greek, Cyrillic (and Vietnamese) share Noto Sans.
FAMILIES = {
    "Latn": "Noto Sans", "Cyrl": "Noto Sans", "Grek": "Noto Sans",
    "Arab": "Noto Sans Arabic",
    "Deva": "Noto Sans Devanagari",
    "Taml": "Noto Sans Tamil",
    "Telu": "Noto Sans Telugu",
    "Beng": "Noto Sans Bengali", "Gujr": "Noto Sans Gujarati", "Guru": "Noto Sans Gurmukhi",
    "Knda": "Noto Sans Kannada", "Mlym": "Noto Sans Malayalam", "Orya": "Noto Sans Oriya",
    "Thai": "Noto Sans Thai", "Khmr": "Noto Sans Khmer",
}
# The script of languages CLDR's likely-subtags would give; only the non-Latin ones matter.
SCRIPTS = {
    "ar": "Arab", "ckb": "Arab", "fa": "Arab", "ur": "Arab", "ps": "Arab", "sd": "Arab",
    "hi": "Deva", "mr": "Deva", "ne": "Deva", "sa": "Deva", "mai": "Deva", "kok": "Deva",
    "bn": "Beng", "as": "Beng", "gu": "Gujr", "pa": "Guru", "ta": "Taml", "te": "Telu",
    "kn": "Knda", "ml": "Mlym", "or": "Orya", "th": "Thai", "km": "Khmr",
    "ru": "Cyrl", "uk": "Cyrl", "bg": "Cyrl", "sr": "Cyrl", "kk": "Cyrl", "el": "Grek",
}
RTL_SCRIPTS = {"Arab", "Hebr"}
# The Unicode blocks of the scripts above that Noto Sans does not cover, to find the fonts
# text in another script than the document's needs (an Arabic name on an English page).
BLOCKS = (
    (0x0600, 0x06FF, "Arab"), (0x0750, 0x077F, "Arab"), (0x08A0, 0x08FF, "Arab"),
    (0xFB50, 0xFDFF, "Arab"), (0xFE70, 0xFEFF, "Arab"),
    (0x0900, 0x097F, "Deva"), (0xA8E0, 0xA8FF, "Deva"), (0x0980, 0x09FF, "Beng"),
    (0x0A00, 0x0A7F, "Guru"), (0x0A80, 0x0AFF, "Gujr"), (0x0B00, 0x0B7F, "Orya"),
    (0x0B80, 0x0BFF, "Taml"), (0x0C00, 0x0C7F, "Telu"), (0x0C80, 0x0CFF, "Knda"),
    (0x0D00, 0x0D7F, "Mlym"), (0x0E00, 0x0E7F, "Thai"), (0x1780, 0x17FF, "Khmr"),
)
# Names, numbers and Latin text in any document: always embedded beside the language's font.
DEFAULT_FAMILY = "Noto Sans"
# Where distributions install Noto (fonts-noto-core and the like).
SYSTEM_FOLDERS = ("/usr/share/fonts/truetype/noto", "/usr/share/fonts/noto",
                  "/usr/local/share/fonts")


class Font(NamedTuple):
    """The font text in a language is set in."""
    family: str
    path: str
    right_to_left: bool


def script_of(lang: str) -> str:
    """The ISO 15924 script ``lang`` (``"hi"``, ``"pt_BR"``, ``"pt-BR"``) is written in."""
    base = lang.replace("-", "_").split("_")[0].lower()
    return SCRIPTS.get(base, "Latn")


@lru_cache(maxsize=64)
def font_path(family: str) -> str | None:
    """The regular font file of ``family`` from its fontpkg package, else from the system's
    Noto folders, else None (resolved once per process)."""
    try:
        import fontpkg
        return str(fontpkg.path(family, 400, nearest=True))
    except Exception:  # noqa: BLE001, S110 - not packaged: look on the system, then give up
        pass
    # PyPI packages no Noto font for Bengali, Gujarati, Gurmukhi, Kannada, Malayalam or
    # Oriya; Debian's fonts-noto-core (and most Linux distributions) have them.
    name = family.replace(" ", "") + "-Regular.ttf"
    for folder in SYSTEM_FOLDERS:
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    return None


@lru_cache(maxsize=64)
def font_for(lang: str) -> Font:
    """The font for text in ``lang``: its script's family if installed, else Noto Sans."""
    script = script_of(lang)
    family = FAMILIES.get(script, DEFAULT_FAMILY)
    path = font_path(family)
    if path is None:
        family, path = DEFAULT_FAMILY, font_path(DEFAULT_FAMILY)
    if path is None:
        raise RuntimeError("No Noto font installed: pip install fontpkg-noto-sans")
    return Font(family, path, script in RTL_SCRIPTS)


def is_rtl(lang: str) -> bool:
    """Whether ``lang`` is written right to left (CLDR's answer, else its script's).

    >>> is_rtl("ar"), is_rtl("ckb"), is_rtl("hi")
    (True, True, False)
    """
    try:
        return Locale.parse(lang.replace("-", "_")).text_direction == "rtl"
    except (UnknownLocaleError, ValueError):
        return script_of(lang) in RTL_SCRIPTS


def has_rtl_letters(text: str) -> bool:
    """Whether ``text`` holds Hebrew, Arabic, Syriac, Thaana or N'Ko letters (or their
    presentation forms).

    >>> has_rtl_letters("09:00–11:00"), has_rtl_letters("الاسم")
    (False, True)
    """
    return any("\u0590" <= ch <= "\u08ff" or "\ufb1d" <= ch <= "\ufeff" for ch in text)


def families_for(*texts: str) -> list[str]:
    """The Noto families that ``texts`` need beyond Noto Sans, in order of appearance, for a
    document's ``fallback_families``.

    >>> families_for("Ana Quispe", "अनीता", "محمد علي")
    ['Noto Sans Devanagari', 'Noto Sans Arabic']
    """
    found: list[str] = []
    for text in texts:
        for ch in text:
            point = ord(ch)
            if point < 0x0600:
                continue
            for first, last, script in BLOCKS:
                if first <= point <= last:
                    family = FAMILIES[script]
                    if family not in found:
                        found.append(family)
                    break
    return found
