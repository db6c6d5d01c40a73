"""QR codes (segno) as PNG bytes for documents and as inline SVG for pages.

Always a full QR code, never a Micro QR (which segno picks for short texts and which many
phone readers cannot read); error correction M, as before. A text of a short prefix and a
long run of digits (a SMART Health Card's ``shc:/…``) is encoded as the specification asks:
the prefix in byte mode, the digits in numeric mode, so the code stays small enough to scan.

>>> code("0b7e1c2a-1111-4222-8333-444455556666").designator
'3-M'
>>> png("hello")[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
>>> segments("shc:/56762909524320603460292437404460")
[('shc:/', 'byte'), ('56762909524320603460292437404460', 'numeric')]
"""
from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import segno


_PREFIXED_DIGITS = re.compile(r"([^0-9]{1,16})([0-9]{16,})")


def segments(text: str) -> str | list[tuple[str, str]]:
    """``text`` as segno takes it: a prefix and its digits as two segments, else as is."""
    match = _PREFIXED_DIGITS.fullmatch(text)
    if match is None:
        return text
    return [(match.group(1), "byte"), (match.group(2), "numeric")]


def code(text: str) -> segno.QRCode:
    """The QR code of ``text`` (its ``matrix`` is the modules, row by row)."""
    import segno  # here, not at the top: importing segno costs the app's start ~25 ms
    from segno import consts

    content = segments(text)
    if not isinstance(content, str):
        modes = {"byte": consts.MODE_BYTE, "numeric": consts.MODE_NUMERIC}
        content = [(part, modes[mode]) for part, mode in content]
    # Text beyond ASCII as UTF-8 (segno's default, ISO 8859-1, is read as Shift JIS by
    # readers that guess; UTF-8 is what they guess right).
    encoding = None if not isinstance(content, str) or content.isascii() else "utf-8"
    return segno.make_qr(content, error="m", encoding=encoding)


def png(text: str, scale: int = 8, border: int = 2) -> bytes:
    """The QR code of ``text`` as PNG bytes (``scale`` pixels per module)."""
    out = io.BytesIO()
    code(text).save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def svg(text: str, scale: int = 4) -> str:
    """The QR code of ``text`` as an inline SVG element (no XML declaration), for HTML."""
    out = io.BytesIO()
    code(text).save(out, kind="svg", scale=scale, xmldecl=False, svgns=True, nl=False,
                    title="QR")
    return out.getvalue().decode("utf-8")
