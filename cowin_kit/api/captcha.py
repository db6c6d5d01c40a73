"""Co-WIN's captcha over HTTP: what ``auth/getRecaptcha`` answers (routed in api.auth, which
owns the login endpoints) and the check ``appointment/schedule`` makes. The rules are in
cowin_kit.accounts.captcha; CAPTCHA_ON_SCHEDULE switches the check on.
"""
from __future__ import annotations

from flask import jsonify
from flask_babel import format_decimal, get_locale, gettext

from cowin_kit.accounts import captcha
from cowin_kit.runtime import db_session, deployment


def recaptcha(account_id: int):
    """``{"captcha": "<svg…>"}``: a new captcha for the account, its question in the
    request's language. With the check off nothing is stored: the image is real, its
    answer is never asked for."""
    settings = deployment().settings
    question = captcha.new_question()
    if settings["CAPTCHA_ON_SCHEDULE"]:
        session = db_session()
        captcha.issue(session, account_id=account_id, settings=settings, question=question)
        session.commit()
    locale = get_locale()
    title = gettext(captcha.MSG_QUESTION, a=format_decimal(question.a),
                    b=format_decimal(question.b))
    return jsonify({"captcha": captcha.svg(question, title,
                                           str(locale).replace("_", "-") if locale else None)})


def check_on_schedule(account_id: int, answer) -> None:
    """Before booking, when CAPTCHA_ON_SCHEDULE is on: spend the account's captcha, or
    CaptchaRefused (400, APPOIN0044). Committed either way: a wrong try counts, and a right
    answer is used up whatever the booking's outcome."""
    settings = deployment().settings
    if not settings["CAPTCHA_ON_SCHEDULE"]:
        return  # accepted and ignored, as clients written for Co-WIN send it
    session = db_session()
    try:
        captcha.use(session, account_id=account_id, answer=answer, settings=settings)
    except captcha.CaptchaRefused:
        session.commit()
        raise
    session.commit()
