"""`cowin-kit keys show|rotate|export-trust-list`: the signing keys an operator looks after,
and rotation that keeps every certificate issued before verifiable."""
import base64
import datetime as dt
import json
import zlib

import base45
import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from helpers import add_member, audit_rows, certificate_rows, reference, vaccinated, web_login


def _keys(run_cli, instance, *args):
    return run_cli("keys", *args, "--instance", str(instance))


def _verify_hc1(hc1: str, trust: list[dict]) -> str:
    """Check an HC1's COSE signature against a trust list in the EU gateway's form, with
    cryptography alone: the kid (base64) of the certificate that signed it."""
    cose = cbor2.loads(zlib.decompress(base45.b45decode(hc1[4:])))
    protected, _unprotected, payload, signature = cose.value
    kid = base64.b64encode(cbor2.loads(protected)[4]).decode()
    [entry] = [e for e in trust if e["kid"] == kid]
    cert = x509.load_der_x509_certificate(base64.b64decode(entry["rawData"]))
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                               int.from_bytes(signature[32:], "big"))
    cert.public_key().verify(der, cbor2.dumps(["Signature1", protected, b"", payload]),
                             ec.ECDSA(hashes.SHA256()))
    return kid


def test_show_names_each_certificate_and_never_prints_key_material(run_cli,
                                                                   cowin_kit_instance):
    result = _keys(run_cli, cowin_kit_instance, "show")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Country signing CA (CSCA)" in out and "certificate signing" in out
    assert "EU DCC vaccination certificates" in out and "signs new certificates" in out
    assert "private key  present" in out
    assert "PRIVATE KEY" not in out and "BEGIN" not in out
    [dsc] = (cowin_kit_instance / "signing").glob("dsc-*[0-9].pem")
    cert = x509.load_pem_x509_certificate(dsc.read_bytes())
    from cowin_kit.certificates.keys import kid_of
    assert base64.b64encode(kid_of(cert)).decode() in out
    assert "Warning" not in out


def test_rotation_keeps_old_certificates_verifiable(app, database, client, run_cli,
                                                    cowin_kit_instance):
    web_login(client, cowin_kit_instance)
    add_member(client, "45678912", name="Rosa Quispe")
    ref = reference(database)
    vaccinated(app, database, ref, number=1, days_ago=40)
    [old] = certificate_rows(database, ref)

    result = _keys(run_cli, cowin_kit_instance, "rotate")
    assert result.exit_code == 0, result.output
    assert "Publish the new trust list" in result.output
    assert "export-trust-list" in result.output
    [event] = audit_rows(database, "keys.rotated")
    assert event.actor.startswith("cli:") and event.target.startswith("dsc:")
    # Only the new DSC's private key is left; both certificates stay.
    folder = cowin_kit_instance / "signing"
    assert len(list(folder.glob("dsc-*-key.pem"))) == 1
    assert len(list(folder.glob("dsc-*[0-9].pem"))) == 2

    vaccinated(app, database, ref, number=2, days_ago=10)
    first, second = certificate_rows(database, ref)
    trust = json.loads(_keys(run_cli, cowin_kit_instance, "export-trust-list").output)
    assert first.kid != second.kid and {first.kid, second.kid} <= {e["kid"] for e in trust}
    assert _verify_hc1(first.hc1, trust) == old.kid == first.kid
    assert _verify_hc1(second.hc1, trust) == second.kid
    assert event.target == f"dsc:{second.kid}"
    # The JWK Set has both keys, so the older SMART Health Card verifies too.
    jwks = json.loads(_keys(run_cli, cowin_kit_instance, "export-trust-list",
                            "--format", "jwks").output)
    assert len(jwks["keys"]) == 2


def test_export_formats_parse(run_cli, cowin_kit_instance, tmp_path):
    out = tmp_path / "trust.json"
    result = _keys(run_cli, cowin_kit_instance, "export-trust-list", "-o", str(out))
    assert result.exit_code == 0, result.output
    [entry] = json.loads(out.read_text())
    assert entry["country"] == "PE" and entry["certificateType"] == "DSC"
    cert = x509.load_der_x509_certificate(base64.b64decode(entry["rawData"]))
    from cowin_kit.certificates.keys import kid_of
    assert base64.b64encode(kid_of(cert)).decode() == entry["kid"]

    pem = _keys(run_cli, cowin_kit_instance, "export-trust-list", "--format", "pem")
    assert pem.exit_code == 0 and "PRIVATE" not in pem.output
    [loaded] = x509.load_pem_x509_certificates(pem.output.encode())
    assert loaded == cert

    jwks = json.loads(_keys(run_cli, cowin_kit_instance, "export-trust-list", "--format",
                            "jwks").output)
    [key] = jwks["keys"]
    assert key["kid"] and key["kty"] == "EC" and key["alg"] == "ES256" and "d" not in key


def test_export_refuses_a_file_it_cannot_write(run_cli, cowin_kit_instance, tmp_path, refused):
    target = tmp_path / "missing" / "trust.json"
    result = _keys(run_cli, cowin_kit_instance, "export-trust-list", "-o", str(target))
    refused(result, str(target))
    result = _keys(run_cli, cowin_kit_instance, "export-trust-list", "--format", "xml")
    assert result.exit_code == 2 and "xml" in result.output


def test_show_and_config_check_warn_when_the_signing_certificate_expires_soon(
        run_cli, cowin_kit_instance):
    from cowin_kit.certificates import keys

    # A DSC made 700 days ago expires 30 days from now (DSCs last 730 days); it is the
    # instance's only one.
    for path in (cowin_kit_instance / "signing").glob("dsc-*"):
        path.unlink()
    keys.rotate(cowin_kit_instance, country="PE", issuer="MINSA",
                now=dt.datetime.now(dt.UTC) - dt.timedelta(days=700))
    result = _keys(run_cli, cowin_kit_instance, "show")
    assert result.exit_code == 0
    assert "expires on" in result.output and "cowin-kit keys rotate" in result.output
    check = run_cli("config", "check", "--instance", str(cowin_kit_instance))
    assert check.exit_code == 0, check.output
    assert "expires on" in check.output and "keys rotate" in check.output
    # Rotating ends the warning.
    assert _keys(run_cli, cowin_kit_instance, "rotate").exit_code == 0
    assert "expires on" not in _keys(run_cli, cowin_kit_instance, "show").output


@pytest.mark.parametrize("missing", ["csca", "dscs", "dsc-key", "ca-key"])
def test_missing_key_files_are_named_with_the_fix(run_cli, cowin_kit_instance, refused,
                                                  missing):
    folder = cowin_kit_instance / "signing"
    if missing == "csca":
        (folder / "csca.pem").unlink()
        refused(_keys(run_cli, cowin_kit_instance, "show"), "csca.pem is missing",
                "cowin-kit init --update")
        refused(_keys(run_cli, cowin_kit_instance, "rotate"), "csca.pem is missing",
                "cowin-kit init --update")
        refused(run_cli("config", "check", "--instance", str(cowin_kit_instance)),
                "csca.pem is missing")
    elif missing == "dscs":
        for path in folder.glob("dsc-*"):
            path.unlink()
        refused(_keys(run_cli, cowin_kit_instance, "show"),
                "no document signing certificate", "cowin-kit keys rotate")
        assert _keys(run_cli, cowin_kit_instance, "rotate").exit_code == 0
        assert _keys(run_cli, cowin_kit_instance, "show").exit_code == 0
    elif missing == "dsc-key":
        [key] = folder.glob("dsc-*-key.pem")
        key.unlink()
        result = _keys(run_cli, cowin_kit_instance, "show")
        assert result.exit_code == 0 and "MISSING" in result.output
        assert key.name in result.output and "keys rotate" in result.output
        refused(run_cli("config", "check", "--instance", str(cowin_kit_instance)),
                key.name, "keys rotate")
    else:
        (cowin_kit_instance / "signing-key.pem").unlink()
        refused(_keys(run_cli, cowin_kit_instance, "rotate"), "signing-key.pem is missing",
                "backup")


def test_a_corrupt_certificate_file_is_named(run_cli, cowin_kit_instance, refused):
    [dsc] = (cowin_kit_instance / "signing").glob("dsc-*[0-9].pem")
    dsc.write_text("not a certificate")
    refused(_keys(run_cli, cowin_kit_instance, "show"), dsc.name, "not a PEM certificate")


def test_the_dsc_key_can_come_from_the_environment(run_cli, cowin_kit_instance):
    [key] = (cowin_kit_instance / "signing").glob("dsc-*-key.pem")
    pem = key.read_text()
    key.unlink()
    result = run_cli("keys", "show", "--instance", str(cowin_kit_instance),
                     env={"COWIN_KIT_DSC_KEY": pem})
    assert result.exit_code == 0, result.output
    assert "from the DSC_KEY setting" in result.output and "BEGIN" not in result.output
