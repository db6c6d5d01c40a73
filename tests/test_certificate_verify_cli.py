"""`cowin-kit certificate verify` (issue 12): ours with the instance's own trust and
revocation list, another issuer's with --trust; --json, --at, @FILE; exit 0 valid, 1 not
valid, 2 usage errors, never a traceback."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from cowin_kit.certificates import keys, shc

from helpers import CERTIFICATE_URL, issue_family_certificate, shared_testdata

TESTDATA = shared_testdata()
SHC_ISSUER = "https://spec.smarthealth.cards/examples/issuer"


@pytest.fixture
def issued(app, database, client, cowin_kit_instance):
    cert, ring = issue_family_certificate(app, database, client, cowin_kit_instance)
    return cert, ring


def _json(result) -> dict:
    assert "Traceback" not in result.output
    return json.loads(result.output)


def test_our_certificate_with_the_instance_trust(run_cli, issued, cowin_kit_instance):
    cert, _ = issued
    inst = ("--instance", cowin_kit_instance)
    result = run_cli("certificate", "verify", *inst, "--json", cert.hc1)
    assert result.exit_code == 0, result.output
    answer = _json(result)
    assert set(answer) == {"valid", "format", "kid", "issuer", "reason", "payload", "message"}
    assert (answer["valid"], answer["format"], answer["kid"], answer["issuer"],
            answer["reason"]) == (True, "hc1", cert.kid, "PE", None)
    assert answer["payload"]["v"][0]["ci"] == cert.uvci
    text = run_cli("certificate", "verify", *inst, cert.hc1)
    assert text.exit_code == 0 and text.output.startswith("VALID")
    assert "MARIA" in text.output or "Mária" in text.output
    assert cert.uvci in text.output


def test_a_smart_health_card_needs_the_public_url(run_cli, issued, cowin_kit_instance,
                                                  tmp_path):
    """The instance trusts its cards' issuer at its PUBLIC_URL only."""
    cert, _ = issued
    inst = ("--instance", cowin_kit_instance)
    card = tmp_path / "card.smart-health-card"
    card.write_bytes(shc.file_content(cert.shc))
    assert _json(run_cli("certificate", "verify", *inst, "--json", f"@{card}"))["reason"] \
        == "unknown_issuer"
    result = run_cli("certificate", "verify", *inst, "--json", f"@{card}",
                     env={"COWIN_KIT_PUBLIC_URL": CERTIFICATE_URL})
    assert result.exit_code == 0, result.output
    assert _json(result)["issuer"] == CERTIFICATE_URL
    numeric = run_cli("certificate", "verify", *inst, shc.numeric(cert.shc),
                      env={"COWIN_KIT_PUBLIC_URL": CERTIFICATE_URL + "/"})
    assert numeric.exit_code == 0 and "SMART Health Card" in numeric.output


def test_a_revoked_certificate_exits_1(run_cli, issued, database, cowin_kit_instance):
    from cowin_kit.certificates.models import Certificate
    from cowin_kit.db import utcnow

    cert, _ = issued
    with database.Session() as s:
        s.scalar(select(Certificate).where(Certificate.id == cert.id)).revoked_at = utcnow()
        s.commit()
    result = run_cli("certificate", "verify", "--instance", cowin_kit_instance, "--json",
                     cert.hc1)
    assert result.exit_code == 1
    assert _json(result)["reason"] == "revoked"
    plain = run_cli("certificate", "verify", "--instance", cowin_kit_instance, cert.hc1)
    assert plain.exit_code == 1 and plain.output.startswith("NOT VALID (revoked)")


def test_expired_at_a_later_time(run_cli, issued, cowin_kit_instance):
    cert, _ = issued
    later = f"{cert.expires_at.year + 1}-01-01T00:00:00Z"
    result = run_cli("certificate", "verify", "--instance", cowin_kit_instance, "--json",
                     "--at", later, cert.hc1)
    assert result.exit_code == 1 and _json(result)["reason"] == "expired"
    stamp = str(int(cert.issued_at.timestamp()) - 86400)
    result = run_cli("certificate", "verify", "--instance", cowin_kit_instance, "--json",
                     "--at", stamp, cert.hc1)
    assert result.exit_code == 1 and _json(result)["reason"] == "not_yet_valid"


def test_a_foreign_certificate_with_its_trust_list(run_cli, tmp_path):
    """No instance needed: a German test certificate, with Germany's DSC in the EU DCC
    gateway's form, at the vector's clock."""
    vector = json.loads((TESTDATA / "eu-dcc" / "DE" / "2DCode" / "raw" / "1.json").read_text())
    gateway = tmp_path / "de-trust-list.json"
    gateway.write_text(json.dumps([{"kid": None, "country": "DE",
                                    "rawData": vector["TESTCTX"]["CERTIFICATE"]}]
                                  ).replace('"kid": null, ', ""))
    payload = tmp_path / "qr.txt"
    payload.write_text(vector["PREFIX"] + "\n")
    args = ("certificate", "verify", "--trust", gateway, "--at",
            vector["TESTCTX"]["VALIDATIONCLOCK"], "--json")
    result = run_cli(*args, f"@{payload}")
    assert result.exit_code == 0, result.output
    answer = _json(result)
    assert (answer["valid"], answer["format"], answer["issuer"]) == (True, "hc1", "DE")
    # Without the clock it has long expired; with another country's trust, unknown.
    assert _json(run_cli("certificate", "verify", "--trust", gateway, "--json",
                         vector["PREFIX"]))["reason"] == "expired"
    empty = tmp_path / "empty-list.json"
    empty.write_text("[]")
    assert _json(run_cli("certificate", "verify", "--trust", empty, "--json",
                         vector["PREFIX"]))["reason"] == "unknown_kid"


@pytest.mark.parametrize("name", ["example-00-d-jws.txt", "example-00-e-file.smart-health-card",
                                  "example-01-f-qr-code-numeric-value-0.txt"])
def test_smart_health_card_examples_with_the_issuer_keys(run_cli, name):
    folder = TESTDATA / "smart-health-cards"
    result = run_cli("certificate", "verify", "--trust", folder / "issuer" / ".well-known",
                     "--iss", SHC_ISSUER, "--at", "2023-06-24", f"@{folder / name}")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("VALID") and "Anyperson" in result.output


def test_a_published_revocation_list_is_consulted(run_cli, tmp_path):
    folder = TESTDATA / "smart-health-cards"
    card = folder / "example-00-d-jws.txt"
    crl = tmp_path / "crl.json"
    crl.write_text(json.dumps({"kid": "x", "method": "rid", "ctr": 1,
                               "rids": ["MKyCxh7p6uQ.1900000000"]}))
    result = run_cli("certificate", "verify", "--trust", folder / "issuer" / ".well-known",
                     "--iss", SHC_ISSUER, "--at", "2023-06-24", "--revoked", crl, "--json",
                     f"@{card}")
    assert result.exit_code == 1 and _json(result)["reason"] == "revoked"


def test_garbage_is_not_valid_never_a_traceback(run_cli, tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    for payload in ("hello", "HC1:%%%", "shc:/1/2/56", "{}", "x" * 300_000):
        result = run_cli("certificate", "verify", "--trust", empty, "--json", payload)
        assert result.exit_code == 1, result.output
        assert _json(result)["valid"] is False


def test_usage_errors_exit_2(run_cli, refused, tmp_path, cowin_kit_instance):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    refused(run_cli("certificate", "verify", "--trust", bad, "HC1:X"), "bad.json",
            "not valid JSON")
    refused(run_cli("certificate", "verify", "--trust", tmp_path / "none", "HC1:X"),
            "none", "cannot be read")
    good = tmp_path / "good.json"
    good.write_text("[]")
    refused(run_cli("certificate", "verify", "--trust", good, "--at", "yesterday", "HC1:X"),
            "--at", "ISO 8601")
    refused(run_cli("certificate", "verify", "--trust", good, "@" + str(tmp_path / "no.txt")),
            "no.txt", "cannot be read")
    refused(run_cli("certificate", "verify", "--trust", good, "@"), "@FILE")
    refused(run_cli("certificate", "verify", "--trust", good, "--revoked", good, "--revoked",
                    bad, "HC1:X"), "--revoked", "bad.json")
    refused(run_cli("certificate", "verify", "--iss", SHC_ISSUER, "--instance",
                    cowin_kit_instance, "HC1:X"), "--iss")
    refused(run_cli("certificate", "verify", "--instance", tmp_path / "nowhere", "HC1:X"),
            "no cowin-kit instance")
    assert run_cli("certificate", "verify").exit_code == 2  # PAYLOAD missing


def test_the_published_trust_list_file_verifies_our_certificate(run_cli, issued, tmp_path):
    cert, ring = issued
    exported = tmp_path / "pe.json"
    exported.write_text(json.dumps(keys.trust_list(ring)))
    result = run_cli("certificate", "verify", "--trust", exported, cert.hc1)
    assert result.exit_code == 0, result.output


def test_a_database_without_the_certificates_table_is_refused_in_one_line(
        run_cli, refused, cowin_kit_instance, database):
    from sqlalchemy import text

    with database.engine.begin() as connection:
        connection.execute(text("DROP TABLE certificate"))
    refused(run_cli("certificate", "verify", "--instance", cowin_kit_instance, "HC1:X"),
            "database error")
