"""POST /api/v2/certificates/verify (issue 12): the deployment's own trust and revocation
list; the CLI's JSON; a bad body is a 400 naming the field; limited per address."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from cowin_kit.certificates import shc

from helpers import CERTIFICATE_URL, issue_family_certificate, shared_testdata

URL = "/api/v2/certificates/verify"


@pytest.fixture
def issued(app, database, client, cowin_kit_instance):
    cert, _ = issue_family_certificate(app, database, client, cowin_kit_instance)
    return cert


def test_our_certificate_is_valid(client, issued):
    response = client.post(URL, json={"payload": issued.hc1})
    assert response.status_code == 200
    answer = response.get_json()
    assert set(answer) == {"valid", "format", "kid", "issuer", "reason", "payload", "message"}
    assert (answer["valid"], answer["format"], answer["kid"], answer["issuer"]) == (
        True, "hc1", issued.kid, "PE")
    assert answer["payload"]["v"][0]["ci"] == issued.uvci and answer["message"]
    assert response.headers["Cache-Control"] == "no-store"


def test_our_smart_health_card_is_valid_under_the_public_url(client, issued, change_settings):
    assert client.post(URL, json={"payload": issued.shc}).get_json()["reason"] \
        == "unknown_issuer"
    change_settings(PUBLIC_URL=CERTIFICATE_URL)
    for payload in (issued.shc, shc.numeric(issued.shc), shc.file_content(issued.shc).decode()):
        answer = client.post(URL, json={"payload": payload}).get_json()
        assert (answer["valid"], answer["format"], answer["issuer"]) == (True, "shc",
                                                                        CERTIFICATE_URL)


def test_a_revoked_certificate_is_not_valid(client, issued, database):
    from cowin_kit.certificates.models import Certificate
    from cowin_kit.db import utcnow

    with database.Session() as s:
        s.scalar(select(Certificate).where(Certificate.id == issued.id)).revoked_at = utcnow()
        s.commit()
    answer = client.post(URL, json={"payload": issued.hc1}).get_json()
    assert (answer["valid"], answer["reason"]) == (False, "revoked")


def test_foreign_and_garbage_payloads_are_answered_not_valid(client):
    vector = shared_testdata() / "eu-dcc" / "DE" / "2DCode" / "raw" / "1.json"
    import json

    german = json.loads(vector.read_text())["PREFIX"]
    for payload, reason in ((german, "unknown_kid"), ("hello", "unknown_format"),
                            ("HC1:%%%", "base45"), ("shc:/1/2/5676", "shc_chunked"),
                            (german[:202], "zlib"), ("x" * 300_000, "too_large")):
        response = client.post(URL, json={"payload": payload})
        assert response.status_code == 200, payload[:20]
        answer = response.get_json()
        assert (answer["valid"], answer["reason"]) == (False, reason)
        assert answer["message"]


@pytest.mark.parametrize("body", [None, "HC1:X", [], {}, {"payload": None}, {"payload": 5},
                                  {"payload": ["HC1:X"]}, {"payload": ""}, {"payload": "  "},
                                  {"payload": "HC1:\u0000"}])
def test_a_bad_body_is_a_400(client, body):
    if body is None:
        response = client.post(URL, data="payload=HC1:X")
    else:
        response = client.post(URL, json=body)
    assert response.status_code == 400
    answer = response.get_json()
    assert answer["errorCode"] == "BAD_REQUEST" and answer["error"]
    if isinstance(body, dict):
        assert "payload" in answer["error"] or "JSON" in answer["error"]


def test_the_message_is_in_the_callers_language(client):
    english = client.post(URL, json={"payload": "hello"},
                          headers={"Accept-Language": "en"}).get_json()["message"]
    assert "HC1:" in english and "shc:/" in english


def test_verifications_are_limited_per_address(app, client):
    from cowin_kit.api.certificates import VERIFY_PER_ADDRESS

    allowed = int(VERIFY_PER_ADDRESS.split()[0])
    statuses = [client.post(URL, json={"payload": "hello"}).status_code
                for _ in range(allowed + 1)]
    assert statuses[:allowed] == [200] * allowed
    assert statuses[-1] == 429
    other = client.post(URL, json={"payload": "hello"},
                        environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert other.status_code == 200
