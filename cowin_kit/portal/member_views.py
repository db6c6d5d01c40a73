"""The family page and the forms to add, edit and remove members."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from cowin_kit.accounts import otp
from cowin_kit.certificates import printable
from cowin_kit.certificates.downloads import family_certificates
from cowin_kit.portal import (
    forms,
    views as common,  # the blueprint and shared helpers
)
from cowin_kit.portal.views import bp
from cowin_kit.programmes.groups import group_name, profile_groups
from cowin_kit.registration import service as registration
from cowin_kit.registration.choices import GENDERS, accepted_id_types
from cowin_kit.registration.family import family as family_of
from cowin_kit.runtime import db_session, deployment
from cowin_kit.scheduling import booking
from cowin_kit.web.limits import client_key
from cowin_kit.web.user_errors import flash_error, form_error

# --- the family ----------------------------------------------------------------------------

@bp.get("/")
@common.login_required
def family():
    dep = deployment()
    members = family_of(db_session(), g.account.id, common.lang(), common.now().date(),
                        dep.profile.default_language)
    certificates = family_certificates(db_session(), g.account.id, common.lang(),
                                       dep.profile.default_language)
    return render_template("portal/family.html", members=members,
                           certificates=certificates, now=common.now(),
                           status_text=printable.STATUS_TEXT,
                           limit=dep.profile["max_beneficiaries_per_mobile"],
                           mobile=otp.mask_mobile(g.account.mobile),
                           group_label=lambda code: group_name(code, gettext),
                           logout_form=forms.ConfirmForm())


def _id_types():
    """The documents accepted here (cowin_kit.registration.choices), named in the reader's
    language."""
    dep = deployment()
    return accepted_id_types(db_session(), dep.id_providers, common.lang(),
                             dep.profile.default_language)


def _member_form(editing: bool, obj=None):
    form = forms.MemberForm(editing=editing, obj=obj)
    form.gender.choices = [(code, gettext(label)) for _id, code, label in GENDERS]
    form.priority_groups.choices = [(c, group_name(c, gettext))
                                    for c in profile_groups(deployment().profile)]
    if not editing:
        form.id_type.choices = [("", gettext("Choose…"))] + [(t.code, t.name_l)
                                                             for t in _id_types()]
    return form


def _attach(form, exc) -> None:
    """Put a service refusal next to the field it names (or above the form)."""
    message = form_error(form, exc)
    if message:
        form.form_errors.append(message)


def _known_groups() -> set[str]:
    return set(profile_groups(deployment().profile))


@bp.route("/members/new", methods=["GET", "POST"])
@common.login_required
def member_new():
    dep = deployment()
    form = _member_form(editing=False)
    headers = {}
    if not common.csrf_failed(form) and form.validate_on_submit():
        ctx = registration.IdContext.from_settings(dep.id_providers, dep.settings)
        try:
            person = registration.register_beneficiary(
                db_session(), ctx, document_code=form.id_type.data, id_number=form.id_number.data,
                name=form.name.data, birth_year=form.birth_year.data, gender=form.gender.data,
                account_id=g.account.id,
                max_per_account=dep.profile["max_beneficiaries_per_mobile"],
                language=g.account.language or common.lang(), current_year=common.now().year,
                priority_groups=form.priority_groups.data, known_groups=_known_groups(),
                birth_date=form.birth_date.data, today=common.now().date(),
                # The service's limits on tries (it answers whether a number is registered).
                limits=dep.limits, address=client_key())
        except registration.RegistrationError as exc:
            db_session().rollback()
            _attach(form, exc)
            if isinstance(exc, registration.RegistrationThrottled):
                headers["Retry-After"] = str(exc.retry_after)
        else:
            db_session().commit()
            flash(gettext("%(name)s is registered. Reference ID: %(ref)s.",
                          name=person.name, ref=person.reference_id), "success")
            return redirect(url_for("portal.family"))
    hints = {t.code: (gettext(t.provider.hint) if t.provider.hint else "", t.provider.example)
             for t in _id_types()}
    status = 429 if headers else 400 if form.errors or form.form_errors else 200
    return render_template("portal/member_form.html", form=form, editing=False,
                           hints=hints), status, headers


@bp.route("/members/<ref>/edit", methods=["GET", "POST"])
@common.login_required
def member_edit(ref):
    try:
        person = registration.account_beneficiary(db_session(), g.account.id, ref)
    except registration.RegistrationError:
        abort(404)
    form = _member_form(editing=True, obj=person if request.method == "GET" else None)
    if not common.csrf_failed(form) and form.validate_on_submit():
        try:
            dep = deployment()
            registration.update_beneficiary(
                db_session(), account_id=g.account.id, reference_id=ref, name=form.name.data,
                birth_year=form.birth_year.data, gender=form.gender.data,
                priority_groups=form.priority_groups.data, known_groups=_known_groups(),
                birth_date=form.birth_date.data, today=common.now().date(),
                current_year=common.now().year,
                ctx=registration.IdContext.from_settings(dep.id_providers, dep.settings))
        except registration.RegistrationError as exc:
            db_session().rollback()
            _attach(form, exc)
        else:
            db_session().commit()
            flash(gettext("The details of %(name)s are saved.", name=form.name.data), "success")
            return redirect(url_for("portal.family"))
    return render_template("portal/member_form.html", form=form, editing=True, person=person,
                           hints={}), 400 if form.errors or form.form_errors else 200


@bp.route("/members/<ref>/delete", methods=["GET", "POST"])
@common.login_required
def member_delete(ref):
    try:
        person = registration.account_beneficiary(db_session(), g.account.id, ref)
    except registration.RegistrationError:
        abort(404)
    form = forms.ConfirmForm()
    if not common.csrf_failed(form) and form.validate_on_submit():
        name = person.name
        try:
            registration.delete_beneficiary(db_session(), account_id=g.account.id,
                                            reference_id=ref)
        except (registration.RegistrationError, booking.BookingError) as exc:
            db_session().rollback()
            flash_error(exc)
        else:
            db_session().commit()
            flash(gettext("%(name)s was removed from your account.", name=name), "success")
        return redirect(url_for("portal.family"))
    return render_template("portal/member_delete.html", person=person, form=form)
