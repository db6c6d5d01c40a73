"""`cowin-kit users reset-totp EMAIL` and `cowin-kit users unlock EMAIL`: an operator helps a
staff user who lost the TOTP phone or locked the account. Both are audited."""
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
    """Staff users: help one who lost the TOTP device or is locked out."""


def _run(instance, email, change):
    from sqlalchemy import func, select

    from cowin_kit.accounts.models import StaffUser
    from cowin_kit.provisioning import operator

    db = open_database(load_instance(instance))
    try:
        with db.session() as session:
            address = email.strip().lower()
            user = session.scalar(select(StaffUser)
                                  .where(func.lower(StaffUser.email) == address))
            if user is None:
                raise Refused(f"there is no staff user {address}.")
            return address, change(session, user, operator())
    finally:
        db.dispose()


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
