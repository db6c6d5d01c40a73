"""`cowin-kit db upgrade|current|check|check-capacity`."""
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
def db():
    """Database schema migrations."""


@db.command()
@instance_option
@db_errors_refused
def upgrade(instance):
    """Apply the migrations the database lacks."""
    from cowin_kit import migrate

    database = open_database(load_instance(instance))
    try:
        before = migrate.current_revision(database)
        migrate.upgrade(database)
        after = migrate.current_revision(database)
    finally:
        database.dispose()
    if before == after:
        click.echo(f"Already up to date at {after}.")
    else:
        click.echo(f"Upgraded from {before or 'an empty database'} to {after}.")


@db.command()
@instance_option
@db_errors_refused
def current(instance):
    """Show the database's schema revision and the code's."""
    from cowin_kit import migrate

    database = open_database(load_instance(instance))
    try:
        cur, head = migrate.current_revision(database), migrate.head_revision(database)
    finally:
        database.dispose()
    state = "up to date" if cur == head else "needs `cowin-kit db upgrade`"
    click.echo(f"database: {cur or '(empty)'}\ncode:     {head}\n{state}")


@db.command()
@instance_option
@db_errors_refused
def check(instance):
    """Fail (exit 1) when the database is behind the code or differs from the models."""
    from cowin_kit import migrate

    database = open_database(load_instance(instance))
    try:
        migrate.check_known(database)
        cur, head = migrate.current_revision(database), migrate.head_revision(database)
        if cur != head:
            raise Refused(f"the database is at {cur or 'nothing'}, the code at {head}; "
                          "run `cowin-kit db upgrade`.")
        diff = migrate.pending_differences(database)
    finally:
        database.dispose()
    if diff:
        click.echo("The database differs from the models:", err=True)
        for d in diff:
            click.echo(f"  {d}", err=True)
        raise SystemExit(1)
    click.echo(f"OK: schema at {head} matches the models.")


@db.command("check-capacity")
@instance_option
@db_errors_refused
def check_capacity(instance):
    """Check that every session's places taken equal the appointments holding them and
    never exceed its capacity; list each (session, dose) that drifted and exit 1."""
    from sqlalchemy import text

    from cowin_kit.scheduling.places import check_capacity as find_drift

    database = open_database(load_instance(instance))
    try:
        with database.Session() as session:
            drift = find_drift(session)
            sessions = session.scalar(text("SELECT count(*) FROM session_capacity")) or 0
    finally:
        database.dispose()
    if drift:
        click.echo(f"{len(drift)} session dose(s) of {sessions} disagree with their "
                   "appointments:", err=True)
        for d in drift:
            click.echo(f"  session {d.session_id} dose {d.dose_number}: capacity "
                       f"{d.capacity}, places taken {d.booked}, appointments holding a "
                       f"place {d.holding}", err=True)
        raise SystemExit(1)
    click.echo(f"OK: in all {sessions} session doses, places taken = appointments holding "
               "one, within capacity.")
