"""Walk-in at a centre: find the person by their ID (or register them on the spot), then give
them a place in one of today's sessions and go on to record the dose. The rules are in
cowin_kit.registration.assisted and cowin_kit.scheduling.walk_in; this module only routes.

The person being handled is kept in the (encrypted) session cookie, never in the URL, so a
user reaches only the people they found by their ID or registered themselves."""
from __future__ import annotations

import datetime as dt

from flask import abort, g, redirect, render_template, request, session, url_for
from flask_babel import get_locale, gettext

from cowin_kit.accounts import otp
from cowin_kit.accounts.roles import Can, can
from cowin_kit.errors import UserError
from cowin_kit.registration import assisted, service as registration
from cowin_kit.registration.choices import GENDERS, accepted_id_types
from cowin_kit.registration.models import Beneficiary
from cowin_kit.runtime import db_session, deployment
from cowin_kit.scheduling import walk_in
from cowin_kit.scheduling.models import Appointment, AppointmentStatus
from cowin_kit.staff import registration_forms as forms
from cowin_kit.staff.access import bp, forbidden, requires, submitted, today
from cowin_kit.web.user_errors import form_error

WALK_IN_KEY = "walk_in"  # {"person": beneficiary id, "facility": facility id}


def now() -> dt.datetime:
    return deployment().now()


def _facility():
    """The centre of this walk-in (the user's own, or ?facility= for an area role); None
    when an area role has not chosen one yet. 403 outside the user's area or facility."""
    try:
        return walk_in.staff_facility(db_session(), g.staff, g.area,
                                      request.args.get("facility"))
    except walk_in.OutsideArea:
        forbidden("facility")
    except UserError:
        return None


def _id_types():
    dep = deployment()
    return accepted_id_types(db_session(), dep.id_providers, str(get_locale()),
                             dep.profile.default_language)


def _with_id_types(form):
    form.id_type.choices = [("", gettext("Choose…"))] + [(t.code, t.name_l)
                                                         for t in _id_types()]
    return form


def _attach(form, exc: UserError, errors: list) -> None:
    message = form_error(form, exc)
    if message:
        errors.append(message)


def _ctx():
    dep = deployment()
    return registration.IdContext.from_settings(dep.id_providers, dep.settings)


def _remember(person: Beneficiary, facility) -> None:
    session[WALK_IN_KEY] = {"person": person.id, "facility": facility.id}


def _choose_centre():
    code = request.args.get("facility", "")
    return render_template("staff/walk_in_centre.html", code=code[:40],
                           failed=bool(code)), 400 if code else 200


# The endpoint's name is the menu's (access.NAV).
@bp.route("/walk-in", methods=["GET", "POST"], endpoint="walk_in")
@requires(Can.REGISTER_WALK_IN)
def walk_in_page():
    facility = _facility()
    if facility is None:
        return _choose_centre()
    form = _with_id_types(forms.FindForm())
    errors: list[str] = []
    if submitted(form):
        db = db_session()
        try:
            person = assisted.find_person(
                db, _ctx(), user=g.staff, division_id=facility.division_id,
                activity="walk_in", document_code=form.id_type.data,
                id_number=form.id_number.data)
        except UserError as exc:
            db.rollback()
            _attach(form, exc, errors)
        else:
            if person is not None:
                db.commit()
                _remember(person, facility)
                return redirect(url_for("staff.walk_in_book", facility=facility.id))
            # Not registered: the registration form, with the ID as typed.
            register = _person_form(formdata=None, id_type=form.id_type.data,
                                    id_number=form.id_number.data)
            return render_template("staff/walk_in_register.html", form=register,
                                   facility=facility, problems=[], failed=False, new=True)
    failed = bool(form.errors or errors)
    return render_template("staff/walk_in.html", form=form, facility=facility,
                           problems=[("id_number", e) for e in errors],
                           failed=failed), 400 if failed else 200



def _person_form(**kwargs):
    form = _with_id_types(forms.PersonForm(**kwargs))
    form.gender.choices = [(code, gettext(label)) for _id, code, label in GENDERS]
    dep = deployment()
    from cowin_kit.i18n import language_name

    form.language.choices = [(code, language_name(code, str(get_locale())))
                             for code in dep.profile.languages]
    if form.language.data is None:
        form.language.data = dep.profile.default_language
    return form


@bp.route("/walk-in/register", methods=["GET", "POST"])
@requires(Can.REGISTER_WALK_IN)
def walk_in_register():
    facility = _facility()
    if facility is None:
        return _choose_centre()
    form = _person_form()
    errors: list[str] = []
    if submitted(form):
        dep = deployment()
        db = db_session()
        try:
            mobile = None
            if (form.mobile.data or "").strip():
                mobile = otp.normalize_mobile(form.mobile.data, dep.profile["phone_region"])
            done = assisted.find_or_register(
                db, _ctx(), user=g.staff, division_id=facility.division_id,
                activity="walk_in", document_code=form.id_type.data,
                id_number=form.id_number.data, name=form.name.data,
                birth_year=form.birth_year.data, birth_date=form.birth_date.data,
                gender=form.gender.data, mobile=mobile,
                language=form.language.data or dep.profile.default_language,
                max_per_mobile=dep.profile["max_beneficiaries_per_mobile"],
                current_year=now().year, today=today())
        except UserError as exc:
            db.rollback()
            _attach(form, exc, errors)
        else:
            db.commit()
            _remember(done.person, facility)
            return redirect(url_for("staff.walk_in_book", facility=facility.id))
    failed = bool(form.errors or errors)
    return render_template("staff/walk_in_register.html", form=form, facility=facility,
                           problems=[("name", e) for e in errors], failed=failed,
                           new=False), 400 if failed else 200


def _current_person(facility) -> Beneficiary | None:
    kept = session.get(WALK_IN_KEY) or {}
    if kept.get("facility") != facility.id:
        return None
    return db_session().get(Beneficiary, kept.get("person"))


def _active_appointment(person: Beneficiary) -> Appointment | None:
    from sqlalchemy import select

    return db_session().scalar(select(Appointment).where(
        Appointment.beneficiary_id == person.id,
        Appointment.status == AppointmentStatus.BOOKED))


@bp.route("/walk-in/book", methods=["GET", "POST"])
@requires(Can.REGISTER_WALK_IN)
def walk_in_book():
    facility = _facility()
    if facility is None:
        return _choose_centre()
    person = _current_person(facility)
    if person is None:  # nobody found or registered here (yet): start again
        return redirect(url_for("staff.walk_in", facility=facility.id))
    db = db_session()
    local = deployment().facility_now(db, facility)  # the centre's zone (issue 16)
    day = local.date()
    sessions = walk_in.todays_sessions(db, facility.id, day, local.time())
    form = forms.WalkInBookForm()
    form.session_id.choices = [(s.id, _session_label(s)) for s in sessions if s.open]
    if len(form.session_id.choices) == 1 and not form.session_id.data:
        form.session_id.data = form.session_id.choices[0][0]
    errors: list[str] = []
    if submitted(form):
        try:
            done = walk_in.book(db, user=g.staff, facility=facility, beneficiary_id=person.id,
                                session_id=form.session_id.data, today=day,
                                now=local.time(), move_existing=form.move.data)
        except UserError as exc:
            db.rollback()
            if exc.status == 403:
                forbidden("facility")
            _attach(form, exc, errors)
        else:
            db.commit()
            session.pop(WALK_IN_KEY, None)
            return redirect(_record_page(done.appointment.id, facility.id))
    failed = bool(form.errors or errors)
    existing = _active_appointment(person)
    return render_template(
        "staff/walk_in_book.html", form=form, facility=facility, person=person,
        sessions=sessions, existing=existing, failed=failed,
        problems=[("session_id", e) for e in errors],
        asks_move=existing is not None and existing.session_id not in {s.id for s in sessions},
    ), 400 if failed else 200


def _session_label(s: walk_in.TodaySession) -> str:
    ages = (gettext("ages %(min)s+", min=s.min_age) if s.max_age is None
            else gettext("ages %(min)s to %(max)s", min=s.min_age, max=s.max_age))
    return gettext("%(vaccine)s, %(ages)s: %(left)s walk-in places left", vaccine=s.vaccine,
                   ages=ages, left=s.walk_in_left)


def _record_page(appointment_id: str, facility_id: int) -> str:
    """The page to record the dose, for a user who may vaccinate (the same flow); else (a
    service-centre operator registering at the door) this confirmation with the secret
    code, for the vaccinator to find the person by."""
    if can(g.staff, Can.VACCINATE):
        return url_for("staff.vaccinate_appointment", appointment_id=appointment_id,
                       facility=facility_id)
    return url_for("staff.walk_in_done", appointment_id=appointment_id,
                   facility=facility_id)


@bp.get("/walk-in/appointments/<appointment_id>")
@requires(Can.REGISTER_WALK_IN)
def walk_in_done(appointment_id):
    facility = _facility()
    if facility is None:
        return _choose_centre()
    appointment = db_session().get(Appointment, str(appointment_id)[:36])
    if appointment is None or appointment.session.facility_id != facility.id:
        abort(404)
    person = db_session().get(Beneficiary, appointment.beneficiary_id)
    return render_template("staff/walk_in_done.html", appointment=appointment, person=person,
                           facility=facility, failed=False)
