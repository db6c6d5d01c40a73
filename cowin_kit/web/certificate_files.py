"""A certificate's files as HTTP answers, for the portal and the API alike: the stored PDF
(built once per version and language, then sent from the instance folder), the printable
page's values, and the deployment's issuer.

The PDF answer is the hot path of certificate downloads: it only computes the content key
and sends the stored file (ETag = the key, so a client that has it gets a 304). Fonts and
the PDF builder are loaded only when a version is downloaded for the first time.
"""
from __future__ import annotations

import logging

from flask import Response, request, send_file

from cowin_kit.certificates import printable
from cowin_kit.certificates.downloads import Current
from cowin_kit.certificates.models import Certificate
from cowin_kit.runtime import db_session, deployment

PDF = "application/pdf"
log = logging.getLogger(__name__)


def issuer() -> printable.Issuer:
    """The deployment's issuer; certificates are verified at its PUBLIC_URL, else at the
    address this request came to."""
    dep = deployment()
    public_url = dep.settings.get("PUBLIC_URL") or request.host_url
    return printable.Issuer.from_profile(dep.profile, public_url, dep.timezone)


def translation_dirs() -> list:
    from cowin_kit.paths import locales_dir

    dep = deployment()
    messenger = dep.messenger
    if messenger is not None:
        return list(messenger.translation_dirs)
    return [*dep.plugins.translation_dirs(), locales_dir()]


def language(certificate_language: str | None) -> str:
    return certificate_language or deployment().profile.default_language


def printable_values(certificate: Certificate, lang: str | None = None,
                     the_issuer: printable.Issuer | None = None) -> printable.Printable:
    """What the printable certificate shows (the HTML page, and a PDF being built)."""
    lang = lang or language(certificate.language)
    return printable.gather(db_session(), certificate, issuer=the_issuer or issuer(),
                            lang=lang,
                            translations=printable.translations_for(lang, translation_dirs()))


def pdf_response(found: Current, *, cache_control: str = "private, no-cache") -> Response:
    """The stored PDF of ``found`` (built first when this version has none yet) as a
    download; 304 when the client already has it."""
    dep = deployment()
    lang = language(found.language)
    the_issuer = issuer()
    key = printable.content_key(found.uvci, found.version, lang, the_issuer)
    store = printable.store_for(dep.settings.instance_path or ".")
    path = store.stored_path(key)
    if path is None:
        def build() -> bytes:
            certificate = db_session().get(Certificate, found.certificate_id)
            return printable.render_pdf(printable_values(certificate, lang, the_issuer))
        try:
            path = printable.stored_pdf(store, key, build)
        except OSError as exc:  # the folder is full or not writable: answer all the same
            log.warning("certificate PDF not stored in %s: %s", store.folder, exc.strerror)
            data = build()
            response = Response(data, mimetype=PDF, headers={
                "Content-Disposition": f'attachment; filename="{download_name(found, "pdf")}"',
                "ETag": f'"{key}"'})
            response.headers["Cache-Control"] = cache_control
            return response
    response = send_file(path, mimetype=PDF, as_attachment=True, etag=key, conditional=True,
                         download_name=download_name(found, "pdf"), max_age=None)
    response.headers["Cache-Control"] = cache_control
    return response


def download_name(found: Current, suffix: str) -> str:
    return f"vaccination-certificate-{found.reference_id}-v{found.version}.{suffix}"
