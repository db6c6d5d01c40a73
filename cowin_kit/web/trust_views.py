"""What verifiers download, public and cacheable: the trust list (the document signing
certificates), the SMART Health Cards JWK Set and per-key revocation lists (CRL), and the
revocation list of UVCI hashes. Verifier apps on other sites fetch them, hence CORS for
everyone; answers carry an ETag and may be cached for five minutes. Routes only: the
content is cowin_kit.certificates.keys' and .revocation's."""
from __future__ import annotations

import hashlib
import json
import logging

from flask import Blueprint, Response, request

from cowin_kit.certificates import keys, revocation
from cowin_kit.db import utcnow
from cowin_kit.runtime import deployment, read_session

bp = Blueprint("trust", __name__)

MAX_AGE = 300  # seconds a verifier (or a proxy) may reuse an answer without asking again
log = logging.getLogger("cowin_kit")


def _json(data, *, status: int = 200, etag_of=None) -> Response:
    """A public JSON answer with CORS, caching and an ETag (of ``etag_of`` when the body
    holds something that changes at every request, such as the time it was made: a weak
    ETag then, as the bytes differ)."""
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    response = Response(body, status=status, mimetype="application/json")
    headers = response.headers
    headers["Access-Control-Allow-Origin"] = "*"
    headers["Access-Control-Expose-Headers"] = "ETag"
    if status != 200:
        headers["Cache-Control"] = "no-store"
        return response
    headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    if etag_of is None:
        response.add_etag()
    else:
        tag = hashlib.sha256(json.dumps(etag_of, sort_keys=True).encode()).hexdigest()[:32]
        response.set_etag(tag, weak=True)
    response = response.make_conditional(request)
    # make_conditional adds a Date; the HTTP server adds its own (two would be one header
    # holding two dates, which clients cannot parse).
    del response.headers["Date"]
    return response


def _ring():
    """The instance's keys, or None (logged) when they cannot be read."""
    from cowin_kit.certificates import issuing

    try:
        return issuing.ring_for(deployment().settings)
    except keys.KeyError_ as exc:
        log.error("certificate keys unreadable: %s", exc)
        return None


def _unavailable() -> Response:
    return _json({"error": "The signing keys of this deployment cannot be read; try again "
                           "later."}, status=503)


@bp.get("/certificates/trust-list.json")
def trust_list():
    ring = _ring()
    if ring is None:
        return _unavailable()
    return _json(keys.trust_list(ring))


@bp.get("/.well-known/jwks.json")
def jwks():
    ring = _ring()
    if ring is None:
        return _unavailable()
    return _json(revocation.published_jwks(read_session(), ring))


@bp.get("/.well-known/crl/<kid>.json")
def crl(kid: str):
    ring = _ring()
    if ring is None:
        return _unavailable()
    found = revocation.crl(read_session(), ring, kid) if len(kid) <= 64 else None
    if found is None:
        return _json({"error": "No signing key of this issuer has this kid."}, status=404)
    return _json(found)


@bp.get("/certificates/revocation-list.json")
def revocation_list():
    listed = revocation.revocation_list(read_session())
    generated = utcnow().replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return _json({**listed, "generated": generated}, etag_of=listed)
