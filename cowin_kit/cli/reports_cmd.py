"""`cowin-kit reports fold|rebuild|status|export`: the dose rollups the dashboards read
(cowin_kit.reporting.rollups)."""
from __future__ import annotations

import time

import click

from cowin_kit.cli.common import (
    db_errors_refused,
    instance_option,
    load_instance,
    load_instance_profile,
    open_database,
)
from cowin_kit.cli.report_export_cmd import export


@click.group()
def reports():
    """The dashboards' figures: fold new doses in, rebuild them from the dose records, or
    show how fresh they are."""


def _open(instance):
    settings = load_instance(instance)
    return open_database(settings), load_instance_profile(settings)["reporting"]["age_bands"]


@reports.command()
@instance_option
@db_errors_refused
def fold(instance):
    """Count the doses recorded since the last fold (what the worker does every
    ROLLUP_SECONDS; for deployments that run it from cron instead)."""
    from cowin_kit.reporting import rollups

    db, bands = _open(instance)
    with db.Session() as session:
        started = time.perf_counter()
        n = rollups.fold_all(session, bands)
    click.echo(f"folded {n} doses in {time.perf_counter() - started:.1f} s")


@reports.command()
@instance_option
@db_errors_refused
def rebuild(instance):
    """Empty the rollups and count every dose again from the dose records (after a bug, a
    change of the profile's age bands, or a bulk import of doses). One transaction: the
    dashboards show the old figures until it ends."""
    from cowin_kit.reporting import rollups

    db, bands = _open(instance)
    with db.Session() as session:
        started = time.perf_counter()
        n = rollups.rebuild(session, bands)
        click.echo(f"rebuilt the rollups from {n} doses in "
                   f"{time.perf_counter() - started:.1f} s")
        waiting = rollups.fold_all(session, bands)
    if waiting:
        click.echo(f"folded {waiting} doses recorded meanwhile")


@reports.command()
@instance_option
@db_errors_refused
def status(instance):
    """When doses were last folded in, and how many wait."""
    from cowin_kit.reporting import queries, rollups

    db, bands = _open(instance)
    with db.Session() as session:
        folded = queries.as_of(session)
        click.echo(f"last fold  {folded:%Y-%m-%d %H:%M:%S} UTC" if folded else
                   "last fold  never")
        click.echo(f"waiting    {rollups.pending(session)} doses")
        if rollups.bands_changed(session, bands):
            click.echo("The profile's age bands changed since the rollups were counted; run "
                       "`cowin-kit reports rebuild` to count them in the new bands.")


reports.add_command(export)  # the officials' reports, from their own module
