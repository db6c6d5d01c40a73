"""QR codes (segno) as PNG bytes for documents and as inline SVG for pages.

Always a full QR code, never a Micro QR (which segno picks for short texts and which many
phone readers cannot read); error correction M, as before.

>>> code("0b7e1c2a-1111-4222-8333-444455556666").designator
'3-M'
>>> png("hello")[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""
from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import segno


def code(text: str) -> segno.QRCode:
    """The QR code of ``text`` (its ``matrix`` is the modules, row by row)."""
    import segno  # here, not at the top: importing segno costs the app's start ~25 ms

    return segno.make_qr(text, error="m")


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
