"""`cowin-kit certificate revoke|reissue|issue-missing`: the operator's side of revocation
and reissuing (the rules are cowin_kit.certificates.admin's). Plain click commands, attached
to the `certificate` group of cowin_kit.cli.certificate_cmd. The operator acts with every
right; each change is audited as ``cli:<OS user>``."""
from __future__ import annotations

import click

from cowin_kit.cli.common import (
    Refused,
    db_errors_refused,
    instance_option,
    load_instance,
    load_instance_profile,
    open_database,
)


@click.command()
@click.argument("uvci")
@click.option("--reason", required=True, metavar="TEXT",
              help="Why it is revoked, 10 to 500 characters (kept with the certificate).")
@instance_option
@db_errors_refused
def revoke(uvci, reason, instance):
    """Revoke the certificate UVCI (URN:UVCI:…): verifiers that check the revocation list
    refuse it from then on. It cannot be undone."""
    from cowin_kit.certificates import admin
    from cowin_kit.certificates.revocation import uvci_hash
    from cowin_kit.provisioning import operator

    db = open_database(load_instance(instance))
    try:
        with db.session() as session:
            cert = admin.revoke(session, uvci, reason=reason, user=operator())
            shown, version = cert.uvci, cert.version
    finally:
        db.dispose()
    click.echo(f"Revoked {shown} (version {version}).")
    click.echo(f"The revocation list (/certificates/revocation-list.json) now lists its hash "
               f"{uvci_hash(shown)}.")


@click.command()
@click.argument("reference_id")
@instance_option
@db_errors_refused
def reissue(reference_id, instance):
    """Issue a new version of each certificate of the person REFERENCE_ID (14 digits),
    signed with the current key: after a key rotation, or a revocation made by mistake.
    The versions before are superseded, not revoked."""
    from sqlalchemy import select

    from cowin_kit.certificates import admin
    from cowin_kit.provisioning import operator
    from cowin_kit.registration.models import Beneficiary

    reference = (reference_id or "").strip()
    if not (reference.isascii() and reference.isdigit() and len(reference) == 14):
        raise Refused(f"REFERENCE_ID {reference_id!r} is not a 14-digit reference ID.")
    settings = load_instance(instance)
    profile = load_instance_profile(settings)
    ctx = admin.issuing_context(settings, profile)
    db = open_database(settings)
    try:
        with db.session() as session:
            person_id = session.scalar(select(Beneficiary.id).where(
                Beneficiary.reference_id == reference))
            if person_id is None:
                raise Refused(f"nobody is registered with the reference ID {reference}.")
            issued = admin.reissue(session, person_id, user=operator(), ctx=ctx)
            lines = [f"{c.uvci} (version {c.version}, {c.status}, {c.doses} dose(s))"
                     for c in issued]
    finally:
        db.dispose()
    click.echo(f"Issued {len(lines)} certificate(s):")
    for line in lines:
        click.echo(f"  {line}")


@click.command("issue-missing")
@click.option("--batch", type=click.IntRange(1, 100_000), default=500, show_default=True,
              help="People per transaction.")
@instance_option
@db_errors_refused
def issue_missing(batch, instance):
    """Issue the certificates of doses that no certificate states yet: doses recorded
    before this version of cowin-kit, or while the signing keys could not be read. Safe to
    run again: what is issued is not issued twice."""
    from cowin_kit.certificates import admin
    from cowin_kit.provisioning import operator

    settings = load_instance(instance)
    ctx = admin.issuing_context(settings, load_instance_profile(settings))
    db = open_database(settings)
    try:
        with db.session() as session:
            count = admin.issue_missing(session, ctx, who=operator(), batch=batch)
    finally:
        db.dispose()
    click.echo(f"Issued {count} certificate(s)." if count else
               "Every recorded dose is on a certificate already.")
