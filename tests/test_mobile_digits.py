"""A mobile number typed in another script's digits logs in, on the API and the portal;
digits mixed with anything else are refused, with a message that says what to type."""

import pytest

from cowin_kit.accounts import otp
from cowin_kit.testing import Outbox, last_otp

from helpers import csrf

ARABIC = "٠١٢٣٤٥٦٧٨٩"  # Arabic-Indic, as on Arabic keyboards (AE, IQ)
PERSIAN = "۰۱۲۳۴۵۶۷۸۹"  # Eastern Arabic-Indic, as on Persian, Urdu and Kurdish keyboards
DEVANAGARI = "०१२३४५६७८९"


def written(number: str, digits: str) -> str:
    return "".join(digits[int(c)] if c.isdigit() else c for c in number)


@pytest.mark.parametrize("digits", [ARABIC, PERSIAN, DEVANAGARI])
@pytest.mark.parametrize("region,typed,e164", [
    ("PE", "987 654 321", "+51987654321"),
    ("AE", "050 123 4567", "+971501234567"),
    ("IQ", "0790 123 4567", "+9647901234567"),
    ("IN", "98765 43210", "+919876543210"),
])
def test_every_script_gives_the_same_number(digits, region, typed, e164):
    assert otp.normalize_mobile(written(typed, digits), region) == e164
    assert otp.normalize_mobile(typed, region) == e164


def test_direction_marks_copied_with_a_number_are_ignored():
    copied = "\u200f\u202a" + written("+971 50 123 4567", ARABIC) + "\u202c\u200e"
    assert otp.normalize_mobile(copied, "AE") == "+971501234567"


def test_one_number_in_mixed_scripts_is_still_one_number():
    """Someone may type part of the number on one keyboard and part on another (a country
    code prefilled in 0-9, the rest in Arabic-Indic): the digits mean what they say."""
    assert otp.normalize_mobile("+971 " + written("50 123 4567", ARABIC), "AE") == "+971501234567"
    assert otp.normalize_mobile("٩٨٧ ६५४ 321", "PE") == "+51987654321"


@pytest.mark.parametrize("raw", [
    "٩٨٧abc٦٥٤٣٢١",            # letters among the digits
    "98765432١x",
    "९८७\u200b६५४३२१",          # a zero-width space
    "987😀654321",
    "٩٨٧،٦٥٤،٣٢١",             # Arabic commas
    "९८७/६५४/३२१",
    "\u0000987654321",
])
def test_digits_mixed_with_other_characters_are_refused_clearly(raw):
    with pytest.raises(otp.InvalidMobile) as err:
        otp.normalize_mobile(raw, "PE")
    assert err.value.field == "mobile"
    assert "using only digits" in err.value.text()


@pytest.mark.parametrize("raw", ["", "   ", "٩٨", "١" * 40, "9" * 200, "٩" * 10_000, None, 987])
def test_empty_short_and_long_input_is_refused(raw):
    with pytest.raises(otp.InvalidMobile) as err:
        otp.normalize_mobile(raw, "PE")
    assert "valid mobile number" in err.value.text()


def sent_to(instance) -> list[str]:
    return Outbox(instance).sent_to()


@pytest.mark.parametrize("cowin_kit_country", ["AE"])
def test_the_api_takes_arabic_digits_in_an_arabic_country(client, cowin_kit_instance):
    r = client.post("/api/v2/auth/public/generateOTP",
                    json={"mobile": written("050 123 4567", ARABIC)})
    assert r.status_code == 200 and r.get_json()["txnId"]
    assert sent_to(cowin_kit_instance) == ["+971501234567"]


@pytest.mark.parametrize("digits", [PERSIAN, DEVANAGARI])
def test_the_api_takes_other_digits(client, cowin_kit_instance, digits):
    r = client.post("/api/v2/auth/public/generateOTP",
                    json={"mobile": written("987654321", digits)})
    assert r.status_code == 200, r.get_json()
    assert sent_to(cowin_kit_instance) == ["+51987654321"]


def test_the_api_refuses_mixed_garbage_with_a_reason(client, cowin_kit_instance):
    r = client.post("/api/v2/auth/public/generateOTP", json={"mobile": "٩٨٧abc٦٥٤٣٢١"},
                    headers={"Accept-Language": "en"})
    assert r.status_code == 400
    assert r.get_json()["errorCode"] == "USRAUT0010"  # Co-WIN's code (api/cowin_codes.py)
    assert "using only digits" in r.get_json()["error"]
    assert sent_to(cowin_kit_instance) == []


@pytest.mark.parametrize("cowin_kit_country", ["IQ"])
def test_the_portal_logs_in_with_arabic_digits(client, cowin_kit_instance):
    page = client.get("/portal/login").get_data(as_text=True)
    r = client.post("/portal/login", data={"mobile": written("0790 123 4567", ARABIC),
                                           "csrf_token": csrf(page)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/portal/login/code")
    assert sent_to(cowin_kit_instance) == ["+9647901234567"]
    page = client.get("/portal/login/code").get_data(as_text=True)
    assert "+96*********67" in page  # the number it was sent to, masked
    r = client.post("/portal/login/code", data={"code": last_otp(cowin_kit_instance),
                                                "csrf_token": csrf(page)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/portal/")
    assert client.get("/portal/").status_code == 200


def test_the_portal_refuses_mixed_garbage_with_a_reason(client, cowin_kit_instance):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get("/portal/login").get_data(as_text=True)
    r = client.post("/portal/login", data={"mobile": "९८७x६५४३२१", "csrf_token": csrf(page)})
    assert r.status_code == 400 and "using only digits" in r.get_data(as_text=True)
    assert sent_to(cowin_kit_instance) == []
