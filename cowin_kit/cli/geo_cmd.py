"""`cowin-kit geo import FILE.csv`."""
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
def geo():
    """Administrative divisions."""


@geo.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@instance_option
@db_errors_refused
def import_(file, instance):
    """Create or update divisions from FILE.csv (safe to run twice).

    Columns: code, level, parent_code, name; optional postal_code and name_<lang>
    (e.g. name_qu). Level-1 divisions come from the profile; a file usually holds levels
    2 and below. Nothing is written unless every line is valid.
    """
    from cowin_kit.accounts.service import audit
    from cowin_kit.csvfiles import CsvProblems, read_rows
    from cowin_kit.geography.service import (
        DIVISION_COLUMNS,
        DIVISION_OPTIONAL,
        import_divisions_csv,
    )
    from cowin_kit.provisioning import operator

    settings = load_instance(instance)
    profile = load_instance_profile(settings)
    try:
        total = len(read_rows(file, DIVISION_COLUMNS, optional=DIVISION_OPTIONAL,
                              optional_prefixes=("name_",)))
    except CsvProblems as exc:
        raise Refused(f"nothing was imported:\n{exc}") from None
    db = open_database(settings)
    try:
        with db.session() as session, click.progressbar(length=total, label="Importing",
                                                        file=sys.stderr) as bar:
            try:
                result = import_divisions_csv(session, file, profile, progress=bar.update)
            except CsvProblems as exc:
                raise Refused(f"nothing was imported:\n{exc}") from None
            from pathlib import Path

            audit(session, operator(), "geo.imported", str(Path(file).resolve()), **result)
    finally:
        db.dispose()
    click.echo(f"{result['created']} division(s) created, {result['updated']} updated "
               f"from {file}.")
