"""Co-WIN v2 login: generateOTP / confirmOTP (public and partner variants), Co-WIN's web-app
login (generateMobileOTP / validateMobileOtp), Bearer tokens (signed JWTs, see accounts.otp).

Every variant gives the same token: it works for every logged-in call. The variants differ in
what they return and in that a txnId is confirmed only where it was asked for.
"""
from __future__ import annotations

import hmac
from functools import wraps

from flask import Blueprint, g, jsonify, request
from flask_babel import get_locale

from cowin_kit.accounts import otp
from cowin_kit.api import captcha
from cowin_kit.api.body import load_body
from cowin_kit.api.errors import ApiError, register
from cowin_kit.i18n import country_name
from cowin_kit.plugins.interfaces import N_
from cowin_kit.runtime import db_session, deployment
from cowin_kit.web.limits import (
    api_throttled,
    captcha_fetches,
    otp_confirms as _confirms,
    otp_sends as _sends,
)

bp = Blueprint("api_auth", __name__, url_prefix="/api/v2")
register(bp)

# The per-address limits the portal's login forms share; a breach here is OtpThrottled.
otp_sends, otp_confirms = api_throttled(_sends), api_throttled(_confirms)

MSG_WRONG_SECRET = N_("%(name)s is not the one this deployment accepts from its web app.")


def _generate(purpose: str, data: dict | None = None):
    dep = deployment()
    data = data if data is not None else load_body()  # schemas.GenerateOtpRequest
    lang = str(get_locale() or dep.default_language)
    session = db_session()
    try:
        txn = otp.generate_otp(session, mobile_raw=data["mobile"],
                               region=dep.profile["phone_region"], purpose=purpose,
                               messenger=dep.messenger, settings=dep.settings, lang=lang,
                               service=country_name(dep.profile.code, lang))
    except otp.LoginError:
        session.rollback()
        raise  # a refusal: answered by api.errors.answer
    session.commit()
    return jsonify({"txnId": txn})


def _confirm(purpose: str):
    data = load_body()  # schemas.ConfirmOtpRequest
    session = db_session()
    try:
        token, is_new = otp.confirm_otp(session, txn_id=data["txnId"],
                                        otp_sha256=data["otp"],
                                        settings=deployment().settings,
                                        lang=str(get_locale() or ""), purpose=purpose)
    except otp.LoginError:
        session.rollback()
        raise  # a refusal: answered by api.errors.answer
    session.commit()
    return token, is_new


@bp.post("/auth/public/generateOTP")
@otp_sends
def public_generate_otp():
    return _generate("public")


@bp.post("/auth/public/confirmOTP")
@otp_confirms
def public_confirm_otp():
    token, _ = _confirm("public")
    return jsonify({"token": token})


@bp.post("/auth/generateOTP")
@otp_sends
def partner_generate_otp():
    return _generate("partner")


@bp.post("/auth/confirmOTP")
@otp_confirms
def partner_confirm_otp():
    token, is_new = _confirm("partner")
    return jsonify({"token": token, "isNewAccount": "Y" if is_new else "N"})


@bp.post("/auth/generateMobileOTP")
@otp_sends
def web_generate_otp():
    """Co-WIN's web-app login. Its ``secret`` identified the web app: any is accepted unless
    COWIN_WEB_SECRET is set, and then only that one."""
    data = load_body()  # schemas.GenerateMobileOtpRequest
    expected = deployment().settings["COWIN_WEB_SECRET"]
    if expected and not hmac.compare_digest(str(data.get("secret") or "").encode("utf-8"),
                                            expected.encode("utf-8")):
        raise ApiError(MSG_WRONG_SECRET, "secret", status=401, name="secret")
    return _generate(otp.WEB, data)


@bp.post("/auth/validateMobileOtp")
@otp_confirms
def web_confirm_otp():
    token, _ = _confirm(otp.WEB)
    return jsonify({"token": token})


@bp.route("/auth/getRecaptcha", methods=["GET", "POST"])  # Co-WIN's was a POST
@api_throttled(captcha_fetches)
def get_recaptcha():
    """A captcha for appointment/schedule (cowin_kit.api.captcha), for a logged-in caller."""
    account = otp.authenticate(db_session(), bearer_token(), settings=deployment().settings)
    return captcha.recaptcha(account.id)


@bp.post("/auth/logout")
def logout():
    token = bearer_token()
    otp.revoke(db_session(), token)  # a LoginError is answered by api.errors.answer
    db_session().commit()
    return jsonify({"status": "logged out"})


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def login_required(view):
    """Put the caller's account in ``g.account`` (an otp.Caller: its id, mobile and
    language), or answer 401."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        g.account = otp.authenticate_caller(db_session(), bearer_token(),  # or a 401
                                            settings=deployment().settings)
        return view(*args, **kwargs)
    return wrapper
