"""`profiles new` for a country the kit does not ship (Kenya), with an ID document declared
as data, provisioned, served and registered with (issue 16, item 7)."""
from __future__ import annotations

import tomllib

import pytest
from babel.core import get_global

from cowin_kit.profiles.scaffold import (
    CAPITAL_ZONES,
    proposed_languages,
    proposed_timezone,
    scaffold_profile,
)
from cowin_kit.testing import last_otp

from helpers import served_health, sha

KE_ID = """
[[id_documents]]
code = "national-id"
name = "Kitambulisho cha Taifa"
names = { en = "National ID card" }
provider = "format"
format = { pattern = '[0-9]{7,8}', lengths = [7, 8], example = "12345678", hint = "7 or 8 digits" }
"""


def _scaffold_ke(run_cli, tmp_path, extra=KE_ID):
    result = run_cli("profiles", "new", "KE", "KE")
    assert result.exit_code == 0, result.output
    file = tmp_path / "KE" / "profile.toml"
    text = file.read_text()
    # The ministry's national ID goes first, before the scaffold's passport.
    file.write_text(text.replace("[[id_documents]]\ncode = \"passport\"",
                                 extra.strip() + "\n\n[[id_documents]]\ncode = \"passport\"", 1))
    return file


@pytest.mark.parametrize("code,languages,zone", [
    ("UA", ["uk"], "Europe/Kyiv"),
    ("CH", ["de", "fr", "it", "rm"], "Europe/Zurich"),
    ("UG", ["en", "sw"], "Africa/Kampala"),
    ("US", ["en", "es", "haw"], "America/New_York"),
    ("KE", ["sw", "en"], "Africa/Nairobi"),
    ("RU", ["ru"], "Europe/Moscow"),
    ("BR", ["pt"], "America/Sao_Paulo"),
])
def test_scaffold_proposes_official_languages_and_the_capitals_zone(code, languages, zone):
    text = scaffold_profile(code)
    data = tomllib.loads(text)
    assert data["languages"][:len(languages)] == languages
    assert data["timezone"] == zone
    # Every guess is marked for review.
    lines = text.splitlines()
    for key in ("timezone = ", "currency = ", "phone_region = "):
        assert "TODO" in next(x for x in lines if x.startswith(key)), key
    at = next(i for i, x in enumerate(lines) if x.startswith("languages = "))
    comment = at - 1
    while lines[comment].startswith("#   "):
        comment -= 1
    assert "TODO: check the languages" in lines[comment]


def test_every_country_with_several_zones_has_its_capitals_zone():
    zones = get_global("territory_zones")
    several = {c for c, z in zones.items() if len(z) > 1 and len(c) == 2} - {"AQ", "UM", "ZZ"}
    assert several <= set(CAPITAL_ZONES), several - set(CAPITAL_ZONES)
    for code, zone in CAPITAL_ZONES.items():
        assert zone in zones[code], (code, zone)
        assert proposed_timezone(code)[0] == zone


def test_de_facto_languages_beside_official_ones_are_left_out():
    assert "ru" not in [lang for lang, _ in proposed_languages("UA")]
    assert "gsw" not in [lang for lang, _ in proposed_languages("CH")]


def test_validate_reports_providers_that_are_not_installed(run_cli, tmp_path):
    _scaffold_ke(run_cli, tmp_path, extra='[[id_documents]]\ncode = "huduma"\n'
                 'provider = "ke.huduma-namba"\nname = "Huduma Namba"\n')
    result = run_cli("profiles", "validate", "KE")
    assert result.exit_code == 0, result.output
    assert "no ID provider `ke.huduma-namba` is installed for Huduma Namba" in result.output
    assert "`passport`" not in result.output


@pytest.mark.parametrize("fmt,reason", [
    ("{ pattern = '[0-9' }", "pattern is not a regular expression"),
    ("{ pattern = '[0-9]{8}', example = '1234' }", "does not pass the declared format"),
    ("{ pattern = '[0-9]+', check_digit = 'crc32' }", "check_digit"),
    ("{ pattern = '[0-9]+', check_digit = 'luhn', example = '79927398710' }",
     "check digit does not match"),
])
def test_a_declared_format_is_checked_when_the_profile_is(run_cli, tmp_path, refused, fmt,
                                                          reason):
    _scaffold_ke(run_cli, tmp_path, extra=KE_ID.replace(
        KE_ID[KE_ID.index("format = "):].strip(), f"format = {fmt}"))
    refused(run_cli("profiles", "validate", "KE"), reason)


def test_format_needs_the_format_provider(run_cli, tmp_path, refused):
    _scaffold_ke(run_cli, tmp_path, extra=KE_ID.replace('provider = "format"',
                                                        'provider = "passport"'))
    refused(run_cli("profiles", "validate", "KE"), 'a format is used only with provider')
    _scaffold_ke_again = KE_ID[:KE_ID.index("format = ")]
    (tmp_path / "KE" / "profile.toml").unlink()
    _scaffold_ke(run_cli, tmp_path, extra=_scaffold_ke_again)
    refused(run_cli("profiles", "validate", "KE"), 'needs a format table')


def test_scaffolded_kenya_is_provisioned_served_and_registered_with(
        run_cli, tmp_path, cowin_kit_database_url):
    from cowin_kit.app import create_app

    _scaffold_ke(run_cli, tmp_path)
    result = run_cli("profiles", "validate", "KE")
    assert result.exit_code == 0, result.output
    assert "no ID provider" not in result.output
    result = run_cli("init", "--country", "KE", "--profile", "KE", "--instance", "inst",
                     "--database-url", cowin_kit_database_url, "--no-input",
                     "--admin-email", "admin@health.go.ke")
    assert result.exit_code == 0, result.output
    assert "no ID provider" not in result.output
    instance = tmp_path / "inst"

    app = create_app({"TESTING": True, "INSTANCE_PATH": instance})
    try:
        client = app.test_client()
        home = client.get("/", headers={"Accept-Language": "sw"})
        assert home.status_code == 200
        r = client.post("/api/v2/auth/public/generateOTP", json={"mobile": "712345678"})
        assert r.status_code == 200, r.get_json()
        txn = r.get_json()["txnId"]
        r = client.post("/api/v2/auth/public/confirmOTP",
                        json={"otp": sha(last_otp(instance)), "txnId": txn})
        auth = {"Authorization": f"Bearer {r.get_json()['token']}", "Accept-Language": "en"}
        types = client.get("/api/v2/registration/beneficiary/idTypes", headers=auth).get_json()
        ids = {t["type"]: t["id"] for t in types["types"]}
        assert "Kitambulisho cha Taifa" in ids or "National ID card" in ids, types
        id_type = ids.get("National ID card") or ids["Kitambulisho cha Taifa"]

        def register(number, name):
            return client.post("/api/v2/registration/beneficiary/new", headers=auth, json={
                "name": name, "birth_year": "1980", "gender_id": 2, "photo_id_type": id_type,
                "photo_id_number": number, "comorbidity_ind": "N", "consent_version": "1"})

        good = register("2345 6789", "Wanjiru Kamau")
        assert good.status_code == 200, good.get_json()
        assert good.get_json()["beneficiary_reference_id"]
        for bad in ("12345", "1234567A", "123456789"):
            r = register(bad, "Achieng Otieno")
            assert r.status_code == 400, (bad, r.get_json())
        assert register("7654321", "Achieng Otieno").status_code == 200
    finally:
        app.extensions["cowin_kit"].dispose()

    # One real server start: the scaffolded deployment answers over HTTP.
    body = served_health(instance, "--no-worker")
    assert body == {"status": "ok", "database": "ok", "country": "KE"}
