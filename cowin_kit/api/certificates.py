"""Certificate verification over the API: ``POST /api/v2/certificates/verify``.

A verifier (an airline, a border post, an employer's app) sends what a certificate's QR code
holds and gets the same answer as ``cowin-kit certificate verify --json``: valid or not, why,
and the decoded certificate. It trusts this deployment's own keys and consults its
revocation list (read from the read session, so a revocation counts at once on a primary
and within a replica's lag on a replica). No login; limited per address, since each check
costs a signature verification; a verifier checking in bulk verifies offline with the
published trust list instead.
"""
from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from flask_babel import gettext

from cowin_kit.api.body import load_body
from cowin_kit.api.errors import ApiError, register
from cowin_kit.plugins.interfaces import N_
from cowin_kit.runtime import deployment, read_session
from cowin_kit.web.limits import limiter

bp = Blueprint("api_certificates", __name__, url_prefix="/api/v2")
register(bp)

log = logging.getLogger(__name__)

MSG_NO_TRUST = N_("Certificates cannot be verified here at the moment; try again later.")
VERIFY_PER_ADDRESS = "600 per minute"
verifies = limiter.shared_limit(VERIFY_PER_ADDRESS, scope="certificate-verify",
                                methods=["POST"])

_trusts: dict = {}  # (id of the key ring, PUBLIC_URL) -> (ring, TrustList)


def deployment_trust():
    """The deployment's own trust list, built once per key ring (a rotation makes a new
    ring: cowin_kit.certificates.issuing.ring_for)."""
    from cowin_kit.certificates.issuing import ring_for
    from cowin_kit.certificates.keys import KeyError_
    from cowin_kit.certificates.trust import TrustList

    settings = deployment().settings
    try:
        ring = ring_for(settings)
    except KeyError_ as exc:  # the signing folder is gone: say so, never a 500
        log.error("certificate verification is unavailable: %s", exc)
        raise ApiError(MSG_NO_TRUST, status=503) from None
    public_url = (settings.get("PUBLIC_URL") or "").rstrip("/")
    key = (id(ring), public_url)
    cached = _trusts.get(key)
    if cached is None or cached[0] is not ring:
        if len(_trusts) > 16:
            _trusts.clear()
        cached = _trusts[key] = (ring, TrustList.from_ring(ring, public_url))
    return cached[1]


@bp.post("/certificates/verify")
@verifies
def verify_certificate():
    from cowin_kit.certificates.revocation import revocation_list
    from cowin_kit.certificates.verify import RevocationList, verify

    body = load_body()  # schemas.VerifyCertificateRequest: payload, non-blank text
    revoked = RevocationList.from_document(revocation_list(read_session()))
    result = verify(body["payload"], deployment_trust(), revoked=revoked)
    response = jsonify(result.as_json(gettext))
    # The answer names a person: never kept by a shared cache or the browser's.
    response.headers["Cache-Control"] = "no-store"
    return response
