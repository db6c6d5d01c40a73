"""`cowin-kit sessions import FILE.csv`."""
from __future__ import annotations

import sys

import click

from cowin_kit.cli.common import (
    Refused,
    db_errors_refused,
    instance_option,
    load_instance,
    load_instance_profile,
    open_database,
)


@click.group()
def sessions():
    """Vaccination sessions at centres."""


@sessions.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@instance_option
@db_errors_refused
def import_(file, instance):
    """Create or update sessions from FILE.csv (safe to run twice).

    Columns: facility_code, date (DD-MM-YYYY), vaccine (a product code of the profile),
    min_age, capacity_dose1, slots ("09:00-11:00;11:00-13:00"); optional max_age, fee and
    capacity_dose2, capacity_dose3, … A line with the facility, date and vaccine of an
    existing session updates it; a capacity never goes below the places already booked.
    Nothing is written unless every line is valid.
    """
    from pathlib import Path

    from cowin_kit import clock
    from cowin_kit.accounts.service import audit
    from cowin_kit.csvfiles import CsvProblems, read_rows
    from cowin_kit.provisioning import operator
    from cowin_kit.scheduling.session_import import (
        CAPACITY_PREFIX,
        SESSION_COLUMNS,
        SESSION_OPTIONAL,
        import_sessions_csv,
    )

    settings = load_instance(instance)
    profile = load_instance_profile(settings)
    timezone = settings.get("TIMEZONE") or profile["timezone"]
    today = clock.today(timezone)
    try:
        total = len(read_rows(file, SESSION_COLUMNS, optional=SESSION_OPTIONAL,
                              optional_prefixes=(CAPACITY_PREFIX,)))
    except CsvProblems as exc:
        raise Refused(f"nothing was imported:\n{exc}") from None
    db = open_database(settings)
    try:
        with db.session() as session, click.progressbar(length=total, label="Importing",
                                                        file=sys.stderr) as bar:
            try:
                result = import_sessions_csv(session, file, today=today, progress=bar.update)
            except CsvProblems as exc:
                raise Refused(f"nothing was imported:\n{exc}") from None
            audit(session, operator(), "sessions.imported", str(Path(file).resolve()), **result)
    finally:
        db.dispose()
    click.echo(f"{result['created']} session(s) created, {result['updated']} updated "
               f"from {file}.")


def _today_at(timezone: str):
    """Today at a centre of a division (its zone, else ``timezone``), cached per division."""
    from cowin_kit import clock
    from cowin_kit.geography.service import zone_of

    cache: dict = {}
    return lambda session, division_id: clock.today(
        zone_of(session, division_id, timezone, cache=cache))


@sessions.command("close-day")
@click.option("--date", "day", metavar="YYYY-MM-DD",
              help="Close this day (today or earlier). Without it: every day before today.")
@click.option("--facility", "facility_code", metavar="CODE",
              help="Only the sessions of this centre.")
@instance_option
@db_errors_refused
def close_day(day, facility_code, instance):
    """Mark appointments nobody came to as no-shows (missed), so the people may book again.

    Safe to run twice (and from cron every night: without --date it closes every day before
    today). Each session closed is written to the audit log.
    """
    import datetime as dt

    from sqlalchemy import select

    from cowin_kit import clock
    from cowin_kit.provisioning import operator
    from cowin_kit.scheduling.models import Facility
    from cowin_kit.vaccination.centre import CentreError
    from cowin_kit.vaccination.noshows import close_day as close

    settings = load_instance(instance)
    profile = load_instance_profile(settings)
    timezone = settings.get("TIMEZONE") or profile["timezone"]
    today = clock.today(timezone)
    zones = set((profile["divisions"].get("timezones") or {}).values())
    today_at = None
    if zones:  # divisions of their own time zones: each centre's day ends in its own
        today = max([today] + [clock.today(z) for z in zones])
        today_at = _today_at(timezone)
    when = None
    if day is not None:
        try:
            when = dt.date.fromisoformat(day)
        except ValueError:
            raise Refused(f"--date {day!r}: write the day as YYYY-MM-DD.") from None
    db = open_database(settings)
    try:
        with db.session() as session:
            facility_id = None
            if facility_code is not None:
                facility_id = session.scalar(select(Facility.id).where(
                    Facility.code == facility_code))
                if facility_id is None:
                    raise Refused(f"--facility {facility_code!r}: no centre has this code.")
            try:
                count = close(session, operator(), today=today, day=when,
                              facility_id=facility_id,
                              today_at=today_at and (lambda d: today_at(session, d)))
            except CentreError as exc:
                raise Refused(f"--date {day}: {exc}") from None
    finally:
        db.dispose()
    which = f"on {when.isoformat()}" if when else f"before {today.isoformat()}"
    click.echo(f"{count} appointment(s) {which} marked as no-shows (missed).")
