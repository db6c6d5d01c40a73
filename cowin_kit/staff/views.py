"""Routes only: the minimal staff pages under /staff (see ``service`` for the rules)."""
from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from flask import (
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, gettext, lazy_gettext as _l

from cowin_kit.accounts.roles import Can, can
from cowin_kit.geography.service import division_name
from cowin_kit.runtime import db_session, deployment
from cowin_kit.staff import access, forms, service
from cowin_kit.staff.access import (  # noqa: F401 (LOGIN_KEY, LOGIN_PER_IP: login_views)
    LOGIN_KEY,
    LOGIN_PER_IP,
    PER_PAGE,
    bp,
    current_user,
    navigation,
    staff_page,
    submitted as _submitted,
    today as _today,
)
from cowin_kit.staff.paging import page_of
from cowin_kit.staff.user_forms import CentreFilters

UPCOMING_DAYS = 7  # the centre list shows a week; a centre's page shows every coming session

MSG_BAD_LOGIN = _l("The e-mail address or the password is not right.")
MSG_FORBIDDEN = _l("Your role cannot use these pages. Ask an administrator if you need to.")


@bp.after_request
def _private(response):
    # Staff pages are per user: never cached by the browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("Cookie")
    return response


@bp.app_context_processor
def _staff_context():
    if request.blueprint != "staff":
        return {}
    # formdata=None: the layout's form never reads the posted body (which may be the
    # oversized one this page refuses with 413).
    return {"staff_user": g.get("staff"), "logout_form": forms.LogoutForm(formdata=None),
            "staff_nav": navigation(g.get("staff")),
            "currency": deployment().profile["currency"]}


def _division_label(division) -> str:
    """"Miraflores, Lima": the division and the one above it, in the page's language."""
    lang = str(get_locale())
    names = [division_name(division, lang)]
    if division.parent is not None:
        names.append(division_name(division.parent, lang))
    return ", ".join(names)


@bp.errorhandler(400)
@bp.errorhandler(403)
@bp.errorhandler(429)
def _error(error):
    titles = {400: _l("The form could not be used"), 403: _l("Not allowed"),
              429: _l("Too many attempts")}
    texts = {400: _l("The request could not be understood. Go back and try again."),
             403: MSG_FORBIDDEN,
             429: _l("Too many attempts from your network. Wait a minute and try again.")}
    code = error.code or 400
    text = texts[code]
    if isinstance(error, access.CsrfFailed):
        text = _l("This form has expired or did not come from this site. Go back, reload the "
                  "page and send it again.")
    return render_template("staff/error.html", code=code, title=titles[code], text=text), code


# --- centres and sessions --------------------------------------------------------------------

@bp.get("/")
@access.requires()
def centres():
    if not can(g.staff, Can.MANAGE_CENTRES):  # "/staff/" is every user's start
        return redirect(access.home_url(g.staff))
    db = db_session()
    filters = CentreFilters(request.args)
    q = (filters.q.data or "") if filters.validate() else ""
    total = service.count_centres(db, g.area, q)
    paged = page_of(total, PER_PAGE)
    shown = service.centres(db, g.area, offset=paged.offset, limit=PER_PAGE, q=q)
    today = _today()
    sessions = service.upcoming_sessions(db, [c.id for c in shown], today,
                                         until=today + dt.timedelta(days=UPCOMING_DAYS - 1))
    area_name = None
    if g.staff.division_id is not None:
        area_name = division_name(g.staff_division, str(get_locale()))
    return render_template("staff/centres.html", centres=shown, sessions=sessions, total=total,
                           page=paged.number, pages=paged.pages, paged=paged, q=q,
                           filters=filters, products=_product_names(db),
                           days=UPCOMING_DAYS, area_name=area_name,
                           divisions={c.id: _division_label(c.division) for c in shown},
                           failed=bool(filters.errors)), 400 if filters.errors else 200


def _product_names(db) -> dict[int, str]:
    return {p.id: p.name for p in service.products(db, deployment().profile)}


def _format_date(value: dt.date) -> str:
    from flask_babel import format_date

    return format_date(value, "long")


@bp.route("/sessions/import", methods=["GET", "POST"])
@staff_page
def import_sessions():
    from cowin_kit.csvfiles import CsvProblems

    # A sessions file may be larger than any other body (MAX_CONTENT_LENGTH); only a
    # logged-in manager gets here, and werkzeug spools the file to disk, not memory.
    request.max_content_length = deployment().settings["MAX_UPLOAD_LENGTH"]
    form = forms.UploadForm()
    problems, filename = [], None
    if _submitted(form):
        upload = form.file.data
        filename = Path(upload.filename or "sessions.csv").name
        fd, tmp = tempfile.mkstemp(suffix=".csv")
        os.close(fd)
        try:
            upload.save(tmp)
            db = db_session()
            try:
                result = service.import_sessions(db, g.staff, g.area, Path(tmp), filename,
                                                 today=_today())
            except CsvProblems as exc:
                db.rollback()
                problems = exc.problems
            else:
                db.commit()
                flash(gettext("%(created)s session(s) added and %(updated)s updated from "
                              "%(file)s.", file=filename, **result))
                return redirect(url_for("staff.import_sessions"))
        finally:
            os.unlink(tmp)
    failed = bool(form.errors or problems)
    offered = service.products(db_session(), deployment().profile)
    example = _example_line(offered)
    return render_template("staff/import.html", form=form, problems=problems, failed=failed,
                           filename=filename, vaccine_codes=[p.code for p in offered],
                           example=example), 400 if failed else 200


def _example_line(offered) -> str:
    date = (_today() + dt.timedelta(days=7)).strftime("%d-%m-%Y")
    code = offered[0].code if offered else "vaccine"
    return f"CENTRE-0001,{date},{code},18,,100,50,09:00-11:00;11:00-13:00,"


# The pages in modules of their own; imported last, as they use what is above.
from cowin_kit.staff import (  # noqa: E402,F401
    aefi_views,
    appointments_views,
    assist_views,
    audit_views,
    centre_views,
    certificate_views,
    facility_views,
    login_views,
    lot_views,
    report_views,
    users_views,
    vaccinate_views,
    walk_in_views,
)
