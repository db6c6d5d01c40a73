"""Routes only: creating, editing, deactivating and reactivating centres
(cowin_kit.scheduling.facilities), and assigning facility staff to a centre."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from cowin_kit.accounts.roles import Can, can
from cowin_kit.runtime import db_session, deployment
from cowin_kit.scheduling import facilities as service
from cowin_kit.staff import access, centre_forms
from cowin_kit.staff.access import bp, staff_page, submitted
from cowin_kit.staff.centre_views import centre_url, facility_of_user, run_facility
from cowin_kit.web.user_errors import flash_error, form_error


def _division_choices(db):
    from cowin_kit.staff.views import _division_label

    return [(d.id, _division_label(d)) for d in service.deepest_divisions(db, g.area)]


def _values(form) -> service.FacilityValues:
    return service.FacilityValues(
        code=form.code.data or "", name=form.name.data or "", address=form.address.data or "",
        division_id=form.division.data if (form.division.data or 0) > 0 else None,
        postal_code=form.postal_code.data or "", latitude=form.latitude.data,
        longitude=form.longitude.data, fee_type=form.fee_type.data or "")


def _facility_form(facility=None):
    db = db_session()
    form = centre_forms.FacilityForm(obj=facility)
    if facility is not None and request.method == "GET":
        form.division.data = facility.division_id
        form.postal_code.data = facility.postal_code or ""
    form.division.choices = _division_choices(db)
    form.fee_type.choices = [("Free", gettext("Free")), ("Paid", gettext("Paid"))]
    return db, form


def _save(db, form, facility):
    """The centre saved and the page to go to, or None with the error placed."""
    pattern = deployment().profile["postal_code_pattern"]
    try:
        if facility is None:
            facility = service.create_facility(db, g.staff, g.area, _values(form),
                                               postal_pattern=pattern)
        else:
            service.update_facility(db, g.staff, g.area, facility, _values(form),
                                    postal_pattern=pattern)
    except service.OutsideArea:
        access.forbidden("area")
    except service.FacilityError as exc:
        db.rollback()
        return None, form_error(form, exc)
    db.commit()
    return facility, None


@bp.route("/centres/new", methods=["GET", "POST"])
@staff_page
def facility_new():
    db, form = _facility_form()
    problem = None
    if submitted(form):
        facility, problem = _save(db, form, None)
        if facility is not None:
            flash(gettext("The centre %(name)s has been added.", name=facility.name))
            return redirect(url_for("staff.centre", facility_id=facility.id, _anchor="main"))
    failed = bool(form.errors or problem)
    return render_template("staff/facility_form.html", form=form, centre=None,
                           problem=problem, failed=failed), 400 if failed else 200


@bp.route("/centres/<id:facility_id>/edit", methods=["GET", "POST"])
@staff_page
def facility_edit(facility_id: int):
    facility = facility_of_user(facility_id)
    db, form = _facility_form(facility)
    problem = None
    if submitted(form):
        saved, problem = _save(db, form, facility)
        if saved is not None:
            flash(gettext("The centre %(name)s has been saved.", name=saved.name))
            return redirect(url_for("staff.centre", facility_id=facility.id, _anchor="main"))
    failed = bool(form.errors or problem)
    return render_template("staff/facility_form.html", form=form, centre=facility,
                           problem=problem, failed=failed,
                           action_form=centre_forms.ActionForm()), 400 if failed else 200


@bp.post("/centres/<id:facility_id>/active")
@staff_page
def facility_active(facility_id: int):
    facility = facility_of_user(facility_id)
    form = centre_forms.ActionForm()
    if not submitted(form):
        abort(400)
    db = db_session()
    active = request.form.get("active") == "1"
    if service.set_active(db, g.staff, facility, active):
        db.commit()
        flash(gettext("The centre is open again for sessions and booking.") if active else
              gettext("The centre is deactivated: it takes no new sessions and people no "
                      "longer find it."))
    return redirect(url_for("staff.centre", facility_id=facility.id, _anchor="main"))


# --- the centre's staff ------------------------------------------------------------------

def _roles():
    return {} if can(g.staff, Can.MANAGE_CENTRES) else {"roles": service.VACCINATORS_ONLY}


@bp.post("/centres/<id:facility_id>/staff")
@run_facility
def facility_assign(facility_id: int):
    facility = facility_of_user(facility_id)
    form = centre_forms.AssignForm()
    db = db_session()
    if not submitted(form):
        flash(gettext("Choose a staff member."), "error")
        return redirect(centre_url(facility, _anchor="staff"))
    try:
        member = service.assign(db, g.staff, g.area, facility, form.staff.data, **_roles())
    except service.OutsideArea:
        access.forbidden("area")
    except service.FacilityError as exc:
        db.rollback()
        flash_error(exc)
    else:
        db.commit()
        flash(gettext("%(email)s now works at this centre.", email=member.email))
    return redirect(centre_url(facility, _anchor="staff"))


@bp.post("/centres/<id:facility_id>/staff/<id:user_id>/remove")
@run_facility
def facility_unassign(facility_id: int, user_id: int):
    facility = facility_of_user(facility_id)
    if not submitted(centre_forms.ActionForm()):
        abort(400)
    db = db_session()
    try:
        member = service.unassign(db, g.staff, facility, user_id, **_roles())
    except service.OutsideArea:
        access.forbidden("role")
    except service.FacilityError as exc:
        db.rollback()
        flash_error(exc)
    else:
        db.commit()
        flash(gettext("%(email)s no longer works at this centre.", email=member.email))
    return redirect(centre_url(facility, _anchor="staff"))
