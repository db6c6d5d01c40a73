"""Adverse events on the staff pages: reporting one at the centre (Can.REPORT_AEFI), and an
area's list, a report with its follow-ups, and the committee's CSV export
(Can.FOLLOW_UP_AEFI). The rules are cowin_kit.vaccination.aefi's."""
from __future__ import annotations

import csv
import datetime as dt
import io
import math

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, gettext, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.fields import DateField
from wtforms.validators import Optional

from cowin_kit.accounts.roles import Can
from cowin_kit.accounts.service import actor, audit
from cowin_kit.csvfiles import spreadsheet_cell
from cowin_kit.runtime import db_session, deployment
from cowin_kit.staff import access
from cowin_kit.staff.access import PER_PAGE, bp
from cowin_kit.vaccination import aefi as aefi_service
from cowin_kit.web.aefi_forms import MSG_DATE, AefiReportForm, aefi_names
from cowin_kit.web.user_errors import form_error


def _lang() -> str:
    return str(get_locale())


bp.app_template_global("aefi_names")(aefi_names)


def _beneficiary_id() -> int:
    """?beneficiary=: the person's database id, or their 14-digit reference id."""
    from sqlalchemy import select

    from cowin_kit.registration.models import Beneficiary

    raw = request.args.get("beneficiary", "")
    if raw.isascii() and raw.isdigit() and len(raw) == 14:
        found = db_session().scalar(select(Beneficiary.id)
                                    .where(Beneficiary.reference_id == raw))
        if found is None:
            abort(404)
        return found
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= 2 ** 31 - 1:
        abort(404)
    return int(raw)


def _after_report_url() -> str:
    if "staff.vaccinate" in current_app.view_functions:
        return url_for("staff.vaccinate")
    return access.home_url(g.staff)


@bp.route("/aefi/new", methods=["GET", "POST"])
@access.requires(Can.REPORT_AEFI)
def aefi_new():
    db = db_session()
    dep = deployment()
    try:
        person, doses = aefi_service.staff_doses(db, g.staff, g.area, _beneficiary_id())
    except aefi_service.AefiForbidden:
        access.forbidden("area")
    except aefi_service.AefiNotFound:
        abort(404)
    symptoms = aefi_service.profile_symptoms(dep.profile)
    form = AefiReportForm()
    form.fill(doses, symptoms, _lang(), dep.profile.default_language)
    problem = None
    if access.submitted(form):
        try:
            report = aefi_service.report_aefi(db, person=person, doses=doses, data=form.values(),
                                      symptoms=symptoms, now=_now(), staff=g.staff,
                                      channel="centre")
        except aefi_service.AefiError as exc:
            db.rollback()
            problem = form_error(form, exc)
        else:
            db.commit()
            flash(gettext("The adverse event of %(name)s is reported (number %(number)s).",
                          name=person.name, number=report.id))
            return redirect(_after_report_url())
    failed = bool(form.errors or problem)
    return render_template("staff/aefi_new.html", form=form, person=person, problem=problem,
                           failed=failed, today=access.today().isoformat()), (
        400 if failed else 200)


def _now() -> dt.datetime:
    return deployment().now()


# --- the area's list ---------------------------------------------------------------------------

class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form: it only reads

    seriousness = SelectField(_l("Seriousness"), validate_choice=False)
    status = SelectField(_l("Status"), validate_choice=False)
    since = DateField(_l("Reported from"), validators=[Optional()])
    until = DateField(_l("Reported until"), validators=[Optional()])


def _filters() -> tuple[FilterForm, aefi_service.Filters, bool]:
    form = FilterForm(formdata=request.args)
    everything = [("", gettext("All"))]
    form.seriousness.choices = everything + [(k, v) for k, v in
                                             aefi_names()["seriousness"].items()]
    form.status.choices = everything + [(k, v) for k, v in aefi_names()["status"].items()]
    ok = form.validate()
    for name in ("since", "until"):
        if form[name].errors:
            form[name].errors = [str(MSG_DATE)]
    known = {"seriousness": aefi_names()["seriousness"], "status": aefi_names()["status"]}
    for name, values in known.items():
        if form[name].data and form[name].data not in values:
            form[name].errors = [gettext("Choose from the list.")]
            ok = False
    if not ok:
        return form, aefi_service.Filters(), False
    return form, aefi_service.Filters(seriousness=form.seriousness.data or None,
                              status=form.status.data or None, since=form.since.data,
                              until=form.until.data), True


@bp.get("/aefi")
@access.requires(Can.FOLLOW_UP_AEFI)
def aefi_list():
    db = db_session()
    form, filters, ok = _filters()
    total = aefi_service.count_reports(db, g.area, filters)
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    rows = aefi_service.list_reports(db, g.area, filters, offset=(page - 1) * PER_PAGE,
                             limit=PER_PAGE)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("staff/aefi_list.html", form=form, rows=rows, total=total,
                           page=page, pages=pages, args=args, failed=not ok), 200 if ok else 400


@bp.get("/aefi/export.csv")
@access.requires(Can.FOLLOW_UP_AEFI)
def aefi_export():
    db = db_session()
    _form, filters, ok = _filters()
    if not ok:
        abort(400)
    key = str(deployment().settings["SECRET_KEY"] or "").encode()
    rows = list(aefi_service.export_rows(db, g.area, filters, key))
    audit(db, actor(g.staff), "aefi.exported", "aefi_report:*",
          division_id=g.staff.division_id, rows=len(rows), **filters.as_details())
    db.commit()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(aefi_service.EXPORT_COLUMNS)
    writer.writerows([_cell(v) for v in row] for row in rows)
    name = f"aefi-{access.today().isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _cell(value):
    """A spreadsheet never runs a cell as a formula (a lot number typed as "=HYPERLINK(…)")."""
    return spreadsheet_cell(value)


# --- one report and its follow-ups -------------------------------------------------------------

class FollowUpForm(FlaskForm):
    status = SelectField(_l("Status"), validate_choice=False)
    causality = SelectField(_l("Causality (WHO category)"), validate_choice=False)
    outcome = SelectField(_l("Outcome"), validate_choice=False)
    note = TextAreaField(_l("Note"))


@bp.route("/aefi/<id:report_id>", methods=["GET", "POST"])
@access.requires(Can.FOLLOW_UP_AEFI)
def aefi(report_id: int):
    db = db_session()
    try:
        detail = aefi_service.report_detail(db, g.area, report_id)
    except aefi_service.AefiForbidden:
        access.forbidden("area")
    except aefi_service.AefiNotFound:
        abort(404)
    names = aefi_names()
    form = FollowUpForm(status=detail.report.status)
    form.status.choices = list(names["status"].items())
    form.causality.choices = [("", gettext("Not assessed yet"))] + list(
        names["causality"].items())
    form.outcome.choices = [("", gettext("No change"))] + list(names["outcome"].items())
    if request.method == "GET" and detail.report.causality:
        form.causality.data = detail.report.causality
    problem = None
    if access.submitted(form):
        try:
            aefi_service.follow_up(db, g.staff, g.area, report_id, status=form.status.data,
                                   note=form.note.data, causality=form.causality.data or None,
                                   outcome=form.outcome.data or None)
        except aefi_service.AefiError as exc:
            db.rollback()
            problem = form_error(form, exc)
        else:
            db.commit()
            flash(gettext("The follow-up is saved."))
            return redirect(url_for("staff.aefi", report_id=report_id, _anchor="main"))
        detail = aefi_service.report_detail(db, g.area, report_id)
    failed = bool(form.errors or problem)
    return render_template("staff/aefi.html", d=detail, form=form, problem=problem,
                           failed=failed), 400 if failed else 200

