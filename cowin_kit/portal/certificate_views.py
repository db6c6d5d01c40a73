"""A family member's certificate in each format: the PDF, the printable page, the QR code
shown big (for a phone held up at a border), the SMART Health Card file and the WHO DDCC:VS
record (FHIR JSON). Only the account that registered the person gets them: another's
person, an unknown or malformed reference, and a person without a valid certificate all
answer 404."""
from __future__ import annotations

import json

from flask import Response, abort, g, render_template, request

from cowin_kit.certificates import downloads, printable, shc
from cowin_kit.certificates.models import Certificate
from cowin_kit.documents import qr
from cowin_kit.portal import views as common
from cowin_kit.portal.views import bp
from cowin_kit.runtime import db_session, deployment
from cowin_kit.web import certificate_files

# The formats the family page offers, by the last part of their address.
FORMATS = ("pdf", "html", "qr", "shc", "ddcc")
FHIR_JSON = "application/fhir+json"


def _own_certificate(ref: str) -> tuple[downloads.Current, Certificate]:
    """The current certificate of the account's person ``ref`` (of ``?programme=``, else the
    first programme's); 404 for anything else."""
    programme = request.args.get("programme", "")
    if programme and not (programme.isascii() and programme.isdigit() and len(programme) < 10):
        abort(404)
    try:
        found = downloads.by_account(db_session(), g.account.id, ref,
                                     int(programme) if programme else None)
    except downloads.CertificateError:
        abort(404)
    return found, db_session().get(Certificate, found.certificate_id)


@bp.get("/certificates/<ref>/<fmt>")
@common.login_required
def certificate(ref: str, fmt: str):
    if fmt not in FORMATS:
        abort(404)
    found, cert = _own_certificate(ref)
    if fmt == "pdf":
        return certificate_files.pdf_response(found, cache_control="private, no-store")
    if fmt == "html":
        values = certificate_files.printable_values(cert)
        return render_template("portal/certificate.html", cert=values, ref=ref,
                               programme=request.args.get("programme", ""),
                               qr_svg=qr.svg(values.qr_text, scale=3) if values.qr_text else "")
    if fmt == "qr":
        text, kind = printable.qr_payload(cert)
        if text is None:
            abort(404)
        values = certificate_files.printable_values(cert)
        return render_template("portal/certificate_qr.html", cert=values, kind=kind, ref=ref,
                               qr_svg=qr.svg(text, scale=4))
    if fmt == "shc":
        if not cert.shc:
            abort(404)
        name = certificate_files.download_name(found, "smart-health-card")
        return Response(shc.file_content(cert.shc), mimetype=shc.MEDIA_TYPE, headers={
            "Content-Disposition": f'attachment; filename="{name}"'})
    return _ddcc(found, cert)


def _ddcc(found: downloads.Current, cert: Certificate) -> Response:
    """The WHO DDCC:VS bundle of the certificate's doses: the person's own record."""
    from cowin_kit.certificates import fhir
    from cowin_kit.programmes.eligibility import dose_history

    dep = deployment()
    doses = dose_history(db_session(), cert.beneficiary_id, cert.programme_id)[:cert.doses]
    bundle = fhir.ddcc_bundle(cert.beneficiary, doses, cert,
                              issuer=dep.profile["certificate"]["issuer"],
                              country=dep.profile.code)
    body = json.dumps(bundle, ensure_ascii=False, indent=1)
    name = certificate_files.download_name(found, "ddcc.json")
    return Response(body, mimetype=FHIR_JSON, headers={
        "Content-Disposition": f'attachment; filename="{name}"'})
