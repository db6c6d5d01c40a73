"""The vaccinator's pages, made for a phone: today's queue, finding a person, confirming who
they are and recording the dose; the end of the day; and the JSON the offline page uses
(static/vaccinate.js, static/vaccinate-sw.js). Routes only: the rules are in
cowin_kit.vaccination.centre, .recording and .noshows."""
from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from flask import (
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext, lazy_gettext as _l
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from werkzeug.routing import BuildError
from wtforms import ValidationError

from cowin_kit import clock
from cowin_kit.accounts import service as accounts
from cowin_kit.accounts.roles import Can, can
from cowin_kit.certificates import issuing
from cowin_kit.errors import UserError
from cowin_kit.registration.choices import accepted_id_types
from cowin_kit.runtime import db_session, deployment
from cowin_kit.staff import access
from cowin_kit.staff.access import bp, requires
from cowin_kit.staff.vaccinate_forms import ActionForm, FindForm, RecordForm
from cowin_kit.vaccination import centre, noshows, recording
from cowin_kit.web.limits import limiter
from cowin_kit.web.user_errors import flash_error, form_error

# Finding people reads personal data: counted per staff user, whatever the address.
FIND_PER_USER = "30 per minute;300 per hour"
SITE_LABELS = {code: _l(label) for code, label in centre.SITES}


def _user_key() -> str:
    user = access.current_user()
    return f"staff:{user.id}" if user is not None else f"addr:{request.remote_addr}"


def _zone() -> ZoneInfo:
    return ZoneInfo(deployment().timezone)


def _facility_day(db, facility) -> dt.date:
    """Today at this centre: its division's time zone, else the deployment's (issue 16)."""
    return deployment().facility_today(db, facility)


def _appointment_zone(db, appointment_id: str) -> str:
    """The time zone of the centre of this appointment (the deployment's when the profile
    has one zone, with no query)."""
    dep = deployment()
    if not dep.several_zones:
        return dep.timezone
    from cowin_kit.scheduling.models import Appointment

    appt = db.get(Appointment, appointment_id)  # kept in the session for the real lookup
    return dep.zone_of(db, appt.session.facility.division_id) if appt else dep.timezone


def _zone_of(db):
    """A centre's zone from its division id, for the recording service (None: one zone)."""
    return deployment().zone_resolver(db)


def _endpoint(name: str, **values) -> str | None:
    """The URL of another helper's page, or None while it is not built."""
    if name not in current_app.view_functions:
        return None
    try:
        return url_for(name, **values)
    except BuildError:
        return None


def _certificates():
    """How the dose's certificate is issued: the deployment's keys, and its public address
    (PUBLIC_URL, else the address this request came to) as the SMART Health Card's iss."""
    dep = deployment()
    return issuing.context_or_none(dep.settings, dep.profile, fallback_url=request.host_url)


def _chosen_facility() -> int | None:
    raw = request.args.get("facility", "")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 10 else None


def _facility_or_forbidden():
    try:
        return centre.working_facility(db_session(), g.staff, g.area, _chosen_facility())
    except centre.NotYourFacility:
        access.forbidden("facility")
    except centre.NotFoundHere:
        abort(404)


# --- today ---------------------------------------------------------------------------------

@bp.get("/today")
@requires(Can.VACCINATE)
def vaccinate():
    db = db_session()
    facility = _facility_or_forbidden()
    if facility is None:  # an administrator chooses a centre of the area first
        day = access.today()
        return render_template("staff/today_choose.html",
                               facilities=centre.facilities_with_sessions(db, g.area, day))
    day = _facility_day(db, facility)
    queue = centre.today_queue(db, facility, day)
    return render_template(
        "staff/today.html", facility=facility, queue=queue, day=day,
        find=_find_form(db), sites=SITE_LABELS,
        may_close=can(g.staff, Can.RUN_FACILITY), close_form=ActionForm(formdata=None),
        csrf=generate_csrf(),
        chosen=_chosen_facility() if g.staff.facility_id is None else None)


def _find_form(db, formdata=None) -> FindForm:
    form = FindForm(formdata=formdata) if formdata is not None else FindForm(formdata=None)
    dep = deployment()
    types = accepted_id_types(db, dep.id_providers, str(_locale()), dep.default_language)
    form.id_type.choices = [(t.code, t.name_l) for t in types]
    return form


def _locale():
    from flask_babel import get_locale

    return get_locale()


@bp.route("/today/find", methods=["GET", "POST"])
@requires(Can.VACCINATE)
@limiter.limit(FIND_PER_USER, key_func=_user_key, methods=["POST"])
def vaccinate_find():
    db = db_session()
    facility = _facility_or_forbidden()
    if facility is None:
        return redirect(url_for("staff.vaccinate"))
    form = _find_form(db, request.form if request.method == "POST" else None)
    found, error, searched = [], None, False
    if access.submitted(form):
        day = _facility_day(db, facility)
        dep = deployment()
        try:
            if form.by.data == "id":
                found = centre.find_by_id_number(
                    db, g.staff, facility, day, providers=dep.id_providers,
                    hash_key=dep.settings["ID_HASH_KEY"], document_code=form.id_type.data,
                    number=form.id_number.data)
            elif form.by.data == "mobile":
                found = centre.find_by_mobile(db, g.staff, facility, day,
                                              region=dep.profile["phone_region"],
                                              mobile=form.mobile.data)
            else:
                one = centre.find_by_code(db, facility, day, form.reference.data,
                                          form.code.data)
                return redirect(_appointment_url(one.appointment_id))
        except centre.CentreError as exc:
            db.rollback()
            error = form_error(form, exc)
        else:
            db.commit()
            searched = True
    failed = bool(error or any(f.errors for f in form))
    walk_in = {f.person.id: _endpoint("staff.walk_in", beneficiary=f.person.id)
               for f in found if f.appointment_id is None}
    return render_template("staff/vaccinate_find.html", form=form, found=found, error=error,
                           searched=searched, failed=failed, walk_in=walk_in,
                           facility=facility), 400 if failed else 200


def _appointment_url(appointment_id: str, **values) -> str:
    if g.staff.facility_id is None and _chosen_facility():
        values["facility"] = _chosen_facility()
    return url_for("staff.vaccinate_appointment", appointment_id=appointment_id, **values)


def _today_url() -> str:
    chosen = _chosen_facility() if g.staff.facility_id is None else None
    return url_for("staff.vaccinate", facility=chosen) if chosen else url_for("staff.vaccinate")


# --- one appointment: identity and the dose ------------------------------------------------

def _valid_id(appointment_id: str) -> str:
    try:
        return str(uuid.UUID(appointment_id))
    except ValueError:
        abort(404)


@bp.route("/today/appointments/<appointment_id>", methods=["GET", "POST"])
@requires(Can.VACCINATE)
def vaccinate_appointment(appointment_id: str):
    db = db_session()
    appointment_id = _valid_id(appointment_id)
    zone = _appointment_zone(db, appointment_id)
    day = clock.today(zone)
    try:
        view = centre.appointment_at(db, g.staff, g.area, appointment_id, day)
    except centre.NotYourFacility:
        access.forbidden("facility")
    except centre.NotFoundHere:
        abort(404)
    form = RecordForm() if request.method == "POST" else RecordForm(formdata=None)
    form.lot.choices = [(lot.id, lot.lot_number) for lot in view.lots]
    form.site.choices = [(code, label) for code, label in SITE_LABELS.items()]
    if request.method == "GET":
        form.idempotency_key.data = str(uuid.uuid4())
        form.given_time.data = clock.local_now(zone).time().replace(second=0,
                                                                    microsecond=0)
        if len(view.lots) == 1:
            form.lot.data = view.lots[0].id
    error = None
    if access.submitted(form):
        req = recording.DoseRequest(
            appointment_id=appointment_id, lot_id=form.lot.data, site=form.site.data,
            idempotency_key=form.idempotency_key.data,
            given_at=form.given_at(view.session.date, ZoneInfo(zone)),
            override_reason=form.override_reason.data)
        try:
            done = recording.record_at_centre(
                db, g.staff, g.area, req, now=clock.now(), timezone=deployment().timezone,
                zone_of=_zone_of(db), may_supervise=can(g.staff, Can.SUPERVISE),
                certificate_url=access.certificate_url(),
                certificates=_certificates())
        except centre.NotYourFacility:
            access.forbidden("facility")
        except UserError as exc:
            db.rollback()
            error = form_error(form, exc)
        else:
            db.commit()
            flash(_recorded_message(view.person.name, done))
            return redirect(_today_url())
    failed = bool(error or any(f.errors for f in form))
    aefi = _endpoint("staff.aefi_new", beneficiary=view.person.id)
    arrived = ActionForm(formdata=None)
    return render_template(
        "staff/vaccinate_appointment.html", view=view, form=form, error=error, failed=failed,
        may_supervise=can(g.staff, Can.SUPERVISE), aefi_url=aefi, arrived_form=arrived,
        today=day, today_url=_today_url()), 400 if failed else 200


def _recorded_message(name: str, done: recording.Recorded) -> str:
    if done.replay:
        return gettext("Dose %(dose)s for %(name)s was already recorded; nothing was added.",
                       dose=done.dose.dose_number, name=name)
    return gettext("Dose %(dose)s recorded for %(name)s.", dose=done.dose.dose_number,
                   name=name)


@bp.post("/today/appointments/<appointment_id>/arrived")
@requires(Can.VACCINATE)
def vaccinate_arrived(appointment_id: str):
    db = db_session()
    appointment_id = _valid_id(appointment_id)
    form = ActionForm()
    if not access.submitted(form):
        abort(400)
    try:
        centre.mark_arrived(db, g.staff, g.area, appointment_id,
                            clock.today(_appointment_zone(db, appointment_id)))
    except centre.NotYourFacility:
        access.forbidden("facility")
    except centre.NotFoundHere:
        abort(404)
    except UserError as exc:
        db.rollback()
        flash_error(exc)
    else:
        db.commit()
    return redirect(_appointment_url(appointment_id))


@bp.post("/today/sessions/<session_id>/close")
@requires(Can.RUN_FACILITY)
def vaccinate_close(session_id: str):
    from cowin_kit.scheduling.models import VaccinationSession

    db = db_session()
    form = ActionForm()
    if not access.submitted(form):
        abort(400)
    try:
        session_id = str(uuid.UUID(session_id))
    except ValueError:
        abort(404)
    vs = db.get(VaccinationSession, session_id)
    if vs is None:
        abort(404)
    try:
        centre.check_facility(g.staff, g.area, vs.facility)
        count = noshows.close_day(db, accounts.actor(g.staff),
                                  today=_facility_day(db, vs.facility),
                                  session_id=vs.id)
    except centre.NotYourFacility:
        access.forbidden("facility")
    except UserError as exc:
        db.rollback()
        flash_error(exc)
    else:
        db.commit()
        flash(gettext("%(count)s appointment(s) marked as no-shows. These people may book "
                      "again.", count=count))
    chosen = vs.facility_id if g.staff.facility_id is None else None
    return redirect(url_for("staff.vaccinate", facility=chosen) if chosen
                    else url_for("staff.vaccinate"))


# --- the offline page's JSON -----------------------------------------------------------------

def _json_refusal(status: str, message: str, http: int, **extra):
    return jsonify(status=status, message=message, **extra), http


def _json_user():
    """The logged-in user allowed to vaccinate, else a JSON answer (never a login page:
    the offline page keeps its recordings when its login has ended)."""
    user = access.current_user()
    if user is None or user.must_change_password or access.totp_missing(user):
        return None, _json_refusal("login", gettext("Log in again to send the doses "
                                                    "recorded on this phone."), 401)
    g.staff = user
    if not can(user, Can.VACCINATE):
        access.forbidden("role")
    g.area = accounts.area_division_ids(db_session(), user)
    if g.area == []:
        access.forbidden("no area")
    return user, None


@bp.get("/today/queue.json")
def vaccinate_queue():
    user, refusal = _json_user()
    if refusal:
        return refusal
    db = db_session()
    facility = _facility_or_forbidden()
    if facility is None:
        return _json_refusal("choose", gettext("Choose a centre."), 400)
    day = _facility_day(db, facility)
    return jsonify(
        facility={"id": facility.id, "name": facility.name}, date=day.isoformat(),
        csrf_token=generate_csrf(), sites=[{"code": c, "label": str(label)}
                                           for c, label in SITE_LABELS.items()],
        sessions=[_session_json(q) for q in centre.today_queue(db, facility, day)])


def _session_json(q: centre.SessionQueue) -> dict:
    return {
        "session_id": q.id, "date": q.date.isoformat(), "product": q.product_name,
        "product_id": q.product_id, "cancelled": q.cancelled, "counts": q.counts,
        "lots": [{"id": lot.id, "lot_number": lot.lot_number,
                  "expires_on": lot.expires_on.isoformat(), "doses_left": lot.doses_left}
                 for lot in q.lots],
        "queue": [{"appointment_id": e.appointment_id, "beneficiary_id": e.person.id,
                   "reference_id": e.person.reference_id, "name": e.person.name,
                   "birth_year": e.person.birth_year, "id_type": e.person.id_type,
                   "id_masked": e.person.id_masked, "booked_dose": e.dose_number,
                   "next_dose": e.next_dose, "status": e.status, "slot": e.slot,
                   "source": e.source, "code_check": e.code_check}
                  for e in q.entries]}


def _parse_moment(value) -> dt.datetime | None:
    """An ISO 8601 moment with its offset ("Z" too); a naive one is the deployment's time."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=_zone())


@bp.post("/today/doses")
def vaccinate_doses():
    user, refusal = _json_user()
    if refusal:
        return refusal
    try:
        validate_csrf(request.headers.get("X-CSRFToken", ""))
    except (ValidationError, CSRFError):
        return _json_refusal("refused", gettext("This page has expired. Reload it; the doses "
                                                "waiting on this phone are kept."), 400,
                             code="csrf")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _json_refusal("refused", gettext("The request could not be understood."), 400)
    try:
        given_at = _parse_moment(body.get("given_at"))
    except ValueError:
        return _json_refusal("refused", gettext("The time given is not a valid moment."), 400,
                             field="given_at")
    reason = body.get("override_reason")
    req = recording.DoseRequest(
        appointment_id=str(body.get("appointment_id", ""))[:64], lot_id=body.get("lot_id"),
        site=body.get("site"), idempotency_key=body.get("idempotency_key"),
        given_at=given_at, override_reason=reason if isinstance(reason, str) else None)
    db = db_session()
    try:
        done = recording.record_at_centre(
            db, user, g.area, req, now=clock.now(), timezone=deployment().timezone,
            zone_of=_zone_of(db), may_supervise=can(user, Can.SUPERVISE),
            certificate_url=access.certificate_url(),
            certificates=_certificates())
    except centre.NotYourFacility as exc:
        db.rollback()
        accounts.audit(db, accounts.actor(user), "access.denied", request.path,
                       division_id=user.division_id, reason="facility",
                       endpoint=request.endpoint or "", method=request.method)
        db.commit()
        return _json_refusal("forbidden", exc.text(gettext), 403)
    except UserError as exc:
        db.rollback()
        status = {409: "conflict", 404: "not_found", 403: "forbidden"}.get(exc.status,
                                                                         "refused")
        return _json_refusal(status, exc.text(gettext), exc.status, field=exc.field,
                             override=isinstance(exc, recording.ScheduleRefused))
    db.commit()
    dose = done.dose
    answer = {"status": "already_recorded" if done.replay else "recorded",
              "dose_id": dose.id, "dose_number": dose.dose_number,
              "appointment_id": dose.appointment_id,
              "given_at": dose.given_at.isoformat() if dose.given_at else None}
    return jsonify(answer), 200 if done.replay else 201


# --- the service worker ----------------------------------------------------------------------

@bp.get("/sw.js")
def vaccinate_sw():
    """The offline page's service worker, served under /staff/ so its scope covers the
    staff pages; its own policy lets it fetch from this site."""
    response = send_from_directory(current_app.static_folder, "vaccinate-sw.js",
                                   mimetype="text/javascript", max_age=0)
    response.headers["Content-Security-Policy"] = "default-src 'self'"
    return response
