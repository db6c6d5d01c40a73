"""Provisioning a deployment from a country profile: what `cowin-kit init` does.

Nothing here destroys data: an existing instance is refused unless ``update`` is asked
for, and then only what is missing is added.
"""
from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from cowin_kit import migrate
from cowin_kit.accounts import service as accounts
from cowin_kit.config import CONFIG_FILE, load_settings
from cowin_kit.db import Database, describe_db_error, normalise_url, utcnow
from cowin_kit.geography.service import import_divisions_csv, load_profile_divisions
from cowin_kit.instance import generate_secrets, is_initialised, write_config
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


def check_instance_folder(path: Path, update: bool) -> None:
    if path.exists() and not path.is_dir():
        raise ProvisioningError(f"{path} exists and is not a folder; choose another --instance.")
    if is_initialised(path) and not update:
        raise ProvisioningError(
            f"{path} already holds a cowin-kit instance ({CONFIG_FILE} exists). Nothing was "
            "changed. To add only what is missing, run again with --update; to start another "
            "deployment, choose another --instance.")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ProvisioningError(
            f"cannot create the instance folder {path}: {exc.strerror}. Choose a folder you "
            "can write to with --instance.") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ProvisioningError(
            f"the instance folder {path} is not writable. Fix its permissions or choose "
            "another with --instance.")


def provision(profile: Profile, instance: Path, *, database_url: str | None,
              admin_email: str | None, admin_password: str | None, demo: bool,
              update: bool, profile_path: str | None = None,
              say: Callable[[str], None] = lambda _m: None,
              ) -> ProvisionReport:
    created_folder = not instance.exists()
    try:
        return _provision(profile, instance, database_url=database_url,
                          admin_email=admin_email, admin_password=admin_password, demo=demo,
                          update=update, profile_path=profile_path, say=say)
    except ProvisioningError:
        # Leave no empty folder behind from a run that was refused.
        if created_folder and instance.is_dir() and not any(instance.iterdir()):
            instance.rmdir()
        raise


def _provision(profile, instance, *, database_url, admin_email, admin_password, demo, update,
               profile_path, say) -> ProvisionReport:
    check_instance_folder(instance, update)
    if database_url:
        try:
            normalise_url(database_url)
        except ValueError as exc:
            raise ProvisioningError(str(exc)) from None

    report = ProvisionReport(instance=instance, database_url="", updated=update)
    if not is_initialised(instance):
        values = {"country": profile.code}
        if database_url:
            values["database_url"] = database_url
        if profile_path:
            values["profile_path"] = str(Path(profile_path).resolve())
        # Checked before anything is written, so a bad database leaves no half instance.
        settings = load_settings(instance, overrides={k.upper(): v for k, v in values.items()})
        db = _open_database(settings)
        write_config(instance, values)
        report.created_files.append(CONFIG_FILE)
    else:
        settings = load_settings(instance)
        if settings["COUNTRY"] != profile.code:
            raise ProvisioningError(
                f"{instance} is a {settings['COUNTRY']} instance; it cannot be updated with the "
                f"{profile.code} profile.")
        if database_url and database_url != settings["DATABASE_URL"]:
            raise ProvisioningError(
                f"{instance} already uses another database ({CONFIG_FILE}); edit that file to "
                "move it, --database-url does not change an existing instance.")
        db = _open_database(settings)
    report.database_url = db.url.render_as_string(hide_password=True)
    report.created_files += generate_secrets(instance,
                                             signing_key_file=str(settings["SIGNING_KEY_FILE"]))

    try:
        say("Creating the database schema…")
        migrate.upgrade(db)
        with db.session() as session:
            country = get_fact(session, "country")
            if country and country != profile.code:
                raise ProvisioningError(
                    f"the database {report.database_url} already holds a {country} deployment; "
                    "use another database.")
            if country and not update:
                raise ProvisioningError(
                    f"the database {report.database_url} already holds a provisioned deployment. "
                    "Nothing was changed. Run again with --update to add only what is missing.")
            actor = operator()
            say("Loading divisions, programmes and ID document types…")
            report.counts["divisions"] = load_profile_divisions(session, profile)
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
                    raise ProvisioningError(f"cannot create the administrator: {exc}.") from None
                report.admin_email = admin_email.strip().lower()
                report.admin_password = password if generated else None
            if demo:
                say("Loading demo data…")
                for name, loader, key in (
                        ("divisions.csv", import_divisions_csv, "demo divisions"),
                        ("facilities.csv", import_facilities_csv, "demo centres")):
                    path = profile.demo_file(name)
                    if path is None:
                        continue
                    result = loader(session, path, profile, is_demo=True)
                    report.counts[key] = result["created"]
                set_fact(session, "demo_data", "loaded")
            if not country:
                set_fact(session, "country", profile.code)
                set_fact(session, "initialised_at", utcnow().isoformat())
            set_fact(session, "profile_checksum", profile.checksum)
            accounts.audit(session, actor, "instance.updated" if country else "instance.initialised",
                           profile.code, demo=demo, counts=report.counts)
    except SQLAlchemyError as exc:
        raise ProvisioningError(describe_db_error(exc, db.url)) from None
    finally:
        db.dispose()
    return report


def _open_database(settings) -> Database:
    try:
        db = Database(settings["DATABASE_URL"], settings["SQLITE_BUSY_TIMEOUT"],
                      settings["DB_POOL_SIZE"])
    except ValueError as exc:
        raise ProvisioningError(str(exc)) from None
    try:
        db.ping()
    except SQLAlchemyError as exc:
        db.dispose()
        raise ProvisioningError(describe_db_error(exc, db.url) +
                                ". Check that the server runs and the URL is right.") from None
    return db


def instance_counts(db: Database) -> dict[str, int]:
    """How many rows the main tables hold (for `db current` and the health page)."""
    from sqlalchemy import func

    from cowin_kit.models import Division, Facility, IdDocumentType, Programme, StaffUser

    out = {}
    with db.session() as session:
        for label, model in (("divisions", Division), ("centres", Facility),
                             ("programmes", Programme), ("ID document types", IdDocumentType),
                             ("staff users", StaffUser)):
            out[label] = session.scalar(select(func.count()).select_from(model)) or 0
    return out
