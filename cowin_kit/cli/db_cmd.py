"""`cowin-kit db upgrade|current|check|check-capacity|backup|restore|downgrade`."""
from __future__ import annotations

import click

from cowin_kit.cli.common import (
    Refused,
    db_errors_refused,
    direct_database,
    instance_option,
    load_instance,
    open_database,
)


@click.group()
def db():
    """Database schema migrations, backups and restore."""


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


KEYS_WARNING = (
    "KEYS NOT INCLUDED: this backup holds the database only. The ID numbers in it can be "
    "read, and its certificates trusted, only with this instance's secrets.toml and signing "
    "keys ({where}). Back them up apart from it, or use --with-keys.")
WITH_KEYS_WARNING = (
    "THIS FILE HOLDS THE KEYS: whoever has it can read every ID number in it and sign "
    "certificates. Keep it encrypted, offline and apart from the everyday backups, "
    "readable only by the operators who restore.")


@db.command()
@instance_option
@click.option("-o", "--output", metavar="FILE", default=None,
              help="Where to write the backup (default: the instance's backups/ folder, "
                   "named with the UTC time).")
@click.option("--with-keys", is_flag=True,
              help="Also include the instance's secrets.toml and signing keys (a tar).")
@db_errors_refused
def backup(instance, output, with_keys):
    """Back up the database while the server runs: a consistent SQLite copy, or
    `pg_dump --format=custom` on PostgreSQL."""
    from pathlib import Path

    from cowin_kit import backups

    settings = load_instance(instance)
    database = open_database(settings)
    try:
        result = backups.backup(database, settings, Path(output) if output else None,
                                with_keys=with_keys)
    except backups.BackupError as exc:
        raise Refused(str(exc)) from None
    finally:
        database.dispose()
    click.echo(f"Backed up to {result.path} ({backups.human_size(result.size)}): "
               f"{result.contents.describe()}.")
    if result.keys:
        click.echo(f"Keys included: {', '.join(result.keys)}.")
        click.secho(WITH_KEYS_WARNING, err=True, fg="yellow")
    else:
        click.secho(KEYS_WARNING.format(where=settings.instance_path), err=True, fg="yellow")
    click.echo("Copy it off this machine; a backup on the database's disk dies with it.")


@db.command()
@click.argument("file", metavar="FILE")
@instance_option
@click.option("--yes", is_flag=True, help="Replace a database that holds data without asking.")
@db_errors_refused
def restore(file, instance, yes):
    """Replace the instance's database with a backup made by `cowin-kit db backup`
    (stop the server and workers first)."""
    import sys
    from pathlib import Path

    from cowin_kit import backups, migrate
    from cowin_kit.db import Database, DatabaseMissing

    settings = load_instance(instance)
    _name, url, _pooler = direct_database(settings)
    try:
        backup_file = backups.open_backup(Path(file))
    except backups.BackupError as exc:
        raise Refused(str(exc)) from None
    try:
        try:
            database = open_database(settings)
            existing = backups.database_contents(database)
        except Refused:
            # A SQLite file that is gone (what a restore is for): start from none.
            try:
                Database(url, must_exist=True).dispose()
                raise
            except DatabaseMissing:
                database = Database(url)
                existing = None
        try:
            problems = backups.check_restorable(backup_file, database, settings)
            if problems:
                raise Refused(" ".join(problems))
            if existing is not None and existing.revision is not None and not yes:
                what = (f"the database {database.url.render_as_string(hide_password=True)} "
                        f"holds the {existing.describe()}; restoring {file} replaces all of it")
                if not sys.stdin.isatty() or not click.confirm(f"{what}. Go ahead?"):
                    raise Refused(f"{what}. Add --yes to go ahead (after backing it up).")
            keys = backups.install_keys(backup_file, settings) if backup_file.keys else []
            kept = backups.restore(backup_file, database)
            after = backups.database_contents(database)
            head = migrate.head_revision(database)
        except backups.BackupError as exc:
            raise Refused(str(exc)) from None
        finally:
            database.dispose()
    finally:
        backup_file.close()
    click.echo(f"Restored {file}: {after.describe()}.")
    for path in keys:
        click.echo(f"Installed the backup's key {path} (the one it replaced is "
                   f"{path.name}.before-restore).")
    if kept:
        click.echo(f"The database it replaced is kept as {kept}; delete it once checked.")
    if after.revision != head:
        click.echo(f"The code is at {head}: run `cowin-kit db upgrade`, then start the server.")
    else:
        click.echo("Start the server and workers again.")


@db.command()
@click.argument("revision", metavar="REVISION")
@instance_option
@click.option("--yes", is_flag=True, help="Go ahead although later revisions' data is lost.")
@db_errors_refused
def downgrade(revision, instance, yes):
    """Take the schema back to REVISION (to roll back an upgrade, before installing the
    older kit); what later revisions added is dropped."""
    from cowin_kit import migrate

    database = open_database(load_instance(instance))
    try:
        script = migrate.ScriptDirectory.from_config(migrate.alembic_config(database))
        known = [r.revision for r in script.walk_revisions()]  # newest first
        if revision not in known:
            raise Refused(f"no revision {revision}; the kit's are {known[-1]} … {known[0]} "
                          "(`cowin-kit db current` shows the database's).")
        cur = migrate.current_revision(database)
        if cur == revision:
            click.echo(f"Already at {revision}.")
            return
        if cur not in known or known.index(revision) < known.index(cur):
            raise Refused(f"the database is at {cur}, not later than {revision}; "
                          "use `cowin-kit db upgrade` to go forward.")
        dropped = known[known.index(cur):known.index(revision)]
        if not yes:
            raise Refused(f"downgrading undoes {', '.join(reversed(dropped))} and drops the "
                          "data they added; back up first (`cowin-kit db backup`), then add "
                          "--yes.")
        migrate.downgrade(database, revision)
        after = migrate.current_revision(database)
    finally:
        database.dispose()
    click.echo(f"Downgraded from {cur} to {after}. Now install the cowin-kit version whose "
               "head it is, and start the server.")
