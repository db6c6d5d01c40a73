"""Adverse events following immunisation (AEFI): the profile's symptoms, reporting (at the
centre, on the portal, through the API), the district's list, follow-up and export, and
the refusals of each."""
import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from cowin_kit.profiles import ProfileError, load_profile, load_profile_file, shipped_codes
from cowin_kit.vaccination import aefi
from cowin_kit.vaccination.aefi_models import AefiFollowUp, AefiReport
from cowin_kit.vaccination.aefi_terms import DEFAULT_SYMPTOMS

from helpers import (
    LATER,
    TODAY,
    add_member,
    api_register,
    audit_rows,
    beneficiary_id,
    csrf,
    give_dose,
    make_facility_user,
    make_user,
    reference,
    staff_login,
    web_login,
)

ROOT = Path(__file__).resolve().parents[1]
YESTERDAY = TODAY - dt.timedelta(days=1)


# --- the profile -------------------------------------------------------------------------------

@pytest.mark.parametrize("code", shipped_codes())
def test_every_shipped_profile_has_the_symptoms(code):
    symptoms = aefi.profile_symptoms(load_profile(code))
    assert [s.code for s in symptoms] == list(DEFAULT_SYMPTOMS)
    labels = [s.label(lambda m: m, "en", "en") for s in symptoms]
    assert "Fever" in labels and "Guillain-Barré syndrome" in labels


def _profile_with(tmp_path, aefi_table: str):
    text = (ROOT / "country_profiles" / "PE" / "profile.toml").read_text(encoding="utf-8")
    folder = tmp_path / "PE"
    folder.mkdir()
    (folder / "profile.toml").write_text(text + "\n" + aefi_table, encoding="utf-8")
    return folder


def test_a_profile_lists_its_own_symptoms_with_names_in_its_languages(tmp_path):
    profile = load_profile_file(_profile_with(tmp_path, (
        '[aefi]\nsymptoms = [{ code = "fever" }, { code = "dengue-like", name = "Síndrome '
        'febril", names = { en = "Dengue-like illness" } }]\n')))
    fever, dengue = aefi.profile_symptoms(profile)
    assert fever.label(lambda m: "Fiebre" if m == "Fever" else m, "es", "es") == "Fiebre"
    assert dengue.label(str, "es", "es") == "Síndrome febril"
    assert dengue.label(str, "en", "es") == "Dengue-like illness"


@pytest.mark.parametrize("table,field,reason", [
    ('[aefi]\nsymptoms = [{ code = "dengue-like" }]', "aefi.symptoms[0].name",
     "give name = "),
    ('[aefi]\nsymptoms = [{ code = "fever" }, { code = "fever" }]', "aefi.symptoms",
     "duplicate code(s) fever"),
    ('[aefi]\nsymptoms = []', "aefi.symptoms", "list at least one symptom"),
    ('[aefi]\nsymptoms = [{ code = "Fever!" }]', "aefi.symptoms[0].code",
     "use lower-case letters"),
    ('[aefi]\nsymptom = [{ code = "fever" }]', "aefi.symptom", "Unknown field"),
])
def test_a_wrong_symptom_list_names_the_file_the_field_and_the_fix(tmp_path, table, field,
                                                                    reason):
    folder = _profile_with(tmp_path, table)
    with pytest.raises(ProfileError) as info:
        load_profile_file(folder)
    assert str(folder / "profile.toml") in str(info.value)
    assert any(f == field and reason in r for f, r in info.value.problems), info.value.problems


# --- people and doses for the tests ------------------------------------------------------------

@pytest.fixture
def person(client, cowin_kit_instance, database, english):
    """A citizen logged in on the portal with one member who had dose 1 yesterday at
    DEMO-PE-0001 (Lima): the member's reference id."""
    web_login(client, cowin_kit_instance)
    assert add_member(client, "40123456").status_code == 302
    ref = reference(database)
    give_dose(database, ref)
    return ref


def _values(**changes) -> aefi.AefiInput:
    values = dict(seriousness="minor", symptoms=["fever", "headache"], onset_on=YESTERDAY,
                  outcome="recovered")
    values.update(changes)
    return aefi.AefiInput(**values)


def _report(database, ref, **changes):
    """Report through the service as the person's account: (report id, or the refusal)."""
    from cowin_kit.registration.models import Beneficiary

    with database.Session() as s:
        person = s.scalar(select(Beneficiary).where(Beneficiary.reference_id == ref))
        now = dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.UTC)
        try:
            report = aefi.report_aefi(
                s, person=person, doses=aefi.person_doses(s, person.id), data=_values(**changes),
                symptoms=[aefi.Symptom(c, None) for c in DEFAULT_SYMPTOMS], now=now,
                account_id=person.account_id, channel="test")
        except aefi.AefiError as exc:
            return exc
        s.commit()
        return report.id


# --- the service -------------------------------------------------------------------------------

def test_a_report_is_about_the_latest_dose_and_the_facilitys_district(database, person):
    dose2 = give_dose(database, person, facility_code="DEMO-PE-0002", days_ago=0, number=2)
    report_id = _report(database, person, onset_on=TODAY)
    with database.Session() as s:
        report = s.get(AefiReport, report_id)
        place = s.scalar(select(aefi.Facility).where(aefi.Facility.code == "DEMO-PE-0002"))
        assert (report.dose_id, report.division_id) == (dose2, place.division_id)
        assert (report.status, report.reporter_kind, report.symptoms) == (
            "reported", "citizen", ["fever", "headache"])
    (event,) = audit_rows(database, "aefi.reported")
    assert event.target == f"aefi_report:{report_id}" and event.division_id == place.division_id
    assert "40123456" not in str(event.details)


@pytest.mark.parametrize("changes,field,text", [
    (dict(symptoms=["fever", "zombie"]), "symptoms", "zombie is not a symptom on this list."),
    (dict(symptoms=[]), "symptoms", "Choose at least one symptom."),
    (dict(onset_on=TODAY - dt.timedelta(days=2)), "onset", "cannot have started before the dose"),
    (dict(onset_on=TODAY + dt.timedelta(days=1)), "onset", "cannot have started in the future"),
    (dict(onset_on=None), "onset", "Enter the day it started."),
    (dict(seriousness="deadly"), "seriousness", "Choose how serious it was."),
    (dict(seriousness="serious"), "serious_criteria", "Say what made it serious."),
    (dict(serious_criteria=["death"]), "serious_criteria", "Only a serious event"),
    (dict(outcome="died"), "seriousness", "A death is a serious event"),
    (dict(outcome="fine"), "outcome", "Choose the outcome."),
    (dict(symptoms=["other"]), "description", "Describe the other symptom."),
    (dict(description="x" * 2001), "description", "at most 2000 characters"),
    (dict(dose_id=999999), "dose", "Choose one of the doses"),
])
def test_a_bad_report_is_refused_naming_the_field(database, person, changes, field, text):
    refusal = _report(database, person, **changes)
    assert isinstance(refusal, aefi.AefiError), refusal
    assert refusal.field == field and text in refusal.text() and refusal.status == 400
    with database.Session() as s:
        assert s.scalar(select(AefiReport.id)) is None


def test_onset_the_same_day_before_the_dose_was_given_is_refused(database, person):
    from cowin_kit.vaccination.models import Dose

    with database.Session() as s:
        dose = s.scalar(select(Dose))
        dose.given_at = dt.datetime.combine(dose.given_on, dt.time(15), tzinfo=dt.UTC)
        s.commit()
    refusal = _report(database, person, onset_time=dt.time(9))
    assert isinstance(refusal, aefi.AefiError) and refusal.field == "onset"
    assert isinstance(_report(database, person, onset_time=dt.time(16)), int)


def test_a_person_without_a_dose_cannot_be_reported_about(database, client, cowin_kit_instance,
                                                          english):
    web_login(client, cowin_kit_instance)
    add_member(client, "40123456")
    refusal = _report(database, reference(database))
    assert isinstance(refusal, aefi.AefiError) and refusal.field == "beneficiary"


def _official(database, client, code="1501", email="lima@example.org"):
    make_user(database, email, "district_admin", code)
    r = staff_login(client, email, "a-long-enough-password")
    assert r.status_code == 302, r.data
    return client


def test_follow_up_rules(database, person):
    from cowin_kit.accounts.models import StaffUser
    from cowin_kit.accounts.service import area_division_ids

    report_id = _report(database, person, seriousness="serious",
                        serious_criteria=["hospitalisation"], outcome="recovering")
    make_user(database, "lima@example.org", "district_admin", "1501")
    with database.Session() as s:
        user = s.scalar(select(StaffUser).where(StaffUser.email == "lima@example.org"))
        area = area_division_ids(s, user)
        with pytest.raises(aefi.AefiError) as info:
            aefi.follow_up(s, user, area, report_id, status="closed", note="Seen at home.")
        assert info.value.field == "causality"
        with pytest.raises(aefi.AefiError) as info:
            aefi.follow_up(s, user, area, report_id, status="investigating", note="  ")
        assert info.value.field == "note"
        with pytest.raises(aefi.AefiError) as info:
            aefi.follow_up(s, user, area, report_id, status="investigating", note="x",
                           causality="z9")
        assert info.value.field == "causality"
        aefi.follow_up(s, user, area, report_id, status="investigating", note="Called.",
                       outcome="died")
        aefi.follow_up(s, user, area, report_id, status="closed", note="Committee met.",
                       causality="c")
        s.commit()
        report = s.get(AefiReport, report_id)
        assert (report.status, report.causality, report.outcome, report.serious_criteria) == (
            "closed", "c", "died", ["death", "hospitalisation"])
        assert [f.status for f in s.scalars(select(AefiFollowUp))] == ["investigating",
                                                                         "closed"]


# --- the portal --------------------------------------------------------------------------------

def test_the_family_page_offers_a_report_only_for_vaccinated_members(client, database, person):
    add_member(client, "40123457", name="Luis Quispe")
    page = client.get("/portal/").get_data(as_text=True)
    assert page.count("Report a side effect") == 1
    assert f"/portal/members/{person}/side-effect" in page
    other = reference(database)
    assert client.get(f"/portal/members/{other}/side-effect").status_code == 404


def _portal_form(client, ref, **changes):
    page = client.get(f"/portal/members/{ref}/side-effect").get_data(as_text=True)
    data = {"symptoms": ["fever", "injection-site"], "onset": YESTERDAY.isoformat(),
            "onset_time": "", "seriousness": "severe", "outcome": "recovering",
            "description": "Could not get up for a day.", "csrf_token": csrf(page)}
    data.update(changes)
    return client.post(f"/portal/members/{ref}/side-effect", data=data)


def test_a_citizen_reports_a_side_effect_on_the_portal(client, database, person):
    r = _portal_form(client, person)
    assert r.status_code == 302 and r.headers["Location"].endswith("/portal/")
    assert "is reported (number" in client.get("/portal/").get_data(as_text=True)
    with database.Session() as s:
        report = s.scalar(select(AefiReport))
        assert (report.seriousness, report.symptoms, report.reporter_kind) == (
            "severe", ["fever", "injection-site"], "citizen")
        assert report.reported_by_account is not None


@pytest.mark.parametrize("changes,text", [
    (dict(onset=(TODAY + dt.timedelta(days=3)).isoformat()), "cannot have started in the future"),
    (dict(onset="2021-02-30"), "Enter a real date"),
    (dict(symptoms=["zombie"]), "zombie is not a symptom on this list."),
    (dict(symptoms=[]), "Choose at least one symptom."),
    (dict(seriousness="serious"), "Say what made it serious."),
])
def test_a_wrong_portal_report_says_what_to_fix_and_keeps_what_was_typed(client, database,
                                                                         person, changes, text):
    r = _portal_form(client, person, **changes)
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and text in page
    assert "Could not get up for a day." in page  # kept
    with database.Session() as s:
        assert s.scalar(select(AefiReport.id)) is None


def test_someone_elses_member_cannot_be_reported_about_on_the_portal(client, database, person,
                                                                     cowin_kit_instance):
    client.post("/portal/logout", data={"csrf_token": csrf(client.get("/portal/").get_data(
        as_text=True))})
    web_login(client, cowin_kit_instance, "987000999")
    assert client.get(f"/portal/members/{person}/side-effect").status_code == 404
    r = client.post(f"/portal/members/{person}/side-effect", data={"symptoms": ["fever"]})
    assert r.status_code in (400, 404)
    with database.Session() as s:
        assert s.scalar(select(AefiReport.id)) is None


# --- the API -----------------------------------------------------------------------------------

API = "/api/v2/registration/beneficiary/aefi"


def _body(ref, **changes):
    body = {"beneficiary_reference_id": ref, "symptoms": ["fever"],
            "onset_date": YESTERDAY.strftime("%d-%m-%Y"), "onset_time": "14:30",
            "seriousness": "minor", "outcome": "recovered"}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


@pytest.fixture
def api_person(client, ana, dni_type, database):
    ref = api_register(client, ana, dni_type, "40123456").get_json()["beneficiary_reference_id"]
    give_dose(database, ref)
    return ref


def test_a_citizen_reports_through_the_api(client, ana, api_person, database):
    r = client.post(API, headers=ana, json=_body(api_person, dose=1))
    assert r.status_code == 200, r.get_json()
    answer = r.get_json()
    assert answer["status"] == "reported"
    with database.Session() as s:
        report = s.get(AefiReport, answer["aefi_id"])
        assert (report.onset_time, report.symptoms) == (dt.time(14, 30), ["fever"])
    (event,) = audit_rows(database, "aefi.reported")
    assert event.details["channel"] == "api"


@pytest.mark.parametrize("changes,status,text", [
    (dict(symptoms=["zombie"]), 400, "zombie is not a symptom on this list."),
    (dict(symptoms=[]), 400, "Choose at least one symptom."),
    (dict(onset_date=(TODAY + dt.timedelta(days=2)).strftime("%d-%m-%Y")), 400,
     "cannot have started in the future"),
    (dict(onset_date=(TODAY - dt.timedelta(days=9)).strftime("%d-%m-%Y")), 400,
     "cannot have started before the dose"),
    (dict(onset_time="25:99"), 400, "onset_time must be a time written HH:MM"),
    (dict(seriousness="mild"), 400, "seriousness must be one of"),
    (dict(outcome=...), 400, "outcome is required."),
    (dict(dose=3), 400, "Choose one of the doses recorded for this person."),
    (dict(beneficiary_reference_id="12345678901234"), 404, None),
])
def test_bad_api_reports(client, ana, api_person, database, changes, status, text):
    r = client.post(API, headers=ana, json=_body(api_person, **changes))
    assert r.status_code == status, r.get_json()
    if text:
        assert text in r.get_json()["error"], r.get_json()
    with database.Session() as s:
        assert s.scalar(select(AefiReport.id)) is None


def test_another_accounts_person_is_not_found_through_the_api(client, other, api_person,
                                                              database):
    r = client.post(API, headers=other, json=_body(api_person))
    assert r.status_code == 404 and r.get_json()["errorCode"] == "NOT_FOUND"
    assert client.post(API, json=_body(api_person)).status_code == 401


# --- at the centre -----------------------------------------------------------------------------

def _staff_form(client, url, **changes):
    page = client.get(url)
    assert page.status_code == 200, page.data
    data = {"symptoms": ["syncope"], "onset": YESTERDAY.isoformat(), "onset_time": "",
            "seriousness": "minor", "outcome": "recovered", "description": "",
            "csrf_token": csrf(page.get_data(as_text=True))}
    data.update(changes)
    return client.post(url, data=data)


def test_the_vaccinator_reports_at_the_centre(client, database, person):
    make_facility_user(database, "vax@example.org", "vaccinator", "DEMO-PE-0001")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    staff_login(client, "vax@example.org", "a-long-enough-password")
    url = f"/staff/aefi/new?beneficiary={beneficiary_id(database, person)}"
    r = _staff_form(client, url, onset=(TODAY + dt.timedelta(days=1)).isoformat())
    assert r.status_code == 400 and "cannot have started in the future" in r.get_data(
        as_text=True)
    r = _staff_form(client, url)
    assert r.status_code == 302, r.data
    with database.Session() as s:
        report = s.scalar(select(AefiReport))
        assert (report.reporter_kind, report.symptoms) == ("vaccinator", ["syncope"])
        assert report.reported_by_staff is not None
    # the reference id finds the person too
    assert client.get(f"/staff/aefi/new?beneficiary={person}").status_code == 200
    assert client.get("/staff/aefi/new?beneficiary=99999").status_code == 404
    assert client.get("/staff/aefi/new?beneficiary=x").status_code == 404
    # a vaccinator does not follow reports up
    assert client.get("/staff/aefi").status_code == 403


def test_a_vaccinator_of_another_centre_is_refused_and_audited(client, database, person):
    make_facility_user(database, "vax2@example.org", "vaccinator", "DEMO-PE-0002")
    staff_login(client, "vax2@example.org", "a-long-enough-password")
    url = f"/staff/aefi/new?beneficiary={beneficiary_id(database, person)}"
    assert client.get(url).status_code == 403
    (denied,) = audit_rows(database, "access.denied")
    assert denied.details["reason"] == "area"


# --- the district's list, follow-up and export -------------------------------------------------

def test_the_district_official_lists_follows_up_and_exports(client, database, person):
    serious = _report(database, person, seriousness="serious", serious_criteria=["hospitalisation"],
                      outcome="recovering", symptoms=["anaphylaxis"])
    minor = _report(database, person)
    _official(database, client)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get("/staff/aefi").get_data(as_text=True)
    assert page.index(f"Report {serious}") < page.index(f"Report {minor}")  # serious first
    assert "2 found" in page
    only_minor = client.get("/staff/aefi?seriousness=minor").get_data(as_text=True)
    assert f"Report {minor}" in only_minor and f"Report {serious}:" not in only_minor
    r = client.get("/staff/aefi?since=2021-02-31")
    assert r.status_code == 400 and "Enter a real date" in r.get_data(as_text=True)

    url = f"/staff/aefi/{serious}"
    page = client.get(url).get_data(as_text=True)
    assert "Ana Quispe" in page and "born 1980" in page and "40123456" not in page
    assert "XXXX" in page or "•" in page or "*" in page  # the masked number
    assert "Comirnaty" in page and "DEMO-PE-0001" in page
    r = client.post(url, data={"status": "closed", "causality": "", "outcome": "",
                               "note": "Discharged.", "csrf_token": csrf(page)})
    text = r.get_data(as_text=True)
    assert r.status_code == 400 and "closed only with a causality assessment" in text
    assert "Discharged." in text  # kept
    r = client.post(url, data={"status": "closed", "causality": "a1", "outcome": "recovered",
                               "note": "Discharged.", "csrf_token": csrf(page)})
    assert r.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Discharged." in page and "A1 Consistent" in page
    (event,) = audit_rows(database, "aefi.followed_up")
    assert event.details["causality"] == "a1"

    r = client.get("/staff/aefi/export.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [int(row["report"]) for row in rows] == [serious, minor]
    body = r.get_data(as_text=True)
    assert "Ana Quispe" not in body and "40123456" not in body and person not in body
    assert rows[0]["person"] == rows[1]["person"]  # the same pseudonym for the same person
    assert (rows[0]["age"], rows[0]["gender"], rows[0]["causality"], rows[0]["symptoms"]) == (
        str(YESTERDAY.year - 1980), "female", "a1", "anaphylaxis")
    (export,) = audit_rows(database, "aefi.exported")
    assert export.details["rows"] == 2


def test_a_report_outside_the_area_is_forbidden_and_audited(client, database, person):
    from cowin_kit.vaccination.models import Dose

    with database.Session() as s:
        lima_dose = s.scalar(select(Dose.id))
    give_dose(database, person, facility_code="DEMO-PE-0014", days_ago=0, number=2)  # Cusco
    cusco = _report(database, person, onset_on=TODAY)
    lima = _report(database, person, dose_id=lima_dose, onset_on=TODAY)
    _official(database, client)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get("/staff/aefi").get_data(as_text=True)
    assert "1 found" in page and f"Report {lima}:" in page and f"Report {cusco}:" not in page
    assert client.get(f"/staff/aefi/{cusco}").status_code == 403
    assert audit_rows(database, "access.denied")[-1].details["reason"] == "area"
    r = client.post(f"/staff/aefi/{cusco}", data={"status": "closed", "note": "x"})
    assert r.status_code in (400, 403)
    assert client.get("/staff/aefi/999999").status_code == 404
    rows = list(csv.DictReader(io.StringIO(client.get("/staff/aefi/export.csv")
                                           .get_data(as_text=True))))
    assert [int(row["report"]) for row in rows] == [lima]
    with database.Session() as s:
        assert s.scalar(select(AefiFollowUp.id)) is None


def test_the_list_pages(client, database, person):
    for _ in range(23):
        _report(database, person)
    _official(database, client)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    first = client.get("/staff/aefi").get_data(as_text=True)
    assert "Page 1 of 2" in first and first.count('class="card"') == 20
    second = client.get("/staff/aefi?page=2").get_data(as_text=True)
    assert second.count('class="card"') == 3


def test_the_export_never_hands_a_spreadsheet_a_formula(client, database, person):
    from cowin_kit.programmes.models import Product
    from cowin_kit.vaccination.models import Dose, VaccineLot

    with database.Session() as s:
        dose = s.scalar(select(Dose))
        lot = VaccineLot(facility_id=dose.facility_id, product_id=dose.product_id,
                         lot_number="=HYPERLINK(\"http://x\")", expires_on=LATER,
                         doses_received=10)
        s.add(lot)
        s.flush()
        dose.lot_id = lot.id
        assert s.get(Product, dose.product_id) is not None
        s.commit()
    _report(database, person)
    _official(database, client)
    (row,) = csv.DictReader(io.StringIO(client.get("/staff/aefi/export.csv")
                                        .get_data(as_text=True)))
    assert row["lot"] == "'=HYPERLINK(\"http://x\")"


def test_bad_filters_and_a_follow_up_without_its_token_are_refused(client, database, person):
    report_id = _report(database, person)
    _official(database, client)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    r = client.get("/staff/aefi?seriousness=deadly&status=open")
    assert r.status_code == 400 and "Choose from the list." in r.get_data(as_text=True)
    assert client.get("/staff/aefi/export.csv?since=yesterday").status_code == 400
    r = client.post(f"/staff/aefi/{report_id}", data={"status": "closed", "note": "x"})
    assert r.status_code == 400
    with database.Session() as s:
        assert s.scalar(select(AefiFollowUp.id)) is None
        assert s.get(AefiReport, report_id).status == "reported"
