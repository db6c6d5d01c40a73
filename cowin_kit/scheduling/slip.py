"""The appointment slip: what it shows, and the PDF of it.

Knows nothing of Flask. ``slip_data`` gathers the facts from the database; ``render_pdf``
says which of them the slip shows, under which labels, with a QR code of the appointment id,
and leaves fonts, shaping and layout to ``cowin_kit.documents``. ``cached_pdf`` keeps
recently rendered slips in memory: a slip changes only when its appointment does, and the
cache key says when.
"""
from __future__ import annotations

from cowin_kit.documents import qr, storage
from cowin_kit.documents.pdf import Document
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


def render_pdf(data: dict, lang: str, translations) -> bytes:
    """The slip as PDF bytes, labels in ``lang`` (``translations``: a gettext object)."""
    _ = translations.gettext
    doc = Document(lang, _(TITLE))
    if data.get("issuer"):  # the ministry that runs the drive, named above the title
        doc.paragraph(data["issuer"], size=11, line_height=6)
    doc.heading(_(TITLE))
    doc.space(2)
    centre = data["centre_names"].get(lang) or data["centre_name"]
    address = ", ".join(p for p in (data["centre_address"], data["district"],
                                    data["postal_code"]) if p)
    rows = [("name", data["beneficiary_name"]), ("id_number", data["id_number_masked"]),
            ("reference_id", data["reference_id"]), ("centre", centre),
            ("address", address), ("date", data["date_text"]), ("slot", data["slot"]),
            ("dose", str(data["dose"])), ("vaccine", data["vaccine"]),
            ("appointment_id", data["appointment_id"])]
    doc.rows([(_(LABELS[key]), value) for key, value in rows],
             image=qr.png(data["appointment_id"]), image_size=36)
    doc.boxed(_(LABELS["secret_code"]), data["secret_code"])
    doc.space(3)
    doc.paragraph(_(CODE_HINT))
    note = STATUS_NOTE.get(data.get("status", AppointmentStatus.BOOKED))
    if note:
        doc.space(2)
        doc.paragraph(_(note), size=11, line_height=6, color=(160, 0, 0))
    return doc.output()


# Slips stay in this process's memory, not on disk: a slip holds a name and a secret code,
# and it is cheap enough to build again after a restart.
PDF_CACHE = storage.MemoryStore(size=256)


def cache_key(data: dict, lang: str) -> str:
    """A slip changes only when its appointment does: status, session, slot, dose, code."""
    return storage.content_key(
        "slip", data["appointment_id"], lang, data["status"], data["session_id"],
        data["slot"], data["dose"], data["secret_code"], data["beneficiary_name"],
        data.get("issuer", ""))


def cached_pdf(data: dict, lang: str, translations) -> bytes:
    """The slip's PDF, built once per content key (``PDF_CACHE``)."""
    return PDF_CACHE.fetch(cache_key(data, lang),
                           lambda: render_pdf(data, lang, translations))
