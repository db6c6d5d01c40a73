"""`cowin-kit users …`: the operator manages staff users (create, import, disable, enable,
list, reset a password) and helps one who lost the TOTP phone or locked the account. The
operator acts with every right (cowin_kit.accounts.staff_users); every change is audited
as ``cli:<OS user>``."""
from __future__ import annotations

import click

from cowin_kit.cli.common import (
    Refused,
    db_errors_refused,
    instance_option,
    load_instance,
    open_database,
)


@click.group()
def users():
    """Staff users: create, import, disable, enable, list, reset passwords, and help one who
    lost the TOTP device or is locked out."""


def _session(instance):
    """The instance's database; the caller disposes of it."""
    return open_database(load_instance(instance))


def _run(instance, email, change):
    from cowin_kit.accounts.staff_users import find_user
    from cowin_kit.provisioning import operator

    db = _session(instance)
    try:
        with db.session() as session:
            address = email.strip().lower()
            user = find_user(session, address)
            if user is None:
                raise Refused(f"there is no staff user {address}.")
            return address, change(session, user, operator())
    finally:
        db.dispose()


def _one_time(password: str) -> None:
    click.secho(f"One-time password (shown once; the user changes it at the first login): "
                f"{password}", fg="yellow")


@users.command("create")
@click.argument("email")
@click.option("--role", required=True, metavar="ROLE",
              help="national_admin, state_admin, district_admin, facility_manager, "
                   "vaccinator, call_centre, service_centre or verifier.")
@click.option("--division", metavar="CODE",
              help="The area's division code (e.g. PE-LMA for a state administrator, 1501 "
                   "for a district one). Empty for national roles.")
@click.option("--facility", metavar="CODE",
              help="The centre's code, for a facility_manager or a vaccinator.")
@instance_option
@db_errors_refused
def create(email, role, division, facility, instance):
    """Create the staff user EMAIL and print a one-time password, once.

    The user must change it at the first login. A facility manager or vaccinator needs
    --facility; a state or district administrator needs --division; a call-centre or
    service-centre operator or a verifier without --division works country-wide.
    """
    from cowin_kit.accounts.staff_users import create_user
    from cowin_kit.provisioning import operator

    db = _session(instance)
    try:
        with db.session() as session:
            user, password = create_user(session, operator(), email, role, division, facility)
            address = user.email
    finally:
        db.dispose()
    click.echo(f"Created {address} ({role}).")
    _one_time(password)


@users.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--passwords-out", metavar="FILE", type=click.Path(dir_okay=False),
              help="Write the one-time passwords to FILE (a new file, readable by you only) "
                   "instead of printing them.")
@instance_option
@db_errors_refused
def import_(file, passwords_out, instance):
    """Create staff users from FILE.csv: all of them, or none.

    Columns: email, role, division_code, facility_code (empty where the role needs none).
    Every wrong line is reported with the line, the column and the fix, and nothing is
    created then. Each user gets a one-time password: printed as "email,password" lines, or
    written to --passwords-out (created with permissions 0600; an existing file is refused,
    never overwritten).
    """
    import os
    from pathlib import Path

    from cowin_kit.accounts.service import audit
    from cowin_kit.accounts.staff_import import import_users_csv
    from cowin_kit.csvfiles import CsvProblems
    from cowin_kit.provisioning import operator

    if passwords_out and Path(passwords_out).exists():
        raise Refused(f"--passwords-out {passwords_out} exists already; give a new file "
                      "(the passwords are never written over another file).")
    db = _session(instance)
    try:
        with db.session() as session:
            try:
                created = import_users_csv(session, operator(), file)
            except CsvProblems as exc:
                raise Refused(f"nothing was imported:\n{exc}") from None
            audit(session, operator(), "staff.imported", str(Path(file).resolve()),
                  created=len(created))
            lines = "".join(f"{email},{password}\n" for email, password in created)
            if passwords_out:
                # Created 0600 and exclusive before the users are committed: if it cannot
                # be written, nobody is created without a password anyone knows.
                fd = os.open(passwords_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write("email,one_time_password\n" + lines)
            session.commit()
    finally:
        db.dispose()
    click.echo(f"{len(created)} staff user(s) created from {file}; each must change the "
               "one-time password at the first login.", err=not passwords_out)
    if passwords_out:
        click.echo(f"One-time passwords written to {passwords_out} (readable by you only); "
                   "hand them over privately, then delete the file.")
    else:
        click.echo("email,one_time_password\n" + lines, nl=False)


def _set_active(instance, email, active):
    from cowin_kit.accounts.staff_users import set_active

    return _run(instance, email, lambda session, user, by: set_active(session, by, user, active))


@users.command("disable")
@click.argument("email")
@instance_option
@db_errors_refused
def disable(email, instance):
    """Disable the staff user EMAIL: every login of theirs ends at once, and they cannot log
    in until enabled again. Nothing of their work is deleted."""
    address, ended = _set_active(instance, email, False)
    click.echo(f"{address} is disabled; {ended} login(s) ended.")


@users.command("enable")
@click.argument("email")
@instance_option
@db_errors_refused
def enable(email, instance):
    """Enable the staff user EMAIL again (with the password they had)."""
    address, _ = _set_active(instance, email, True)
    click.echo(f"{address} is enabled.")


@users.command("reset-password")
@click.argument("email")
@instance_option
@db_errors_refused
def reset_password(email, instance):
    """Give the staff user EMAIL a new one-time password (printed once).

    This is how a lost password is recovered, an administrator's included. The user must
    change it at the next login; their logins end and any lock-out is lifted.
    """
    from cowin_kit.accounts.staff_users import reset_password as reset

    address, password = _run(instance, email, lambda session, user, by: reset(session, by, user))
    click.echo(f"The password of {address} is reset; their logins have ended.")
    _one_time(password)


@users.command("list")
@click.option("--role", metavar="ROLE", help="Only users of this role.")
@click.option("--division", metavar="CODE",
              help="Only users whose area or centre is in this division (or below it).")
@click.option("--format", "fmt", type=click.Choice(["text", "csv"]), default="text",
              show_default=True)
@instance_option
@db_errors_refused
def list_(role, division, fmt, instance):
    """List the staff users: e-mail, role, area, centre, active, last login (UTC)."""
    import csv
    import sys

    from sqlalchemy import select

    from cowin_kit.accounts.staff_users import ROLES, list_users
    from cowin_kit.geography.models import Division
    from cowin_kit.scheduling.search import descendant_ids

    if role and role not in ROLES:
        raise Refused(f"--role {role!r} is not a role; roles are {', '.join(ROLES)}.")
    db = _session(instance)
    try:
        with db.session() as session:
            ids = None
            if division:
                found = session.scalar(select(Division.id).where(Division.code == division))
                if found is None:
                    raise Refused(f"--division {division!r} is not a known division code.")
                ids = descendant_ids(session, found)
            rows = list_users(session, None, role=role or "", division_ids=ids, limit=None)
            lines = [(r.user.email, r.user.role, r.division.code if r.division else "",
                      r.facility.code if r.facility else "",
                      "yes" if r.user.is_active else "no",
                      r.last_login.strftime("%Y-%m-%dT%H:%MZ") if r.last_login else "")
                     for r in rows]
    finally:
        db.dispose()
    header = ("email", "role", "division_code", "facility_code", "active", "last_login")
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(lines)
        return
    if not lines:
        click.echo("No staff user matches.")
        return
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines, strict=False)]
    for line in (header, *lines):
        click.echo("  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True))
                   .rstrip())
    click.echo(f"{len(lines)} user(s).")


@users.command("reset-totp")
@click.argument("email")
@instance_option
@db_errors_refused
def reset_totp(email, instance):
    """Remove the TOTP device of the staff user EMAIL (a lost or replaced phone).

    The user then logs in with the password alone, and sets up the new phone on the staff
    pages (at once, if STAFF_TOTP_REQUIRED is on). The user's logins end.
    """
    from cowin_kit.accounts.staff_login import reset_totp as reset

    def change(session, user, by):
        had = user.totp_secret is not None
        return had, reset(session, user, by=by)

    address, (had, ended) = _run(instance, email, change)
    if had:
        click.echo(f"The TOTP device of {address} is removed; {ended} login(s) ended.")
    else:
        click.echo(f"{address} had no TOTP device; {ended} login(s) ended.")


@users.command("unlock")
@click.argument("email")
@instance_option
@db_errors_refused
def unlock(email, instance):
    """Lift the lock-out of the staff user EMAIL after too many wrong passwords.

    A lock-out ends by itself (after one minute, doubling with each further wrong try up to
    an hour); unlock only when you are sure the user made the mistakes, not an attacker.
    """
    from cowin_kit.accounts.staff_login import unlock as lift

    address, was_locked = _run(instance, email, lambda s, u, by: lift(s, u, by=by))
    click.echo(f"{address} is unlocked." if was_locked
               else f"{address} was not locked; its count of wrong tries is cleared.")
