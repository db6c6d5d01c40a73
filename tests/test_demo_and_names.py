"""Issue 16, items 5 and 8: names shown to citizens are names (no commentary; division names
fall back along the profile's languages), and `init --demo` gives every profile demo
centres and sessions."""
import html
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cowin_kit.geography.models import Division
from cowin_kit.geography.service import division_name
from cowin_kit.profiles import load_profile, load_profile_file, shipped_codes
from cowin_kit.profiles.checks import commentary_in_names, profile_warnings
from cowin_kit.scheduling.demo_centres import demo_postal_codes
from cowin_kit.scheduling.models import Facility, VaccinationSession

ROOT = Path(__file__).resolve().parent.parent
LATIN = re.compile(r"[A-Za-z]")
PG_SUBSET = ("AE", "CA", "VN")  # on PostgreSQL: no postal codes, lettered codes, own divisions


def _pe_text():
    return (ROOT / "country_profiles" / "PE" / "profile.toml").read_text(encoding="utf-8")


# --- item 5: honest text ----------------------------------------------------------------------

@pytest.mark.parametrize("code", shipped_codes())
def test_shipped_names_carry_no_commentary(code):
    assert [w.text() for w in commentary_in_names(load_profile(code))] == []


@pytest.mark.parametrize("old,new,marker", [
    ('issuer = "Ministerio de Salud del Perú (MINSA)"',
     'issuer = "Ministerio de Salud del Perú (MINSA; certificates shown in the app)"', ";"),
    ('issuer = "Ministerio de Salud del Perú (MINSA)"',
     'issuer = "Ministerio de Salud (issued through the regional health directorates)"',
     "(issued through the regional health directorates)"),
    ('document_name = "Carné de Vacunación COVID-19"',
     'document_name = "Carné de Vacunación COVID-19 TODO"', "'TODO'"),
    ('names = { en = "Passport" }', 'names = { en = "Passport (unverified)" }', "'unverified'"),
])
def test_commentary_in_a_shown_name_is_warned_of(tmp_path, old, new, marker):
    text = _pe_text()
    assert old in text
    (tmp_path / "PE").mkdir()
    (tmp_path / "PE" / "profile.toml").write_text(text.replace(old, new, 1), encoding="utf-8")
    profile = load_profile_file(tmp_path / "PE")  # valid: a warning, not a refusal
    texts = [w.text() for w in profile_warnings(profile)]
    assert any("shown to citizens" in t and marker in t for t in texts), texts


def test_issuers_on_the_home_page_are_names_only():
    for code, lang, expected in (("AE", "en", "Ministry of Health and Prevention (MOHAP)"),
                                 ("UA", "en", "Ministry of Health of Ukraine"),
                                 ("IQ", "en", "Ministry of Health of Iraq"),
                                 ("CA", "en", "Provincial and territorial governments"),
                                 ("CA", "fr", "Gouvernements provinciaux et territoriaux")):
        cert = load_profile(code)["certificate"]
        shown = cert["issuer"] if lang == load_profile(code).default_language \
            else cert["issuer_names"][lang]
        assert shown == expected


def test_a_fallback_must_name_the_profiles_languages(tmp_path):
    from cowin_kit.profiles import ProfileError
    (tmp_path / "PE").mkdir()
    (tmp_path / "PE" / "profile.toml").write_text(_pe_text().replace(
        'language_fallbacks = { qu = ["es"], ay = ["es"] }',
        'language_fallbacks = { qu = ["fr"] }'), encoding="utf-8")
    with pytest.raises(ProfileError, match="language_fallbacks: fr not in languages"):
        load_profile_file(tmp_path / "PE")


def _states(client, lang):
    answer = client.get("/api/v2/admin/location/states", headers={"Accept-Language": lang})
    return {s["state_name"]: s["state_name_l"] for s in answer.get_json()["states"]}


# Quechua's catalogue is partial, so pages offer it only when the operator lists it.
@pytest.mark.parametrize("cowin_kit_country,cowin_kit_config",
                         [("PE", {"LANGUAGES": ["es", "qu"]})])
def test_quechua_and_aymara_show_the_spanish_names(database, client, cowin_kit_country):
    with database.session() as s:
        rows = {d.code: d for d in s.scalars(select(Division).where(Division.level == 1))}
        for lang in ("qu", "ay"):  # (Babel has no Aymara locale: the API is checked in qu)
            assert division_name(rows["PE-LMA"], lang) == "Lima Metropolitana"
            assert division_name(rows["PE-LIM"], lang) == "Lima (región)"
            assert division_name(rows["PE-CAL"], lang) == "Callao"
            assert division_name(rows["PE-ANC"], lang) == "Áncash"  # pycountry's Spanish
    # ISO's names (the API's state_name) were shown before: "Municipalidad Metropolitana de
    # Lima", "Lima" twice, "El Callao", "Ancash".
    states = _states(client, "qu")
    assert states["Municipalidad Metropolitana de Lima"] == "Lima Metropolitana"
    assert states["Lima"] == "Lima (región)" and states["Ancash"] == "Áncash"
    assert states == _states(client, "es")
    body = client.get("/?lang=qu").get_data(as_text=True)
    assert "Lima Metropolitana" in body and "Municipalidad Metropolitana" not in body


@pytest.mark.parametrize("cowin_kit_country,cowin_kit_config",
                         [("IQ", {"LANGUAGES": ["ar", "ckb"]})])
def test_kurdish_names_governorates_in_kurdish_or_arabic_script(database, client,
                                                                cowin_kit_country):
    profile = load_profile("IQ")
    with database.session() as s:
        rows = {d.code: d for d in s.scalars(select(Division).where(Division.level == 1))}
        assert len(rows) == 18
        for code, division in rows.items():
            shown = division_name(division, "ckb")
            assert not LATIN.search(shown), (code, shown)  # never ISO's romanisation
            own = profile["divisions"]["names"][code]
            assert shown == own.get("ckb", own["ar"])
        assert division_name(rows["IQ-NI"], "ckb") == "نەینەوا"
        assert division_name(rows["IQ-AN"], "ckb") == "الأنبار"  # no sourced Kurdish name
    states = _states(client, "ckb")
    assert states["Nīnawá"] == "نەینەوا" and states["Al Anbār"] == "الأنبار"
    assert not [n for n in states.values() if LATIN.search(n)]
    body = client.get("/?lang=ckb").get_data(as_text=True)
    assert "هەولێر" in body and "Al Anb" not in body


@pytest.mark.parametrize("cowin_kit_country", ["PE"])
def test_init_update_gives_an_older_deployment_its_fallback_names(database,
                                                                  cowin_kit_country):
    from cowin_kit.geography.service import load_profile_divisions

    with database.session() as s:
        lma = s.scalar(select(Division).where(Division.code == "PE-LMA"))
        lma.names = {"es": "Lima Metropolitana", "en": "Metropolitan Lima"}  # as made before
    with database.session() as s:
        load_profile_divisions(s, load_profile("PE"))
    with database.session() as s:
        lma = s.scalar(select(Division).where(Division.code == "PE-LMA"))
        assert lma.names["qu"] == lma.names["ay"] == "Lima Metropolitana"


# --- item 8: demo data for every profile -------------------------------------------------------

@pytest.mark.parametrize("code", shipped_codes())
def test_demo_postal_codes_have_the_countrys_format(code):
    profile = load_profile(code)
    codes = demo_postal_codes(profile["postal_code_pattern"], profile["postal_code_example"], 6)
    if not profile["postal_code_example"]:
        assert codes == [None] * 6
        return
    assert len(set(codes)) == 6
    assert all(re.fullmatch(profile["postal_code_pattern"], c) for c in codes)


@pytest.mark.parametrize("cowin_kit_country", shipped_codes())
def test_init_demo_gives_every_profile_centres_and_sessions_found_by_the_portal(
        database, client, cowin_kit_country, cowin_kit_backend):
    if cowin_kit_backend == "postgresql" and cowin_kit_country not in PG_SUBSET:
        pytest.skip("SQLite covers every profile; PostgreSQL a subset")
    profile = load_profile(cowin_kit_country)
    with database.session() as s:
        centres = s.scalars(select(Facility).where(Facility.is_demo.is_(True))
                            .order_by(Facility.code)).all()
        assert centres
        sessions = s.scalar(select(func.count()).select_from(VaccinationSession)
                            .join(Facility).where(Facility.is_demo.is_(True)))
        assert sessions > 0
        found = [(c.code, c.name, c.postal_code, c.division_id, c.division.parent_id,
                  c.division.level) for c in centres]
    generated = profile.demo_file("facilities.csv") is None
    for code, name, postal, division_id, parent_id, level in found:
        if generated:
            assert code.startswith(f"DEMO-{cowin_kit_country}-G") and "—" in name
        if profile["postal_code_example"]:
            assert postal and re.fullmatch(profile["postal_code_pattern"], postal)
        elif generated:
            assert postal is None
        # Each centre is found the way a citizen looks: by postal code, else from the lists.
        if postal:
            query = {"pincode": postal}
        elif level == 1:
            query = {"state": division_id}
        else:
            query = {"state": parent_id, "district": division_id}
        page = client.get("/portal/search", query_string=query)
        assert page.status_code == 200, page.get_data(as_text=True)[:500]
        assert html.escape(name, quote=False) in page.get_data(as_text=True), (code, query)


@pytest.mark.parametrize("cowin_kit_country", ["UA"])
def test_demo_centres_go_where_the_profile_says_else_where_most_people_live(
        database, cowin_kit_country):
    from cowin_kit.scheduling.demo_centres import demo_divisions

    with database.session() as s:
        placed = {f.division.code for f in s.scalars(select(Facility))}
        assert placed == {"UA-30", "UA-46", "UA-63"}  # [divisions] demo: not Crimea
        for code, people in (("UA-12", 3_000_000), ("UA-14", 4_000_000), ("UA-51", 2_000_000)):
            s.scalar(select(Division).where(Division.code == code)).population = people
        s.flush()
        assert [d.code for d in demo_divisions(s)] == ["UA-14", "UA-12", "UA-51"]
        assert [d.code for d in demo_divisions(s, chosen=["XX-1"])] == ["UA-14", "UA-12",
                                                                        "UA-51"]


def test_a_scaffolded_profile_gets_demo_centres(run_cli, tmp_path, cowin_kit_database_url):
    assert run_cli("profiles", "new", "KE", "ke").exit_code == 0
    result = run_cli("init", "--country", "KE", "--profile", "ke", "--instance", "inst",
                     "--database-url", cowin_kit_database_url, "--no-input",
                     "--admin-email", "a@example.org", "--demo")
    assert result.exit_code == 0, result.output
    assert "demo centres: 6 added" in result.output
    assert re.search(r"demo sessions \(next 7 days\): [1-9]\d* added", result.output)
    profile = load_profile_file(tmp_path / "ke")
    from cowin_kit.db import Database
    db = Database(cowin_kit_database_url)
    try:
        with db.session() as s:
            for f in s.scalars(select(Facility)):
                # Named in the profile's first language (KE's is Swahili, CLDR's first).
                assert f.is_demo and f.code.startswith("DEMO-KE-G") and " — " in f.name
                assert re.fullmatch(profile["postal_code_pattern"], f.postal_code)
    finally:
        db.dispose()
