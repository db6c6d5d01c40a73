"""The appointment slip: what it shows, and the PDF of it (fpdf2, HarfBuzz shaping, Noto).

Knows nothing of Flask. ``slip_data`` gathers the facts from the database; ``render_pdf``
sets them in the reader's language with a font that covers the language's script (the Noto
families come from PyPI ``fontpkg-noto-sans*`` packages, so no system fonts are needed) and a
QR code of the appointment id. ``cached_pdf`` keeps recently rendered slips in memory: a slip
changes only when its appointment does, and the cache key says when.
"""
from __future__ import annotations

import io
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from cowin_kit.plugins.interfaces import N_
from cowin_kit.registration.models import Beneficiary
from cowin_kit.scheduling.models import AppointmentStatus

# Labels (English msgids; the caller's translations object translates them).
TITLE = N_("Appointment slip")
LABELS = {
    "name": N_("Name"),
    "id_number": N_("ID number"),
    "reference_id": N_("Reference ID"),
    "centre": N_("Vaccination centre"),
    "address": N_("Address"),
    "date": N_("Date"),
    "slot": N_("Time slot"),
    "dose": N_("Dose"),
    "vaccine": N_("Vaccine"),
    "secret_code": N_("Secret code"),
    "appointment_id": N_("Appointment ID"),
}
CODE_HINT = N_("Show this slip at the centre. The vaccinator will ask for your secret code.")
STATUS_NOTE = {AppointmentStatus.CANCELLED: N_("This appointment was cancelled."),
               AppointmentStatus.DONE: N_("This dose has been given.")}

# Script → (fontpkg family, fontpkg package). Languages whose script has no packaged font
# fall back to Noto Sans (Latin, Greek, Cyrillic, Vietnamese).
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
DEFAULT_FAMILY = "Noto Sans"


def script_of(lang: str) -> str:
    base = lang.replace("-", "_").split("_")[0].lower()
    return SCRIPTS.get(base, "Latn")


@lru_cache(maxsize=64)
def font_path(family: str) -> str | None:
    """The regular font file of ``family`` from its fontpkg package, or None (resolved once
    per process)."""
    try:
        import fontpkg
        return str(fontpkg.path(family, 400, nearest=True))
    except Exception:  # noqa: BLE001 - not installed: look on the system, then fall back
        pass
    # PyPI packages no Noto font for Bengali, Gujarati, Gurmukhi, Kannada, Malayalam or
    # Oriya; Debian's fonts-noto-core (and most Linux distributions) have them.
    name = family.replace(" ", "") + "-Regular.ttf"
    for folder in ("/usr/share/fonts/truetype/noto", "/usr/share/fonts/noto",
                   "/usr/local/share/fonts"):
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    return None


@lru_cache(maxsize=64)
def font_for(lang: str) -> tuple[str, str, bool]:
    """(family, file, right_to_left) for text in ``lang``."""
    script = script_of(lang)
    family = FAMILIES.get(script, DEFAULT_FAMILY)
    path = font_path(family)
    if path is None:
        family, path = DEFAULT_FAMILY, font_path(DEFAULT_FAMILY)
    if path is None:
        raise RuntimeError("No Noto font installed: pip install fontpkg-noto-sans")
    return family, path, script in RTL_SCRIPTS


def _is_rtl(lang: str) -> bool:
    try:
        return Locale.parse(lang.replace("-", "_")).text_direction == "rtl"
    except (UnknownLocaleError, ValueError):
        return script_of(lang) in RTL_SCRIPTS


def slip_data(session, appointment) -> dict:
    """What the slip shows for ``appointment`` (a scheduling.models.Appointment)."""
    vs = appointment.session
    facility = vs.facility
    person = session.get(Beneficiary, appointment.beneficiary_id)
    from cowin_kit.programmes.models import Product
    product = session.get(Product, vs.product_id)
    from cowin_kit.scheduling.search import _levels
    levels = _levels(facility.division)
    district = levels.get(2)
    slot = appointment.slot
    return {
        "appointment_id": appointment.id,
        "status": appointment.status,
        "session_id": appointment.session_id,
        "beneficiary_name": person.name if person else "",
        "id_number_masked": person.id_number_masked if person else "",
        "reference_id": person.reference_id if person else "",
        "centre_name": facility.name,
        "centre_names": dict(facility.names or {}),
        "centre_address": facility.address or "",
        "district": district.name if district is not None else "",
        "postal_code": facility.postal_code or "",
        "date": vs.date,
        "date_text": vs.date.strftime("%d-%m-%Y"),
        "slot": f"{slot.starts.strftime('%H:%M')}–{slot.ends.strftime('%H:%M')}",
        "dose": appointment.dose_number,
        "vaccine": product.name if product else "",
        "secret_code": appointment.secret_code,
    }


def qr_svg(text: str, scale: int = 4) -> str:
    """An inline SVG QR code (no XML declaration), for HTML pages."""
    import segno
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=scale, xmldecl=False,
                                     svgns=True, nl=False, title="QR")
    return out.getvalue().decode("utf-8")


def _qr_png(text: str) -> io.BytesIO:
    import segno
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=8, border=2)
    out.seek(0)
    return out


def render_pdf(data: dict, lang: str, translations) -> bytes:
    """The slip as PDF bytes, labels in ``lang`` (``translations``: a gettext object)."""
    from fpdf import FPDF
    from fpdf.enums import Align, XPos, YPos

    _ = translations.gettext
    family, path, _script_rtl = font_for(lang)
    rtl = _is_rtl(lang)
    pdf = FPDF(format=(148, 210), unit="mm")  # A5
    pdf.set_margins(12, 12, 12)
    pdf.set_auto_page_break(True, 12)
    pdf.set_title(_(TITLE))
    pdf.set_creator("cowin-kit")
    pdf.set_lang(lang.replace("_", "-"))
    pdf.add_font(family, "", path)
    if family != DEFAULT_FAMILY:  # names and Latin digits in any language
        pdf.add_font(DEFAULT_FAMILY, "", font_path(DEFAULT_FAMILY))
        pdf.set_fallback_fonts([DEFAULT_FAMILY])
    pdf.set_text_shaping(True, direction="rtl" if rtl else "ltr")
    pdf.add_page()
    align = Align.R if rtl else Align.L

    def direction(text: str) -> None:
        """In a right-to-left slip, text with no right-to-left letters (times, numbers,
        Latin names) is shaped left-to-right, so "09:00–11:00" is not reversed."""
        if rtl:
            has_rtl = any("\u0590" <= ch <= "\u08ff" or "\ufb1d" <= ch <= "\ufeff"
                          for ch in text)
            pdf.set_text_shaping(True, direction="rtl" if has_rtl else "ltr")
    width = pdf.epw

    pdf.set_font(family, size=16)
    direction(_(TITLE))
    pdf.multi_cell(width, 9, _(TITLE), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)

    centre = data["centre_names"].get(lang) or data["centre_name"]
    address = ", ".join(p for p in (data["centre_address"], data["district"],
                                    data["postal_code"]) if p)
    rows = [("name", data["beneficiary_name"]), ("id_number", data["id_number_masked"]),
            ("reference_id", data["reference_id"]), ("centre", centre),
            ("address", address), ("date", data["date_text"]), ("slot", data["slot"]),
            ("dose", str(data["dose"])), ("vaccine", data["vaccine"]),
            ("appointment_id", data["appointment_id"])]
    qr_size = 36
    top = pdf.get_y()
    text_w = width - qr_size - 4
    left = pdf.l_margin + (qr_size + 4 if rtl else 0)
    for key, value in rows:
        if not value:
            continue
        pdf.set_x(left)
        pdf.set_font(family, size=8)
        pdf.set_text_color(90, 90, 90)
        direction(_(LABELS[key]))
        pdf.multi_cell(text_w, 4.5, _(LABELS[key]), align=align,
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_x(left)
        pdf.set_font(family, size=11)
        pdf.set_text_color(0, 0, 0)
        direction(value)
        pdf.multi_cell(text_w, 5.5, value, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
    bottom = pdf.get_y()
    qr_x = pdf.l_margin if rtl else pdf.l_margin + width - qr_size
    pdf.image(_qr_png(data["appointment_id"]), x=qr_x, y=top, w=qr_size, h=qr_size)
    pdf.set_y(max(bottom, top + qr_size) + 3)

    # The secret code, large, in a box.
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.5)
    pdf.set_font(family, size=10)
    direction(_(LABELS["secret_code"]))
    pdf.cell(width, 7, _(LABELS["secret_code"]), align=Align.C,
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(DEFAULT_FAMILY, size=28)
    pdf.cell(width, 14, data["secret_code"], border=1, align=Align.C,
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    pdf.set_font(family, size=9)
    direction(_(CODE_HINT))
    pdf.multi_cell(width, 5, _(CODE_HINT), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    note = STATUS_NOTE.get(data.get("status", AppointmentStatus.BOOKED))
    if note:
        pdf.ln(2)
        pdf.set_font(family, size=11)
        pdf.set_text_color(160, 0, 0)
        direction(_(note))
        pdf.multi_cell(width, 6, _(note), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


class _LRU:
    """A small thread-safe in-process LRU of rendered slips."""

    def __init__(self, size: int = 256):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


PDF_CACHE = _LRU()


def cache_key(data: dict, lang: str) -> tuple:
    """A slip changes only when its appointment does: status, session, slot, dose, code."""
    return (data["appointment_id"], lang, data["status"], data["session_id"], data["slot"],
            data["dose"], data["secret_code"], data["beneficiary_name"])


def cached_pdf(data: dict, lang: str, translations) -> bytes:
    key = cache_key(data, lang)
    pdf = PDF_CACHE.get(key)
    if pdf is None:
        pdf = render_pdf(data, lang, translations)
        PDF_CACHE.put(key, pdf)
    return pdf
