"""What a verifier trusts: document signing certificates (DSC) by ``kid`` for EU DCC / HC1
certificates, and SMART Health Card issuers (``iss`` URL -> their JWKs).

Built from the instance's own key ring (``TrustList.from_ring``) or loaded from files
(``TrustList.load``): PEM or DER certificates, the EU DCC gateway's JSON trust list (a list
of ``{kid, country, rawData}``, also wrapped as ``{"certificates": [...]}``, which is what
``keys.trust_list`` exports), and JWK Sets (``{"keys": [...]}``) whose issuer is named by an
``iss`` field beside ``keys``, by the caller (``cowin-kit certificate verify --iss``), or by a
file name that is the issuer's URL percent-encoded. A file that is none of these is refused
with a TrustError naming the file and what is wrong. No Flask, no database.

>>> trust = TrustList()
>>> trust.add_bytes(b"[]", source="empty.json")
>>> len(trust)
0
>>> try:
...     trust.add_bytes(b'[{"kid": "AAAAAAAAAAA="}]', source="list.json")
... except TrustError as exc:
...     print(exc)
list.json: entry 1: rawData (the certificate, base64 DER) is missing
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cowin_kit.certificates.keys import jwk_thumbprint

MAX_FILE = 32 * 1024 * 1024  # a national gateway's whole list is a few MB
MAX_FILES = 10_000  # files read from one folder


class TrustError(Exception):
    """A trust file that cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class TrustedSigner:
    """One document signing certificate a verifier trusts."""

    kid: bytes
    public_key: object  # a cryptography public key (EC P-256 or RSA)
    country: str | None = None
    not_before: dt.datetime | None = None
    not_after: dt.datetime | None = None
    key_usage: frozenset[str] = frozenset()  # extended key usages, dotted OIDs
    source: str = ""

    @property
    def kid_b64(self) -> str:
        return base64.b64encode(self.kid).decode("ascii")


@dataclass(frozen=True)
class IssuerKey:
    """One public key of a SMART Health Card issuer."""

    kid: str
    public_key: ec.EllipticCurvePublicKey
    source: str = ""


@dataclass
class TrustList:
    """DSCs by ``kid`` (several may share one: each is tried) and SMART Health Card issuers
    by ``iss``."""

    signers: dict[bytes, list[TrustedSigner]] = field(default_factory=dict)
    issuers: dict[str, dict[str, IssuerKey]] = field(default_factory=dict)

    # --- look-ups -------------------------------------------------------------------------

    def signers_for(self, kid: bytes) -> list[TrustedSigner]:
        return self.signers.get(kid, [])

    def issuer_keys(self, iss: str) -> dict[str, IssuerKey] | None:
        return self.issuers.get(iss.rstrip("/")) if isinstance(iss, str) else None

    def __len__(self) -> int:
        return sum(map(len, self.signers.values())) + sum(map(len, self.issuers.values()))

    # --- adding -------------------------------------------------------------------------

    def add_certificate(self, certificate: x509.Certificate, *, kid: bytes | None = None,
                        country: str | None = None, source: str = "") -> TrustedSigner:
        """Trust ``certificate`` as a DSC; ``kid`` defaults to the EU DCC one (the first 8
        bytes of the SHA-256 of its DER), ``country`` to its subject's C."""
        der = certificate.public_bytes(serialization.Encoding.DER)
        kid = kid if kid is not None else hashlib.sha256(der).digest()[:8]
        if country is None:
            names = certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
            country = str(names[0].value) if names else None
        signer = TrustedSigner(kid=kid, public_key=certificate.public_key(),
                               country=country.upper() if country else None,
                               not_before=certificate.not_valid_before_utc,
                               not_after=certificate.not_valid_after_utc,
                               key_usage=frozenset(_key_usages(certificate)), source=source)
        known = self.signers.setdefault(kid, [])
        if not any(s.public_key == signer.public_key for s in known):
            known.append(signer)
        return signer

    def add_der(self, der: bytes, *, kid: bytes | None = None, country: str | None = None,
                source: str = "") -> TrustedSigner:
        try:
            certificate = x509.load_der_x509_certificate(der)
        except ValueError as exc:
            raise TrustError(f"{source}: not an X.509 certificate ({exc})") from None
        return self.add_certificate(certificate, kid=kid, country=country, source=source)

    def add_jwks(self, iss: str, jwks: dict, *, source: str = "") -> int:
        """Trust the EC P-256 keys of a JWK Set as the keys of issuer ``iss``; returns how
        many were added. Keys of other types (which SMART Health Cards never use) are
        skipped; a malformed key is refused."""
        keys = jwks.get("keys") if isinstance(jwks, dict) else None
        if not isinstance(keys, list):
            raise TrustError(f"{source}: a JWK Set needs a \"keys\" list")
        if not isinstance(iss, str) or not iss.startswith(("https://", "http://")):
            raise TrustError(f"{source}: the issuer {iss!r} is not an https:// URL")
        found = self.issuers.setdefault(iss.rstrip("/"), {})
        added = 0
        for n, key in enumerate(keys):
            if not isinstance(key, dict):
                raise TrustError(f"{source}: keys[{n}] is not a JSON object")
            if key.get("kty") != "EC" or key.get("crv") != "P-256":
                continue
            public = _ec_key(key, f"{source}: keys[{n}]")
            kid = key.get("kid") or jwk_thumbprint(key)
            if not isinstance(kid, str):
                raise TrustError(f"{source}: keys[{n}].kid is not text")
            found[kid] = IssuerKey(kid, public, source)
            added += 1
        return added

    def merge(self, other: TrustList) -> TrustList:
        """This list with ``other``'s signers and issuers added (in place; returned)."""
        for signers in other.signers.values():
            for s in signers:
                known = self.signers.setdefault(s.kid, [])
                if not any(k.public_key == s.public_key for k in known):
                    known.append(s)
        for iss, keys in other.issuers.items():
            self.issuers.setdefault(iss, {}).update(keys)
        return self

    # --- constructors ---------------------------------------------------------------------

    @classmethod
    def from_ring(cls, ring, public_url: str = "") -> TrustList:
        """The instance's own trust: every DSC of its key ring (cowin_kit.certificates.keys
        .KeyRing), and its JWK Set as the SMART Health Card issuer ``public_url``."""
        from cowin_kit.certificates import keys

        trust = cls()
        for signer in ring.signers:
            trust.add_certificate(signer.certificate, kid=signer.kid, country=ring.country,
                                  source=signer.path.name)
        if public_url:
            trust.add_jwks(public_url.rstrip("/"), keys.jwks(ring), source="jwks")
        return trust

    @classmethod
    def load(cls, path, *, iss: str | None = None) -> TrustList:
        """The trust in a file, or in every file of a folder (not its sub-folders, nor files
        whose name starts with a dot). ``iss`` is the issuer of JWK Sets that do not name
        theirs."""
        path = Path(path)
        trust = cls()
        if path.is_dir():
            try:
                files = sorted(p for p in path.iterdir()
                               if p.is_file() and not p.name.startswith("."))
            except OSError as exc:
                raise TrustError(f"{path}: cannot read the folder ({exc.strerror})") from None
            if not files:
                raise TrustError(f"{path}: the folder holds no trust file")
            if len(files) > MAX_FILES:
                raise TrustError(f"{path}: more than {MAX_FILES} files")
            for file in files:
                trust._load_file(file, iss)
        else:
            trust._load_file(path, iss)
        return trust

    def _load_file(self, path: Path, iss: str | None) -> None:
        name = str(path)
        try:
            size = path.stat().st_size
            if size > MAX_FILE:
                raise TrustError(f"{name}: larger than {MAX_FILE // (1024 * 1024)} MB; not a "
                                 "trust list")
            data = path.read_bytes()
        except OSError as exc:
            raise TrustError(f"{name}: cannot be read ({exc.strerror or exc})") from None
        self.add_bytes(data, source=name, iss=iss or _iss_from_name(path.name))

    def add_bytes(self, data: bytes, *, source: str, iss: str | None = None) -> None:
        """Trust what ``data`` holds (any of the forms this module reads)."""
        stripped = data.strip()
        if not stripped:
            raise TrustError(f"{source}: the file is empty")
        if stripped.startswith(b"-----BEGIN"):
            if b"-----BEGIN CERTIFICATE-----" not in stripped:
                raise TrustError(f"{source}: a PEM file without a CERTIFICATE (give the "
                                 "document signing certificates, not keys)")
            try:
                certificates = x509.load_pem_x509_certificates(stripped)
            except ValueError as exc:
                raise TrustError(f"{source}: a PEM certificate that cannot be read "
                                 f"({exc})") from None
            for certificate in certificates:
                self.add_certificate(certificate, source=source)
            return
        if stripped[:1] == b"\x30":  # an ASN.1 SEQUENCE: a DER certificate
            self.add_der(data, source=source)
            return
        try:
            document = json.loads(stripped.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise TrustError(f"{source}: neither a certificate (PEM or DER) nor JSON "
                             "(it is not UTF-8 text)") from None
        except RecursionError:
            raise TrustError(f"{source}: JSON nested too deeply") from None
        except ValueError as exc:
            raise TrustError(f"{source}: not valid JSON ({exc})") from None
        self.add_document(document, source=source, iss=iss)

    def add_document(self, document, *, source: str, iss: str | None = None) -> None:
        """Trust a parsed JSON trust document: a gateway list or a JWK Set."""
        if isinstance(document, dict) and "keys" in document:
            issuer = document.get("iss") or iss
            if not issuer:
                raise TrustError(f"{source}: a JWK Set without its issuer: give it with "
                                 "--iss URL, or add an \"iss\" field beside \"keys\"")
            self.add_jwks(issuer, document, source=source)
            return
        if isinstance(document, dict) and isinstance(document.get("certificates"), list):
            document = document["certificates"]
        if not isinstance(document, list):
            raise TrustError(f"{source}: JSON that is neither a trust list (a list of "
                             "{kid, country, rawData}) nor a JWK Set ({\"keys\": [...]})")
        for n, entry in enumerate(document):
            where = f"{source}: entry {n + 1}"
            if not isinstance(entry, dict):
                raise TrustError(f"{where}: not a JSON object")
            raw = entry.get("rawData")
            if not isinstance(raw, str) or not raw:
                raise TrustError(f"{where}: rawData (the certificate, base64 DER) is missing")
            try:
                der = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                raise TrustError(f"{where}: rawData is not base64") from None
            kid = entry.get("kid")
            if kid is not None:
                try:
                    kid = base64.b64decode(kid, validate=True) if isinstance(kid, str) else None
                except (binascii.Error, ValueError):
                    kid = None
                if not kid:
                    raise TrustError(f"{where}: kid is not base64")
            country = entry.get("country")
            if country is not None and not (isinstance(country, str) and len(country) == 2):
                raise TrustError(f"{where}: country must be a two-letter code")
            self.add_der(der, kid=kid, country=country, source=where)


def _key_usages(certificate: x509.Certificate) -> list[str]:
    try:
        usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except (x509.ExtensionNotFound, ValueError):
        return []
    return [oid.dotted_string for oid in usage]


def _b64url_int(value, what: str) -> int:
    if not isinstance(value, str):
        raise TrustError(f"{what} is missing")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise TrustError(f"{what} is not base64url") from None
    if len(raw) != 32:
        raise TrustError(f"{what} is not a P-256 coordinate (32 bytes)")
    return int.from_bytes(raw, "big")


def _ec_key(jwk: dict, where: str) -> ec.EllipticCurvePublicKey:
    x = _b64url_int(jwk.get("x"), f"{where}.x")
    y = _b64url_int(jwk.get("y"), f"{where}.y")
    try:
        return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except ValueError:
        raise TrustError(f"{where}: the point is not on the P-256 curve") from None


def _iss_from_name(name: str) -> str | None:
    """The issuer a JWK Set's file name gives: the issuer's URL percent-encoded, e.g.
    ``https%3A%2F%2Fspec.smarthealth.cards%2Fexamples%2Fissuer.json``."""
    stem = name[:-5] if name.endswith(".json") else name
    decoded = urllib.parse.unquote(stem)
    return decoded if decoded.startswith(("https://", "http://")) and decoded != stem else None
