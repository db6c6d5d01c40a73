"""The country's signing keys, kept in the instance folder.

Two levels, as the EU DCC trust framework has them:

- the **country signing CA** (CSCA): the private key is ``signing-key.pem`` (setting
  SIGNING_KEY_FILE, made by ``init``; its public half is part of the instance's key
  fingerprint), its self-signed X.509 certificate ``signing/csca.pem``. It signs document
  signing certificates, nothing else.
- **document signing certificates** (DSC): ``signing/dsc-<stamp>.pem``, each issued by the
  CSCA with the EU DCC extended key usage for vaccination certificates, and its private key
  ``signing/dsc-<stamp>-key.pem`` (mode 0600), or the DSC_KEY setting (a PEM, e.g. from a
  secrets manager) for the newest one. The newest DSC signs; rotation adds a newer one and
  deletes the older private keys, while their certificates stay in the trust list so what
  they signed still verifies.

The same ECDSA P-256 DSC keys sign SMART Health Cards; they are published as a JWK Set.
Nothing here knows of Flask; ``load`` reads the folder once per call (callers cache the ring).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

FOLDER = "signing"
CSCA_FILE = "csca.pem"
# EU DCC extended key usages of a DSC: which certificate types it may sign.
EKU_TEST = "1.3.6.1.4.1.1847.2021.1.1"
EKU_VACCINATION = "1.3.6.1.4.1.1847.2021.1.2"
EKU_RECOVERY = "1.3.6.1.4.1.1847.2021.1.3"
CSCA_YEARS = 10
DSC_DAYS = 2 * 365  # EU DCC: a DSC is valid for at most two years; rotate yearly


class KeyError_(Exception):  # noqa: N801 - not the builtin KeyError
    """The signing keys are missing or unusable; the message says which file and the fix."""


@dataclass(frozen=True)
class Signer:
    """One document signing certificate, with its private key when this instance has it."""

    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey | None
    path: Path

    # Worked out once per signer: every certificate issued names them.
    @cached_property
    def kid(self) -> bytes:
        return kid_of(self.certificate)

    @cached_property
    def kid_b64(self) -> str:
        return base64.b64encode(self.kid).decode("ascii")

    @property
    def not_before(self) -> dt.datetime:
        return self.certificate.not_valid_before_utc

    @property
    def not_after(self) -> dt.datetime:
        return self.certificate.not_valid_after_utc

    @cached_property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class KeyRing:
    """The CSCA and every DSC, oldest first; ``current`` is the one that signs."""

    country: str
    csca: x509.Certificate
    signers: tuple[Signer, ...]

    @property
    def current(self) -> Signer:
        signer = self.signers[-1]
        if signer.private_key is None:
            raise KeyError_(f"the private key of {signer.path.name} is missing; restore "
                            f"{_key_path(signer.path).name} from backup, or run "
                            "`cowin-kit keys rotate` to make a new signing key.")
        return signer

    def by_kid(self, kid: bytes) -> Signer | None:
        return next((s for s in self.signers if s.kid == kid), None)


def kid_of(certificate: x509.Certificate) -> bytes:
    """EU DCC key identifier: the first 8 bytes of the SHA-256 of the certificate's DER."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest()[:8]


def _name(country: str, issuer: str, role: str) -> x509.Name:
    """``C=<country>, CN=<issuer> <role>``; the issuer cut to fit X.509's 64-byte limit."""
    issuer = issuer.encode("utf-8")[:63 - len(role.encode())].decode("utf-8", "ignore")
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, country.upper()),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"{issuer.strip()} {role}")])


def _key_path(cert_path: Path) -> Path:
    return cert_path.with_name(cert_path.stem + "-key.pem")


def _write_private(path: Path, data: bytes) -> None:
    from cowin_kit.instance import write_private
    write_private(path, data)


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _ca_key(instance: Path, signing_key_file: str):
    path = instance / signing_key_file
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError:
        raise KeyError_(f"{path} is missing: restore it from backup, or on a new deployment "
                        "run `cowin-kit init --update`.") from None
    except (ValueError, TypeError):
        raise KeyError_(f"{path} is not an unencrypted PEM private key.") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise KeyError_(f"{path} is not an ECDSA key.")
    return key


def ensure_keys(instance: Path, *, country: str, issuer: str,
                signing_key_file: str = "signing-key.pem",
                now: dt.datetime | None = None) -> list[str]:
    """Create the CSCA certificate and a first DSC if the instance lacks them (``init``
    and ``init --update``); never replaces one. Returns the files created."""
    now = now or dt.datetime.now(dt.UTC)
    folder = instance / FOLDER
    created = []
    if not folder.exists():
        folder.mkdir(mode=0o700)
        created.append(FOLDER)
    ca_key = _ca_key(instance, signing_key_file)
    csca_path = folder / CSCA_FILE
    if not csca_path.exists():
        name = _name(country, issuer, "CSCA")
        csca = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5))
                .not_valid_after(now + dt.timedelta(days=CSCA_YEARS * 365))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                             False, False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(
                    ca_key.public_key()), critical=False)
                .sign(ca_key, hashes.SHA256()))
        csca_path.write_bytes(csca.public_bytes(serialization.Encoding.PEM))
        created.append(f"{FOLDER}/{CSCA_FILE}")
    if not list(folder.glob("dsc-*[0-9].pem")):
        signer = new_signer(instance, country=country, issuer=issuer,
                            signing_key_file=signing_key_file, now=now)
        created += [f"{FOLDER}/{_key_path(signer.path).name}", f"{FOLDER}/{signer.path.name}"]
    return created


def new_signer(instance: Path, *, country: str, issuer: str,
               signing_key_file: str = "signing-key.pem",
               now: dt.datetime | None = None) -> Signer:
    """A new DSC signed by the CSCA, written beside the others; it becomes the current one."""
    now = now or dt.datetime.now(dt.UTC)
    folder = instance / FOLDER
    ca_key = _ca_key(instance, signing_key_file)
    try:
        csca = x509.load_pem_x509_certificate((folder / CSCA_FILE).read_bytes())
    except OSError:
        raise KeyError_(f"{folder / CSCA_FILE} is missing: run `cowin-kit init --update` to "
                        "create the signing certificates.") from None
    except ValueError:
        raise KeyError_(f"{folder / CSCA_FILE} is not a PEM certificate: restore it from "
                        "backup.") from None
    key = ec.generate_private_key(ec.SECP256R1())
    stamp = now.strftime("%Y%m%d%H%M%S")
    path = folder / f"dsc-{stamp}.pem"
    n = 1
    while path.exists():  # two rotations in one second
        path, n = folder / f"dsc-{stamp}{n:02d}.pem", n + 1
    not_after = min(now + dt.timedelta(days=DSC_DAYS), csca.not_valid_after_utc)
    cert = (x509.CertificateBuilder().subject_name(_name(country, issuer, f"DSC {stamp}"))
            .issuer_name(csca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(not_after)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False,
                                         False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.ObjectIdentifier(EKU_VACCINATION)]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    _write_private(_key_path(path), _pem_key(key))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Signer(cert, key, path)


def load(instance: Path, *, country: str, dsc_key_pem: str | None = None) -> KeyRing:
    """Every DSC of the instance, oldest first. ``dsc_key_pem`` (the DSC_KEY setting) is the
    newest DSC's private key when it is not kept in the folder."""
    folder = instance / FOLDER
    try:
        csca = x509.load_pem_x509_certificate((folder / CSCA_FILE).read_bytes())
    except OSError:
        raise KeyError_(f"{folder / CSCA_FILE} is missing: run `cowin-kit init --update` to "
                        "create the signing certificates.") from None
    except ValueError:
        raise KeyError_(f"{folder / CSCA_FILE} is not a PEM certificate: restore it from "
                        "backup.") from None
    signers = []
    paths = sorted(p for p in folder.glob("dsc-*.pem") if not p.stem.endswith("-key"))
    for i, path in enumerate(paths):
        try:
            cert = x509.load_pem_x509_certificate(path.read_bytes())
        except ValueError:
            raise KeyError_(f"{path} is not a PEM certificate: restore it from backup, or "
                            "move it out of the folder and run `cowin-kit keys rotate`.") from None
        key = None
        key_path = _key_path(path)
        if key_path.exists():
            key = _private_key(key_path.read_bytes(), str(key_path))
        elif dsc_key_pem and i == len(paths) - 1:
            key = _private_key(dsc_key_pem.encode(), "DSC_KEY")
        signers.append(Signer(cert, key, path))
    if not signers:
        raise KeyError_(f"no document signing certificate in {folder}: run "
                        "`cowin-kit keys rotate` to make one.")
    return KeyRing(country.upper(), csca, tuple(signers))


def _private_key(pem: bytes, where: str) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise KeyError_(f"{where} is not an unencrypted PEM private key: restore it from "
                        "backup, or run `cowin-kit keys rotate` to make a new signing "
                        "key.") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise KeyError_(f"{where} is not an ECDSA P-256 key.")
    return key


def rotate(instance: Path, *, country: str, issuer: str,
           signing_key_file: str = "signing-key.pem",
           now: dt.datetime | None = None) -> Signer:
    """Make a new DSC the current one and delete the older DSCs' private keys; their
    certificates stay, so what they signed still verifies."""
    signer = new_signer(instance, country=country, issuer=issuer,
                        signing_key_file=signing_key_file, now=now)
    for path in (instance / FOLDER).glob("dsc-*-key.pem"):
        if path != _key_path(signer.path):
            path.unlink()
    return signer


def missing_key(ring: KeyRing) -> str | None:
    """Why no certificate can be issued, when the signing DSC's private key is missing."""
    signer = ring.signers[-1]
    if signer.private_key is not None:
        return None
    return (f"the private key of the signing certificate {signer.path.name} is missing "
            f"({signer.path.parent / _key_path(signer.path).name}, or the DSC_KEY setting): "
            "no certificate can be issued. Restore it from backup, or run `cowin-kit keys "
            "rotate` to make a new signing key.")


EXPIRY_WARNING_DAYS = 60  # warn this long before the signing DSC expires


def warnings(ring: KeyRing, now: dt.datetime | None = None,
             days: int = EXPIRY_WARNING_DAYS) -> list[str]:
    """What an operator must act on soon (``keys show``, ``config check``): the signing DSC
    (or the CSCA) expired or expiring within ``days``. English, for the command line. (A
    missing private key is ``missing_key``: a problem now, not soon.)"""
    now = now or dt.datetime.now(dt.UTC)
    out = []
    signer = ring.signers[-1]
    left = signer.not_after - now
    if left <= dt.timedelta(0):
        out.append(f"the signing certificate {signer.path.name} expired on "
                   f"{signer.not_after:%Y-%m-%d}: certificates signed with it are refused by "
                   "verifiers. Run `cowin-kit keys rotate` now and publish the new trust list.")
    elif left <= dt.timedelta(days=days):
        out.append(f"the signing certificate {signer.path.name} expires on "
                   f"{signer.not_after:%Y-%m-%d} (in {left.days} days): run `cowin-kit keys "
                   "rotate` and publish the new trust list (`cowin-kit keys "
                   "export-trust-list`).")
    csca_left = ring.csca.not_valid_after_utc - now
    if csca_left <= dt.timedelta(days=days):
        out.append(f"the country signing CA ({FOLDER}/{CSCA_FILE}) expires on "
                   f"{ring.csca.not_valid_after_utc:%Y-%m-%d}: no document signing "
                   "certificate can outlive it. Plan a new CSCA with the partners who trust "
                   "it (docs/certificates.md).")
    return out


def key_usages(certificate: x509.Certificate) -> list[str]:
    """The certificate's extended key usages (dotted OIDs), [] when it has none."""
    try:
        usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except (x509.ExtensionNotFound, ValueError):  # none, or one cryptography cannot parse
        return []
    return [oid.dotted_string for oid in usage]


def trust_list(ring: KeyRing) -> list[dict]:
    """The DSCs in the EU DCC gateway's trust-list form: ``kid``, ``country``, ``rawData``
    (base64 DER); with, for verifiers that cannot parse X.509 (a browser), the public key
    (base64 SubjectPublicKeyInfo DER), the extended key usages and the validity."""
    return [{"kid": s.kid_b64, "country": ring.country,
             "certificateType": "DSC",
             "rawData": base64.b64encode(s.der).decode("ascii"),
             "publicKey": base64.b64encode(s.certificate.public_key().public_bytes(
                 serialization.Encoding.DER,
                 serialization.PublicFormat.SubjectPublicKeyInfo)).decode("ascii"),
             "keyUsage": key_usages(s.certificate),
             "notBefore": s.not_before.isoformat(), "notAfter": s.not_after.isoformat()}
            for s in ring.signers]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwk_thumbprint(jwk: dict) -> str:
    """RFC 7638 thumbprint of an EC JWK: the ``kid`` SMART Health Cards use."""
    members = {k: jwk.get(k) for k in ("crv", "kty", "x", "y")}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def jwk(signer: Signer) -> dict:
    """The DSC's public key as a SMART Health Cards issuer JWK: ES256, ``kid`` the RFC 7638
    thumbprint, and its X.509 certificate (``x5c``). A copy: callers may add to it."""
    return dict(_jwk_of(signer.der))


@lru_cache(maxsize=64)
def _jwk_of(der: bytes) -> dict:
    """Worked out once per certificate: every SMART Health Card issued names its kid."""
    numbers = x509.load_der_x509_certificate(der).public_key().public_numbers()
    key = {"kty": "EC", "crv": "P-256", "x": _b64url(numbers.x.to_bytes(32, "big")),
           "y": _b64url(numbers.y.to_bytes(32, "big"))}
    return {**key, "kid": jwk_thumbprint(key), "use": "sig", "alg": "ES256",
            "x5c": [base64.b64encode(der).decode("ascii")]}


def jwks(ring: KeyRing) -> dict:
    """The JWK Set published at /.well-known/jwks.json: every DSC, retired ones too (a
    SMART Health Card signed with a retired key still verifies)."""
    return {"keys": [jwk(s) for s in ring.signers]}


def from_settings(settings) -> KeyRing:
    """The ring of the instance ``settings`` belong to."""
    return load(Path(settings.instance_path or "."), country=settings_country(settings),
                dsc_key_pem=settings.get("DSC_KEY") or os.environ.get("COWIN_KIT_DSC_KEY"))


def settings_country(settings) -> str:
    """The instance's country, read from the DSC file's subject when no profile is at hand."""
    folder = Path(settings.instance_path or ".") / FOLDER
    try:
        csca = x509.load_pem_x509_certificate((folder / CSCA_FILE).read_bytes())
    except OSError:
        return "XX"
    return csca.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value
