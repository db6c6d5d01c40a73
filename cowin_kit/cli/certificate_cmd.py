"""`cowin-kit certificate …`: verifying certificates; revoking and reissuing them come from
certificate_admin_cmd."""
from __future__ import annotations

import datetime as dt
import json
import sys

import click

from cowin_kit.cli.certificate_admin_cmd import issue_missing, reissue, revoke
from cowin_kit.cli.common import Refused, db_errors_refused, instance_option

EXIT_VALID, EXIT_INVALID = 0, 1


@click.group()
def certificate():
    """Vaccination certificates: verify one (an EU DCC "HC1:" or a SMART Health Card),
    revoke one, reissue a person's."""


# The operator's commands, which need the database (cowin_kit.cli.certificate_admin_cmd).
for _command in (revoke, reissue, issue_missing):
    certificate.add_command(_command)


def _timestamp(value: str | None) -> dt.datetime | None:
    """--at: ISO 8601 (2021-05-03, 2021-05-03T18:00:00Z, with an offset) or Unix seconds."""
    if value is None:
        return None
    text = value.strip()
    try:
        if text.replace(".", "", 1).isdigit():
            return dt.datetime.fromtimestamp(float(text), dt.UTC)
        at = dt.datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        raise Refused(f"--at {value!r}: give a time as ISO 8601 (2021-05-03T18:00:00Z, or a "
                      "date) or as Unix seconds.") from None
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def _read_payload(payload: str) -> str | bytes:
    """The PAYLOAD argument, or the content of @FILE (@- : standard input)."""
    from cowin_kit.certificates.verify import MAX_INPUT

    if not payload.startswith("@"):
        return payload
    name = payload[1:]
    if not name:
        raise Refused("@FILE: give the file's name after @ (or @- for standard input).")
    if name == "-":
        return sys.stdin.buffer.read(MAX_INPUT + 1)
    try:
        with open(name, "rb") as fh:
            return fh.read(MAX_INPUT + 1)  # more than that is refused as too large
    except OSError as exc:
        raise Refused(f"{name}: cannot be read ({exc.strerror or exc}).") from None


def _operator_gettext():
    """The operator's language, as their environment says (English without a catalogue)."""
    from babel import default_locale

    from cowin_kit.catalogues import load_translations
    from cowin_kit.paths import locales_dir

    lang = default_locale(("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"))
    return load_translations(lang, [locales_dir()]).gettext if lang else None


def _instance_trust(instance):
    """The instance's own trust (its key ring, its JWK Set at PUBLIC_URL) and its
    revocation list, read from its database."""
    from cowin_kit.certificates import keys
    from cowin_kit.certificates.issuing import ring_for
    from cowin_kit.certificates.revocation import revocation_list
    from cowin_kit.certificates.trust import TrustList
    from cowin_kit.cli.common import load_instance, open_database

    settings = load_instance(instance)
    try:
        ring = ring_for(settings)
    except keys.KeyError_ as exc:
        raise Refused(str(exc)) from None
    trust = TrustList.from_ring(ring, (settings.get("PUBLIC_URL") or "").rstrip("/"))
    db = open_database(settings)
    try:
        with db.session() as session:
            published = revocation_list(session)
    finally:
        db.dispose()
    return trust, [*published["hashes"], *published["rids"]]


def _file_trust(paths, iss):
    from cowin_kit.certificates.trust import TrustError, TrustList

    trust = TrustList()
    try:
        for path in paths:
            trust.merge(TrustList.load(path, iss=iss))
    except TrustError as exc:
        raise Refused(f"--trust {exc}") from None
    return trust


def _revocations(paths) -> list[str]:
    from cowin_kit.certificates.verify import RevocationList

    hashes: list[str] = []
    for path in paths:
        try:
            with open(path, "rb") as fh:
                document = json.loads(fh.read(64 * 1024 * 1024))
            hashes += RevocationList.entries(document)
        except OSError as exc:
            raise Refused(f"--revoked {path}: cannot be read ({exc.strerror or exc}).") from None
        except (ValueError, RecursionError) as exc:
            raise Refused(f"--revoked {path}: not a revocation list ({exc}).") from None
    return hashes


@certificate.command()
@instance_option
@click.option("--trust", "trust_paths", multiple=True, metavar="FILE|DIR",
              help="Trust these document signing certificates and issuers instead of the "
                   "instance's own: PEM or DER certificates, an EU DCC gateway trust list "
                   "(JSON), JWK Sets; a folder: every file in it. Repeatable.")
@click.option("--iss", metavar="URL",
              help="The SMART Health Card issuer of the JWK Sets given with --trust that do "
                   "not name theirs.")
@click.option("--revoked", "revoked_paths", multiple=True, metavar="FILE",
              help="A published revocation list (ours, or a SMART Health Cards CRL) to "
                   "consult as well. Repeatable.")
@click.option("--at", "at", metavar="TIMESTAMP",
              help="Check validity at this time (ISO 8601 or Unix seconds) instead of now.")
@click.option("--json", "as_json", is_flag=True,
              help="Print {valid, format, kid, issuer, reason, payload, message} as JSON.")
@click.argument("payload")
@db_errors_refused
def verify(instance, trust_paths, iss, revoked_paths, at, as_json, payload):
    """Verify PAYLOAD: an "HC1:" or "shc:/" text, a SMART Health Card's JWS, or @FILE (a
    text file holding one, a .smart-health-card file; @- reads standard input).

    Without --trust it trusts the instance's own keys and consults its revocation list.
    Exits 0 when the certificate is valid, 1 when it is not, 2 on a usage error."""
    from cowin_kit.certificates.verify import RevocationList, verify as check

    when = _timestamp(at)
    text = _read_payload(payload)
    if trust_paths:
        trust, revoked = _file_trust(trust_paths, iss), []
    else:
        if iss:
            raise Refused("--iss names the issuer of JWK Sets given with --trust; give "
                          "--trust too.")
        trust, revoked = _instance_trust(instance)
    revoked = RevocationList([*revoked, *_revocations(revoked_paths)])
    result = check(text, trust, at=when, revoked=revoked)
    gettext = _operator_gettext()
    if as_json:
        click.echo(json.dumps(result.as_json(gettext), ensure_ascii=False, indent=2))
    else:
        click.echo(_describe(result, gettext))
    sys.exit(EXIT_VALID if result.valid else EXIT_INVALID)


def _describe(result, gettext) -> str:
    """A few lines for a person: the outcome, who signed, whom and what it is about."""
    kind = {"hc1": "EU DCC (HC1)", "shc": "SMART Health Card"}.get(result.format or "", "?")
    head = "VALID" if result.valid else f"NOT VALID ({result.reason})"
    lines = [f"{head}: {result.text(gettext)}", f"  format: {kind}"]
    if result.issuer:
        lines.append(f"  issuer: {result.issuer}")
    if result.kid:
        lines.append(f"  key: {result.kid}")
    for label, when in (("issued", result.issued_at), ("expires", result.expires_at)):
        if when is not None:
            lines.append(f"  {label}: {when:%Y-%m-%d %H:%M} UTC")
    lines += [f"  {line}" for line in _summary(result)]
    return "\n".join(lines)


def _dig(value, *path):
    """value[path[0]][path[1]]…, or None where the payload (untrusted) has another shape."""
    for key in path:
        if isinstance(key, int):
            value = value[key] if isinstance(value, list) and len(value) > key else None
        else:
            value = value.get(key) if isinstance(value, dict) else None
    return value


def _summary(result) -> list[str]:
    """Whom and what: the name, the date of birth and the doses, as the payload states."""
    from cowin_kit.certificates.dcc_schema import value_set

    payload, out = result.payload or {}, []
    if result.format == "hc1":
        person = " ".join(str(_dig(payload, "nam", k)) for k in ("gn", "fn")
                          if _dig(payload, "nam", k))
        if person:
            out.append(f"name: {person}")
        if _dig(payload, "dob"):
            out.append(f"born: {_dig(payload, 'dob')}")
        products = value_set("vaccine-medicinal-product")
        for entry in _dig(payload, "v") or []:
            mp = _dig(entry, "mp")
            product = products.get(mp, mp) if isinstance(mp, str) else mp
            out.append(f"dose {_dig(entry, 'dn')}/{_dig(entry, 'sd')} of {product} on "
                       f"{_dig(entry, 'dt')} ({_dig(entry, 'co')}), {_dig(entry, 'ci')}")
    elif result.format == "shc":
        for item in _dig(payload, "vc", "credentialSubject", "fhirBundle", "entry") or []:
            resource = _dig(item, "resource")
            if _dig(resource, "resourceType") == "Patient":
                given = _dig(resource, "name", 0, "given")
                given = " ".join(map(str, given)) if isinstance(given, list) else ""
                family = _dig(resource, "name", 0, "family") or ""
                out.append(f"name: {given} {family}".strip())
                if _dig(resource, "birthDate"):
                    out.append(f"born: {_dig(resource, 'birthDate')}")
            elif _dig(resource, "resourceType") == "Immunization":
                out.append(f"dose: {_dig(resource, 'vaccineCode', 'coding', 0, 'code')} on "
                           f"{_dig(resource, 'occurrenceDateTime')}")
    return out
