"""Routes only: logging in (password, then the TOTP code when the user has one), logging
out, changing the password, setting up TOTP (the rules are in ``auth``)."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext

from cowin_kit.accounts import service as accounts, staff_login as auth
from cowin_kit.documents import qr
from cowin_kit.runtime import db_session, deployment
from cowin_kit.staff import access, forms
from cowin_kit.staff.access import LOGIN_KEY, LOGIN_PER_IP, bp
from cowin_kit.staff.views import MSG_BAD_LOGIN
from cowin_kit.web.limits import limiter
from cowin_kit.web.user_errors import form_error

# Every way of trying a staff password or code counts against one LOGIN_PER_IP per address.
staff_logins = limiter.shared_limit(LOGIN_PER_IP, scope="staff-login", methods=["POST"])


def _key() -> str:
    return deployment().settings["ID_ENCRYPTION_KEY"]  # the instance's Fernet key


def _after_login(user) -> str:
    if user.must_change_password:
        return url_for("staff.password")
    return access.home_url(user)


@bp.route("/login", methods=["GET", "POST"])
@staff_logins
def login():
    if request.method == "GET" and access.current_user() is not None:
        return redirect(url_for("staff.centres"))
    form = forms.LoginForm()
    failed = False
    if access.submitted(form):
        db = db_session()
        result = auth.log_in(db, form.email.data, form.password.data)
        db.commit()
        if result is not None:
            session.clear()  # a fresh session at login: nothing from before is carried over
            session[LOGIN_KEY] = result.token
            if result.needs_totp:
                return redirect(url_for("staff.login_code"))
            return redirect(_after_login(result.user))
        failed = True
    status = 400 if form.errors or failed else 200
    return render_template("staff/login.html", form=form, wrong=failed,
                           failed=failed or bool(form.errors), message=MSG_BAD_LOGIN,
                           lock_after=auth.LOCK_AFTER), status


@bp.route("/login/code", methods=["GET", "POST"])
@staff_logins
def login_code():
    db = db_session()
    waiting = auth.waiting_login(db, session.get(LOGIN_KEY))
    if waiting is None:
        if request.method == "POST":
            flash(gettext("The time to type the code has run out. Log in again."))
        return redirect(url_for("staff.login"))
    form = forms.CodeForm()
    if access.submitted(form):
        try:
            result = auth.finish_login(db, waiting, form.code.data, _key())
        except accounts.AccountError as exc:
            db.commit()  # the wrong code is counted
            form_error(form, exc, default="code")
        else:
            db.commit()
            session.clear()
            session[LOGIN_KEY] = result.token
            return redirect(_after_login(result.user))
    return render_template("staff/login_code.html", form=form, failed=bool(form.errors),
                           lock_after=auth.LOCK_AFTER), 400 if form.errors else 200


@bp.post("/logout")
def logout():
    form = forms.LogoutForm()
    access.submitted(form)
    db = db_session()
    auth.log_out(db, session.get(LOGIN_KEY))
    db.commit()
    session.pop(LOGIN_KEY, None)
    flash(gettext("You have logged out."))
    return redirect(url_for("staff.login"))


@bp.route("/password", methods=["GET", "POST"])
def password():
    user = access.current_user()
    if user is None:
        return redirect(url_for("staff.login"))
    g.staff = user
    form = forms.ChangePasswordForm()
    if access.submitted(form):
        db = db_session()
        try:
            auth.change_password(db, user, form.current.data, form.new.data,
                                 session.get(LOGIN_KEY))
        except accounts.AccountError as exc:
            db.commit()  # a wrong current password is counted
            form_error(form, exc)
        else:
            db.commit()
            flash(gettext("Your password has been changed. You have been logged out "
                          "everywhere else."))
            return redirect(url_for("staff.centres"))
    return render_template("staff/password.html", form=form, forced=user.must_change_password,
                           failed=bool(form.errors),
                           min_length=accounts.MIN_PASSWORD_LENGTH), \
        400 if form.errors else 200


def _totp_user():
    """The logged-in administrator who may set up TOTP, or a redirect/abort."""
    user = access.current_user()
    if user is None:
        return None, redirect(url_for("staff.login"))
    if user.must_change_password:
        return None, redirect(url_for("staff.password"))
    if user.role not in accounts.MANAGER_ROLES:
        abort(403)
    g.staff = user
    return user, None


@bp.route("/totp", methods=["GET", "POST"])
@staff_logins
def totp():
    """Set up TOTP: the secret as a QR code and as text, switched on by a first code."""
    user, answer = _totp_user()
    if answer is not None:
        return answer
    required = access.totp_missing(user) or (
        deployment().settings["STAFF_TOTP_REQUIRED"] and user.totp_enabled)
    form = forms.CodeForm() if user.totp_enabled else forms.TotpEnrolForm()
    db = db_session()
    if user.totp_enabled:
        return render_template("staff/totp.html", form=form, enabled=True, required=required,
                               failed=False)
    if access.submitted(form):
        try:
            auth.enable_totp(db, user, _key(), form.code.data, session.get(LOGIN_KEY),
                             form.current.data)
        except accounts.AccountError as exc:
            form_error(form, exc)
        else:
            db.commit()
            flash(gettext("Two-step login is on. From now on, logging in asks for a code "
                          "from your app after the password."))
            return redirect(url_for("staff.centres"))
    issuer = f"{gettext('Vaccination staff')} ({deployment().profile.code})"
    secret, uri = auth.totp_enrolment(db, user, _key(), user.email, issuer)
    db.commit()
    return render_template("staff/totp.html", form=form, enabled=False, required=required,
                           secret=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
                           qr=qr.svg(uri, scale=5), failed=bool(form.errors)), \
        400 if form.errors else 200


@bp.post("/totp/off")
@staff_logins
def totp_off():
    user, answer = _totp_user()
    if answer is not None:
        return answer
    if deployment().settings["STAFF_TOTP_REQUIRED"] or not user.totp_enabled:
        return redirect(url_for("staff.totp"))
    form = forms.CodeForm()
    db = db_session()
    if access.submitted(form):
        try:
            auth.disable_totp(db, user, _key(), form.code.data)
        except accounts.AccountError as exc:
            db.commit()  # a wrong code is counted
            form_error(form, exc, default="code")
        else:
            db.commit()
            flash(gettext("Two-step login is off. Logging in asks for the password only."))
            return redirect(url_for("staff.totp"))
    return render_template("staff/totp.html", form=form, enabled=True, required=False,
                           failed=True), 400
