"""Routes only: a centre's vaccine lots — added, their doses received corrected, withdrawn
(cowin_kit.vaccination.lots holds the rules)."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template
from flask_babel import gettext

from cowin_kit.accounts.service import actor
from cowin_kit.runtime import db_session, deployment
from cowin_kit.staff import centre_forms, service
from cowin_kit.staff.access import bp, submitted, today
from cowin_kit.staff.centre_views import centre_url, facility_of_user, run_facility
from cowin_kit.vaccination import lots
from cowin_kit.web.user_errors import form_error


@bp.route("/centres/<id:facility_id>/lots/new", methods=["GET", "POST"])
@run_facility
def lot_new(facility_id: int):
    facility = facility_of_user(facility_id)
    db = db_session()
    offered = service.products(db, deployment().profile)
    form = centre_forms.LotForm()
    form.product.choices = [(p.id, p.name) for p in offered]
    problem = None
    if submitted(form):
        product = next((p for p in offered if p.id == form.product.data), None)
        try:
            lot = lots.add_lot(db, actor(g.staff), facility, lot_number=form.lot_number.data,
                               product=product, expires_on=form.expires_on.data,
                               doses_received=form.doses_received.data, today=today())
        except lots.LotError as exc:
            db.rollback()
            problem = form_error(form, exc)
        else:
            db.commit()
            flash(gettext("Lot %(lot)s has been added.", lot=lot.lot_number))
            return redirect(centre_url(facility, _anchor="lots"))
    failed = bool(form.errors or problem)
    return render_template("staff/lot_form.html", centre=facility, form=form, lot=None,
                           problem=problem, failed=failed, back=centre_url(facility),
                           today=today().isoformat()), 400 if failed else 200


def _lot(facility, lot_id):
    try:
        return lots.facility_lot(db_session(), facility.id, lot_id)
    except lots.LotNotFound:
        abort(404)


@bp.route("/centres/<id:facility_id>/lots/<id:lot_id>", methods=["GET", "POST"])
@run_facility
def lot_edit(facility_id: int, lot_id: int):
    facility = facility_of_user(facility_id)
    lot = _lot(facility, lot_id)
    db = db_session()
    form = centre_forms.LotDosesForm(obj=lot)
    problem = None
    if lot.is_active and submitted(form):
        try:
            lots.set_doses_received(db, actor(g.staff), facility, lot, form.doses_received.data)
        except lots.LotError as exc:
            db.rollback()
            problem = form_error(form, exc)
        else:
            db.commit()
            flash(gettext("Lot %(lot)s has been saved.", lot=lot.lot_number))
            return redirect(centre_url(facility, _anchor="lots"))
    failed = bool(form.errors or problem)
    return render_template("staff/lot_form.html", centre=facility, form=form, lot=lot,
                           problem=problem, failed=failed, back=centre_url(facility),
                           action_form=centre_forms.ActionForm()), 400 if failed else 200


@bp.post("/centres/<id:facility_id>/lots/<id:lot_id>/withdraw")
@run_facility
def lot_withdraw(facility_id: int, lot_id: int):
    facility = facility_of_user(facility_id)
    lot = _lot(facility, lot_id)
    if not submitted(centre_forms.ActionForm()):
        abort(400)
    db = db_session()
    if lots.set_lot_active(db, actor(g.staff), facility, lot, False):
        db.commit()
        flash(gettext("Lot %(lot)s has been withdrawn: no more doses are recorded from it.",
                      lot=lot.lot_number))
    return redirect(centre_url(facility, _anchor="lots"))
