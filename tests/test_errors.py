"""The one family of user errors (cowin_kit.errors) and its three mappings: the API's
Co-WIN JSON answer, a form's error and the command line's refusal, each in English and in
Spanish (the reader's language is applied when the text is made, not when it is raised)."""
import re

import click
import pytest
from click.testing import CliRunner
from flask_wtf import FlaskForm
from markupsafe import escape
from wtforms import StringField

from cowin_kit.accounts import otp
from cowin_kit.catalogues import load_translations
from cowin_kit.errors import UserError
from cowin_kit.paths import locales_dir
from cowin_kit.plugins.interfaces import N_
from cowin_kit.registration.service import (
    MSG_EDIT_BREAKS_APPOINTMENT,
    RegistrationError,
    RegistrationThrottled,
)
from cowin_kit.scheduling.booking import MSG_FULL, BookingError, SessionFull

SPANISH = load_translations("es", [locales_dir()]).gettext
GETTEXT = {"en": None, "es": SPANISH}
TOO_SHORT = "12"  # a Peruvian mobile number of two digits: InvalidMobile, field "mobile"


def _invalid_mobile() -> otp.InvalidMobile:
    return otp.InvalidMobile(otp.MSG_MOBILE_INVALID, "mobile")


def test_an_error_holds_its_message_id_field_params_and_status():
    err = SessionFull(MSG_FULL, "session_id", dose=2)
    assert isinstance(err, BookingError) and isinstance(err, UserError)
    assert (err.msgid, err.field, err.params) == (MSG_FULL, "session_id", {"dose": 2})
    assert (err.status, err.code, err.retry_after) == (409, None, None)
    assert str(err) == err.text() == "This session has no places left for dose 2."
    spanish = err.text(SPANISH)
    assert "2" in spanish and spanish != str(err)  # the catalogue has it


def test_eligibility_dose_and_slot_refusals_are_of_the_family():
    from cowin_kit.programmes.eligibility import MSG_NO_SUCH_DOSE, NotEligible
    from cowin_kit.scheduling.slots import MSG_NOT_A_TIME, SlotError
    from cowin_kit.vaccination.service import MSG_ALREADY_RECORDED, DoseConflict, DoseError

    not_eligible = NotEligible(MSG_NO_SUCH_DOSE, "dose", vaccine="Comirnaty", dose=4)
    conflict = DoseConflict(MSG_ALREADY_RECORDED, "dose", dose=1, vaccine="Comirnaty",
                            date="2031-03-03")
    slot = SlotError(MSG_NOT_A_TIME, "slots", slot="25:00-26:00")
    for err, status in ((not_eligible, 400), (conflict, 409), (slot, 400)):
        assert isinstance(err, UserError) and err.status == status
    assert isinstance(conflict, DoseError)
    assert str(not_eligible) == "Comirnaty has no dose 4."
    assert str(slot) == "“25:00-26:00” is not a time of day."


def test_a_reason_inside_a_reason_is_in_the_same_language():
    reason = BookingError(N_("%(name)s is not of an age for this session."), "beneficiaries",
                          name="Ana")
    err = RegistrationError(MSG_EDIT_BREAKS_APPOINTMENT, "birth_year", name="Ana",
                            reason=reason)
    assert "Ana is not of an age for this session. Cancel it first" in str(err)
    assert SPANISH(reason.msgid) % {"name": "Ana"} in err.text(SPANISH)


# --- the API -------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "es"])
def test_an_error_is_answered_in_the_co_win_shape(client, lang):
    r = client.post("/api/v2/auth/public/generateOTP", json={"mobile": TOO_SHORT},
                    headers={"Accept-Language": lang})
    assert r.status_code == 400
    assert r.get_json() == {"errorCode": "USRAUT0010",  # Co-WIN's (api.cowin_codes)
                            "error": _invalid_mobile().text(GETTEXT[lang])}


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_domain_error_gets_its_status_code_and_wait(app, lang):
    from cowin_kit.api.errors import answer

    with app.test_request_context(headers={"Accept-Language": lang}):
        r = answer(SessionFull(MSG_FULL, "session_id", dose=2))
        assert r.status_code == 409
        assert r.get_json() == {"errorCode": "APPOIN0040",  # Co-WIN's (api.cowin_codes)
                                "error": SessionFull(MSG_FULL, None, dose=2).text(GETTEXT[lang])}
        r = answer(RegistrationThrottled(90))
        assert (r.status_code, r.headers["Retry-After"]) == (429, "90")
        assert r.get_json()["errorCode"] == "TOO_MANY_REQUESTS"
        assert r.get_json()["error"] == RegistrationThrottled(90).text(GETTEXT[lang])
        assert "2" in r.get_json()["error"]  # 90 seconds: 2 minutes


# --- forms ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "es"])
def test_an_error_is_shown_at_the_field_it_names(client, lang):
    page = client.get("/portal/login", headers={"Accept-Language": lang}).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    r = client.post("/portal/login", data={"mobile": TOO_SHORT, "csrf_token": token},
                    headers={"Accept-Language": lang})
    assert r.status_code == 400
    expected = str(escape(_invalid_mobile().text(GETTEXT[lang])))
    assert re.search(r'<p class="field-error" id="mobile-error">' + re.escape(expected),
                     r.get_data(as_text=True))


class _Form(FlaskForm):
    class Meta:
        csrf = False

    mobile = StringField()


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_form_error_without_a_field_of_the_form_goes_above_it(app, lang):
    from cowin_kit.web.user_errors import form_error

    expected = _invalid_mobile().text(GETTEXT[lang])
    with app.test_request_context(headers={"Accept-Language": lang}):
        form = _Form()
        assert form_error(form, _invalid_mobile()) is None
        assert form.mobile.errors == [expected]
        full = SessionFull(MSG_FULL, "session_id", dose=2)
        assert form_error(form, full) == full.text(GETTEXT[lang])  # the page shows it
        assert form.mobile.errors == [expected]
        no_field = otp.OtpNotSent(otp.MSG_NOT_SENT)
        assert form_error(form, no_field, default="mobile") is None  # a one-input form
        assert form.mobile.errors == [expected, no_field.text(GETTEXT[lang])]


# --- the command line ----------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "es"])
def test_an_error_is_a_refusal_naming_the_file_and_field(lang):
    from cowin_kit.cli.common import refusal

    reason = _invalid_mobile().text(GETTEXT[lang])
    refused = refusal(_invalid_mobile(), file="staff.csv", lang=lang)
    assert (refused.exit_code, refused.message) == (2, f"staff.csv: mobile: {reason}")
    assert refusal(otp.OtpNotSent(otp.MSG_NOT_SENT), lang=lang).message == \
        otp.OtpNotSent(otp.MSG_NOT_SENT).text(GETTEXT[lang])


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_command_refuses_a_user_error_in_the_operators_language(lang, monkeypatch):
    from cowin_kit.cli.common import db_errors_refused

    @click.command()
    @db_errors_refused
    def command():
        raise _invalid_mobile()

    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", {"en": "en_GB.UTF-8", "es": "es_PE.UTF-8"}[lang])
    result = CliRunner().invoke(command)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"Error: mobile: {_invalid_mobile().text(GETTEXT[lang])}" in result.output
