"""Backups of a deployment's database and their restore (`cowin-kit db backup|restore`).

SQLite: an online copy with SQLite's backup API (consistent while the server writes, WAL
included), made a single self-contained file. PostgreSQL: ``pg_dump --format=custom`` in a
snapshot the kit exports, so the figures printed are those of the dump; the password goes to
pg_dump in its environment (PGPASSWORD), never on its command line.

The keys that protect the data (secrets.toml: the ID hash and encryption keys, SECRET_KEY;
the signing keys) live in the instance folder, not in the database. A backup holds the
database only, unless asked ``with_keys``: then it is a tar of the database copy, the key
files and a manifest, to be kept apart from the plain backups.

No click or Flask here: the CLI maps :class:`BackupError` to a one-line refusal.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import inspect, text

from cowin_kit.db import Database

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
MANIFEST = "manifest.json"
# What the figures of a backup count: table -> what it is called in the output.
COUNTED = {"beneficiary": "people", "appointment": "appointments", "dose": "doses",
           "staff_user": "staff users"}


class BackupError(Exception):
    """A backup or restore the operator can fix (the message says how)."""


@dataclass
class Contents:
    """What a database (or a backup of one) holds."""

    kind: str  # "sqlite" | "postgresql"
    revision: str | None
    facts: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        country = self.facts.get("country", "?")
        figures = ", ".join(f"{n} {COUNTED[t]}" for t, n in self.counts.items())
        return (f"{country} deployment at revision {self.revision or '(none)'}"
                + (f": {figures}" if figures else ""))


@dataclass
class BackupResult:
    path: Path
    size: int
    contents: Contents
    keys: list[str]  # the key files in the backup (empty: the database only)


def human_size(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError


def default_path(instance: Path, kind: str, with_keys: bool) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    ext = ".tar" if with_keys else (".db" if kind == "sqlite" else ".dump")
    return instance / "backups" / f"cowin-kit-{stamp}{ext}"


def key_files(settings) -> list[Path]:
    """The instance's files a database needs to be readable: secrets.toml, the signing key
    (CSCA) and the document signing keys (signing/)."""
    from cowin_kit.config import SECRETS_FILE

    folder = Path(settings.instance_path)
    found = []
    for path in (folder / SECRETS_FILE, folder / str(settings["SIGNING_KEY_FILE"])):
        if path.is_file():
            found.append(path)
    signing = folder / "signing"
    if signing.is_dir():
        found += sorted(p for p in signing.rglob("*") if p.is_file())
    return found


# --- reading what a database holds ---------------------------------------------------------

def _contents_of(conn, kind: str) -> Contents:
    tables = set(inspect(conn).get_table_names())
    revision = (conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                if "alembic_version" in tables else None)
    facts = ({k: v for k, v in conn.execute(text("SELECT key, value FROM deployment_fact"))}
             if "deployment_fact" in tables else {})
    counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()  # noqa: S608
              for t in COUNTED if t in tables}
    return Contents(kind, revision, facts, counts)


def database_contents(db: Database) -> Contents:
    with db.engine.connect() as conn:
        return _contents_of(conn, "sqlite" if db.is_sqlite else "postgresql")


def _sqlite_file_contents(path: Path) -> Contents:
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///file:{path.as_posix()}?mode=ro&uri=true")
    try:
        with engine.connect() as conn:
            return _contents_of(conn, "sqlite")
    finally:
        engine.dispose()


# --- backup ----------------------------------------------------------------------------------

def backup(db: Database, settings, output: Path | None = None,
           with_keys: bool = False) -> BackupResult:
    instance = Path(settings.instance_path)
    kind = "sqlite" if db.is_sqlite else "postgresql"
    output = Path(output) if output else default_path(instance, kind, with_keys)
    if output.exists():
        raise BackupError(f"{output} already exists; name another file with -o FILE.")
    output.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    work = Path(tempfile.mkdtemp(prefix=".cowin-kit-backup-", dir=output.parent))
    try:
        dump = work / ("database.db" if kind == "sqlite" else "database.dump")
        contents = _sqlite_backup(db, dump) if kind == "sqlite" else _pg_dump(db, dump)
        keys: list[str] = []
        if with_keys:
            files = key_files(settings)
            keys = [p.relative_to(instance).as_posix() for p in files]
            manifest = {"format": 1, "kind": kind, "revision": contents.revision,
                        "facts": {k: v for k, v in contents.facts.items()
                                  if k in ("country", "key_fingerprint")},
                        "counts": contents.counts, "keys": keys,
                        "made_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
            bundle = work / "bundle.tar"
            with tarfile.open(bundle, "w") as tar:
                data = json.dumps(manifest, indent=2).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mode = len(data), 0o600
                tar.addfile(info, io.BytesIO(data))
                tar.add(dump, arcname=dump.name)
                for path, name in zip(files, keys, strict=True):
                    tar.add(path, arcname="keys/" + name)
            dump = bundle
        os.chmod(dump, 0o600)  # personal data, and maybe the keys to it
        _fsync(dump)
        os.replace(dump, output)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BackupResult(output, output.stat().st_size, contents, keys)


def _fsync(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _sqlite_backup(db: Database, dest: Path) -> Contents:
    """SQLite's online backup: one step, in one read transaction, so the copy is the
    database as of one moment even while others write (readers never block WAL writers)."""
    src = sqlite3.connect(db.url.database, timeout=30)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal
        dst.commit()
    finally:
        dst.close()
        src.close()
    return _sqlite_file_contents(dest)


def _pg_env(url) -> dict[str, str]:
    """libpq's environment for ``url``: the password travels here, not in argv."""
    env = dict(os.environ)
    for name, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                        ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):
        if value is not None:
            env[name] = str(value)
    for key, value in url.query.items():
        if key in ("sslmode", "sslrootcert", "sslcert", "sslkey", "application_name"):
            env["PG" + key.upper().replace("APPLICATION_NAME", "APPNAME")] = str(value)
    return env


def pg_tool(name: str, db: Database | None = None) -> str:
    """The path of pg_dump or pg_restore: the one of the server's major version when Debian's
    /usr/lib/postgresql/<major>/bin has it, else the one on PATH."""
    if db is not None:
        with db.engine.connect() as conn:
            major = int(conn.execute(text("SHOW server_version_num")).scalar()) // 10000
        candidate = Path(f"/usr/lib/postgresql/{major}/bin/{name}")
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not installed or not on PATH; install the PostgreSQL "
                          f"client of the server's version (Debian/Ubuntu: apt install "
                          f"postgresql-client-NN) and try again.")
    return found


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        reason = lines[0] if lines else f"exit status {result.returncode}"
        hint = (" Use a pg_dump/pg_restore of the server's major version or newer."
                if "version mismatch" in result.stderr else "")
        raise BackupError(f"{Path(argv[0]).name} failed: {reason}.{hint}")
    return result


def _pg_dump(db: Database, dest: Path) -> Contents:
    """pg_dump in a snapshot exported by a transaction that also counts, so the figures
    are those of the dump."""
    tool = pg_tool("pg_dump", db)
    with db.engine.connect() as conn:
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        contents = _contents_of(conn, "postgresql")
        _run([tool, "--format=custom", "--no-password", f"--snapshot={snapshot}",
              f"--file={dest}"], _pg_env(db.url))
        conn.rollback()
    return contents


# --- restore --------------------------------------------------------------------------------

@dataclass
class Backup:
    """A backup file, opened: its kind, what it holds, where its database copy is."""

    path: Path
    kind: str
    contents: Contents
    database: Path  # the SQLite file or the pg_dump archive (inside ``folder`` for a tar)
    keys: list[str] = field(default_factory=list)
    folder: Path | None = None  # a tar's unpacked members

    def close(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


NOT_A_BACKUP = ("is not a cowin-kit backup (a SQLite database, a pg_dump custom archive, or "
                "a tar made by `cowin-kit db backup --with-keys`)")


def open_backup(path: Path) -> Backup:
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path}: no such file; give the path of a backup made by "
                          "`cowin-kit db backup`.")
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head.startswith(SQLITE_MAGIC):
        contents = _sqlite_file_contents(path)
        if contents.revision is None or "country" not in contents.facts:
            raise BackupError(f"{path} is a SQLite database but not a cowin-kit one "
                              "(no schema revision or deployment); give a cowin-kit backup.")
        return Backup(path, "sqlite", contents, path)
    if head.startswith(PGDUMP_MAGIC):
        return Backup(path, "postgresql", _pg_archive_contents(path), path)
    if tarfile.is_tarfile(path):
        return _open_tar(path)
    raise BackupError(f"{path} {NOT_A_BACKUP}.")


def _open_tar(path: Path) -> Backup:
    folder = Path(tempfile.mkdtemp(prefix=".cowin-kit-restore-"))
    try:
        with tarfile.open(path) as tar:
            names = tar.getnames()
            if MANIFEST not in names:
                raise BackupError(f"{path} {NOT_A_BACKUP}.")
            tar.extractall(folder, filter="data")
        manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
        inner = folder / ("database.db" if manifest["kind"] == "sqlite" else "database.dump")
        inner_backup = open_backup(inner)
        return Backup(path, inner_backup.kind, inner_backup.contents, inner,
                      keys=list(manifest.get("keys", [])), folder=folder)
    except BackupError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    except (OSError, ValueError, KeyError, tarfile.TarError):
        shutil.rmtree(folder, ignore_errors=True)
        raise BackupError(f"{path} {NOT_A_BACKUP}.") from None


def _copy_rows(script: str, table: str) -> list[list[str]]:
    """The rows of ``table`` in pg_restore's SQL output (its COPY … FROM stdin block)."""
    rows, inside = [], False
    for line in script.splitlines():
        if line.startswith(f"COPY public.{table} ") or line.startswith(f"COPY {table} "):
            inside = True
        elif inside and line == "\\.":
            break
        elif inside:
            rows.append(line.split("\t"))
    return rows


def _pg_archive_contents(path: Path) -> Contents:
    """The revision and facts of a pg_dump archive, read without restoring it."""
    tool = pg_tool("pg_restore")
    result = subprocess.run([tool, "--data-only", "--table=alembic_version",
                             "--table=deployment_fact", "--file=-", str(path)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{path} is not a readable pg_dump archive "
                          f"({(result.stderr.strip().splitlines() or ['?'])[0]}).")
    versions = _copy_rows(result.stdout, "alembic_version")
    facts = {r[0]: r[1] for r in _copy_rows(result.stdout, "deployment_fact") if len(r) > 1}
    if not versions or "country" not in facts:
        raise BackupError(f"{path} is a pg_dump archive but not of a cowin-kit database "
                          "(no schema revision or deployment); give a cowin-kit backup.")
    return Contents("postgresql", versions[0][0], facts)


def _archive_tables(path: Path, tool: str) -> set[str]:
    listing = subprocess.run([tool, "--list", str(path)], capture_output=True, text=True,
                             check=False).stdout
    tables = set()
    for line in listing.splitlines():
        parts = line.split()
        # e.g. "215; 1259 16390 TABLE public beneficiary postgres"
        if len(parts) >= 6 and parts[3] == "TABLE" and not line.startswith(";"):
            tables.add(parts[5])
    return tables


def check_restorable(backup_file: Backup, db: Database, settings) -> list[str]:
    """Why ``backup_file`` cannot go into this instance's database (empty: it can)."""
    from cowin_kit import migrate
    from cowin_kit.instance import key_fingerprint
    from cowin_kit.migrate import ScriptDirectory, alembic_config

    kind = "sqlite" if db.is_sqlite else "postgresql"
    name = backup_file.path
    if backup_file.kind != kind:
        return [f"{name} is a {backup_file.kind} backup but this instance's database is "
                f"{kind}; restore it into an instance whose DATABASE_URL is {backup_file.kind}."]
    known = {r.revision for r in ScriptDirectory.from_config(alembic_config(db)).walk_revisions()}
    revision = backup_file.contents.revision
    if revision not in known:
        return [f"{name} is at schema revision {revision}, newer than this cowin-kit knows "
                f"(its head is {migrate.head_revision(db)}); upgrade the kit first "
                "(pip install -U cowin-kit), then restore."]
    problems = []
    facts = backup_file.contents.facts
    if facts.get("country") and facts["country"] != settings["COUNTRY"]:
        problems.append(f"{name} holds the {facts['country']} deployment but this instance's "
                        f"COUNTRY is {settings['COUNTRY']}.")
    stored = facts.get("key_fingerprint")
    if stored and not backup_file.keys and key_fingerprint(settings) != stored:
        problems.append(f"{name} was made with other keys than this instance's, which could "
                        "not read its ID numbers; put the original secrets.toml and signing "
                        "keys in the instance folder, or restore a backup made with "
                        "--with-keys.")
    return problems


def install_keys(backup_file: Backup, settings) -> list[Path]:
    """Put a --with-keys backup's key files into the instance folder when they differ; the
    files they replace are kept beside them as NAME.before-restore. Returns what changed."""
    instance = Path(settings.instance_path)
    changed = []
    for name in backup_file.keys:
        source = backup_file.folder / "keys" / name
        target = instance / name
        if target.is_file() and target.read_bytes() == source.read_bytes():
            continue
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if target.exists():
            os.replace(target, target.with_name(target.name + ".before-restore"))
        tmp = target.with_name(f".{target.name}.restoring")
        shutil.copyfile(source, tmp)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
        changed.append(target)
    return changed


def restore(backup_file: Backup, db: Database) -> Path | None:
    """Replace the database with the backup's. SQLite: the old file is kept beside it as
    ``<name>.before-restore-<UTC time>`` (returned). PostgreSQL: pg_restore --clean in one
    transaction (a failure changes nothing)."""
    if db.is_sqlite:
        return _restore_sqlite(backup_file.database, Path(db.url.database), db)
    _restore_pg(backup_file.database, db)
    return None


def _restore_sqlite(source: Path, target: Path, db: Database) -> Path | None:
    db.dispose()
    tmp = target.with_name(f".{target.name}.restoring")
    shutil.copyfile(source, tmp)
    os.chmod(tmp, 0o600)
    _fsync(tmp)
    kept = None
    if target.exists():
        # Leaving WAL mode needs the database to itself: it fails while the server (or a
        # worker) has it open, and it folds the -wal file in, so no stale -wal remains to be
        # replayed onto the restored file.
        conn = sqlite3.connect(target, timeout=2)
        try:
            conn.execute("PRAGMA journal_mode=DELETE").fetchone()
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        except sqlite3.OperationalError:
            mode = "busy"
        finally:
            conn.close()
        if mode != "delete" or Path(f"{target}-wal").exists():
            tmp.unlink(missing_ok=True)
            raise BackupError(f"the database {target} is in use; stop the server and the "
                              "workers (e.g. systemctl stop cowin-kit cowin-kit-worker), then "
                              "restore.")
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        kept = target.with_name(f"{target.name}.before-restore-{stamp}")
        os.link(target, kept)
    os.replace(tmp, target)
    return kept


def _restore_pg(archive: Path, db: Database) -> None:
    tool = pg_tool("pg_restore", db)
    wanted = _archive_tables(archive, tool)
    # Tables of a newer schema that the backup lacks (restoring after an upgrade): pg_restore
    # --clean drops only what the archive has, and they refer to its tables.
    with db.engine.begin() as conn:
        for table in set(inspect(conn).get_table_names()) - wanted:
            conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    db.dispose()
    _run([tool, "--clean", "--if-exists", "--no-owner", "--no-privileges",
          "--single-transaction", "--exit-on-error", "--no-password",
          f"--dbname={db.url.database}", str(archive)], _pg_env(db.url))
