"""Names as machine-readable travel documents write them (ICAO Doc 9303, part 3): upper-case
A–Z, ``<`` between the parts, as EU DCC's ``fnt`` and ``gnt`` want them.

>>> icao("María José Quispe-Mamani")
'MARIA<JOSE<QUISPE<MAMANI'
"""
from __future__ import annotations

import re

from anyascii import anyascii

MAX_LENGTH = 80  # the EU DCC schema's limit for fnt/gnt


def icao(name: str) -> str:
    """``name`` transliterated to ICAO 9303's machine-readable form."""
    text = anyascii(name).upper()
    text = re.sub(r"[^A-Z]+", "<", text).strip("<")
    return text[:MAX_LENGTH]
