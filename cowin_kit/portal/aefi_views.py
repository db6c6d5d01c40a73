"""Reporting a side effect (an adverse event following immunisation) of one of the
account's members who has a recorded dose. The rules are cowin_kit.vaccination.aefi's."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext

from cowin_kit.portal import views as common
from cowin_kit.portal.views import bp
from cowin_kit.registration import service as registration
from cowin_kit.runtime import db_session, deployment
from cowin_kit.vaccination import aefi
from cowin_kit.web.aefi_forms import AefiReportForm
from cowin_kit.web.user_errors import form_error


@bp.route("/members/<ref>/side-effect", methods=["GET", "POST"])
@common.login_required
def aefi_new(ref):
    db = db_session()
    dep = deployment()
    try:
        person = registration.account_beneficiary(db, g.account.id, ref)
    except registration.RegistrationError:
        abort(404)  # not one of this account's members: as if it did not exist
    doses = aefi.person_doses(db, person.id)
    if not doses:
        abort(404)  # the family page offers the link only after a dose
    symptoms = aefi.profile_symptoms(dep.profile)
    form = AefiReportForm()
    form.fill(doses, symptoms, common.lang(), dep.profile.default_language)
    form.form_errors = []
    if not common.csrf_failed(form) and form.validate_on_submit():
        try:
            report = aefi.report_aefi(db, person=person, doses=doses, data=form.values(),
                                      symptoms=symptoms, now=common.now(),
                                      account_id=g.account.id, channel="portal")
        except aefi.AefiError as exc:
            db.rollback()
            message = form_error(form, exc)
            if message:
                form.form_errors.append(message)
        else:
            db.commit()
            flash(gettext("Thank you. The side effect of %(name)s is reported (number "
                          "%(number)s); health officials may contact you.",
                          name=person.name, number=report.id), "success")
            return redirect(url_for("portal.family"))
    failed = bool(form.errors or form.form_errors)
    return render_template("portal/aefi_new.html", form=form, person=person,
                           today=common.now().date().isoformat()), 400 if failed else 200
