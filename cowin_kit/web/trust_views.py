"""What verifiers download to check this deployment's certificates, also offline: the trust
list (the document signing certificates, EU DCC gateway form), the revocation list (hashes
of revoked UVCIs and SMART Health Card rids) and the SMART Health Cards issuer keys (JWK Set
at /.well-known/jwks.json, the card's ``iss`` being PUBLIC_URL).

Routes only. Public, cacheable for a few minutes (ETag: a verifier that has the list gets a
304), and readable by verifier apps on other sites (CORS), as SMART Health Cards require of
the JWK Set.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify, request

from cowin_kit.runtime import deployment, read_session

bp = Blueprint("trust", __name__)

MAX_AGE = 300


def _published(data) -> Response:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    response = Response(body, mimetype="application/json")
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.add_etag()
    response = response.make_conditional(request)
    # make_conditional adds a Date; the HTTP server adds its own (two would be one header
    # holding two dates, which clients cannot parse).
    del response.headers["Date"]
    return response


def _ring_or_answer():
    """The instance's key ring, or a 503 answer naming the fix when its keys are missing."""
    from cowin_kit.certificates import issuing, keys

    try:
        return issuing.ring_for(deployment().settings), None
    except keys.KeyError_ as exc:
        answer = jsonify({"error": "signing keys unavailable", "detail": str(exc)})
        answer.headers["Retry-After"] = "300"
        return None, (answer, 503)


@bp.get("/certificates/trust-list.json")
def trust_list():
    """The document signing certificates: ``kid``, ``country``, ``rawData`` (base64 DER),
    and the public key, key usages and validity for verifiers that cannot parse X.509."""
    from cowin_kit.certificates import keys

    ring, answer = _ring_or_answer()
    return answer or _published(keys.trust_list(ring))


@bp.get("/certificates/revocation-list.json")
def revocation_list():
    """Revoked certificates: ``hashes`` (EU DCC UCI hashes) and ``rids`` (SMART Health
    Cards)."""
    from cowin_kit.certificates import revocation

    return _published(revocation.revocation_list(read_session()))


@bp.get("/.well-known/jwks.json")
def jwks():
    """The SMART Health Cards issuer keys."""
    from cowin_kit.certificates import keys

    ring, answer = _ring_or_answer()
    return answer or _published(keys.jwks(ring))
