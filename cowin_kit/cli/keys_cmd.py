"""`cowin-kit keys show|rotate|export-trust-list`: the country's certificate signing keys
(cowin_kit.certificates.keys). Nothing here ever prints key material: only certificates,
key ids and whether a private key is present."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from cowin_kit.cli.common import (
    Refused,
    db_errors_refused,
    instance_option,
    load_instance,
    load_instance_profile,
    open_database,
)

EKU_NAMES = {
    "1.3.6.1.4.1.1847.2021.1.1": "EU DCC test certificates",
    "1.3.6.1.4.1.1847.2021.1.2": "EU DCC vaccination certificates",
    "1.3.6.1.4.1.1847.2021.1.3": "EU DCC recovery certificates",
}


@click.group()
def keys():
    """The certificate signing keys: show them, rotate the document signing key, and export
    the trust list other countries' verifiers load."""


def _ring(settings):
    from cowin_kit.certificates import keys as signing

    try:
        return signing.from_settings(settings)
    except signing.KeyError_ as exc:
        raise Refused(str(exc)) from None


def _validity(cert) -> str:
    return f"{cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d}"


def _usages(cert) -> str:
    from cryptography import x509

    from cowin_kit.certificates import keys as signing

    names = []
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        if usage.digital_signature:
            names.append("digital signature")
        if usage.key_cert_sign:
            names.append("certificate signing")
        if usage.crl_sign:
            names.append("CRL signing")
    except x509.ExtensionNotFound:
        pass
    names += [EKU_NAMES.get(oid, oid) for oid in signing.key_usages(cert)]
    return ", ".join(names) or "none"


@keys.command()
@instance_option
def show(instance):
    """Print the country signing CA and every document signing certificate (key id,
    subject, validity, key usage, which one signs, whether its private key is here); warn
    when the signing one expires within 60 days."""
    from cowin_kit.certificates import keys as signing

    settings = load_instance(instance)
    ring = _ring(settings)
    folder = Path(settings.instance_path) / signing.FOLDER
    ca_key = Path(settings.instance_path) / str(settings["SIGNING_KEY_FILE"])
    click.echo(f"Country signing CA (CSCA): {folder / signing.CSCA_FILE}")
    click.echo(f"  subject      {ring.csca.subject.rfc4514_string()}")
    click.echo(f"  valid        {_validity(ring.csca)}")
    click.echo(f"  key usage    {_usages(ring.csca)}")
    click.echo(f"  private key  {'present' if ca_key.exists() else 'MISSING'} ({ca_key})")
    click.echo(f"\nDocument signing certificates (DSC), oldest first ({len(ring.signers)}):")
    for i, signer in enumerate(ring.signers):
        newest = i == len(ring.signers) - 1
        key_file = signing._key_path(signer.path)
        if key_file.exists():
            key = f"present ({key_file.name})"
        elif signer.private_key is not None:
            key = "present (from the DSC_KEY setting)"
        elif newest:
            key = f"MISSING ({key_file.name}, or the DSC_KEY setting)"
        else:
            key = "destroyed at rotation (its certificate stays for verifiers)"
        role = "signs new certificates" if newest else "retired: verifies what it signed"
        click.echo(f"  {signer.path.name}  [{role}]")
        click.echo(f"    kid          {signer.kid_b64}")
        click.echo(f"    SMART kid    {signing.jwk(signer)['kid']}")
        click.echo(f"    subject      {signer.certificate.subject.rfc4514_string()}")
        click.echo(f"    valid        {_validity(signer.certificate)}")
        click.echo(f"    key usage    {_usages(signer.certificate)}")
        click.echo(f"    private key  {key}")
    for warning in filter(None, [signing.missing_key(ring), *signing.warnings(ring)]):
        click.secho(f"Warning: {warning}", fg="yellow", err=True)


@keys.command()
@instance_option
@db_errors_refused
def rotate(instance):
    """Make a new document signing certificate (signed by the CSCA) the one that signs.

    The older DSCs' private keys are deleted; their certificates stay in the trust list, so
    every certificate issued before still verifies. Publish the new trust list afterwards.
    """
    from cowin_kit.accounts.service import audit
    from cowin_kit.certificates import keys as signing
    from cowin_kit.provisioning import operator

    settings = load_instance(instance)
    profile = load_instance_profile(settings)
    path = Path(settings.instance_path)
    db = open_database(settings)  # the rotation is audited: a database that answers first
    try:
        try:
            signer = signing.rotate(path, country=profile.code,
                                    issuer=profile["certificate"]["issuer"],
                                    signing_key_file=str(settings["SIGNING_KEY_FILE"]))
        except signing.KeyError_ as exc:
            raise Refused(str(exc)) from None
        with db.session() as session:
            audit(session, operator(), "keys.rotated", f"dsc:{signer.kid_b64}",
                  file=signer.path.name, not_after=signer.not_after.isoformat())
    finally:
        db.dispose()
    click.echo(f"New document signing certificate {signing.FOLDER}/{signer.path.name}")
    click.echo(f"  kid {signer.kid_b64}, valid until {signer.not_after:%Y-%m-%d}")
    click.echo("It signs every certificate issued from now on (the running servers pick it up "
               "without a restart). Certificates signed before still verify: the older "
               "certificates stay in the trust list; their private keys were deleted.")
    if settings["DSC_KEY"]:
        click.secho("DSC_KEY is set: the new private key was written to "
                    f"{signing.FOLDER}/{signing._key_path(signer.path).name}. Move it to your "
                    "secrets store, set DSC_KEY to it, and delete the file.",
                    fg="yellow", err=True)
    inst = f" --instance {path}" if instance else ""
    click.echo("\nPublish the new trust list now, to the EU DCC gateway and the countries "
               "that verify your certificates:")
    click.echo(f"  cowin-kit keys export-trust-list{inst} -o trust-list.json")
    click.echo("  (the server also serves it: /certificates/trust-list.json and "
               "/.well-known/jwks.json)")


FORMATS = ("eu", "pem", "jwks")


def trust_list_text(ring, fmt: str) -> str:
    """The trust list as ``fmt``: the EU DCC gateway's JSON list of DSCs, a PEM bundle of
    them, or the SMART Health Cards JWK Set."""
    from cryptography.hazmat.primitives import serialization

    from cowin_kit.certificates import keys as signing

    if fmt == "pem":
        return "".join(s.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
                       for s in ring.signers)
    data = signing.jwks(ring) if fmt == "jwks" else signing.trust_list(ring)
    return json.dumps(data, indent=2) + "\n"


@keys.command("export-trust-list")
@instance_option
@click.option("--output", "-o", metavar="FILE", type=click.Path(dir_okay=False),
              help="Write to FILE instead of standard output.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="eu", show_default=True,
              help="eu: the EU DCC gateway's JSON (a list of {kid, country, rawData, …}); "
                   "pem: a PEM bundle of the document signing certificates; jwks: the "
                   "SMART Health Cards JWK Set.")
def export_trust_list(instance, output, fmt):
    """Write the trust list: every document signing certificate with its key id, for other
    countries' verifiers and the EU DCC gateway. Public data: no private key is in it."""
    settings = load_instance(instance)
    text = trust_list_text(_ring(settings), fmt)
    if not output:
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise Refused(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"Wrote the trust list ({fmt}) to {output}.", err=True)


def key_problems(settings, now: dt.datetime | None = None) -> tuple[list[str], list[str]]:
    """(problems, warnings) of the instance's keys for `config check`: missing or unusable
    files are problems; expiry soon is a warning."""
    from cowin_kit.certificates import keys as signing

    try:
        ring = signing.from_settings(settings)
    except signing.KeyError_ as exc:
        return [str(exc)], []
    missing = signing.missing_key(ring)
    return [missing] if missing else [], signing.warnings(ring, now)
