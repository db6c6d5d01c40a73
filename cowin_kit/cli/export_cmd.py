"""`cowin-kit export open-data DIR`: the open data (cowin_kit.reporting.open_data) as files."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

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
def export():
    """Publish the drive's figures as files."""


def _writable_folder(directory: str) -> Path:
    """DIR as a folder the files can be written in (made when missing), or a Refused."""
    path = Path(directory).expanduser()
    if path.exists() and not path.is_dir():
        raise Refused(f"{path} is a file, not a folder. Name a folder for the open-data files "
                      "(it is made when missing).")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".cowin-kit-probe.", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise Refused(f"cannot write in {path}: {exc.strerror or exc}. Name a folder you may "
                      "write in.") from None
    return path


@export.command("open-data")
@click.argument("directory", metavar="DIR")
@instance_option
@db_errors_refused
def open_data(directory, instance):
    """Write the open data into DIR: daily and monthly dose counts as CSV and JSON, the
    data dictionary and datapackage.json, with counts under the profile's [reporting]
    min_cell suppressed. Read from the rollups on the read database; running again
    replaces the files (each one at once)."""
    from cowin_kit import clock
    from cowin_kit.reporting import open_data as od

    settings = load_instance(instance)
    profile = load_instance_profile(settings)
    folder = _writable_folder(directory)
    db = open_database(settings, read=True)
    lang = settings["DEFAULT_LOCALE"] or profile.default_language
    try:
        with db.Session() as session:
            result = od.export(session, profile, lang=lang, now=clock.now(),
                               tz=settings["TIMEZONE"] or profile["timezone"])
    finally:
        db.dispose()
    od.write(folder, result.files)
    data = result.data
    click.echo(f"open data up to {data.source.through.isoformat()} in {folder}, "
               f"k = {data.k} (counts under {data.k} suppressed)")
    for name, body in result.files.items():
        rows, hidden = result.rows(name), result.suppressed(name)
        what = f"{rows:>7} rows" if rows is not None else " " * 12
        if hidden is not None:
            what += f", {hidden} suppressed cells"
        click.echo(f"  {name:<36} {len(body):>9} bytes  {what}".rstrip())
    click.echo(f"suppressed {data.primary} small cells and {data.complementary} more that "
               "would give them away by subtraction")
