"""Country profiles as a ministry would sign them off (issue 16, items 3, 4 and 6): every
ID document a country used, the children's formulations as their own products, phases that
open on their real dates, and an honest word about mobiles that cannot be told from
landlines."""
import datetime as dt
import itertools

import phonenumbers
import pytest
from sqlalchemy import select
from stdnum import verhoeff

from cowin_kit.accounts import otp
from cowin_kit.plugins import discover
from cowin_kit.plugins.interfaces import IdProvider, InvalidIdNumber
from cowin_kit.profiles import ProfileError, load_profile, load_profile_file, shipped_codes
from cowin_kit.programmes.eligibility import NotEligible, check_may_take
from cowin_kit.programmes.models import Product
from cowin_kit.registration.models import IdDocumentType
from cowin_kit.registration.service import IdContext, register_beneficiary

from helpers import STAFF_PASSWORD, api_login, csrf, make_user, staff_login

PROVIDERS = {name: p.obj for name, p in discover().group(IdProvider.group,
                                                          only_ok=False).items()}

# Each new document: numbers it accepts (as people type them, with the canonical form) and
# numbers it refuses (with the rule broken).
DOCUMENTS = {
    "ca.mb-health-card": ([("123 456 789", "123456789")], [("12345", "length"),
                                                          ("A12345678", "format")]),
    "ca.sk-health-card": ([("987-654-321", "987654321")], [("98765432", "length"),
                                                          ("98765432X", "format")]),
    "ca.nb-medicare-card": ([("123456789", "123456789")], [("1234567890", "length")]),
    "ca.ns-health-card": ([("0123 456 789", "0123456789")], [("123456789", "length"),
                                                            ("012345678O", "format")]),
    "ca.pe-health-card": ([("1234 5678", "12345678")], [("123456789", "length"),
                                                       ("1234567A", "format")]),
    "ca.nl-mcp-card": ([("123 456 789 012", "123456789012")], [("12345678901", "length")]),
    "ca.yt-health-card": ([("002345678", "002345678")], [("0023456789", "length")]),
    "ca.nt-health-card": ([("n1234567", "N1234567"), ("H 123 4567", "H1234567")],
                          [("12345678", "format"), ("N123456", "length")]),
    "ca.nu-health-card": ([("123 456 789", "123456789")], [("223456789", "format"),
                                                          ("12345678", "length")]),
    "do.birth-certificate": ([("0001/00123/0045/000678/2008", "1-123-45-678-2008"),
                              ("12 3 4 5 2010", "12-3-4-5-2010")],
                             [("123-45-678-2008", "length"), ("1-123-45-678-1850", "format"),
                              ("1-0-45-678-2008", "format"), ("1-123-A5-678-2008", "format"),
                              ("123456-1-1-1-2008", "format")]),
    "ug.ain": ([("AM 9001 2345 67AB", "AM9001234567AB"), ("XF12345678ABCD", "XF12345678ABCD")],
               [("CM9001234567AB", "format"), ("AM90012345", "length"),
                ("ABCDEFGHIJKLMN", "format")]),
    "in.pan": ([("acupa 7085 r", "ACUPA7085R")], [("AAACA1234B", "format"),  # a company's
                                                 ("AAATA1234A", "format"),  # a trust's
                                                 ("AAAFA1234B", "format")]),  # a firm's
}


@pytest.mark.parametrize("code", sorted(DOCUMENTS))
def test_new_documents_accept_and_refuse_numbers(code):
    provider = PROVIDERS[code]()
    valid, invalid = DOCUMENTS[code]
    for typed, canonical in valid:
        assert provider.validate(typed) == canonical
        assert provider.validate(canonical) == canonical  # one person, one string
    for typed, rule in invalid:
        with pytest.raises(InvalidIdNumber) as info:
            provider.validate(typed)
        assert info.value.rule == rule, typed


def test_a_pan_that_is_not_a_persons_is_refused_with_its_own_reason():
    with pytest.raises(InvalidIdNumber) as info:
        PROVIDERS["in.pan"]().validate("AAACA1234B")
    assert "fourth character" in info.value.message and "P" in info.value.message
    from cowin_kit.catalogues import load_translations
    from cowin_kit.paths import locales_dir

    # Translatable: a msgid the reader's catalogue is asked for (English until translated).
    text = info.value.translate(load_translations("hi", [locales_dir()]).gettext)
    assert text


def test_canada_lists_the_health_card_of_every_province_and_territory():
    profile = load_profile("CA")
    providers = {d["provider"] for d in profile["id_documents"]}
    provinces = {c.split("-")[1].lower() for c in profile["divisions"]["level1"]}
    assert len(provinces) == 13
    for province in provinces:
        assert any(p.startswith(f"ca.{province}-") for p in providers), province
    # Every format-only layout not confirmed with the issuer says so in the notes.
    for doc in profile["id_documents"]:
        if doc["provider"] in ("ca.sk-health-card", "ca.nb-medicare-card", "ca.ns-health-card",
                               "ca.pe-health-card", "ca.nl-mcp-card", "ca.yt-health-card"):
            assert "UNVERIFIED" in doc["notes"], doc["code"]


def test_minors_and_non_citizens_have_a_document():
    assert "do.birth-certificate" in {d["provider"] for d in load_profile("DO")["id_documents"]}
    assert "ug.ain" in {d["provider"] for d in load_profile("UG")["id_documents"]}


def test_india_allows_six_people_per_mobile():
    assert load_profile("IN")["max_beneficiaries_per_mobile"] == 6


def _aadhaar(n: int) -> str:
    body = f"{2 + n % 7}{n:010d}"
    return body + verhoeff.calc_check_digit(body)


@pytest.mark.parametrize("cowin_kit_country", ["IN"])
def test_six_people_and_no_seventh_on_one_indian_mobile(client, cowin_kit_instance, database):
    mobile = phonenumbers.format_number(
        phonenumbers.example_number_for_type("IN", phonenumbers.PhoneNumberType.MOBILE),
        phonenumbers.PhoneNumberFormat.NATIONAL)
    auth = api_login(client, cowin_kit_instance, mobile)
    with database.session() as s:
        aadhaar = s.scalar(select(IdDocumentType.id).where(IdDocumentType.code == "aadhaar"))

    def register(n):
        return client.post("/api/v2/registration/beneficiary/new", headers=auth, json={
            "name": f"Asha Devi {chr(65 + n)}", "birth_year": "1980", "gender_id": 2,
            "photo_id_type": aadhaar, "photo_id_number": _aadhaar(n + 1),
            "comorbidity_ind": "N", "consent_version": "1"})

    for n in range(6):
        r = register(n)
        assert r.status_code == 200, r.get_json()
    r = register(6)
    assert r.status_code == 409 and "6 people" in r.get_json()["error"], r.get_json()


# --- vaccines as they were given -----------------------------------------------------------

def test_no_shipped_phase_opens_from_day_one_or_admits_everyone_by_accident():
    for code in shipped_codes():
        for programme in load_profile(code)["programmes"]:
            for phase in programme["phases"]:
                where = f"{code} {programme['code']} {phase['code']}"
                assert phase["starts_on"] is not None, where
                assert phase["min_age_years"] is not None or phase["groups"], where


def test_children_get_their_own_formulation_where_one_was_used():
    expected = {"AE": {"comirnaty-5-11"}, "MX": {"comirnaty-5-11"}, "PE": {"comirnaty-5-11"},
                "VN": {"comirnaty-5-11", "spikevax-6-11"},
                "PA": {"comirnaty-5-11", "comirnaty-6m-4y"},
                "CA": {"comirnaty-5-11", "comirnaty-6m-4y", "spikevax-6-11", "spikevax-6m-5y"}}
    for code in shipped_codes():
        products = {p["code"]: p for p in load_profile(code)["programmes"][0]["products"]}
        for child in expected.get(code, set()):
            assert products[child]["max_age_years"] is not None, (code, child)
        for name in ("comirnaty", "spikevax"):  # the 12+ formulations are for 12 and over
            if name in products:
                assert products[name]["min_age_years"] >= 12, (code, name)


def _pe_text() -> str:
    from cowin_kit.paths import profiles_dir

    return (profiles_dir() / "PE" / "profile.toml").read_text(encoding="utf-8")


def _refused(tmp_path, text, *fragments):
    (tmp_path / "profile.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_profile_file(tmp_path)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_a_phase_without_a_start_date_is_refused(tmp_path):
    text = _pe_text().replace("starts_on = 2021-07-01\n", "", 1)
    _refused(tmp_path, text, "phases[2].starts_on", "open from the first day")


def test_a_phase_of_no_age_and_no_group_is_refused(tmp_path):
    text = _pe_text().replace("starts_on = 2021-07-01\nmin_age_years = 18\n",
                              "starts_on = 2021-07-01\n", 1)
    _refused(tmp_path, text, "phases[2].min_age_years", "min_age_years = 0")


def test_months_need_the_date_of_birth(tmp_path):
    # Peru's COVID-19 programme counts ages from the year of birth, as Co-WIN did.
    old = "min_age_years = 5\nmax_age_years = 11\n"
    assert _pe_text().count(old) == 1
    text = _pe_text().replace(old, 'min_age = "6 months"\nmax_age_years = 11\n')
    _refused(tmp_path, text, "age_from", "'6 months' cannot be told from a year of birth")


_numbers = itertools.count(41000000)


@pytest.fixture
def child(db_session, app):
    dep = app.extensions["cowin_kit"]
    ctx = IdContext.from_settings(dict(dep.id_providers), dep.settings)

    def make(birth_year):
        return register_beneficiary(db_session, ctx, document_code="dni",
                                    id_number=str(next(_numbers)), name="Rosa Quispe",
                                    birth_year=birth_year, gender="female")
    return make


def _product(session, code):
    return session.scalar(select(Product).where(Product.code == code))


def test_a_child_can_book_only_the_formulation_of_their_age(db_session, child):
    on = dt.date(2022, 6, 1)
    adult_vial, child_vial = _product(db_session, "comirnaty"), _product(db_session,
                                                                          "comirnaty-5-11")
    seven, fifteen = child(2015), child(2007)
    check_may_take(db_session, seven, child_vial, 1, on)
    with pytest.raises(NotEligible, match="not of an age"):
        check_may_take(db_session, seven, adult_vial, 1, on)
    check_may_take(db_session, fifteen, adult_vial, 1, on)
    with pytest.raises(NotEligible, match="not of an age"):
        check_may_take(db_session, fifteen, child_vial, 1, on)
    with pytest.raises(NotEligible, match="not of an age"):
        check_may_take(db_session, child(2019), child_vial, 1, on)  # 3: too young for both


def test_a_child_who_turns_12_finishes_with_the_12_plus_formulation(db_session, child):
    from cowin_kit.vaccination.service import record_dose

    person = child(2010)
    record_dose(db_session, beneficiary_id=person.id, dose_number=1,
                product=_product(db_session, "comirnaty-5-11"), given_on=dt.date(2021, 12, 1))
    # 12 in 2022 (Co-WIN's year of birth): the child's vial no longer fits; the 12+ one, of
    # the same vaccine, completes the series although Peru does not mix vaccines.
    check_may_take(db_session, person, _product(db_session, "comirnaty"), 2,
                   dt.date(2022, 1, 10))
    with pytest.raises(NotEligible, match="same vaccine"):
        check_may_take(db_session, person, _product(db_session, "spikevax"), 2,
                       dt.date(2022, 1, 10))


def test_a_phase_does_not_open_before_its_start(db_session, child):
    seven = child(2015)
    vial = _product(db_session, "comirnaty-5-11")
    with pytest.raises(NotEligible, match="not eligible yet"):
        check_may_take(db_session, seven, vial, 1, dt.date(2022, 1, 23))
    check_may_take(db_session, seven, vial, 1, dt.date(2022, 1, 24))  # Peru's children: 24 Jan


# --- mobiles that cannot be told from landlines --------------------------------------------

def test_the_countries_whose_landlines_look_like_mobiles():
    shipped = {c: load_profile(c)["phone_region"] for c in shipped_codes()}
    assert {c for c, r in shipped.items() if otp.mobile_type_uncertain(r)} == {
        "CA", "DO", "IN", "MX"}


SMS_HINT = "a mobile number that receives SMS"


@pytest.mark.parametrize("cowin_kit_country", ["MX"])
def test_mexico_asks_for_a_mobile_that_receives_sms(client, database, english):
    assert SMS_HINT in client.get("/portal/login").get_data(as_text=True)
    make_user(database, "calls@example.org", "call_centre")
    assert staff_login(client, "calls@example.org", STAFF_PASSWORD).status_code == 302
    page = client.get("/staff/assist").get_data(as_text=True)
    assert SMS_HINT in page and csrf(page)


def test_peru_can_tell_mobiles_apart_and_says_nothing(client, english):
    assert SMS_HINT not in client.get("/portal/login").get_data(as_text=True)
