"""Certificates on the staff pages (Can.CERTIFICATES: administrators, for people vaccinated
in their area): find a person's certificates by reference ID or UVCI, see every version,
revoke one with a reason, and correct a vaccinated person's details (which reissues the
certificate and revokes the versions it replaces). Routes only: the rules are
cowin_kit.certificates.admin's."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from cowin_kit.accounts.roles import Can
from cowin_kit.certificates import admin
from cowin_kit.errors import UserError
from cowin_kit.registration.choices import GENDERS
from cowin_kit.registration.models import Beneficiary
from cowin_kit.registration.service import MSG_GENDER, MSG_NAME
from cowin_kit.runtime import db_session, deployment
from cowin_kit.staff import access
from cowin_kit.staff.access import bp, requires, submitted
from cowin_kit.staff.forms import LocalDateField, WholeNumberField
from cowin_kit.web.limits import limiter
from cowin_kit.web.user_errors import flash_error, form_error

# Looking people up reads personal data: counted per staff user, as finding people at a
# centre is (the search and the person's page share the count).
LOOKUPS_PER_USER = "30 per minute;300 per hour"

STATES = {"current": _l("Current"), "superseded": _l("Superseded"), "revoked": _l("Revoked")}
STATUSES = {"provisional": _l("Provisional"), "final": _l("Final")}
FIELDS = {"name": _l("Name"), "birth_year": _l("Year of birth"),
          "birth_date": _l("Date of birth"), "gender": _l("Gender")}
MSG_REASON_HINT = _l("Between 10 and 500 characters. Do not write ID numbers.")


def _user_key() -> str:
    user = access.current_user()
    return f"staff:{user.id}" if user is not None else f"addr:{request.remote_addr}"


lookups = limiter.shared_limit(LOOKUPS_PER_USER, scope="staff-certificates",
                               key_func=_user_key)
searches = limiter.shared_limit(LOOKUPS_PER_USER, scope="staff-certificates",
                                key_func=_user_key, methods=["POST"])


class FindForm(FlaskForm):
    query = StringField(_l("Reference ID or certificate identifier (UVCI)"), validators=[
        DataRequired(_l(admin.MSG_QUERY)), Length(max=100)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "dir": "ltr"})


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("Reason for revoking"), validators=[
        DataRequired(_l("Give the reason.")), Length(max=2000)])


class ReissueForm(FlaskForm):
    """A button: issue a new version of each certificate, signed with the current key."""


class CorrectForm(FlaskForm):
    name = StringField(_l("Full name, as on the ID document"), validators=[
        DataRequired(_l(MSG_NAME)), Length(max=200)], render_kw={"autocomplete": "off"})
    birth_year = WholeNumberField(_l("Year of birth"), validators=[
        InputRequired(_l("Enter the year of birth, e.g. 1980."))],
        render_kw={"inputmode": "numeric", "maxlength": 4, "dir": "ltr"})
    birth_date = LocalDateField(_l("Date of birth"), validators=[Optional()])
    gender = RadioField(_l("Gender"), validators=[InputRequired(_l(MSG_GENDER))])
    reason = TextAreaField(_l("Reason for the correction"), validators=[
        DataRequired(_l("Give the reason.")), Length(max=2000)])


def _refused(form, exc: UserError) -> str | None:
    """A service refusal: 403 (audited) outside the area, else a form or page error."""
    if isinstance(exc, admin.NotInArea):
        access.forbidden("area")
    return form_error(form, exc)


# --- finding -----------------------------------------------------------------------------------

@bp.route("/certificates", methods=["GET", "POST"])
@requires(Can.CERTIFICATES)
@searches
def certificates():
    form = FindForm()
    problem = None
    if submitted(form):
        db = db_session()
        try:
            found = admin.look_up(db, g.staff, form.query.data)
        except UserError as exc:
            db.rollback()
            problem = _refused(form, exc)
        else:
            db.commit()
            return redirect(url_for("staff.certificate_person", person_id=found.person.id,
                                    version=found.certificate_id or None))
    failed = bool(form.errors or problem)
    return render_template("staff/certificates.html", form=form, problem=problem,
                           failed=failed), 400 if failed else 200


def _person(person_id: int) -> Beneficiary:
    """The person, when in the user's area (else 403, audited; unknown: 404)."""
    db = db_session()
    person = db.get(Beneficiary, person_id)
    if person is None:
        abort(404)
    try:
        admin.check_allowed(db, g.staff, person.id)
    except admin.NotInArea:
        access.forbidden("area")
    return person


@bp.get("/certificates/person/<id:person_id>")
@requires(Can.CERTIFICATES)
@lookups
def certificate_person(person_id: int):
    db = db_session()
    person = _person(person_id)
    chosen = request.args.get("version", type=int)
    return render_template("staff/certificate_person.html", person=person,
                           programmes=admin.versions(db, person.id), chosen=chosen,
                           states=STATES, statuses=STATUSES,
                           vaccinated=admin.has_doses(db, person.id), reissue=ReissueForm())


@bp.post("/certificates/person/<id:person_id>/reissue")
@requires(Can.CERTIFICATES)
def certificate_reissue(person_id: int):
    """After a key rotation, or a revocation made by mistake: a new version of each of the
    person's certificates (the earlier ones superseded, not revoked)."""
    db = db_session()
    person = _person(person_id)
    if submitted(ReissueForm()):
        dep = deployment()
        try:
            issued = admin.reissue(db, person.id, user=g.staff,
                                   ctx=admin.issuing_context(dep.settings, dep.profile,
                                                             fallback_url=request.host_url))
        except UserError as exc:
            db.rollback()
            flash_error(exc)
        else:
            db.commit()
            flash(gettext("A new version of %(count)s certificate(s) is issued, signed with "
                          "the current key.", count=len(issued)))
    return redirect(url_for("staff.certificate_person", person_id=person.id))


# --- revoking ----------------------------------------------------------------------------------

@bp.route("/certificates/<id:certificate_id>/revoke", methods=["GET", "POST"])
@requires(Can.CERTIFICATES)
def certificate_revoke(certificate_id: int):
    from cowin_kit.certificates.models import Certificate

    db = db_session()
    cert = db.get(Certificate, certificate_id)
    if cert is None:
        abort(404)
    person = _person(cert.beneficiary_id)
    form = RevokeForm()
    problem = None
    if cert.revoked_at is None and submitted(form):
        try:
            admin.revoke(db, cert.id, reason=form.reason.data, user=g.staff)
        except UserError as exc:
            db.rollback()
            problem = _refused(form, exc)
        else:
            db.commit()
            flash(gettext("Version %(version)s of the certificate is revoked: verifiers that "
                          "check the revocation list refuse it from now on.",
                          version=cert.version))
            return redirect(url_for("staff.certificate_person", person_id=person.id))
        cert = db.get(Certificate, certificate_id)
    failed = bool(form.errors or problem)
    return render_template("staff/certificate_revoke.html", cert=cert, person=person,
                           form=form, problem=problem, failed=failed, statuses=STATUSES,
                           hint=MSG_REASON_HINT), 400 if failed else 200


# --- correcting --------------------------------------------------------------------------------

@bp.route("/certificates/person/<id:person_id>/correct", methods=["GET", "POST"])
@requires(Can.CERTIFICATES)
def certificate_correct(person_id: int):
    from cowin_kit.registration.service import IdContext

    db = db_session()
    person = _person(person_id)
    if request.method == "GET":
        form = CorrectForm(formdata=None, name=person.name, birth_year=person.birth_year,
                           birth_date=person.birth_date, gender=person.gender)
    else:
        form = CorrectForm()
    form.gender.choices = [(code, gettext(label)) for _id, code, label in GENDERS]
    problem = None
    if submitted(form):
        dep = deployment()
        try:
            done = admin.correct_details(
                db, person, name=form.name.data, birth_year=form.birth_year.data,
                birth_date=form.birth_date.data, gender=form.gender.data,
                reason=form.reason.data, user=g.staff,
                ctx=admin.issuing_context(dep.settings, dep.profile,
                                          fallback_url=request.host_url),
                id_ctx=IdContext.from_settings(dep.id_providers, dep.settings),
                current_year=access.today().year, today=access.today(),
                certificate_url=access.certificate_url())
        except UserError as exc:
            db.rollback()
            problem = _refused(form, exc)
        else:
            db.commit()
            flash(gettext("The details are corrected (%(fields)s). A new certificate is "
                          "issued; earlier versions revoked: %(count)s.",
                          fields=", ".join(str(FIELDS[f]) for f in done.changed),
                          count=len(done.revoked)))
            return redirect(url_for("staff.certificate_person", person_id=person.id))
    failed = bool(form.errors or problem)
    return render_template("staff/certificate_correct.html", person=person, form=form,
                           problem=problem, failed=failed, hint=MSG_REASON_HINT,
                           vaccinated=admin.has_doses(db, person.id)), 400 if failed else 200
