"""Routes only: a centre's page (its sessions, lots and staff; adding sessions, single or
recurring) for administrators of its area, the same page as "My centre" for its facility
manager, and cancelling a session."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import format_date, gettext

from cowin_kit.accounts.roles import ROLE_NAMES, Can, Role, can
from cowin_kit.errors import UserError
from cowin_kit.runtime import db_session, deployment
from cowin_kit.scheduling import facilities as centres
from cowin_kit.scheduling.models import Appointment, AppointmentStatus, Facility, VaccinationSession
from cowin_kit.scheduling.session_cancel import cancel_session
from cowin_kit.staff import access, centre_forms, forms, service
from cowin_kit.staff.access import bp, requires, staff_page, submitted, today
from cowin_kit.vaccination.lots import facility_lots
from cowin_kit.web.user_errors import form_error

run_facility = requires(Can.RUN_FACILITY)


def facility_of_user(facility_id: int) -> Facility:
    """The centre the user may run: an administrator's within their area (another is as
    good as unknown: 404), a facility manager's own one (another: 403, audited)."""
    db = db_session()
    if can(g.staff, Can.MANAGE_CENTRES):
        facility = service.centre(db, g.area, facility_id)
        if facility is None:
            abort(404)
        return facility
    if g.staff.facility_id is None or g.staff.facility_id != facility_id:
        access.forbidden("facility")
    return db.get(Facility, facility_id) or abort(404)


def centre_url(facility: Facility, **kwargs) -> str:
    """The centre's page as this user reaches it."""
    if can(g.staff, Can.MANAGE_CENTRES):
        return url_for("staff.centre", facility_id=facility.id, **kwargs)
    return url_for("staff.my_centre", **kwargs)


def _label(division) -> str:
    from cowin_kit.staff.views import _division_label

    return _division_label(division)


def _product_names(db) -> dict[int, str]:
    return {p.id: p.name for p in service.products(db, deployment().profile)}


def _session_form(db, facility):
    dep = deployment()
    offered = service.products(db, dep.profile)
    doses = sorted({r.dose_number for p in offered for r in p.doses}) or [1]
    form = forms.session_form(doses, facility.fee_type == "Paid", dep.profile["currency"])
    form.product.choices = [(p.id, p.name) for p in offered]
    form.weekdays.choices = centre_forms.weekday_choices()
    return form, offered


def _add_sessions(db, facility, form, offered):
    """The form's sessions added, or the text of an error without a field of its own."""
    values = service.NewSession(
        date=form.date.data, product_id=form.product.data, min_age=form.min_age.data,
        max_age=form.max_age.data, slots=form.slots.data,
        capacities={n: f.data
                    for n, f in zip(form.dose_numbers, form.capacity_fields(), strict=True)
                    if f.data is not None},
        fee=form.fee.data if "fee" in form else 0,
        walk_in_quota=form.walk_in_quota.data or 0, until=form.until.data,
        weekdays=form.weekdays.data or None)
    try:
        added = service.add_sessions(db, g.staff, facility, values, today=today(),
                                     products_offered=offered)
    except service.StaffFormError as exc:
        db.rollback()
        return None, form_error(form, exc)
    db.commit()
    if len(added.created) == 1 and not added.skipped:
        flash(gettext("The session on %(date)s has been added.",
                      date=format_date(added.created[0].date, "long")))
    else:
        flash(gettext("%(num)s session(s) added.", num=len(added.created)))
    if added.skipped:
        flash(gettext("Not added, as these days already have a session of this vaccine: "
                      "%(days)s.", days=", ".join(format_date(d, "medium")
                                                  for d in added.skipped)), "error")
    return added, None


def centre_page(facility: Facility):
    db = db_session()
    form, offered = _session_form(db, facility)
    capacity_error = None
    if submitted(form):
        added, capacity_error = _add_sessions(db, facility, form, offered)
        if added is not None:
            # To the top of the page, where the message is (not the form's #add-session).
            return redirect(centre_url(facility, _anchor="main"))
    sessions = service.upcoming_sessions(db, [facility.id], today()).get(facility.id, [])
    failed = bool(form.errors or capacity_error)
    admin = can(g.staff, Can.MANAGE_CENTRES)
    roles = None if admin else centres.VACCINATORS_ONLY
    staff = centres.facility_staff(db, facility.id)
    assign_form = centre_forms.AssignForm(formdata=None)
    assign_form.staff.choices = [
        (u.id, f"{u.email} ({gettext(ROLE_NAMES[Role(u.role)])})")
        for u in centres.assignable_staff(db, facility, g.area,
                                          **({} if roles is None else {"roles": roles}))]
    return render_template(
        "staff/centre.html", centre=facility, sessions=sessions, form=form,
        capacity_error=capacity_error, products=_product_names(db),
        division=_label(facility.division), failed=failed, today=today().isoformat(),
        admin=admin, here=centre_url(facility), lots=facility_lots(db, facility.id),
        staff=staff, assign_form=assign_form, action_form=centre_forms.ActionForm(),
        role_names={r.value: gettext(n) for r, n in ROLE_NAMES.items()},
        may_unassign=lambda u: admin or u.role == Role.VACCINATOR,
        on=today()), 400 if failed else 200


@bp.route("/centres/<id:facility_id>", methods=["GET", "POST"])
@staff_page
def centre(facility_id: int):
    return centre_page(facility_of_user(facility_id))


@bp.route("/my-centre", methods=["GET", "POST"])
@run_facility
def my_centre():
    if g.staff.facility_id is None:
        if can(g.staff, Can.MANAGE_CENTRES):
            return redirect(url_for("staff.centres"))
        access.forbidden("no facility")
    return centre_page(facility_of_user(g.staff.facility_id))


# --- cancelling a session ------------------------------------------------------------------

@bp.route("/centres/<id:facility_id>/sessions/<uuid:session_id>/cancel",
          methods=["GET", "POST"])
@run_facility
def session_cancel(facility_id: int, session_id):
    facility = facility_of_user(facility_id)
    db = db_session()
    vs = db.get(VaccinationSession, str(session_id))
    if vs is None or vs.facility_id != facility.id:
        abort(404)
    form = centre_forms.CancelSessionForm()
    problem = None
    if vs.cancelled_at is not None:
        problem = gettext("This session was already cancelled.")
    elif vs.date < today():
        problem = gettext("This session is over; it cannot be cancelled.")
    if problem is None and submitted(form):
        try:
            released = cancel_session(db, g.staff, vs, form.reason.data, today=today(),
                                      centre_name=facility.name)
        except UserError as exc:
            db.rollback()
            problem = form_error(form, exc)
        else:
            db.commit()
            flash(gettext("The session on %(date)s is cancelled; %(num)s appointment(s) "
                          "cancelled and the people told.",
                          date=format_date(vs.date, "long"), num=len(released)))
            return redirect(centre_url(facility, _anchor="main"))
    booked = db.query(Appointment).filter(
        Appointment.session_id == vs.id,
        Appointment.status == AppointmentStatus.BOOKED).count()
    failed = bool(form.errors or problem) and request.method == "POST"
    return render_template("staff/session_cancel.html", centre=facility, vs=vs, form=form,
                           problem=problem, booked=booked, products=_product_names(db),
                           back=centre_url(facility), failed=failed), (
        400 if failed else 200)
