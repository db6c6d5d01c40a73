"""`cowin-kit reports export KIND`: an officials' report as a CSV file, for the operator
(the whole country, or a division or centre), with a progress bar. The same rows as the
staff pages' exports (cowin_kit.reporting.exports); audited."""
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

KINDS = {"utilisation": "utilisation", "adverse-events": "adverse_events",
         "coverage": "coverage"}


@click.command("export")
@click.argument("kind", type=click.Choice(sorted(KINDS)))
@click.option("--division", metavar="CODE", help="A division's code (default: the country).")
@click.option("--facility", metavar="CODE", help="One centre's code.")
@click.option("--from", "start", metavar="DATE",
              help="First day, YYYY-MM-DD or DD-MM-YYYY (default: 30 days before --to).")
@click.option("--to", "end", metavar="DATE", help="Last day (default: today).")
@click.option("--programme", metavar="CODE",
              help="coverage: the programme (default: the first active one).")
@click.option("--level", type=int, metavar="N",
              help="coverage: the level of the divisions compared (default: 2, districts).")
@click.option("--lang", metavar="CODE", help="Language of the names (default: the profile's).")
@click.option("-o", "--output", required=True, metavar="FILE",
              type=click.Path(dir_okay=False, writable=True),
              help="Where to write the CSV file ('-' for standard output).")
@instance_option
@db_errors_refused
def export(kind, division, facility, start, end, programme, level, lang, output, instance):
    """Write an officials' report as CSV: utilisation (per centre), adverse-events (per
    division, by seriousness and symptom) or coverage (districts where coverage lags).
    Counts only; no row is about a person. Cells a spreadsheet would run as a formula
    start with an apostrophe."""
    import datetime as dt
    import os
    import tempfile
    from pathlib import Path

    from cowin_kit import clock
    from cowin_kit.accounts.service import audit
    from cowin_kit.provisioning import operator
    from cowin_kit.reporting import exports

    settings = load_instance(instance)
    profile = load_instance_profile(settings)
    today = clock.today(settings["TIMEZONE"] or profile["timezone"])
    if start is None and end is None:
        start = (today - dt.timedelta(days=29)).isoformat()
    params = {"division": division or "", "facility": facility or "", "from": start or "",
              "to": end or "", "programme": programme or "", "level": level or "",
              "lang": lang or profile.default_language}
    db = open_database(settings)
    try:
        with db.Session() as session:
            rows = exports.Rows(session, profile, KINDS[kind], params, today)
            params.update({"from": rows.start.isoformat(), "to": rows.end.isoformat()})
            total = rows.total()
            if output == "-":
                written = exports.write_csv(rows, sys.stdout)
            else:
                target = Path(output)
                try:
                    fd, temporary = tempfile.mkstemp(dir=target.parent or ".",
                                                     prefix=".report-", suffix=".csv")
                except OSError as exc:
                    raise Refused(f"-o {output}: cannot write there ({exc.strerror}).") from None
                try:
                    with os.fdopen(fd, "w", encoding="utf-8", newline="") as out, \
                            click.progressbar(length=total, label=f"Exporting {kind}",
                                              file=sys.stderr) as bar:
                        written = exports.write_csv(rows, out, bar.update)
                    os.replace(temporary, target)
                except BaseException:
                    Path(temporary).unlink(missing_ok=True)
                    raise
            area = rows.scope.area
            audit(session, operator(), "report.exported", f"report:{KINDS[kind]}",
                  division_id=None if area.is_nation else area.division_id, kind=KINDS[kind],
                  rows=written, **rows.scope.details(),
                  **{k: params[k] for k in ("from", "to")})
            session.commit()
    finally:
        db.dispose()
    if output != "-":
        click.echo(f"wrote {written} rows of {kind} ({params['from']} to {params['to']}, "
                   f"{rows.scope.area.code}) to {output}", err=True)
