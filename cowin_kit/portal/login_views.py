"""The portal's login by mobile OTP: ask for a code, type it, log out."""
from __future__ import annotations

import hashlib

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext

from cowin_kit.accounts import otp
from cowin_kit.i18n import country_name
from cowin_kit.portal import (
    forms,
    views as common,  # the blueprint and shared helpers
)
from cowin_kit.portal.views import bp
from cowin_kit.runtime import db_session, deployment
from cowin_kit.web.limits import otp_confirms, otp_sends
from cowin_kit.web.user_errors import flash_error, form_error

# --- login ---------------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
@otp_sends
def login():
    if g.account is not None:
        return redirect(url_for("portal.family"))
    form = forms.LoginForm()
    dep = deployment()
    if not common.csrf_failed(form) and form.validate_on_submit():
        try:
            txn = otp.generate_otp(
                db_session(), mobile_raw=form.mobile.data, region=dep.profile["phone_region"],
                purpose="public", messenger=dep.messenger, settings=dep.settings,
                lang=common.lang(), service=country_name(dep.profile.code, common.lang()))
        except otp.LoginError as exc:
            db_session().rollback()
            form_error(form, exc, default="mobile")
        else:
            db_session().commit()
            session["otp_txn"] = txn
            session["otp_mobile"] = otp.normalize_mobile(form.mobile.data,
                                                         dep.profile["phone_region"])
            session["login_next"] = common.safe_next(request.args.get("next"), "")
            return redirect(url_for("portal.login_code"))
    return render_template("portal/login.html", form=form, example=_mobile_example()), (
        400 if form.errors else 200)


def _mobile_example() -> str:
    import phonenumbers

    region = deployment().profile["phone_region"]
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if number is None:
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


@bp.route("/login/code", methods=["GET", "POST"])
@otp_confirms
def login_code():
    txn = session.get("otp_txn")
    if not txn:
        return redirect(url_for("portal.login"))
    form = forms.OtpForm()
    if not common.csrf_failed(form) and form.validate_on_submit():
        digest = hashlib.sha256(form.code.data.strip().encode()).hexdigest()
        try:
            token, _new = otp.confirm_otp(db_session(), txn_id=txn, otp_sha256=digest,
                                          settings=deployment().settings, lang=common.lang(),
                                          purpose="public")
        except otp.LoginError as exc:
            db_session().rollback()
            form_error(form, exc, default="code")
            if isinstance(exc, (otp.TooManyTries, otp.OtpExpired, otp.OtpAlreadyUsed)):
                session.pop("otp_txn", None)  # this code is finished: ask for a new one
        else:
            db_session().commit()
            target = session.get("login_next") or url_for("portal.family")
            session.clear()  # a fresh session after login: nothing carried over
            session.permanent = True
            session[common.TOKEN_KEY] = token
            return redirect(target)
    mobile = session.get("otp_mobile", "")
    return render_template("portal/login_code.html", form=form,
                           mobile=otp.mask_mobile(mobile) if mobile else "",
                           resend_form=forms.ConfirmForm(),
                           finished="otp_txn" not in session), 400 if form.errors else 200


@bp.post("/login/resend")
@otp_sends
def login_resend():
    mobile = session.get("otp_mobile")
    if not mobile:
        return redirect(url_for("portal.login"))
    form = forms.ConfirmForm()
    if common.csrf_failed(form):
        return redirect(url_for("portal.login_code"))
    dep = deployment()
    try:
        session["otp_txn"] = otp.generate_otp(
            db_session(), mobile_raw=mobile, region=dep.profile["phone_region"],
            purpose="public", messenger=dep.messenger, settings=dep.settings, lang=common.lang(),
            service=country_name(dep.profile.code, common.lang()))
    except otp.LoginError as exc:
        db_session().rollback()
        flash_error(exc)
    else:
        db_session().commit()
        flash(gettext("A new code was sent."), "info")
    return redirect(url_for("portal.login_code"))


@bp.post("/logout")
def logout():
    form = forms.ConfirmForm()
    if common.csrf_failed(form):  # change nothing: the person is still logged in, and is told
        return redirect(url_for("portal.family"))
    if g.account is not None:
        try:
            otp.revoke(db_session(), session.get(common.TOKEN_KEY))
            db_session().commit()
        except otp.LoginError:
            pass  # already ended: logging out is done either way
    session.clear()
    flash(gettext("You have logged out."), "info")
    return redirect(url_for("portal.login"))
