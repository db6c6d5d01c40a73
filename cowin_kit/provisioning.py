"""Provisioning a deployment from a country profile: what `cowin-kit init` does.

Nothing here destroys data: an existing instance is refused unless ``update`` is asked
for, and then only what is missing is added.
"""
from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from cowin_kit import migrate
from cowin_kit.accounts import service as accounts
from cowin_kit.certificates import keys
from cowin_kit.config import CONFIG_FILE, ConfigError, load_settings
from cowin_kit.db import Database, describe_db_error, normalise_url, utcnow
from cowin_kit.geography.service import (
    divisions_left_behind,
    import_divisions_csv,
    load_profile_divisions,
)
from cowin_kit.instance import generate_secrets, is_initialised, key_fingerprint, write_config
from cowin_kit.models import DeploymentFact
from cowin_kit.profiles import Profile
from cowin_kit.programmes.service import load_profile_programmes
from cowin_kit.registration.service import load_profile_id_documents
from cowin_kit.scheduling.service import import_facilities_csv


class ProvisioningError(Exception):
    """Provisioning cannot go on; the message says why and what to do."""


@dataclass
class ProvisionReport:
    instance: Path
    database_url: str
    created_files: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    admin_email: str | None = None
    admin_password: str | None = None  # only when generated, to print once
    admin_note: str | None = None  # why --admin-email changed nothing (init --update)
    # "CODE Name" of divisions an earlier profile made that this one no longer lists at
    # level 1 (init --update after a reorganisation); kept, not deleted.
    divisions_left: list[str] = field(default_factory=list)
    updated: bool = False


def operator() -> str:
    """Who runs the command, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def get_fact(session, key: str) -> str | None:
    fact = session.get(DeploymentFact, key)
    return fact.value if fact else None


def set_fact(session, key: str, value: str) -> None:
    fact = session.get(DeploymentFact, key)
    if fact is None:
        session.add(DeploymentFact(key=key, value=value))
    else:
        fact.value = value


def check_instance_folder(path: Path, update: bool, created: list[Path]) -> None:
    try:
        exists, is_dir = path.exists(), path.is_dir()
        initialised = is_initialised(path)
    except OSError as exc:
        raise ProvisioningError(f"cannot use the instance folder {path}: {exc.strerror}. "
                                "Choose another with --instance.") from None
    if exists and not is_dir:
        raise ProvisioningError(f"{path} exists and is not a folder; choose another --instance.")
    if initialised and not update:
        raise ProvisioningError(
            f"{path} already holds a cowin-kit instance ({CONFIG_FILE} exists). Nothing was "
            "changed. To add only what is missing, run again with --update; to start another "
            "deployment, choose another --instance.")
    if not exists:
        try:
            # Private: it holds the deployment's secrets and, with SQLite, its data.
            path.mkdir(mode=0o700, parents=True)
        except OSError as exc:
            raise ProvisioningError(
                f"cannot create the instance folder {path}: {exc.strerror}. Choose a folder "
                "you can write to with --instance.") from None
        created.append(path)
    if not os.access(path, os.W_OK | os.X_OK):
        raise ProvisioningError(
            f"the instance folder {path} is not writable. Fix its permissions or choose "
            "another with --instance.")


def provision(profile: Profile, instance: Path, *, database_url: str | None,
              admin_email: str | None, admin_password: str | None, demo: bool,
              update: bool, profile_path: str | None = None,
              say: Callable[[str], None] = lambda _m: None,
              ) -> ProvisionReport:
    created: list[Path] = []  # what this run made, removed again if it fails
    try:
        return _provision(profile, instance, database_url=database_url,
                          admin_email=admin_email, admin_password=admin_password, demo=demo,
                          update=update, profile_path=profile_path, say=say, created=created)
    except ProvisioningError:
        _remove(created)
        raise


def _remove(created: list[Path]) -> None:
    """Undo a failed run: delete the files and folder it created, nothing else."""
    for path in reversed(created):
        try:
            if path.is_dir():
                if not any(path.iterdir()):
                    path.rmdir()
            else:
                path.unlink(missing_ok=True)
        except OSError:
            pass


def _check_admin_input(email: str | None, password: str | None) -> None:
    """Refuse a bad administrator before anything is written."""
    if not email:
        raise ProvisioningError("a new deployment needs its first national administrator; "
                                "give one with --admin-email. Nothing was created.")
    try:
        accounts.check_email(email)
        if password is not None:
            accounts.check_new_password(password, email)
    except accounts.AccountError as exc:
        raise ProvisioningError(f"cannot create the administrator: {str(exc).rstrip('.')}. "
                                "Nothing was created.") from None


def read_deployment_facts(db: Database) -> dict[str, str]:
    """The deployment facts in ``db``, or {} for a database never provisioned."""
    from sqlalchemy import inspect

    if not inspect(db.engine).has_table(DeploymentFact.__tablename__):
        return {}
    with db.session() as session:
        return {f.key: f.value for f in session.scalars(select(DeploymentFact))}


def deployment_problems(facts: dict[str, str], settings) -> list[str]:
    """Why these settings must not run against the database whose ``facts`` are given."""
    problems = []
    country = facts.get("country")
    if country and settings.get("COUNTRY") and country != settings["COUNTRY"]:
        problems.append(f"the database holds the {country} deployment but COUNTRY is "
                        f"{settings['COUNTRY']} ({settings.sources.get('COUNTRY', '?')}).")
    stored = facts.get("key_fingerprint")
    if stored:
        from cowin_kit.instance import key_fingerprint

        if key_fingerprint(settings) != stored:
            problems.append(
                "the keys of this instance (secrets.toml or COWIN_KIT_* variables, and the "
                "signing key) are not the ones the database was provisioned with; data "
                "protected by the original keys would be unreadable. Restore the instance "
                "folder's secrets.toml and signing key from backup.")
    return problems


def _provision(profile, instance, *, database_url, admin_email, admin_password, demo, update,
               profile_path, say, created) -> ProvisionReport:
    check_instance_folder(instance, update, created)
    new_instance = not is_initialised(instance)
    if not update:
        _check_admin_input(admin_email, admin_password)
    report = ProvisionReport(instance=instance, database_url="", updated=update)
    values = {"country": profile.code}
    try:
        if new_instance:
            if database_url:
                values["database_url"] = database_url
            if profile_path:
                values["profile_path"] = str(Path(profile_path).resolve())
            settings = load_settings(instance, overrides={k.upper(): v for k, v in values.items()})
        else:
            settings = load_settings(instance)
    except ConfigError as exc:
        raise ProvisioningError(str(exc)) from None
    if not new_instance:
        if settings["COUNTRY"] != profile.code:
            raise ProvisioningError(
                f"{instance} is a {settings['COUNTRY']} instance; it cannot be updated with the "
                f"{profile.code} profile.")
        if database_url and database_url != settings["DATABASE_URL"]:
            raise ProvisioningError(
                f"{instance} already uses another database ({CONFIG_FILE}); edit that file to "
                "move it, --database-url does not change an existing instance.")

    # The database is checked before anything is written to the instance folder.
    sqlite_file = _sqlite_file(settings["DATABASE_URL"])
    if sqlite_file is not None and not sqlite_file.exists():
        created += [sqlite_file, Path(f"{sqlite_file}-wal"), Path(f"{sqlite_file}-shm")]
    db = _open_database(settings)
    try:
        try:
            facts = read_deployment_facts(db)
        except SQLAlchemyError as exc:
            raise ProvisioningError(describe_db_error(exc, db.url)) from None
        report.database_url = db.url.render_as_string(hide_password=True)
        country = facts.get("country")
        if country and country != profile.code:
            raise ProvisioningError(
                f"the database {report.database_url} already holds the {country} deployment; "
                "nothing was changed. Use another database.")
        if country and not update:
            raise ProvisioningError(
                f"the database {report.database_url} already holds a provisioned deployment; "
                "nothing was changed. Use another database, or, if this deployment's instance "
                "folder was lost, restore it (cowin-kit.toml, secrets.toml, signing-key.pem) "
                "from backup.")
        if country and new_instance:
            raise ProvisioningError(
                f"the database {report.database_url} already holds a deployment, and {instance} "
                "is a new instance folder: a new folder would have new keys. Nothing was "
                "changed. Restore the deployment's instance folder from backup, then run "
                "--update there.")
        if not country:
            _check_admin_input(admin_email, admin_password)  # also when --update starts afresh
        say(f"{'Updating' if update else 'Provisioning'} {profile.name} ({profile.code}) "
            f"in {instance}")

        if new_instance:
            write_config(instance, values)
            created.append(instance / CONFIG_FILE)
            report.created_files.append(CONFIG_FILE)
        new_secrets = generate_secrets(instance, signing_key_file=str(settings["SIGNING_KEY_FILE"]))
        created += [instance / name for name in new_secrets]
        report.created_files += new_secrets
        new_keys = keys.ensure_keys(instance, country=profile.code,
                                    issuer=profile["certificate"]["issuer"],
                                    signing_key_file=str(settings["SIGNING_KEY_FILE"]))
        created += [instance / name for name in new_keys]
        report.created_files += new_keys
        try:
            settings = load_settings(instance)  # now with the secrets
        except ConfigError as exc:
            raise ProvisioningError(str(exc)) from None
        problems = deployment_problems(facts, settings)
        if problems:
            raise ProvisioningError(" ".join(problems) + " Nothing was changed.")
        fingerprint = key_fingerprint(settings)
        if fingerprint is None:
            raise ProvisioningError("the instance's keys are incomplete; run `cowin-kit config "
                                    "check` for details.")

        say("  Creating the database schema…")
        try:
            migrate.upgrade(db)
        except migrate.MigrationError as exc:
            raise ProvisioningError(str(exc)) from None
        if sqlite_file is not None and sqlite_file in created:
            os.chmod(sqlite_file, 0o600)  # personal data will live here
        with db.session() as session:
            actor = operator()
            say("  Loading divisions, programmes and ID document types…")
            report.counts["divisions"] = load_profile_divisions(session, profile)
            report.divisions_left = [f"{d.code} {d.name}"
                                     for d in divisions_left_behind(session, profile)]
            report.counts["programme rows"] = load_profile_programmes(session, profile)
            report.counts["ID document types"] = load_profile_id_documents(session, profile)
            if accounts.count_admins(session) == 0:
                if not admin_email:
                    raise ProvisioningError(
                        "no national administrator exists yet; give one with --admin-email.")
                generated = admin_password is None
                password = admin_password or accounts.generate_one_time_password()
                try:
                    accounts.create_staff_user(session, admin_email, password, "national_admin",
                                               actor=actor, must_change_password=generated)
                except accounts.AccountError as exc:
                    raise ProvisioningError(
                        f"cannot create the administrator: {str(exc).rstrip('.')}.") from None
                report.admin_email = admin_email.strip().lower()
                report.admin_password = password if generated else None
            elif admin_email:
                _add_admin_on_update(session, report, admin_email, admin_password, actor)
            if demo:
                say("  Loading demo data…")
                for name, loader, key in (
                        ("divisions.csv", import_divisions_csv, "demo divisions"),
                        ("facilities.csv", import_facilities_csv, "demo centres")):
                    path = profile.demo_file(name)
                    if path is None:
                        continue
                    result = loader(session, path, profile, is_demo=True)
                    report.counts[key] = result["created"]
                if profile.demo_file("facilities.csv") is None:
                    # A profile without hand-made demo centres (any but PE and IN, and any
                    # scaffolded one) gets generated ones in a few of its divisions.
                    from cowin_kit.scheduling.demo_centres import create_demo_centres

                    report.counts["demo centres"] = create_demo_centres(session, profile)
                from cowin_kit.scheduling.sessions import create_demo_lots, create_demo_sessions

                created_sessions = create_demo_sessions(session, profile)
                report.counts["demo sessions (next 7 days)"] = (
                    created_sessions if isinstance(created_sessions, int)
                    else len(created_sessions))
                report.counts["demo vaccine lots"] = create_demo_lots(session, profile)
                set_fact(session, "demo_data", "loaded")
            if not country:
                set_fact(session, "country", profile.code)
                set_fact(session, "initialised_at", utcnow().isoformat())
            set_fact(session, "key_fingerprint", fingerprint)
            set_fact(session, "profile_checksum", profile.checksum)
            event = "instance.updated" if country else "instance.initialised"
            accounts.audit(session, actor, event,
                           profile.code, demo=demo, counts=report.counts)
    except SQLAlchemyError as exc:
        raise ProvisioningError(describe_db_error(exc, db.url)) from None
    finally:
        db.dispose()
    return report


def _add_admin_on_update(session, report: ProvisionReport, email: str,
                         password: str | None, actor: str) -> None:
    """`init --update --admin-email ADDRESS` on a deployment that has administrators: add
    ADDRESS as another national administrator when no staff user has it; when it is one
    already, change nothing and say how to recover a lost password; when it is a user of
    another role, refuse (re-scoping is `cowin-kit users`' job, not init's)."""
    from cowin_kit.accounts.staff_users import find_user

    existing = find_user(session, email)
    if existing is None:
        generated = password is None
        password = password or accounts.generate_one_time_password()
        try:
            accounts.create_staff_user(session, email, password, "national_admin",
                                       actor=actor, must_change_password=generated)
        except accounts.AccountError as exc:
            raise ProvisioningError(
                f"cannot create the administrator: {str(exc).rstrip('.')}.") from None
        report.admin_email = email.strip().lower()
        report.admin_password = password if generated else None
    elif existing.role == "national_admin":
        report.admin_note = (
            f"{existing.email} is already a national administrator; nothing was changed. "
            f"To give it a new one-time password: cowin-kit users reset-password "
            f"{existing.email}")
    else:
        raise ProvisioningError(
            f"{existing.email} is a staff user with the role {existing.role}; init does not "
            "change roles. Use `cowin-kit users` to manage it, or give another address.")


def _sqlite_file(raw_url: str) -> Path | None:
    try:
        url = normalise_url(raw_url)
    except ValueError:
        return None
    return Path(url.database) if url.get_backend_name() == "sqlite" else None


def _open_database(settings) -> Database:
    """The primary, as commands reach it (DATABASE_DIRECT_URL behind PgBouncer in
    transaction mode: `init` runs the migrations)."""
    from cowin_kit.config import direct_database

    try:
        _name, url, pooler = direct_database(settings, "`cowin-kit init`")
        db = Database(url, settings["SQLITE_BUSY_TIMEOUT"], settings["DB_POOL_SIZE"],
                      pooler=pooler)
    except ValueError as exc:
        raise ProvisioningError(str(exc)) from None
    try:
        db.ping()
    except SQLAlchemyError as exc:
        db.dispose()
        raise ProvisioningError(describe_db_error(exc, db.url) +
                                ". Check that the server runs and the URL is right.") from None
    return db
