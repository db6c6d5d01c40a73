"""What verifiers download: the trust list, the JWK Set, the revocation list and the SMART
Health Cards CRLs; public, cacheable, and open to verifier apps on other sites (CORS)."""
import base64
import datetime as dt

import pytest
from cryptography import x509

from helpers import add_member, certificate_rows, reference, vaccinated, web_login

PUBLIC = ["/certificates/trust-list.json", "/.well-known/jwks.json",
          "/certificates/revocation-list.json"]


@pytest.fixture
def revoked(app, database, client, cowin_kit_instance):
    """A person with two doses, the first version of the certificate revoked: its UVCI."""
    from cowin_kit.certificates import admin

    web_login(client, cowin_kit_instance)
    add_member(client, "45678912")
    ref = reference(database)
    first = vaccinated(app, database, ref, number=1, days_ago=40)
    vaccinated(app, database, ref, number=2, days_ago=10)
    with database.Session() as s:
        admin.revoke(s, first, reason="Issued for the wrong person.", user="test")
        s.commit()
    return first


@pytest.mark.parametrize("url", PUBLIC)
def test_public_json_with_cors_cache_and_etag(client, url):
    r = client.get(url)
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.headers["Cache-Control"] == "public, max-age=300"
    assert "Set-Cookie" not in r.headers
    etag = r.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_trust_list_is_the_eu_gateway_form(client, cowin_kit_instance):
    [entry] = client.get("/certificates/trust-list.json").get_json()
    assert {"kid", "country", "rawData"} <= set(entry)
    cert = x509.load_der_x509_certificate(base64.b64decode(entry["rawData"]))
    [dsc] = (cowin_kit_instance / "signing").glob("dsc-*[0-9].pem")
    assert cert == x509.load_pem_x509_certificate(dsc.read_bytes())


def test_jwks_publishes_the_crl_version_of_each_key(client, revoked):
    [key] = client.get("/.well-known/jwks.json").get_json()["keys"]
    assert key["kty"] == "EC" and key["kid"] and "d" not in key
    assert key["crlVersion"] == 2  # one card revoked under the key


def test_revocation_list_holds_the_hash_and_the_rid(client, revoked):
    from cowin_kit.certificates.revocation import rid, uvci_hash

    data = client.get("/certificates/revocation-list.json").get_json()
    assert data["hashType"] == "UCI"
    assert data["hashes"] == [uvci_hash(revoked)] and data["rids"] == [rid(revoked)]
    assert revoked not in str(data)  # never the UVCI itself
    generated = dt.datetime.fromisoformat(data["generated"].replace("Z", "+00:00"))
    assert abs(generated - dt.datetime.now(dt.UTC)) < dt.timedelta(hours=1)


def test_the_revocation_list_changes_its_etag_when_a_certificate_is_revoked(
        app, database, client, revoked):
    from cowin_kit.certificates import admin

    before = client.get("/certificates/revocation-list.json").headers["ETag"]
    second = certificate_rows(database, reference(database))[-1]
    with database.Session() as s:
        admin.revoke(s, second.uvci, reason="Recorded at the wrong centre.", user="test")
        s.commit()
    r = client.get("/certificates/revocation-list.json", headers={"If-None-Match": before})
    assert r.status_code == 200 and len(r.get_json()["hashes"]) == 2


def test_the_smart_health_card_crl_per_key(client, revoked):
    from cowin_kit.certificates.revocation import rid

    [key] = client.get("/.well-known/jwks.json").get_json()["keys"]
    r = client.get(f"/.well-known/crl/{key['kid']}.json")
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.get_json() == {"kid": key["kid"], "method": "rid", "ctr": key["crlVersion"],
                            "rids": [rid(revoked)]}
    assert client.get(r.request.path, headers={"If-None-Match": r.headers["ETag"]}
                      ).status_code == 304


@pytest.mark.parametrize("kid", ["unknown", "x" * 300, "%00", "..%2F..%2Fetc"])
def test_an_unknown_kid_is_a_404(client, kid):
    r = client.get(f"/.well-known/crl/{kid}.json")
    assert r.status_code == 404
    if r.mimetype == "application/json":
        assert "error" in r.get_json()


def test_unreadable_keys_are_a_503_not_a_500(client, cowin_kit_instance):
    (cowin_kit_instance / "signing" / "csca.pem").unlink()
    for url in PUBLIC[:2]:
        r = client.get(url)
        assert r.status_code == 503 and "error" in r.get_json()
        assert r.headers["Cache-Control"] == "no-store"
    assert client.get(PUBLIC[2]).status_code == 200  # it needs no key
