"""`cowin-kit facilities import FILE.csv`."""
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
def facilities():
    """Vaccination centres."""


@facilities.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@instance_option
@db_errors_refused
def import_(file, instance):
    """Create or update centres from FILE.csv (safe to run twice).

    Columns: code, name, address, division_code (a division already imported, e.g. with
    `cowin-kit geo import`), postal_code, latitude, longitude, fee_type (Free or Paid);
    optional name_<lang> (e.g. name_qu). Empty postal_code, latitude, longitude and
    fee_type are allowed (fee_type then means Free). A line with the code of an existing
    centre updates it. Nothing is written unless every line is valid.
    """
    from pathlib import Path

    from cowin_kit.accounts.service import audit
    from cowin_kit.csvfiles import CsvProblems, read_rows
    from cowin_kit.provisioning import operator
    from cowin_kit.scheduling.service import FACILITY_COLUMNS, import_facilities_csv

    settings = load_instance(instance)
    profile = load_instance_profile(settings)
    try:
        total = len(read_rows(file, FACILITY_COLUMNS, optional_prefixes=("name_",)))
    except CsvProblems as exc:
        raise Refused(f"nothing was imported:\n{exc}") from None
    db = open_database(settings)
    try:
        with db.session() as session, click.progressbar(length=total, label="Importing",
                                                        file=sys.stderr) as bar:
            try:
                result = import_facilities_csv(session, file, profile, progress=bar.update)
            except CsvProblems as exc:
                raise Refused(f"nothing was imported:\n{exc}") from None
            audit(session, operator(), "facilities.imported", str(Path(file).resolve()),
                  **result)
    finally:
        db.dispose()
    click.echo(f"{result['created']} centre(s) created, {result['updated']} updated "
               f"from {file}.")
