"""Routes only: the minimal staff pages under /staff (see ``service`` for the rules)."""
from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
from pathlib import Path

from flask import (
    abort,
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
from cowin_kit.web.user_errors import form_error

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
    total = service.count_centres(db, g.area)
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    shown = service.centres(db, g.area, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    today = _today()
    sessions = service.upcoming_sessions(db, [c.id for c in shown], today,
                                         until=today + dt.timedelta(days=UPCOMING_DAYS - 1))
    area_name = None
    if g.staff.division_id is not None:
        area_name = division_name(g.staff_division, str(get_locale()))
    return render_template("staff/centres.html", centres=shown, sessions=sessions, total=total,
                           page=page, pages=pages, products=_product_names(db),
                           days=UPCOMING_DAYS, area_name=area_name,
                           divisions={c.id: _division_label(c.division) for c in shown})


def _product_names(db) -> dict[int, str]:
    return {p.id: p.name for p in service.products(db, deployment().profile)}


@bp.route("/centres/<id:facility_id>", methods=["GET", "POST"])
@staff_page
def centre(facility_id: int):
    db = db_session()
    facility = service.centre(db, g.area, facility_id)
    if facility is None:
        abort(404)
    dep = deployment()
    offered = service.products(db, dep.profile)
    doses = sorted({r.dose_number for p in offered for r in p.doses}) or [1]
    form = forms.session_form(doses, facility.fee_type == "Paid", dep.profile["currency"])
    form.product.choices = [(p.id, p.name) for p in offered]
    capacity_error = None
    if _submitted(form):
        values = service.NewSession(
            date=form.date.data, product_id=form.product.data, min_age=form.min_age.data,
            max_age=form.max_age.data, slots=form.slots.data,
            capacities={n: f.data
                        for n, f in zip(form.dose_numbers, form.capacity_fields(), strict=True)
                        if f.data is not None},
            fee=form.fee.data if "fee" in form else 0)
        try:
            vs = service.add_session(db, g.staff, facility, values, today=_today(),
                                     products_offered=offered)
        except service.StaffFormError as exc:
            db.rollback()
            # No field of its own (the capacities, the session): shown at the capacities.
            capacity_error = form_error(form, exc)
        else:
            db.commit()
            flash(gettext("The session on %(date)s has been added.",
                          date=_format_date(vs.date)))
            # To the top of the page, where the message is (not the form's #add-session).
            return redirect(url_for("staff.centre", facility_id=facility.id, _anchor="main"))
    sessions = service.upcoming_sessions(db, [facility.id], _today()).get(facility.id, [])
    failed = bool(form.errors or capacity_error)
    return render_template("staff/centre.html", centre=facility, sessions=sessions, form=form,
                           capacity_error=capacity_error, products=_product_names(db),
                           division=_division_label(facility.division), failed=failed,
                           today=_today().isoformat()), 400 if failed else 200


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


# The login routes; imported last, as they use what is above.
from cowin_kit.staff import assist_views, login_views, walk_in_views  # noqa: E402,F401
