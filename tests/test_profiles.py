import datetime as dt
import re
from pathlib import Path

import pycountry
import pytest

from cowin_kit.profiles import ProfileError, load_profile, load_profile_file, shipped_codes
from cowin_kit.profiles.schema import ProfileSchema

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ["AE", "AZ", "CA", "DO", "IN", "IQ", "MX", "NG", "PA", "PE", "UA", "UG", "VN"]


def test_the_thirteen_countries_are_shipped():
    assert shipped_codes() == SHIPPED


@pytest.mark.parametrize("code", SHIPPED)
def test_shipped_profile_is_valid_and_complete(code):
    p = load_profile(code)
    assert p.code == code
    assert p.name == pycountry.countries.get(alpha_2=code).name or p.name
    # every ISO-coded level-1 division is a real ISO 3166-2 code of that country; those the
    # profile declares itself each have a source and a date
    iso = {s.code for s in pycountry.subdivisions.get(country_code=code)}
    assert set(p["divisions"]["level1"]) <= iso
    assert all(d["source"] and d["since"] for d in p["divisions"]["own"])
    # a shipped profile says the date its facts are as of
    assert isinstance(p["as_of"], dt.date) and p["as_of"] <= dt.date.today()
    assert re.fullmatch(p["postal_code_pattern"], p["postal_code_example"])
    assert p["id_documents"] and p["programmes"][0]["products"]
    assert p["certificate"]["issuer"]
    assert 1 <= p["max_beneficiaries_per_mobile"] <= 20


def test_pe_and_in_ship_demo_csv():
    for code in ("PE", "IN"):
        p = load_profile(code)
        assert p.demo_file("divisions.csv") and p.demo_file("facilities.csv")


def _write(tmp_path, text):
    folder = tmp_path / "XX"
    folder.mkdir()
    (folder / "profile.toml").write_text(text, encoding="utf-8")
    return folder


def _pe_text():
    return (ROOT / "country_profiles" / "PE" / "profile.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("old,new,field,reason", [
    ('timezone = "America/Lima"', 'timezone = "America/Limaa"', "timezone", "IANA time zone"),
    ('"PE-AMA", ', '"PE-XXX", ', "divisions.level1", "PE-XXX"),
    ('currency = "PEN"', 'currency = "SOL"', "currency", "ISO 4217"),
    ('languages = ["es", "qu", "ay"]', 'languages = ["es", "zz"]', "languages", "zz"),
    ("{ number = 2, min_interval_days = 21, max_interval_days = 28 }",
     "{ number = 2, min_interval_days = 21, max_interval_days = 14 }",
     "programmes[0].products[0].doses[1].max_interval_days", "min_interval_days"),
    ("{ number = 2, min_interval_days = 21, max_interval_days = 28 }",
     "{ number = 4, min_interval_days = 21 }",
     "programmes[0].products[0].doses", "1, 2, 3"),
    ("max_beneficiaries_per_mobile = 4", "max_beneficiaries_per_mobile = 0",
     "max_beneficiaries_per_mobile", "greater than or equal to 1"),
    ('code = "PE"', 'code = "PE"\nflag = "red"', "flag", "Unknown field"),
    ('postal_code_example = "15001"', 'postal_code_example = "1500"', "postal_code_example",
     "does not match"),
    # Ages and intervals as text, and the hard limit.
    ("{ number = 2, min_interval_days = 21, max_interval_days = 28 }",
     '{ number = 2, min_interval = "3 wks" }',
     "programmes[0].products[0].doses[1].min_interval", '"6 weeks"'),
    ("{ number = 2, min_interval_days = 21, max_interval_days = 28 }",
     '{ number = 2, min_interval_days = 21, min_interval = "3 weeks" }',
     "programmes[0].products[0].doses[1].min_interval", "not both"),
    ("{ number = 2, min_interval_days = 21, max_interval_days = 28 }",
     '{ number = 2, min_interval = "2 months", max_interval = "6 weeks" }',
     "programmes[0].products[0].doses[1].max_interval", "min_interval"),
    ("{ number = 2, min_interval_days = 21, max_interval_days = 28 }",
     "{ number = 2, min_interval_days = 21, max_interval_hard = true }",
     "programmes[0].products[0].doses[1].max_interval_hard", "needs a maximum interval"),
    ("min_age_years = 18\nprimary_doses = 2", 'min_age = "18 yrs"\nprimary_doses = 2',
     "programmes[0].products[0].min_age", '"9 months"'),
    ("min_age_years = 18\nprimary_doses = 2", "primary_doses = 2",
     "programmes[0].products[0].min_age_years", "min_age"),
    ("mixed_boosters = true", 'mixed_boosters = true\nage_from = "birthday"',
     "programmes[0].age_from", "date_of_birth"),
])
def test_invalid_profile_names_file_field_and_reason(tmp_path, old, new, field, reason):
    text = _pe_text()
    assert old in text
    folder = _write(tmp_path, text.replace(old, new, 1))
    with pytest.raises(ProfileError) as info:
        load_profile_file(folder)
    message = str(info.value)
    assert str(folder / "profile.toml") in message
    assert any(f == field and reason in r for f, r in info.value.problems), info.value.problems


def test_toml_syntax_error_is_reported_with_line(tmp_path):
    folder = _write(tmp_path, 'code = "PE"\nname = "Peru\n')
    with pytest.raises(ProfileError, match=r"profile.toml: \(syntax\): not valid TOML.*line 2"):
        load_profile_file(folder)


def test_every_schema_field_is_documented():
    doc = (ROOT / "docs" / "country-profiles.md").read_text(encoding="utf-8")
    from cowin_kit.profiles import schema as s

    for schema_cls in (ProfileSchema, s.AdminLevelSchema, s.DivisionsSchema,
                       s.OwnDivisionSchema, s.IdDocumentSchema,
                       s.ProgrammeSchema, s.ProductSchema, s.DoseSchema, s.PhaseSchema,
                       s.CertificateSchema, s.AefiSchema, s.AefiSymptomSchema,
                       s.ReportingSchema):
        for name in schema_cls().fields:
            assert f"`{name}`" in doc, f"{schema_cls.__name__}.{name} is not documented"


def test_duplicate_codes_are_refused(tmp_path):
    text = _pe_text().replace('code = "ce"', 'code = "dni"', 1)
    with pytest.raises(ProfileError) as info:
        load_profile_file(_write(tmp_path, text))
    assert ("id_documents", "duplicate code(s) dni") in info.value.problems


def test_ages_and_intervals_in_weeks_months_and_years(tmp_path):
    text = _pe_text().replace(
        "{ number = 2, min_interval_days = 21, max_interval_days = 28 }",
        '{ number = 2, min_interval = "3 weeks", max_interval = "1 month", '
        'max_interval_hard = true }', 1).replace(
        "min_age_years = 18\nprimary_doses = 2", 'min_age = "216 months"\nprimary_doses = 2', 1)
    (tmp_path / "profile.toml").write_text(text, encoding="utf-8")
    product = load_profile_file(tmp_path)["programmes"][0]["products"][0]
    dose2 = product["doses"][1]
    assert (dose2["min_interval"], dose2["max_interval"], dose2["max_interval_hard"]) == (
        "3 weeks", "1 month", True)
    assert (dose2["min_interval_days"], dose2["max_interval_days"]) == (21, 30)
    assert (product["min_age"], product["min_age_years"]) == ("216 months", 18)



# --- divisions a profile declares itself; the date a profile's facts are as of -------------

OWN = ('own = [{ code = "PE-NEW", name = "Región Nueva", names = { en = "New Region" }, '
       'source = "Ley 99999 (de prueba)", since = 2026-01-01 }]\n')


def _pe_with_own(tmp_path, own=OWN, folder="PE"):
    text = _pe_text().replace("[divisions.names]", own + "\n[divisions.names]", 1)
    (tmp_path / folder).mkdir()
    (tmp_path / folder / "profile.toml").write_text(text, encoding="utf-8")
    return tmp_path / folder


def test_a_declared_division_not_in_iso_is_loaded_and_warned_of(tmp_path):
    from cowin_kit.profiles.checks import profile_warnings

    p = load_profile_file(_pe_with_own(tmp_path))
    [own] = p["divisions"]["own"]
    assert (own["code"], own["source"], own["since"]) == ("PE-NEW", "Ley 99999 (de prueba)",
                                                          dt.date(2026, 1, 1))
    texts = [w.text() for w in profile_warnings(p, today=dt.date(2026, 12, 6))]
    assert any("PE-NEW Región Nueva" in t and "not ISO 3166-2 codes of PE" in t
               and "Ley 99999" in t for t in texts), texts
    assert not any("PE-LIM" in t for t in texts)


def test_a_declared_division_pycountry_knows_is_not_warned_of(tmp_path):
    from cowin_kit.profiles.checks import profile_warnings

    text = _pe_text().replace('"PE-AMA", ', "", 1)
    own = ('own = [{ code = "PE-AMA", name = "Amazonas", source = "Ley 27867", '
           'since = 2002-11-18 }]\n')
    (tmp_path / "PE").mkdir()
    (tmp_path / "PE" / "profile.toml").write_text(
        text.replace("[divisions.names]", own + "\n[divisions.names]", 1), encoding="utf-8")
    p = load_profile_file(tmp_path / "PE")
    assert not [w for w in profile_warnings(p) if "divisions.own" in w.text()]


@pytest.mark.parametrize("own,field,reason", [
    ('own = [{ code = "PE-NEW", name = "X", since = 2026-01-01 }]\n',
     "divisions.own[0].source", "say where this division comes from"),
    ('own = [{ code = "PE-NEW", name = "X", source = "Ley" }]\n',
     "divisions.own[0].since", "own_since"),
    ('own = [{ code = "PE-LIM", name = "X", source = "Ley", since = 2026-01-01 }]\n',
     "divisions.own", "PE-LIM listed in level1 too"),
    ('own_source = "Ley"\nown_since = 2026-01-01\nown = [{ code = "A", name = "X" }, '
     '{ code = "A", name = "Y" }]\n', "divisions.own", "duplicate code(s) A"),
    ('own = [{ code = "no spaces", name = "X", source = "Ley", since = 2026-01-01 }]\n',
     "divisions.own[0].code", "letters, digits"),
])
def test_declared_divisions_need_a_code_source_and_date(tmp_path, own, field, reason):
    with pytest.raises(ProfileError) as info:
        load_profile_file(_pe_with_own(tmp_path, own))
    assert any(f == field and reason in r for f, r in info.value.problems), info.value.problems


def test_own_source_and_since_are_defaults_for_every_declared_division(tmp_path):
    own = ('own_source = "Ley 1"\nown_since = 2025-07-01\nown = [{ code = "A1", name = "A" },'
           ' { code = "B1", name = "B", source = "Ley 2", since = 2026-01-01 }]\n')
    p = load_profile_file(_pe_with_own(tmp_path, own))
    assert [(d["source"], d["since"]) for d in p["divisions"]["own"]] == [
        ("Ley 1", dt.date(2025, 7, 1)), ("Ley 2", dt.date(2026, 1, 1))]


def test_as_of_is_optional_for_a_custom_profile_and_warned_of_when_missing_or_old(tmp_path):
    from cowin_kit.profiles.checks import is_stale, profile_warnings

    text = _pe_text()
    assert "\nas_of = 2026-11-28\n" in text
    (tmp_path / "PE").mkdir()
    (tmp_path / "PE" / "profile.toml").write_text(text.replace("\nas_of = 2026-11-28\n", "\n"),
                                                  encoding="utf-8")
    p = load_profile_file(tmp_path / "PE")  # still valid: older profiles have no as_of
    assert p["as_of"] is None
    assert any("as_of is missing" in w.text() for w in profile_warnings(p))
    shipped = load_profile("PE")
    assert not profile_warnings(shipped, today=dt.date(2028, 11, 28))
    [old] = profile_warnings(shipped, today=dt.date(2028, 11, 29))
    assert "as_of is 2026-11-28, more than 2 years ago" in old.text()
    assert is_stale(dt.date(2024, 2, 29), dt.date(2026, 3, 1))
    assert not is_stale(dt.date(2024, 2, 29), dt.date(2026, 2, 28))


def test_vn_ships_the_34_provincial_units_of_1_july_2025():
    p = load_profile("VN")
    divisions = p["divisions"]
    own = divisions["own"]
    assert divisions["level1"] == [] and len(own) == 34
    codes = [d["code"] for d in own]
    assert codes == sorted(codes) and all(re.fullmatch(r"\d{2}", c) for c in codes)
    assert {d["since"] for d in own} == {dt.date(2025, 7, 1)}
    assert all("202/2025/QH15" in d["source"] and "19/2025/QĐ-TTg" in d["source"] for d in own)
    # two levels now: province and commune; no district level
    assert [level["name"] for level in p["admin_levels"]] == [
        "Tỉnh / thành phố trực thuộc trung ương", "Xã / phường / đặc khu"]
    names = {d["code"]: d["name"] for d in own}
    assert (names["01"], names["79"], names["46"], names["24"]) == (
        "Hà Nội", "Thành phố Hồ Chí Minh", "Huế", "Bắc Ninh")
    # 6 centrally-run cities, 28 provinces, as Resolution 202/2025/QH15 counts them
    cities = {"01", "31", "46", "48", "79", "92"}
    assert cities <= set(codes) and len(set(codes) - cities) == 28
    assert all(d["names"].get("en") for d in own)
    # every name is in the notes, which cite the sources
    notes = p["notes"]
    assert all(d["name"] in notes for d in own)
    assert "Resolution\n202/2025/QH15" in notes and "19/2025/QĐ-TTg" in notes
    assert "unverified" in notes
    assert p["as_of"] == dt.date(2026, 12, 6)


def test_ug_level_one_is_the_districts():
    p = load_profile("UG")
    subs = pycountry.subdivisions.get(country_code="UG")
    districts = {s.code for s in subs if s.type in ("District", "City")}
    assert len(districts) == 135 and set(p["divisions"]["level1"]) == districts
    assert not {"UG-C", "UG-E", "UG-N", "UG-W"} & set(p["divisions"]["level1"])
    assert p["divisions"]["pycountry_depth"] == 1
    assert [level["name"] for level in p["admin_levels"]] == ["District", "Sub-county"]
    assert "lists 134 districts and Kampala city" in " ".join(p["notes"].split())
    assert p["as_of"] == dt.date(2026, 12, 6)


def test_profiles_validate_warns_naming_a_division_iso_lacks(run_cli, tmp_path):
    _pe_with_own(tmp_path)
    result = run_cli("profiles", "validate", "PE")
    assert result.exit_code == 0, result.output
    assert "OK:" in result.output
    assert "Warning: divisions.own: 1 declared division(s) are not ISO 3166-2 codes of PE" \
        in result.output and "PE-NEW Región Nueva" in result.output


def test_profiles_show_prints_the_date_and_the_declared_divisions(run_cli):
    result = run_cli("profiles", "show", "VN")
    assert result.exit_code == 0, result.output
    assert "facts as of 2026-12-06" in result.output
    assert "level-1 divisions: 34" in result.output
    assert "34 declared by the profile, since 2025-07-01" in result.output
    result = run_cli("profiles", "show", "PE")
    assert "facts as of 2026-11-28" in result.output and "Warning" not in result.output


def _states(app, lang="en"):
    with app.test_client() as client:
        return client.get("/api/v2/admin/location/states",
                          headers={"Accept-Language": lang}).get_json()["states"]


def test_a_profile_with_its_own_divisions_provisions_and_serves_them(
        run_cli, cowin_kit_database_url, tmp_path):
    """`init --profile` on the test's database (SQLite, or PostgreSQL when configured):
    the declared division is a state of the API, and `init --update` follows a corrected
    name."""
    from cowin_kit.app import create_app

    folder = _pe_with_own(tmp_path, folder="mype")
    result = run_cli("init", "--country", "PE", "--profile", "mype", "--instance", "inst",
                     "--database-url", cowin_kit_database_url, "--no-input",
                     "--admin-email", "a@minsa.gob.pe")
    assert result.exit_code == 0, result.output
    app = create_app({"TESTING": True, "INSTANCE_PATH": tmp_path / "inst"})
    try:
        states = _states(app)
        assert len(states) == 27
        new = next(x for x in states if x["state_name"] == "Región Nueva")
        assert new["state_name_l"] == "New Region"
        assert any(x["state_name"] == "Lima" for x in states)
        assert _states(app, "es")[0]["state_name_l"]
    finally:
        app.extensions["cowin_kit"].dispose()
    text = (folder / "profile.toml").read_text(encoding="utf-8")
    (folder / "profile.toml").write_text(text.replace('name = "Región Nueva"',
                                                      'name = "Región Nueva del Norte"'),
                                         encoding="utf-8")
    result = run_cli("init", "--country", "PE", "--profile", "mype", "--instance", "inst",
                     "--update", "--no-input")
    assert result.exit_code == 0, result.output
    app = create_app({"TESTING": True, "INSTANCE_PATH": tmp_path / "inst"})
    try:
        names = [x["state_name"] for x in _states(app)]
        assert "Región Nueva del Norte" in names and "Región Nueva" not in names
        assert len(names) == 27
    finally:
        app.extensions["cowin_kit"].dispose()
    # A later version of the profile drops it: an update keeps it and names it.
    (folder / "profile.toml").write_text(_pe_text(), encoding="utf-8")
    result = run_cli("init", "--country", "PE", "--profile", "mype", "--instance", "inst",
                     "--update", "--no-input")
    assert result.exit_code == 0, result.output
    assert ("1 division(s) in the database are no longer level-1 divisions of the profile"
            in result.output and "PE-NEW Región Nueva del Norte" in result.output)


@pytest.mark.parametrize("cowin_kit_country", ["VN"])
def test_vn_deployment_serves_the_34_provinces(client, database, cowin_kit_country):
    from sqlalchemy import select

    from cowin_kit.geography.models import Division

    states = client.get("/api/v2/admin/location/states",
                        headers={"Accept-Language": "vi"}).get_json()["states"]
    assert len(states) == 34
    assert {"Hà Nội", "Thành phố Hồ Chí Minh", "Huế", "Cà Mau"} <= {
        x["state_name_l"] for x in states}
    english = client.get("/api/v2/admin/location/states",
                         headers={"Accept-Language": "en"}).get_json()["states"]
    assert {"Hanoi", "Ho Chi Minh City"} <= {x["state_name_l"] for x in english}
    with database.session() as s:
        rows = s.scalars(select(Division)).all()
        assert {d.code for d in rows if d.level == 1} == {
            d["code"] for d in load_profile("VN")["divisions"]["own"]}
        assert not any(d.code.startswith("VN-") for d in rows)  # none of the 63 old units
        assert {d.source for d in rows} == {"profile"}


@pytest.mark.parametrize("cowin_kit_country", ["UG"])
def test_ug_deployment_serves_the_districts_as_states(client, database, cowin_kit_country):
    from sqlalchemy import select

    from cowin_kit.geography.models import Division

    states = client.get("/api/v2/admin/location/states").get_json()["states"]
    assert len(states) == 135
    names = {x["state_name_l"] for x in states}
    assert "Kampala (Kampala Capital City)" in names and "Gulu" in names
    assert not names & {"Central", "Eastern", "Northern", "Western"}
    with database.session() as s:
        levels = {d.level for d in s.scalars(select(Division))}
        assert levels == {1}
