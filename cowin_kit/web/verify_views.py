"""The public verify page: paste, upload or scan a certificate's QR code and see whether it is
valid. The check runs in the browser (static/verify.js), against the trust list, revocation
list and SMART Health Cards keys the page's service worker keeps (static/verify-sw.js), so it
works offline after the first visit. Without JavaScript the form is posted here and the
server's verifier (cowin_kit.certificates.verify) answers.

Routes only; the strings the script shows are rendered here, translated, into the page.
"""
from __future__ import annotations

import json

from flask import Blueprint, current_app, render_template, request, send_from_directory, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FileField, TextAreaField

from cowin_kit.runtime import deployment, read_session
from cowin_kit.web.limits import limiter

bp = Blueprint("verify", __name__)

# Checks are cheap but not free (a signature each): enough for a queue at a border desk.
VERIFY_PER_IP = "60 per minute"
MAX_TEXT = 16_384  # a QR code holds at most ~4,300 characters; a card file a few cards

# Why a certificate is not valid, in words a verifier understands. The script and the server
# use the same keys.
REASONS = {
    "empty": _l("Nothing to check: paste the text of a QR code, choose a file, or scan a "
                "code."),
    "format": _l("This is not a vaccination certificate: the text of its QR code starts with "
                 "HC1: or shc:/."),
    "damaged": _l("The code is damaged or incomplete, so it cannot be read. Scan it again, or "
                  "ask for a new copy of the certificate."),
    "content": _l("The code was read, but it holds no vaccination certificate in a form this "
                  "verifier knows."),
    "untrusted": _l("The certificate was signed by an issuer that is not on this verifier's "
                    "trust list, so it cannot be trusted here."),
    "signature": _l("The signature does not match: the certificate was changed after it was "
                    "issued, or it is forged."),
    "revoked": _l("The issuer has revoked this certificate: it is no longer valid."),
    "key_usage": _l("The issuer's key may not sign this kind of certificate."),
    "not_yet_valid": _l("The certificate is not valid yet. Check the date and time of this "
                        "device."),
    "expired": _l("The certificate expired on %(date)s."),
    "signer": _l("The key that signed the certificate was not valid on the day it was "
                 "signed."),
    "no_trust": _l("This device has no trust list yet, so nothing can be checked. Open this "
                   "page once with a connection."),
    "unsupported": _l("This browser cannot check this kind of signature. Try a recent "
                      "browser."),
    "browser": _l("This browser cannot check certificates. Use a recent version of Chrome, "
                  "Edge, Firefox or Safari."),
    "part": _l("This is part %(part)s of %(total)s of a SMART Health Card: paste or upload all "
               "its parts together."),
    "no_qr": _l("No QR code was found in the picture. Try a sharper or closer picture, or "
                "paste the text of the code."),
    "image_needs_script": _l("Pictures of QR codes are read by the page's script, which is off "
                             "in this browser. Paste the text of the code instead."),
    "camera": _l("The camera could not be used. Allow this page to use it, or choose a "
                 "picture of the code instead."),
    "file": _l("The file could not be read. Choose a .smart-health-card file, a text file or "
               "a picture of the QR code."),
    "unavailable": _l("The server cannot check certificates at the moment. Turn on JavaScript "
                      "in the browser to check on this device, or try again later."),
}
TEXTS = {
    "checking": _l("Checking…"),
    "valid": _l("Valid"),
    "invalid": _l("Not valid"),
    "name": _l("Name"),
    "birth_date": _l("Date of birth"),
    "vaccination": _l("Vaccination"),
    "dose_of": _l("Dose %(dose)s of %(doses)s"),
    "country": _l("Issuing country"),
    "issuer": _l("Issuer"),
    "certificate_id": _l("Certificate identifier"),
    "expires": _l("Valid until"),
    "compare": _l("Compare the name and date of birth with an identity document."),
    "test": _l("This is a certificate of a test, not of vaccination."),
    "recovery": _l("This is a certificate of recovery, not of vaccination."),
    "detail": _l("Technical detail"),
    "trust_date": _l("Trust list from %(date)s."),
    "trust_saved": _l("No connection: using the trust list saved on this device, from "
                      "%(date)s."),
    "no_trust": _l("No trust list on this device yet. Open this page once with a "
                   "connection."),
    "stop": _l("Stop the camera"),
    "aim": _l("Point the camera at the QR code."),
}


class VerifyForm(FlaskForm):
    text = TextAreaField(_l("Text of the QR code"))
    file = FileField(_l("Or choose a file"))


def _issuer_url() -> str:
    """A SMART Health Card's ``iss`` for this deployment: PUBLIC_URL, else this host."""
    return (deployment().settings.get("PUBLIC_URL") or request.url_root).rstrip("/")


def _product_names() -> dict[str, str]:
    """EU DCC product codes (``mp``) of this deployment's products, with their names."""
    from sqlalchemy import select

    from cowin_kit.programmes.models import Product

    rows = read_session().execute(select(Product.dcc_product, Product.name)
                                  .where(Product.dcc_product.is_not(None)))
    return {code: name for code, name in rows if code}


def _page(form: VerifyForm, verdict=None, status: int = 200):
    config = {
        "messages": {k: str(v) for k, v in (REASONS | TEXTS).items()},
        "trustUrl": url_for("trust.trust_list"),
        "revocationUrl": url_for("trust.revocation_list"),
        "jwksUrl": url_for("trust.jwks"),
        "issuer": _issuer_url(),
        "products": _product_names(),
        "serviceWorker": url_for("verify.service_worker"),
        "scope": url_for("verify.page"),
    }
    return render_template("verify.html", form=form, verdict=verdict,
                           config=json.dumps(config, ensure_ascii=False)), status


@bp.get("/verify")
def page():
    return _page(VerifyForm())


@bp.post("/verify")
@limiter.limit(VERIFY_PER_IP)
def check():
    """The form without JavaScript: the server checks what was pasted or uploaded."""
    from flask_babel import gettext

    from cowin_kit.certificates import revocation
    from cowin_kit.web import verify_service

    form = VerifyForm()
    if not form.validate():  # a missing or stale CSRF token: a fresh form, with the reason
        form = VerifyForm(formdata=None, text=request.form.get("text", "")[:MAX_TEXT])
        form.form_errors.append(_l("The form expired. Please check the certificate again."))
        return _page(form, status=400)
    text, reason = verify_service.submitted_text(form.text.data, request.files.get("file"),
                                                 MAX_TEXT)
    if reason:
        verdict = verify_service.Verdict(False, reason=reason, message=str(REASONS[reason]))
    else:
        verdict = verify_service.check(
            text, ring=_ring(), issuer_url=_issuer_url(),
            revocation_document=revocation.revocation_list(read_session()), reasons=REASONS,
            products=_product_names(), date_text=_date_text, gettext=gettext)
    return _page(form, verdict)


def _ring():
    """This deployment's signing keys (None when they are missing: nothing is trusted)."""
    from cowin_kit.certificates import issuing, keys

    try:
        return issuing.ring_for(deployment().settings)
    except keys.KeyError_:
        return None


@bp.app_template_filter("verify_date")
def _date_text(iso: str) -> str:
    """A certificate's date (``1980``, ``1980-05`` or ``1980-05-17``) for the reader."""
    import datetime as dt

    from flask_babel import format_date

    iso = (iso or "")[:10]
    try:
        if len(iso) == 7:
            return format_date(dt.date.fromisoformat(iso + "-01"), "MMMM y")
        return format_date(dt.date.fromisoformat(iso), "long") if len(iso) == 10 else iso
    except ValueError:
        return iso


@bp.app_template_filter("verify_country")
def _country_text(code: str) -> str:
    from flask_babel import get_locale

    from cowin_kit.i18n import country_name

    return country_name(code.upper(), str(get_locale())) if len(code) == 2 else code


@bp.get("/verify/sw.js")
def service_worker():
    """The page's service worker. Served under /verify/ but allowed the scope /verify (the
    page itself), so it keeps the page, its files and the lists for offline checks."""
    response = send_from_directory(current_app.static_folder, "verify-sw.js",
                                   mimetype="text/javascript", max_age=0)
    response.headers["Service-Worker-Allowed"] = url_for("verify.page")
    response.headers["Content-Security-Policy"] = "default-src 'self'"
    return response
