"""Routes only: the open-data page and its files (cowin_kit.reporting.open_data).

The files are built from the rollups on the read session when asked for and kept in the
deployment's figures cache for REPORTS_CACHE_SECONDS, so every process serves the same
current figures without a shared disk; their names are in the deployment's default
language, so the files are the same whoever downloads them.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import lazy_gettext as _l

from cowin_kit import clock
from cowin_kit.reporting import open_data as od
from cowin_kit.runtime import deployment, read_session

bp = Blueprint("open_data", __name__, template_folder="templates")

DESCRIPTIONS = {
    od.NATIONAL: _l("Doses per day in the whole country: all doses, first, second and later "
                    "doses."),
    od.BY_DIVISION: _l("Doses per day by region, product and dose number."),
    od.BY_AGE_GENDER: _l("Doses per month by region, age band, gender and dose number."),
    od.DICTIONARY: _l("The data dictionary: every column of every table, with its type, "
                      "meaning, unit and allowed values."),
    "datapackage": _l("The Data Package descriptor (Frictionless Data): the files, their "
                      "columns, the licence, the source, when the data was extracted and the "
                      "suppression threshold."),
}
FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def current_export() -> od.Export:
    dep = deployment()
    now = clock.now()  # "yesterday" is a day of the deployment's wall clock
    through = od.last_whole_day(now, dep.timezone)
    lang = dep.default_language

    def build():
        return od.export(read_session(), dep.profile, lang=lang, now=now, tz=dep.timezone,
                         through=through)

    return dep.figures_cache.get(("open-data", lang, through),
                                 dep.settings["REPORTS_CACHE_SECONDS"], build)


@bp.get("/open-data")
def page():
    result = current_export()
    files = []
    for name in od.file_names():
        stem, ext = name.rsplit(".", 1)
        files.append({"name": name, "format": ext.upper(), "size": len(result.files[name]),
                      "rows": result.rows(name), "suppressed": result.suppressed(name),
                      "description": DESCRIPTIONS[stem]})
    reporting = deployment().profile["reporting"]
    return render_template("reporting/open_data.html", files=files, data=result.data,
                           extracted=result.extracted, licence=reporting["licence"],
                           licence_url=reporting["licence_url"])


@bp.get("/open-data/<name>")
def file(name: str):
    if name not in od.file_names():
        abort(404)
    body = current_export().files[name]
    response = Response(body, mimetype=None,
                        content_type=FORMATS[name.rsplit(".", 1)[1]])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Access-Control-Allow-Origin"] = "*"
    seconds = deployment().settings["REPORTS_CACHE_SECONDS"]
    response.headers["Cache-Control"] = f"public, max-age={seconds}" if seconds else "no-cache"
    response.add_etag()
    response = response.make_conditional(request)
    # make_conditional adds a Date; the HTTP server adds its own (see trust_views).
    del response.headers["Date"]
    return response
