"""Names as machine-readable travel documents write them (ICAO Doc 9303, part 3, section 6:
"Transliterations recommended for use by States"): upper-case A–Z, ``<`` between the parts,
as the EU DCC's ``fnt`` and ``gnt`` want them (``^[A-Z<]*$``, at most 80 characters).

Latin letters with diacritics follow ICAO's table of multinational Latin characters (the
first of its choices where it offers two: Ä → AE, Ñ → N, Ü → UE):

>>> icao("María José Quispe-Mamani")
'MARIA<JOSE<QUISPE<MAMANI'
>>> icao("Jürgen Bjørn Åström-Þórsson"), icao("Straße"), icao("O'Brien")
('JUERGEN<BJOERN<AASTROEM<THORSSON', 'STRASSE', 'OBRIEN')
>>> icao("Nguyễn Thị Hương"), icao("Əliyev Məmməd Şükür oğlu")
('NGUYEN<THI<HUONG', 'ALIYEV<MAMMAD<SUEKUER<OGLU')

Cyrillic follows ICAO's Cyrillic table, with its national variants: Ukrainian (Г → H,
И → Y, and at the start of a word Є Ї Й Ю Я → YE YI Y YU YA, as Ukraine's passports write
them), Belarusian (Г → H, Ё → IO) and Bulgarian (Щ → SHT). The variant is the one of
``language`` when given, else guessed from the letters only one alphabet has (Є Ї Ґ І:
Ukrainian; Ў: Belarusian), else the Russian table:

>>> icao("Юлия Щеглова"), icao("Жанна Хохлова-Цой")
('IULIIA<SHCHEGLOVA', 'ZHANNA<KHOKHLOVA<TSOI')
>>> icao("Олександр Григорович Шевченко", "uk"), icao("Євгенія Їжакевич")
('OLEKSANDR<HRYHOROVYCH<SHEVCHENKO', 'YEVHENIIA<YIZHAKEVYCH')

Arabic follows ICAO's reversible Arabic table (X marks letters Latin has no single letter
for; teh marbuta at the end of a name is XAH; vowel marks are not written):

>>> icao("محمد عبد الله"), icao("فاطمة الزهراء")
('MXHMD<EBD<ALLH', 'FAXTTMXAH<ALZHRAXE')

ICAO has no table for Greek: Greece's passports use ELOT 743, which this follows (ΟΥ → OU,
ΑΥ/ΕΥ → AV/EV or AF/EF, ΓΓ → NG, initial ΜΠ/ΝΤ → B/D):

>>> icao("Ευάγγελος Παπαδόπουλος")
'EVANGELOS<PAPADOPOULOS'

Nor for the Brahmic scripts of India (Devanagari, Bengali, Gurmukhi, Gujarati, Oriya,
Tamil, Telugu, Kannada, Malayalam): their letters sit at the same places in each Unicode
block (the ISCII layout), so one table serves them all, adding the inherent vowel a
consonant carries (dropped at the end of a word in the north Indian languages, as Indian
passports write RAM, not RAMA):

>>> icao("रमेश कुमार"), icao("রবীন্দ্রনাথ ঠাকুর"), icao("ಕನ್ನಡ"), icao("முருகன்")
('RAMESH<KUMAR', 'RABINDRANATH<THAKUR', 'KANNADA', 'MURUKAN')

Any other script (Chinese, Japanese, Thai, Amharic, Hebrew…) goes through anyascii, which
romanises every Unicode character; ICAO leaves those to each State.

>>> icao("王秀英"), icao("ሰላም")
('WANGXIUYING', 'SELAM')
"""
from __future__ import annotations

import unicodedata

from anyascii import anyascii

MAX_LENGTH = 80  # the EU DCC schema's limit for fnt/gnt
FILLER = "<"
# Deleted inside a word, not a separator (O'Brien → OBRIEN); ZWJ/ZWNJ shape Indic text.
_DELETED = frozenset("'’ʼʻ`´\u200c\u200d\u00ad")

# --- Latin: ICAO Doc 9303 part 3, "Transliteration of multinational Latin-based characters"
# (upper case; the input is upper-cased first). Letters with no entry lose their marks.
LATIN = {
    "Ä": "AE", "Å": "AA", "Æ": "AE", "Ö": "OE", "Ø": "OE", "Œ": "OE", "Ü": "UE", "Ĳ": "IJ",
    "Þ": "TH", "Ð": "D", "Đ": "D", "Ħ": "H", "Ł": "L", "Ŀ": "L", "Ŋ": "N", "Ŧ": "T",
    "ẞ": "SS", "ß": "SS", "ı": "I",
    # Not in ICAO's table: Azerbaijani schwa, written A in Azerbaijan's passports
    # (Əliyev → ALIYEV).
    "Ə": "A",
}

# --- Cyrillic: ICAO Doc 9303 part 3, "Transliteration of Cyrillic characters".
CYRILLIC = {
    "А": "A", "Б": "B", "В": "V", "Г": "G", "Ґ": "G", "Д": "D", "Ђ": "D", "Ѓ": "G", "Е": "E",
    "Ё": "E", "Є": "IE", "Ж": "ZH", "З": "Z", "Ѕ": "DZ", "И": "I", "І": "I", "Ї": "I",
    "Й": "I", "Ј": "J", "К": "K", "Ќ": "K", "Л": "L", "Љ": "LJ", "М": "M", "Н": "N",
    "Њ": "NJ", "О": "O", "П": "P", "Р": "R", "С": "S", "Т": "T", "Ћ": "C", "У": "U",
    "Ў": "U", "Ф": "F", "Х": "KH", "Ц": "TS", "Ч": "CH", "Џ": "DZ", "Ш": "SH", "Щ": "SHCH",
    "Ъ": "IE", "Ы": "Y", "Ь": "", "Э": "E", "Ю": "IU", "Я": "IA", "Ѫ": "U", "Ѣ": "IE",
    "Ѳ": "F", "Ѵ": "Y",
}
CYRILLIC_VARIANTS = {
    "uk": {"Г": "H", "И": "Y"},
    "be": {"Г": "H", "Ё": "IO"},
    "bg": {"Щ": "SHT"},
    "ru": {},
}
# Ukrainian, at the beginning of a word.
UKRAINIAN_INITIAL = {"Є": "YE", "Ї": "YI", "Й": "Y", "Ю": "YU", "Я": "YA"}

# --- Arabic: ICAO Doc 9303 part 3, "Transliteration of Arabic characters".
ARABIC = {
    "ء": "XE", "آ": "XAA", "أ": "XAE", "ؤ": "U", "إ": "I", "ئ": "XI", "ا": "A", "ب": "B",
    "ت": "T", "ث": "XTH", "ج": "J", "ح": "XH", "خ": "XKH", "د": "D", "ذ": "XDH", "ر": "R",
    "ز": "Z", "س": "S", "ش": "XSH", "ص": "XSS", "ض": "XDZ", "ط": "XTT", "ظ": "XZZ",
    "ع": "E", "غ": "G", "ف": "F", "ق": "Q", "ك": "K", "ل": "L", "م": "M", "ن": "N",
    "ه": "H", "و": "W", "ى": "XAY", "ي": "Y", "ٱ": "XXA", "ٹ": "XXT", "ټ": "XRT", "پ": "P",
    "ځ": "XKE", "څ": "XXH", "چ": "XC", "ڈ": "XXD", "ډ": "XDR", "ڑ": "XXR", "ړ": "XRR",
    "ږ": "XRX", "ژ": "XJ", "ښ": "XXS", "ک": "XKK", "ګ": "XXK", "ڭ": "XNG", "گ": "XGG",
    "ں": "XNN", "ڼ": "XXN", "ھ": "XDO", "ۀ": "XYH", "ہ": "XXG", "ۂ": "XGE", "ۃ": "XTG",
    "ی": "XYA", "ۍ": "XXY", "ې": "Y", "ے": "XYB", "ۓ": "XBE",
}
TEH_MARBUTA, SHADDA = "ة", "\u0651"

# --- Greek: ELOT 743 (ICAO has no Greek table).
GREEK = {
    "Α": "A", "Β": "V", "Γ": "G", "Δ": "D", "Ε": "E", "Ζ": "Z", "Η": "I", "Θ": "TH",
    "Ι": "I", "Κ": "K", "Λ": "L", "Μ": "M", "Ν": "N", "Ξ": "X", "Ο": "O", "Π": "P",
    "Ρ": "R", "Σ": "S", "Τ": "T", "Υ": "Y", "Φ": "F", "Χ": "CH", "Ψ": "PS", "Ω": "O",
}
_GREEK_VOICELESS = set("ΘΚΞΠΣΤΦΧΨ")

# --- Brahmic scripts of India: offsets within a 128-character block (U+0900 Devanagari …
# U+0D00 Malayalam), laid out alike.
_INDIC_FIRST, _INDIC_LAST = 0x0900, 0x0D7F
_INDO_ARYAN = {0x0900, 0x0980, 0x0A00, 0x0A80, 0x0B00}  # final schwa not pronounced
_DRAVIDIAN_M = {0x0C00, 0x0C80, 0x0D00}  # anusvara read m at a word's end
_LABIALS = {0x2A, 0x2B, 0x2C, 0x2D, 0x2E}  # pa pha ba bha ma
_INDIC_LETTERS = {
    0x01: "N", 0x02: "N", 0x03: "H", 0x04: "A", 0x05: "A", 0x06: "A", 0x07: "I", 0x08: "I",
    0x09: "U", 0x0A: "U", 0x0B: "RI", 0x0C: "LRI", 0x0D: "E", 0x0E: "E", 0x0F: "E",
    0x10: "AI", 0x11: "O", 0x12: "O", 0x13: "O", 0x14: "AU", 0x50: "OM", 0x60: "RI",
    0x61: "LRI", 0x72: "A",
}
_INDIC_CONSONANTS = {
    0x15: "K", 0x16: "KH", 0x17: "G", 0x18: "GH", 0x19: "NG", 0x1A: "CH", 0x1B: "CHH",
    0x1C: "J", 0x1D: "JH", 0x1E: "N", 0x1F: "T", 0x20: "TH", 0x21: "D", 0x22: "DH",
    0x23: "N", 0x24: "T", 0x25: "TH", 0x26: "D", 0x27: "DH", 0x28: "N", 0x29: "N",
    0x2A: "P", 0x2B: "PH", 0x2C: "B", 0x2D: "BH", 0x2E: "M", 0x2F: "Y", 0x30: "R",
    0x31: "R", 0x32: "L", 0x33: "L", 0x34: "ZH", 0x35: "V", 0x36: "SH", 0x37: "SH",
    0x38: "S", 0x39: "H", 0x58: "Q", 0x59: "KH", 0x5A: "G", 0x5B: "Z", 0x5C: "R",
    0x5D: "RH", 0x5E: "F", 0x5F: "Y",
}
# A consonant followed by a nukta (Urdu and Persian sounds).
_INDIC_NUKTA = {0x15: "Q", 0x17: "G", 0x1C: "Z", 0x21: "R", 0x22: "RH", 0x2B: "F"}
_INDIC_SIGNS = {
    0x3E: "A", 0x3F: "I", 0x40: "I", 0x41: "U", 0x42: "U", 0x43: "RI", 0x44: "RI",
    0x45: "E", 0x46: "E", 0x47: "E", 0x48: "AI", 0x49: "O", 0x4A: "O", 0x4B: "O",
    0x4C: "AU", 0x55: "", 0x56: "AI", 0x57: "U", 0x62: "LRI", 0x63: "LRI",
}
_VIRAMA, _NUKTA = 0x4D, 0x3C
# Letters of one script only: (block, offset) -> (Latin, is a consonant with a vowel).
_INDIC_OWN = {
    (0x0980, 0x70): ("R", True), (0x0980, 0x71): ("W", True),  # Assamese ra, wa
    (0x0980, 0x4E): ("T", False),  # Bengali khanda ta
    (0x0A00, 0x70): ("N", False), (0x0A00, 0x72): ("", False), (0x0A00, 0x73): ("", False),
    (0x0B80, 0x24): ("TH", True),  # Tamil ta: Muthu, Geetha
    (0x0D00, 0x4E): ("R", False), (0x0D00, 0x7A): ("N", False), (0x0D00, 0x7B): ("N", False),
    (0x0D00, 0x7C): ("R", False), (0x0D00, 0x7D): ("L", False), (0x0D00, 0x7E): ("L", False),
    (0x0D00, 0x7F): ("K", False),
}
_GURMUKHI_ADDAK = 0x0A71  # doubles the next consonant


def _script(ch: str) -> str:
    cp = ord(ch)
    if cp < 0x0250 or 0x1E00 <= cp <= 0x1EFF:
        return "latin"
    if 0x0400 <= cp <= 0x052F:
        return "cyrillic"
    if 0x0370 <= cp <= 0x03FF or 0x1F00 <= cp <= 0x1FFF:
        return "greek"
    if 0x0600 <= cp <= 0x06FF or 0x0750 <= cp <= 0x077F:
        return "arabic"
    if _INDIC_FIRST <= cp <= _INDIC_LAST:
        return "indic"
    return "other"


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "M"


def _ascii_letters(text: str) -> str:
    return "".join(ch for ch in anyascii(text).upper() if "A" <= ch <= "Z")


def _latin(run: str, initial: bool, final: bool, variant: str) -> str:
    out = []
    for ch in run:
        if "A" <= ch <= "Z":
            out.append(ch)
        elif ch in LATIN:
            out.append(LATIN[ch])
        elif not _is_mark(ch):
            base = "".join(c for c in unicodedata.normalize("NFD", ch) if not _is_mark(c))
            out.append(base if base.isascii() and base.isalpha() else _ascii_letters(ch))
    return "".join(out)


def _cyrillic(run: str, initial: bool, final: bool, variant: str) -> str:
    table = CYRILLIC_VARIANTS.get(variant, {})
    out = []
    for i, ch in enumerate(run):
        if variant == "uk" and i == 0 and initial and ch in UKRAINIAN_INITIAL:
            out.append(UKRAINIAN_INITIAL[ch])
        elif variant == "uk" and ch == "Г" and i and run[i - 1] == "З":
            out.append("GH")  # ЗГ → ZGH, not ZH (Ж)
        elif ch in table:
            out.append(table[ch])
        elif ch in CYRILLIC:
            out.append(CYRILLIC[ch])
        elif not _is_mark(ch):
            out.append(_ascii_letters(ch))
    return "".join(out)


def _arabic(run: str, initial: bool, final: bool, variant: str) -> str:
    out: list[str] = []
    last = len(run.rstrip("\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652")) - 1
    for i, ch in enumerate(run):
        if ch == SHADDA:  # the letter before it is doubled
            if out:
                out.append(out[-1])
        elif ch == TEH_MARBUTA:
            out.append("XAH" if final and i == last else "XTA")
        elif ch in ARABIC:
            out.append(ARABIC[ch])
        elif not _is_mark(ch) and ch != "\u0640":  # marks and tatweel are not written
            out.append(_ascii_letters(ch))
    return "".join(out)


def _greek(run: str, initial: bool, final: bool, variant: str) -> str:
    # Letters without their accents, remembering a diaeresis (it breaks a diphthong).
    letters, diaeresis = [], []
    for ch in unicodedata.normalize("NFD", run):
        if ch == "\u0308" and diaeresis:
            diaeresis[-1] = True
        elif not _is_mark(ch):
            letters.append("Σ" if ch == "ς" else ch)
            diaeresis.append(False)
    out, i, n = [], 0, len(letters)
    while i < n:
        ch, nxt = letters[i], letters[i + 1] if i + 1 < n else ""
        start = initial and i == 0
        after = letters[i + 2] if i + 2 < n else ""
        if ch == "Ο" and nxt == "Υ" and not diaeresis[i + 1]:
            out.append("OU")
            i += 2
        elif ch in "ΑΕΗ" and nxt == "Υ" and not diaeresis[i + 1]:
            voiceless = after in _GREEK_VOICELESS or (not after and final)
            out.append(GREEK[ch] + ("F" if voiceless else "V"))
            i += 2
        elif ch == "Γ" and nxt in ("Γ", "Κ", "Ξ", "Χ"):
            out.append({"Γ": "NG", "Κ": "G" if start else "NG", "Ξ": "NX", "Χ": "NCH"}[nxt])
            i += 2
        elif ch == "Μ" and nxt == "Π" and start:
            out.append("B")
            i += 2
        elif ch == "Ν" and nxt == "Τ" and start:
            out.append("D")
            i += 2
        else:
            out.append(GREEK.get(ch) or _ascii_letters(ch))
            i += 1
    return "".join(out)


def _indic(run: str, initial: bool, final: bool, variant: str) -> str:
    out: list[str] = []
    inherent_at = -1  # where the last inherent vowel was written
    double_next = False
    i, n = 0, len(run)
    block = ord(run[0]) & ~0x7F
    while i < n:
        cp = ord(run[i])
        block, off = cp & ~0x7F, cp & 0x7F
        nxt = ord(run[i + 1]) & 0x7F if i + 1 < n else None
        own = _INDIC_OWN.get((block, off))
        if cp == _GURMUKHI_ADDAK:
            double_next = True
        elif (own and own[1]) or (own is None and off in _INDIC_CONSONANTS):
            latin = own[0] if own else _INDIC_CONSONANTS[off]
            if nxt == _NUKTA:
                latin = _INDIC_NUKTA.get(off, latin)
                i += 1
                nxt = ord(run[i + 1]) & 0x7F if i + 1 < n else None
            if double_next:
                out.append(latin[0])
                double_next = False
            out.append(latin)
            if nxt != _VIRAMA and nxt not in _INDIC_SIGNS:
                out.append("A")
                inherent_at = len(out) - 1
        elif own:
            out.append(own[0])
        elif off in _INDIC_SIGNS:
            out.append(_INDIC_SIGNS[off])
        elif off == 0x02:  # anusvara: the nasal of the consonant that follows
            if nxt in _LABIALS or (nxt is None and block in _DRAVIDIAN_M):
                out.append("M")  # अंबर AMBAR, കമലം KAMALAM
            elif nxt == 0x39 and block in _INDO_ARYAN:
                out.append("NG")  # सिंह SINGH
            else:
                out.append("N")
        elif off in _INDIC_LETTERS:
            out.append(_INDIC_LETTERS[off])
        elif off not in (_VIRAMA, _NUKTA) and not _is_mark(run[i]):
            out.append(_ascii_letters(run[i]))
        i += 1
    if (final and block in _INDO_ARYAN and inherent_at == len(out) - 1
            and len("".join(out)) > 2):
        out.pop()  # राम: RAM
    return "".join(out)


def _other(run: str, initial: bool, final: bool, variant: str) -> str:
    return _ascii_letters(run)


_BY_SCRIPT = {"latin": _latin, "cyrillic": _cyrillic, "arabic": _arabic, "greek": _greek,
              "indic": _indic, "other": _other}


def _variant(text: str, language: str | None) -> str:
    if language and language.split("-")[0].lower() in CYRILLIC_VARIANTS:
        return language.split("-")[0].lower()
    if any(ch in "ЄЇҐІ" for ch in text):
        return "uk"
    return "be" if "Ў" in text else "ru"


def _word(word: str, variant: str) -> str:
    """One part of a name, each run of one script by its table."""
    runs: list[tuple[str, str]] = []
    for ch in word:
        script = _script(ch)
        if runs and (script == runs[-1][0] or _is_mark(ch)):
            runs[-1] = (runs[-1][0], runs[-1][1] + ch)
        else:
            runs.append((script, ch))
    return "".join(_BY_SCRIPT[script](run, i == 0, i == len(runs) - 1, variant)
                   for i, (script, run) in enumerate(runs))


def _words(text: str) -> list[str]:
    """The parts of a name: letters and their marks, split at anything else."""
    words, current = [], []
    for ch in text:
        if ch in _DELETED:
            continue
        if unicodedata.category(ch)[0] in "LM":
            current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def icao(name: str, language: str | None = None) -> str:
    """``name`` transliterated to ICAO 9303's machine-readable form, at most 80 characters.
    ``language`` (e.g. ``"uk"``) chooses a national variant of the Cyrillic table."""
    text = unicodedata.normalize("NFKC", name or "").upper()
    variant = _variant(text, language)
    parts = [part for part in (_word(w, variant) for w in _words(text)) if part]
    return FILLER.join(parts)[:MAX_LENGTH].rstrip(FILLER)


__all__ = ["MAX_LENGTH", "icao"]
