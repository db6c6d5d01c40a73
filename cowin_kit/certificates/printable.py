"""The printable certificate: what it shows, in the person's language and English, and its PDF.

``gather`` reads a certificate version (its person, doses, centres and lots) into plain
values with every label in both languages (the person's first; English alone when that is
the person's language); the portal's HTML page and ``render_pdf`` show the same values.
The QR code is the certificate's own signed payload: HC1 (EU DCC) where the programme has
one, else the SMART Health Card's ``shc:/`` text.

A PDF is built once per certificate version and language (``content_key``) and kept in a
``DirectoryStore`` under the instance folder (``store_for``), which every worker of the
machine shares: a download sends the stored file; fonts are loaded only to build one.
Knows nothing of Flask: callers pass the issuer (from the profile) and translations.
"""
from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cowin_kit.certificates import shc
from cowin_kit.certificates.models import Certificate, CertificateStatus
from cowin_kit.documents import storage
from cowin_kit.documents.pdf import Label, label_lines
from cowin_kit.plugins.interfaces import N_

# Bump when the layout changes: every stored PDF is then built again on its next download.
LAYOUT = 1
STORE_FOLDER = ("documents", "certificates")  # under the instance folder
VERIFY_PATH = "/verify"

TITLE = N_("Vaccination certificate")
LABELS = {
    "name": N_("Name"),
    "birth_year": N_("Year of birth"),
    "id_number": N_("ID number"),
    "reference_id": N_("Reference ID"),
    "dose": N_("Dose"),
    "vaccine": N_("Vaccine"),
    "date": N_("Date"),
    "centre": N_("Vaccination centre"),
    "lot": N_("Lot"),
    "uvci": N_("Certificate identifier (UVCI)"),
    "issuer": N_("Issued by"),
    "issued_on": N_("Issued on"),
    "valid_until": N_("Valid until"),
    "version": N_("Version"),
}
STATUS_TEXT = {
    CertificateStatus.PROVISIONAL: N_("Provisional certificate: the vaccination schedule is "
                                      "not complete yet."),
    CertificateStatus.FINAL: N_("Final certificate: the vaccination schedule is complete."),
}
QR_CAPTION = {
    "hc1": N_("EU Digital COVID Certificate (EU DCC) QR code"),
    "shc": N_("SMART Health Card QR code"),
}
VERIFY = N_("To check this certificate, scan its QR code with a verifier app or at %(url)s.")
VERIFY_NO_QR = N_("To check this certificate, go to %(url)s.")


@dataclass(frozen=True)
class Issuer:
    """Who issues the certificates (the profile's ``[certificate]``), and where they are
    verified."""

    country: str
    name: str  # in the profile's default language
    names: dict = field(default_factory=dict)  # in other languages
    document_name: str = ""
    url: str = ""
    verify_url: str = ""
    default_language: str = "en"
    timezone: str = "UTC"  # the deployment's: dates are printed as its people see them

    @classmethod
    def from_profile(cls, profile, public_url: str, timezone: str | None = None) -> Issuer:
        """``public_url``: the deployment's address (PUBLIC_URL, or the request's)."""
        cert = profile["certificate"]
        return cls(country=profile.code, name=cert["issuer"],
                   names=dict(cert.get("issuer_names") or {}),
                   document_name=cert.get("document_name") or "",
                   url=cert.get("issuer_url") or "",
                   verify_url=public_url.rstrip("/") + VERIFY_PATH,
                   default_language=profile.default_language,
                   timezone=timezone or profile["timezone"])

    def name_in(self, lang: str) -> str:
        if _base(lang) == _base(self.default_language):
            return self.name
        return self.names.get(lang) or self.names.get(_base(lang)) or (
            self.name if lang == "en" else "")

    def key_parts(self) -> list:
        return [self.country, self.name, sorted(self.names.items()), self.document_name,
                self.url, self.verify_url, self.timezone]


@dataclass(frozen=True)
class DoseLine:
    number: int
    vaccine: str
    manufacturer: str
    given_on: str  # ISO 8601: read the same way at every border
    centre: str  # in the person's language where the centre has a name in it
    lot: str


@dataclass(frozen=True)
class Printable:
    """What the certificate shows; every Label is (person's language, English) or
    (English,)."""

    lang: str
    right_to_left: bool
    title: Label
    labels: dict
    issuer: Label
    document_name: str
    issuer_url: str
    programme: Label
    status: str
    status_text: Label
    name: str
    birth_year: int
    id_type: str  # the ID document's name in the person's language
    id_masked: str
    reference_id: str
    doses: tuple
    uvci: str
    version: int
    issued_on: str
    valid_until: str
    qr_text: str | None
    qr_kind: str | None
    qr_caption: Label | None
    verify: Label
    verify_url: str

    def label(self, key: str) -> Label:
        return self.labels[key]

    @property
    def id_number(self) -> str:
        """The ID document and its masked number (never the number itself)."""
        return " ".join(p for p in (self.id_type, self.id_masked) if p)


def _base(lang: str) -> str:
    return (lang or "").replace("-", "_").split("_")[0].lower()


def is_english(lang: str) -> bool:
    return _base(lang) == "en"


def language_of(certificate: Certificate, default: str) -> str:
    """The language the certificate is printed in beside English: the person's."""
    return certificate.language or default


class _Bilingual:
    """Labels in the person's language and English (English alone when they read it)."""

    def __init__(self, lang: str, translations):
        self.english_only = is_english(lang)
        self.translations = translations

    def __call__(self, msgid: str, **params) -> Label:
        english = msgid % params if params else msgid
        if self.english_only:
            return (english,)
        local = self.translations.gettext(msgid)
        if params:
            try:
                local = local % params
            except (KeyError, ValueError, TypeError):  # a broken translation: English only
                local = english
        return label_lines((local, english))


def qr_payload(certificate: Certificate) -> tuple[str | None, str | None]:
    """(text, kind) of the certificate's QR code: HC1 where it has one, else the SMART
    Health Card's numeric ``shc:/`` text, else (None, None)."""
    if certificate.hc1:
        return certificate.hc1, "hc1"
    if certificate.shc:
        return shc.numeric(certificate.shc), "shc"
    return None, None


def gather(session: Session, certificate: Certificate, *, issuer: Issuer, lang: str,
           translations) -> Printable:
    """What ``certificate`` (one version) shows, labels in ``lang`` and English
    (``translations``: a gettext object for ``lang``)."""
    from cowin_kit.programmes.eligibility import dose_history
    from cowin_kit.registration.choices import local_name
    from cowin_kit.scheduling.models import Facility

    both = _Bilingual(lang, translations)
    person = certificate.beneficiary
    programme = certificate.programme
    doses = dose_history(session, person.id, programme.id)[:certificate.doses]
    facility_ids = {d.facility_id for d in doses if d.facility_id is not None}
    centres = {f.id: f for f in session.scalars(select(Facility).where(
        Facility.id.in_(facility_ids)))} if facility_ids else {}
    lines = []
    for d in doses:
        centre = centres.get(d.facility_id)
        lines.append(DoseLine(
            number=d.dose_number, vaccine=d.product.name, manufacturer=d.product.manufacturer,
            given_on=d.given_on.isoformat(),
            centre=(centre.names or {}).get(lang) or centre.name if centre else "",
            lot=d.lot.lot_number if d.lot is not None else ""))
    doc = person.id_document_type
    id_type = local_name(doc.name, doc.names, lang, issuer.default_language) if doc else ""
    programme_local = local_name(programme.name, programme.names, lang,
                                 issuer.default_language)
    programme_english = local_name(programme.name, programme.names, "en",
                                   issuer.default_language)
    issuer_local = issuer.name_in(lang) or issuer.name
    issuer_english = issuer.name_in("en")
    qr_text, qr_kind = qr_payload(certificate)
    return Printable(
        lang=lang, right_to_left=_rtl(lang), title=both(TITLE),
        labels={key: both(msgid) for key, msgid in LABELS.items()},
        issuer=label_lines((issuer_local, issuer_english)),
        document_name=issuer.document_name, issuer_url=issuer.url,
        programme=label_lines((programme_local, programme_english)),
        status=certificate.status, status_text=both(STATUS_TEXT[certificate.status]),
        name=person.name, birth_year=person.birth_year,
        id_type=id_type, id_masked=person.id_number_masked,
        reference_id=person.reference_id, doses=tuple(lines), uvci=certificate.uvci,
        version=certificate.version, issued_on=_day(certificate.issued_at, issuer.timezone),
        valid_until=_day(certificate.expires_at, issuer.timezone), qr_text=qr_text, qr_kind=qr_kind,
        qr_caption=both(QR_CAPTION[qr_kind]) if qr_kind else None,
        verify=both(VERIFY if qr_text else VERIFY_NO_QR, url=issuer.verify_url),
        verify_url=issuer.verify_url)


def _day(moment: dt.datetime, timezone: str) -> str:
    from zoneinfo import ZoneInfo
    return moment.astimezone(ZoneInfo(timezone)).date().isoformat()


def _rtl(lang: str) -> bool:
    from cowin_kit.documents import fonts
    return fonts.is_rtl(lang)


def render_pdf(p: Printable) -> bytes:
    """The certificate as an A4 PDF: the issuer, the title, the status, the person beside
    the QR code, the doses, the identifier and validity, and how to verify it."""
    from cowin_kit.documents import fonts, qr
    from cowin_kit.documents.pdf import A4, Document

    texts = [p.name, p.id_number, p.document_name, *p.issuer, *p.programme,
             *(t for d in p.doses for t in (d.vaccine, d.manufacturer, d.centre, d.lot))]
    doc = Document(p.lang, p.title[0], size=A4, margin=14,
                   fallback_families=fonts.families_for(*texts))
    doc.heading(p.issuer, size=12, line_height=6)
    if p.document_name:
        doc.paragraph(p.document_name, size=9, color=(90, 90, 90))
    doc.rule()
    doc.heading(p.title, size=20, line_height=10)
    doc.heading(p.programme, size=12, line_height=6)
    doc.space(2)
    final = p.status == CertificateStatus.FINAL
    doc.banner(p.status_text, fill=(223, 242, 230) if final else (253, 240, 205))
    rows = [(p.label("name"), p.name), (p.label("birth_year"), str(p.birth_year)),
            (p.label("id_number"), p.id_number), (p.label("reference_id"), p.reference_id)]
    doc.rows(rows, image=qr.png(p.qr_text, scale=6) if p.qr_text else None, image_size=62)
    for line in p.qr_caption or ():
        doc.paragraph(line, size=7, line_height=3.5, color=(90, 90, 90))
    doc.space(2)
    doc.table([p.label(k) for k in ("dose", "vaccine", "date", "centre", "lot")],
              [[str(d.number), (d.vaccine, d.manufacturer) if d.manufacturer != d.vaccine
                else d.vaccine, d.given_on, d.centre or "–", d.lot or "–"] for d in p.doses],
              widths=[1.1, 3.4, 2.2, 4.2, 2.1])
    doc.rows([(p.label("uvci"), p.uvci)])
    doc.table([p.label(k) for k in ("issuer", "issued_on", "valid_until", "version")],
              [[p.issuer[0], p.issued_on, p.valid_until, str(p.version)]],
              widths=[5.4, 2.4, 2.4, 1.4])
    doc.rule()
    for i, line in enumerate(p.verify):
        doc.paragraph(line, size=9 if i == 0 else 8, line_height=4.5,
                      color=(0, 0, 0) if i == 0 else (90, 90, 90))
    return doc.output()


# --- stored PDFs ---------------------------------------------------------------------------

def content_key(uvci: str, version: int, lang: str, issuer: Issuer) -> str:
    """What a stored PDF depends on: the version (its UVCI), the language, the issuer's
    details and the layout. A reissued certificate has a new UVCI, so a new key."""
    from cowin_kit import __version__
    return storage.content_key("certificate", uvci, version, lang, issuer.key_parts(),
                               LAYOUT, __version__)


_stores: dict[str, storage.DirectoryStore] = {}
_stores_lock = threading.Lock()


def store_for(instance_path: str | Path) -> storage.DirectoryStore:
    """The store of an instance's certificate PDFs (one object per folder and process, so
    concurrent requests for a missing PDF build it once)."""
    folder = str(Path(instance_path, *STORE_FOLDER).resolve())
    with _stores_lock:
        store = _stores.get(folder)
        if store is None:
            store = _stores[folder] = storage.DirectoryStore(folder)
        return store


def stored_pdf(store: storage.DirectoryStore, key: str, build) -> Path:
    """The file of the PDF under ``key``, built (``build() -> bytes``) when missing."""
    path = store.stored_path(key)
    if path is None:
        store.fetch(key, build)
        path = store.stored_path(key)
    return path


_translations: dict[tuple, object] = {}


def translations_for(lang: str, directories: list[Path]):
    """gettext translations for ``lang`` outside a request, loaded once per process."""
    from cowin_kit.catalogues import load_translations

    key = (lang, tuple(str(d) for d in directories))
    found = _translations.get(key)
    if found is None:
        found = _translations[key] = load_translations(lang, list(directories))
    return found
