"""Routes only: the public dashboard, GET /dashboard.

Query parameters: ``division`` (a division's code at any level, e.g. PE-LIM), ``facility``
(a centre's code), ``programme`` (a programme's code; default the first), ``from`` and ``to``
(YYYY-MM-DD or DD-MM-YYYY; default the last 90 days). A wrong one is answered 400 with the
form, each wrong field named with the reason. What the page shows is built in
dashboard_page.py from dashboard.dashboard_figures, the dict the reports API sends too.
"""
from __future__ import annotations

from flask import Blueprint, make_response, render_template, request
from flask_babel import get_locale

from cowin_kit.reporting import dashboard_page as page
from cowin_kit.runtime import deployment

bp = Blueprint("dashboard", __name__, template_folder="templates")


@bp.get("/dashboard")
def dashboard():
    lang = str(get_locale())
    asked = page.Asked.from_args(request.args)
    data = page.figures(asked, lang)
    if data is None:
        programmes = page.programme_choices(lang)
        return render_template("reporting/dashboard.html", d=None, asked=asked,
                               programmes=programmes, page=page), 400
    seconds = deployment().settings["REPORTS_CACHE_SECONDS"]
    # The rendered page too, for as long: drawing the charts costs more than reading the
    # figures. It depends only on the language and the query string (the figures' key is
    # made from them; the language form repeats the string); nothing on it is the reader's.
    html = deployment().figures_cache.get(
        ("dashboard-page", lang, request.query_string), seconds,
        lambda: render_template(
            "reporting/dashboard.html", d=data, asked=asked, page=page,
            programmes=[(p["code"], p["name"]) for p in data["programmes"]],
            charts=page.draw_charts(data), link_args=page.link_args(data, asked)))
    response = make_response(html)
    response.headers["Cache-Control"] = f"public, max-age={seconds}"
    # The page's language may come from the browser or the language cookie, not the URL.
    response.vary.update(("Accept-Language", "Cookie"))
    return response
