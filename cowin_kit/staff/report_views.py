"""Routes only: the officials' reports (cowin_kit.reporting.official) for the user's area or
centre, and their CSV exports with progress (cowin_kit.reporting.exports).

A report outside the user's area is refused with 403 (``forbidden``, which audits the
refusal); an unknown division or centre and a malformed date range are form errors (400).
Every report viewed, export asked for and file downloaded is written to the audit log,
with the report's kind and area, nothing personal. Figures are read through the read
session (a replica may serve them).
"""
from __future__ import annotations

import datetime as dt

from flask import (
    abort,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale, gettext, lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import Form, SelectField, StringField
from wtforms.validators import Length, Optional

from cowin_kit.accounts.roles import Can, is_facility_role
from cowin_kit.accounts.service import actor, audit
from cowin_kit.collation import sorted_by_name
from cowin_kit.geography.models import Division
from cowin_kit.geography.service import division_name
from cowin_kit.reporting import exports, official, queries
from cowin_kit.reporting.export_models import ExportStatus, ReportExport, ReportKind
from cowin_kit.runtime import db_session, deployment, read_session
from cowin_kit.staff import access
from cowin_kit.staff.access import bp
from cowin_kit.staff.paging import page_of
from cowin_kit.web.user_errors import form_error

view_reports = access.requires(Can.VIEW_REPORTS)
REPORT_PER_PAGE = 50
# An export's page reloads itself this often while the file is prepared (a meta refresh:
# no script needed); ?refresh=off stops it, for whom a reloading page is in the way.
REFRESH_SECONDS = 3

# The reports by the name in their address, with their titles.
KINDS = {"utilisation": ReportKind.UTILISATION, "adverse-events": ReportKind.ADVERSE_EVENTS,
         "coverage": ReportKind.COVERAGE}
SLUGS = {kind: slug for slug, kind in KINDS.items()}
TITLES = {ReportKind.UTILISATION: _l("Centre utilisation"),
          ReportKind.ADVERSE_EVENTS: _l("Adverse events by seriousness"),
          ReportKind.COVERAGE: _l("Districts where coverage lags")}
SUMMARIES = {
    ReportKind.UTILISATION: _l("Per centre: sessions held, places offered and taken, people "
                               "vaccinated, no-shows and utilisation."),
    ReportKind.ADVERSE_EVENTS: _l("Adverse events reported, per division, by seriousness and "
                                  "symptom. Counts only."),
    ReportKind.COVERAGE: _l("Each district's first-dose and full-schedule coverage of its "
                            "population, lowest first, flagged where it lags."),
}


def _lang() -> str:
    return str(get_locale())


class ReportForm(Form):
    """The report's GET form (no CSRF: it only reads). ``from`` and ``to`` are the names in
    the address; dates are checked by queries.date_range, codes by resolving them."""

    class Meta:
        csrf = False

    division = SelectField(_l("Area"), validate_choice=False)
    facility = StringField(_l("Centre code"), validators=[Optional(), Length(max=40)],
                           description=_l("Empty: every centre of the area."))
    since = StringField(_l("From"), name="from")
    until = StringField(_l("To"), name="to")
    programme = SelectField(_l("Programme"), validate_choice=False)
    level = SelectField(_l("Compare"), validate_choice=False)


FIELD_OF = {"from": "since", "to": "until"}  # a ReportError's field -> the form's


class ExportButton(FlaskForm):
    """Starting an export is a POST (it writes a job, and it is audited)."""


def _division_choices(db, user, area) -> list[tuple[str, str]]:
    """The divisions a user may choose, down to the district (and the user's own), as a
    tree: each division followed by those under it."""
    level = official.DISTRICT_LEVEL
    if user.division_id is not None:
        own = db.get(Division, user.division_id)
        level = max(level, own.level if own else level)
    query = select(Division).where(Division.level <= level)
    if area is not None:
        query = query.where(Division.id.in_(area))
    found = list(db.scalars(query))
    ids = {d.id for d in found}
    lang = _lang()
    under: dict = {}
    for d in found:
        under.setdefault(d.parent_id if d.parent_id in ids else None, []).append(d)
    out = [] if area is not None else [("", gettext("The whole country"))]

    def walk(parent, depth):
        for d in sorted_by_name(under.get(parent, []), lang, lambda x: division_name(x, lang)):
            out.append((d.code, "\u2003" * depth + division_name(d, lang)))
            walk(d.id, depth + 1)
    walk(None, 0)
    return out


def _form(kind: ReportKind, db) -> ReportForm:
    form = ReportForm(request.args)
    user = g.staff
    form.division.choices = _division_choices(db, user, g.area)
    if not request.args.get("division") and user.division_id is not None \
            and not is_facility_role(user.role):
        own = db.get(Division, user.division_id)
        form.division.data = own.code if own else ""
    if kind == ReportKind.COVERAGE:
        form.until.label.text = gettext("As of")
        form.programme.choices = [(p.code, p.name) for p in queries.programmes(
            db, _lang(), deployment().profile.default_language)]
        names = {lvl["level"]: lvl for lvl in deployment().profile["admin_levels"]}
        form.level.choices = [("", gettext("Districts"))] + [
            (str(n), (names[n].get("names") or {}).get(_lang()) or names[n]["name"])
            for n in sorted(names)]
    return form


class Asked:
    """A report request, checked: its scope and dates (or the form's errors)."""

    def __init__(self, kind: ReportKind):
        self.kind = kind
        self.db = read_session()
        self.form = _form(kind, self.db)
        self.scope = self.start = self.end = None
        self.problem = None
        self.own = own = g.staff.facility_id if is_facility_role(g.staff.role) else None
        try:
            self.start, self.end = official.date_range(self.form.since.data or None,
                                                       self.form.until.data or None,
                                                       access.today())
            self.scope = official.scope_for(
                self.db, deployment().profile, _lang(), division=self.form.division.data or None,
                facility=(self.form.facility.data or "").strip() or None, allowed=g.area,
                own_facility=own)
        except queries.OutsideArea:
            access.forbidden("area")
        except queries.ReportError as exc:
            self.fail(exc)
        if self.start:
            self.form.since.data = self.form.since.data or self.start.isoformat()
            self.form.until.data = self.form.until.data or self.end.isoformat()

    def fail(self, exc: queries.ReportError) -> None:
        field = FIELD_OF.get(exc.field, exc.field)
        self.problem = form_error(self.form, queries.ReportError(exc.msgid, field, **exc.params))
        self.scope = None

    @property
    def ok(self) -> bool:
        return self.scope is not None

    def params(self) -> dict:
        """What an export of this request is built from (codes, ISO dates, the language)."""
        form, area = self.form, self.scope.area
        return {"division": "" if area.is_nation or area.is_facility else area.code,
                "facility": area.code if area.is_facility else "",
                "from": self.start.isoformat(), "to": self.end.isoformat(),
                "programme": form.programme.data if self.kind == ReportKind.COVERAGE else "",
                "level": form.level.data if self.kind == ReportKind.COVERAGE else "",
                "lang": _lang()}


def _kind(slug: str) -> ReportKind:
    if slug not in KINDS:
        abort(404)
    kind = KINDS[slug]
    if kind == ReportKind.COVERAGE and is_facility_role(g.staff.role):
        access.forbidden("facility role")  # a centre has no population to cover
    return kind


def _kinds_for(user) -> list[ReportKind]:
    return [k for k in KINDS.values()
            if not (k == ReportKind.COVERAGE and is_facility_role(user.role))]


@bp.get("/reports", endpoint="reports")
@view_reports
def reports_index():
    return render_template("staff/reports.html", kinds=_kinds_for(g.staff), slugs=SLUGS,
                           titles=TITLES, summaries=SUMMARIES,
                           exports=exports.recent(db_session(), g.staff))


@bp.get("/reports/<slug>", endpoint="report")
@view_reports
def report(slug: str):
    kind = _kind(slug)
    asked = Asked(kind)
    context = dict(kind=kind, slug=slug, title=TITLES[kind], asked=asked, form=asked.form,
                   problem=asked.problem, failed=not asked.ok, button=ExportButton())
    if not asked.ok:
        return render_template("staff/report.html", **context), 400
    db, lang = asked.db, _lang()
    if kind == ReportKind.UTILISATION:
        page = page_of(official.count_facilities(db, asked.scope, asked.start, asked.end),
                       REPORT_PER_PAGE)
        context.update(page=page, rows=official.facility_utilisation(
            db, asked.scope, asked.start, asked.end, lang, offset=page.offset,
            limit=page.per_page),
            total=official.utilisation_total(db, asked.scope, asked.start, asked.end))
    elif kind == ReportKind.ADVERSE_EVENTS:
        from cowin_kit.web.aefi_forms import aefi_names

        context.update(events=asked_events(asked, lang), names=aefi_names())
    else:
        try:
            programme = queries.programme_figures(db, lang, asked.form.programme.data or None,
                                                  deployment().profile.default_language)
            level = asked.form.level.data
            if level and not level.isdigit():
                raise queries.ReportError(official.MSG_BAD_LEVEL, "level")
            context.update(coverage=official.coverage(
                db, deployment().profile, lang, asked.scope, programme, asked.end,
                access.today(), int(level) if level else None), programme=programme,
                lag_points=official.LAG_POINTS, lag_percent=int(official.LAG_FRACTION * 100))
        except queries.ReportError as exc:
            asked.fail(exc)
            context.update(problem=asked.problem, failed=True)
            return render_template("staff/report.html", **context), 400
    _audit_viewed(asked)
    return render_template("staff/report.html", **context)


def asked_events(asked: Asked, lang: str):
    return official.adverse_events(asked.db, asked.scope, asked.start, asked.end, lang)


def _audit_viewed(asked: Asked) -> None:
    db = db_session()
    area = asked.scope.area
    audit(db, actor(g.staff), "report.viewed", f"report:{asked.kind.value}",
          division_id=None if area.is_nation else area.division_id, kind=asked.kind.value,
          **asked.scope.details(), **{"from": asked.start.isoformat(),
                                      "to": asked.end.isoformat()})
    db.commit()


@bp.post("/reports/<slug>/export", endpoint="report_export_start")
@view_reports
def report_export_start(slug: str):
    kind = _kind(slug)
    access.submitted(ExportButton())  # a missing or stale CSRF token is a 400
    asked = Asked(kind)
    if not asked.ok:
        return render_template("staff/report.html", kind=kind, slug=slug, title=TITLES[kind],
                               asked=asked, form=asked.form, problem=asked.problem,
                               failed=True, button=ExportButton()), 400
    db, dep = db_session(), deployment()
    try:
        job = exports.request_export(db, dep.profile, kind=kind.value, params=asked.params(),
                                     scope=asked.scope, user=g.staff, actor=actor(g.staff),
                                     today=access.today())
    except queries.ReportError as exc:
        db.rollback()
        asked.fail(exc)
        return render_template("staff/report.html", kind=kind, slug=slug, title=TITLES[kind],
                               asked=asked, form=asked.form, problem=asked.problem,
                               failed=True, button=ExportButton()), 400
    db.commit()
    if job.rows_total <= exports.SMALL_EXPORT:
        exports.build(db, read_session(), dep.profile, job, _folder(), access.today())
    return redirect(url_for("staff.report_export", export_id=job.id))


def _folder():
    return exports.folder_for(deployment().settings.instance_path)


def _readable(export_id: int) -> ReportExport:
    db = db_session()
    job = db.get(ReportExport, export_id)
    if job is None:
        abort(404)
    if not exports.may_read(job, g.staff, g.area):
        access.forbidden("area")
    return job


@bp.get("/reports/exports/<id:export_id>", endpoint="report_export")
@view_reports
def report_export(export_id: int):
    job = _readable(export_id)
    running = job.status in (ExportStatus.QUEUED.value, ExportStatus.RUNNING.value)
    refresh = REFRESH_SECONDS if request.args.get("refresh") != "off" else None
    try:
        area = queries.resolve_area(read_session(), deployment().profile, _lang(),
                                    division=job.params.get("division"),
                                    facility=job.params.get("facility")).name
    except queries.ReportError:  # a centre or division since renamed away: its code
        area = job.params.get("facility") or job.params.get("division")
    period = [dt.date.fromisoformat(job.params[k]) for k in ("from", "to")]
    return render_template("staff/report_export.html", job=job, running=running,
                           area=area, period=period,
                           title=TITLES[ReportKind(job.kind)], slug=SLUGS[ReportKind(job.kind)],
                           refresh=refresh,
                           back={k: v for k, v in job.params.items() if k != "lang" and v})


@bp.get("/reports/exports/<id:export_id>/download", endpoint="report_download")
@view_reports
def report_download(export_id: int):
    job = _readable(export_id)
    path = exports.file_path(_folder(), job)
    if job.status != ExportStatus.DONE.value or path is None or not path.is_file():
        abort(404)
    db = db_session()
    audit(db, actor(g.staff), "report.downloaded", f"report_export:{job.id}",
          division_id=job.division_id, kind=job.kind, rows=job.rows_done,
          area=job.params.get("facility") or job.params.get("division") or "")
    db.commit()
    name = f"{SLUGS[ReportKind(job.kind)]}-{job.params.get('from')}-{job.params.get('to')}.csv"
    return send_file(path, mimetype="text/csv", as_attachment=True, download_name=name,
                     max_age=0)
