"""auth/getRecaptcha and the captcha of appointment/schedule (CAPTCHA_ON_SCHEDULE)."""
import datetime as dt
import hashlib
import re
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select, update

from cowin_kit.accounts.models import CaptchaChallenge

from helpers import api_register, api_session

SVG = "{http://www.w3.org/2000/svg}"
ON = {"OTP_RESEND_SECONDS": 0, "CAPTCHA_ON_SCHEDULE": True}
# The Spanish text comes with the catalogues; until then the question is in English.
WORDS = {"en": r"how much is (\d+) plus (\d+)\?", "es": r"(\d+)\D+(\d+)"}


def captcha(client, auth, method="get", lang="en"):
    """The SVG of getRecaptcha, parsed, and the answer a person gives from its title (as a
    screen reader reads it out)."""
    r = getattr(client, method)("/api/v2/auth/getRecaptcha",
                                headers={**auth, "Accept-Language": lang})
    assert r.status_code == 200, r.get_json()
    assert set(r.get_json()) == {"captcha"}
    root = ET.fromstring(r.get_json()["captcha"])
    assert root.tag == SVG + "svg" and root.get("role") == "img"
    title = root.find(SVG + "title")
    assert root.get("aria-labelledby") == title.get("id")
    found = re.search(WORDS[lang], title.text, re.IGNORECASE)
    assert found, title.text
    return root, int(found.group(1)) + int(found.group(2))


def drawn_sum(root):
    """What the image shows, figure by figure: "7+12=?"."""
    return "".join(t.text for t in root.iter(SVG + "text"))


def book(client, auth, ref, session_id, slot, answer=None):
    body = {"dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": [ref]}
    if answer is not None:
        body["captcha"] = answer
    return client.post("/api/v2/appointment/schedule", headers=auth, json=body)


@pytest.fixture
def person(client, ana, dni_type):
    return api_register(client, ana, dni_type, "40123456").get_json()["beneficiary_reference_id"]


def refused(r):
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["errorCode"] == "APPOIN0044"
    assert "security code" in r.get_json()["error"]


def test_off_the_image_is_real_and_any_captcha_is_ignored(client, ana, person, database):
    root, answer = captcha(client, ana)
    a, b = re.fullmatch(r"(\d+)\+(\d+)=\?", drawn_sum(root)).groups()
    assert int(a) + int(b) == answer  # the title asks what the image shows
    assert captcha(client, ana, method="post")  # Co-WIN's clients POST
    session_id, slot = api_session(database)
    assert book(client, ana, person, session_id, slot, "whatever").status_code == 200
    with database.session() as s:
        assert s.scalars(select(CaptchaChallenge)).all() == []  # nothing kept


def test_it_needs_a_token(client):
    assert client.get("/api/v2/auth/getRecaptcha").status_code == 401
    assert client.post("/api/v2/auth/getRecaptcha",
                       headers={"Authorization": "Bearer x.y.z"}).status_code == 401


def test_the_question_is_in_the_callers_language(client, ana):
    root, _answer = captcha(client, ana, lang="es")
    assert root.get("lang") == "es"


@pytest.mark.parametrize("cowin_kit_config", [ON])
def test_on_the_right_answer_books_once(client, ana, person, database):
    session_id, slot = api_session(database)
    refused(book(client, ana, person, session_id, slot))  # no captcha asked for yet
    _root, answer = captcha(client, ana)
    refused(book(client, ana, person, session_id, slot))  # none sent
    r = book(client, ana, person, session_id, slot, str(answer))
    assert r.status_code == 200, r.get_json()
    appointment = r.get_json()["appointment_confirmation_no"]
    assert client.post("/api/v2/appointment/cancel", headers=ana, json={
        "appointment_id": appointment}).status_code == 204
    refused(book(client, ana, person, session_id, slot, str(answer)))  # used: not again
    _root, answer = captcha(client, ana)
    assert book(client, ana, person, session_id, slot, answer).status_code == 200  # a number


@pytest.mark.parametrize("cowin_kit_config", [ON])
def test_on_wrong_answers_use_up_the_captcha(client, ana, person, database):
    session_id, slot = api_session(database)
    _root, answer = captcha(client, ana)
    for wrong in (answer + 1, "abc", "  "):
        refused(book(client, ana, person, session_id, slot, wrong))
    refused(book(client, ana, person, session_id, slot, str(answer)))  # 3 tries were spent
    _root, answer = captcha(client, ana)
    assert book(client, ana, person, session_id, slot, f" {answer} ").status_code == 200


@pytest.mark.parametrize("cowin_kit_config", [ON])
def test_on_a_new_captcha_replaces_the_last(client, ana, person, database):
    session_id, slot = api_session(database)
    _root, first = captcha(client, ana)
    _root, second = captcha(client, ana)
    if first != second:
        refused(book(client, ana, person, session_id, slot, first))
    assert book(client, ana, person, session_id, slot, second).status_code == 200


@pytest.mark.parametrize("cowin_kit_config", [ON])
def test_on_another_accounts_captcha_does_not_count(client, ana, other, person, database):
    session_id, slot = api_session(database)
    _root, others = captcha(client, other)
    refused(book(client, ana, person, session_id, slot, others))
    _root, own = captcha(client, ana)
    assert book(client, ana, person, session_id, slot, own).status_code == 200


@pytest.mark.parametrize("cowin_kit_config", [ON])
def test_on_an_expired_captcha_is_refused(client, ana, person, database):
    session_id, slot = api_session(database)
    _root, answer = captcha(client, ana)
    with database.session() as s:
        s.execute(update(CaptchaChallenge).values(
            expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
        s.commit()
    refused(book(client, ana, person, session_id, slot, answer))


@pytest.mark.parametrize("cowin_kit_config", [ON])
def test_on_the_answer_is_kept_hashed(client, ana, database):
    _root, answer = captcha(client, ana)
    with database.session() as s:
        row = s.scalar(select(CaptchaChallenge))
    assert row.answer_hash not in {str(answer), hashlib.sha256(str(answer).encode()).hexdigest()}
    assert row.expires_at - row.created_at == dt.timedelta(seconds=300)
