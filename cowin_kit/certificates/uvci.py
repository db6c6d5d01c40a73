"""Unique vaccination certificate identifiers (UVCI), as the eHealth Network's guidelines
define them: ``URN:UVCI:01:<country>:<opaque>#<check>``.

The opaque part is 26 random base32 characters (130 bits: never guessed, never repeated);
the check character is Luhn mod N over ``01:<country>:<opaque>`` with the character set
``A–Z 0–9 / :`` (the DCC schema's FAQ), so a mistyped identifier is caught.

>>> u = new_uvci("PE")
>>> u.startswith("URN:UVCI:01:PE:"), is_valid(u), len(u)
(True, True, 43)
>>> is_valid(u[:-1] + ("A" if u[-1] != "A" else "B"))
False
"""
from __future__ import annotations

import base64
import secrets

CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/:"
PREFIX = "URN:UVCI:"


def check_character(text: str) -> str:
    """Luhn mod N (N = 38) of ``text`` over CHARSET."""
    n = len(CHARSET)
    factor, total = 2, 0
    for ch in reversed(text):
        addend = factor * CHARSET.index(ch)
        factor = 1 if factor == 2 else 2
        total += addend // n + addend % n
    return CHARSET[(n - total % n) % n]


def new_uvci(country: str) -> str:
    """A new identifier of a certificate issued in ``country`` (ISO 3166-1 alpha-2)."""
    opaque = base64.b32encode(secrets.token_bytes(17)).decode("ascii")[:26]
    body = f"01:{country.upper()}:{opaque}"
    return f"{PREFIX}{body}#{check_character(body)}"


def is_valid(uvci: str) -> bool:
    """Whether ``uvci`` has our form and its check character is right."""
    if not uvci.startswith(PREFIX) or "#" not in uvci:
        return False
    body, _, check = uvci[len(PREFIX):].partition("#")
    if not body or any(ch not in CHARSET for ch in body):
        return False
    return check == check_character(body)
