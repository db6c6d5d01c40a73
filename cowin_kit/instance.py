"""The instance folder: where a deployment keeps its config, secrets and SQLite database."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import tomli_w

from cowin_kit.config import CONFIG_FILE, ENV_PREFIX, SECRETS_FILE

DEFAULT_INSTANCE = "cowin-kit-instance"
INSTANCE_ENV = ENV_PREFIX + "INSTANCE"


def resolve_instance_path(option: str | os.PathLike | None) -> Path:
    """``--instance``, else ``COWIN_KIT_INSTANCE``, else ``./cowin-kit-instance``."""
    raw = option or os.environ.get(INSTANCE_ENV) or DEFAULT_INSTANCE
    return Path(raw).expanduser().resolve()


def is_initialised(path: Path) -> bool:
    return (path / CONFIG_FILE).exists()


def key_fingerprint(settings) -> str | None:
    """A digest of the keys that stored data depends on (ID hash and encryption keys, the
    signing key). The database records it at init, so an instance folder with other keys
    is never attached to it. The digest reveals nothing of the keys."""
    import hashlib

    from cryptography.hazmat.primitives import serialization

    parts = [str(settings.get("ID_HASH_KEY") or ""), str(settings.get("ID_ENCRYPTION_KEY") or "")]
    if not all(parts):
        return None
    key_file = Path(settings.instance_path or ".") / str(settings["SIGNING_KEY_FILE"])
    try:
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashlib.sha256("\n".join(parts).encode() + b"\n" + public).hexdigest()
    return digest[:32]


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file that only its owner can read (mode 0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)  # in case the umask was odd


def write_config(path: Path, values: dict) -> None:
    text = (
        "# cowin-kit instance configuration; see docs/configuration.md.\n"
        "# Environment variables COWIN_KIT_<NAME> override these values.\n"
        + tomli_w.dumps({k.lower(): v for k, v in values.items()})
    )
    # Private: it may hold a database password.
    write_private(path / CONFIG_FILE, text.encode("utf-8"))


def generate_secrets(path: Path, environ: dict | None = None,
                     signing_key_file: str = "signing-key.pem") -> list[str]:
    """Create the secrets this instance lacks; never replaces one. Returns what was created."""
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    environ = os.environ if environ is None else environ
    created: list[str] = []
    secrets_file = path / SECRETS_FILE
    if not secrets_file.exists():
        values = {}
        # A secret given in the environment stays there; we do not copy it to disk.
        if ENV_PREFIX + "SECRET_KEY" not in environ:
            values["secret_key"] = secrets.token_urlsafe(48)
        if ENV_PREFIX + "ID_HASH_KEY" not in environ:
            values["id_hash_key"] = secrets.token_urlsafe(48)
        if ENV_PREFIX + "ID_ENCRYPTION_KEY" not in environ:
            values["id_encryption_key"] = Fernet.generate_key().decode()
        header = (b"# Secrets of this cowin-kit instance. "
                  b"Keep this file private (mode 0600) and backed up.\n")
        write_private(secrets_file, header + tomli_w.dumps(values).encode())
        created.append(SECRETS_FILE)
    key_file = path / signing_key_file
    if not key_file.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_private(key_file, pem)
        created.append(key_file.name)
    return created
