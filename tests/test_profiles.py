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
    # every level-1 division is a real ISO 3166-2 code of that country
    iso = {s.code for s in pycountry.subdivisions.get(country_code=code)}
    assert set(p["divisions"]["level1"]) <= iso
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

    for schema_cls in (ProfileSchema, s.AdminLevelSchema, s.DivisionsSchema, s.IdDocumentSchema,
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
