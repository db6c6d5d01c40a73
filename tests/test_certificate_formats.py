"""What issuing writes, format by format: the EU DCC (HC1) validates against the EU DCC 1.3
JSON schema for every shipped COVID-19 product; the SMART Health Card follows the SMART IG
and fits one QR code; the WHO DDCC:VS document is a well-formed FHIR document of the doses;
a routine programme gets a SMART Health Card and a DDCC:VS but no HC1."""
import datetime as dt
import json
from types import SimpleNamespace

import jsonschema
import pytest
from sqlalchemy import select

from cowin_kit.certificates import dcc, fhir, hc1, issuing, shc, valuesets
from cowin_kit.certificates.uvci import new_uvci
from cowin_kit.profiles import load_profile, shipped_codes
from cowin_kit.programmes.service import product_from_profile

from helpers import TODAY, add_lot, decode_hc1, decode_shc, new_person, shared_testdata

# A name as people of each shipped language write theirs.
NAMES = {"es": "María José Quispe-Ñahui de la Cruz", "uk": "Олександр Григорович Шевченко",
         "ar": "محمد عبد الله الهاشمي", "hi": "रमेश कुमार सिंह", "vi": "Nguyễn Thị Hương",
         "az": "Əliyev Məmməd Heydər oğlu", "fr": "Jean-François Côté", "ckb": "ئاراس محەمەد",
         "en": "Chinwe O'Brien-Adeyemi", "sw": "Amani Wanjiru"}
SCHEMA_VERSIONS = ["1.3.0", "1.3.3"]


@pytest.fixture(scope="module")
def schemas():
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    out = {}
    for version in SCHEMA_VERSIONS:
        path = shared_testdata("eu-dcc-schema", f"{version}-DCC.combined-schema.json")
        out[version] = jsonschema.Draft202012Validator(json.loads(path.read_text()),
                                                       format_checker=checker)
    return out


def _valid(schemas, payload):
    for validator in schemas.values():
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(payload)]
        assert errors == [], errors


def _name_for(profile) -> str:
    return next((NAMES[lang] for lang in profile["languages"] if lang in NAMES and lang != "en"),
                NAMES["en"])


def _covid_products(code):
    profile = load_profile(code)
    for programme in profile["programmes"]:
        if programme["disease"] != "COVID-19":
            continue
        for spec in programme["products"]:
            if spec["dcc_product"]:
                yield profile, spec


CASES = [(code, spec["code"]) for code in shipped_codes() for _, spec in _covid_products(code)]


@pytest.mark.parametrize(("country", "product_code"), CASES)
def test_every_shipped_covid_product_gives_a_schema_valid_hc1(schemas, country, product_code):
    [(profile, spec)] = [(p, s) for p, s in _covid_products(country) if s["code"] == product_code]
    product = product_from_profile(spec)
    person = SimpleNamespace(name=_name_for(profile), birth_year=1961,
                             birth_date=dt.date(1961, 8, 4), gender="female")
    doses = [SimpleNamespace(dose_number=n, given_on=TODAY - dt.timedelta(days=300 - 60 * n),
                             product=product, lot=None, facility=None)
             for n in range(1, len(spec["doses"]) + 1)]
    uvci = new_uvci(country)
    for last in range(1, len(doses) + 1):
        payload = dcc.certificate(person, doses[:last], country=country, uvci=uvci,
                                  issuer=profile["certificate"]["issuer"],
                                  language=profile.default_language)
        text = hc1.encode(payload, hc1._test_signer(), country=country,
                          issued_at=dt.datetime.now(dt.UTC),
                          expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=365))
        decoded = decode_hc1(text)
        _valid(schemas, decoded)
        [v] = decoded["v"]
        assert (v["dn"], v["co"], v["ci"], v["tg"]) == (last, country, uvci, "840539006")
        assert valuesets.is_product(v["mp"]) and valuesets.is_vaccine_type(v["vp"])
        assert valuesets.is_manufacturer(v["ma"])  # never free text
        assert v["sd"] >= min(spec["primary_doses"], last)
        assert decoded["nam"]["fnt"] and decoded["dob"] == "1961-08-04"


def test_long_names_and_issuers_and_a_birth_year_only_stay_within_the_schema(schemas):
    product = SimpleNamespace(dcc_product="Covishield", dcc_vaccine_type=None,
                              dcc_manufacturer=None, primary_doses=2)
    person = SimpleNamespace(name="Wolfeschlegelsteinhausenbergerdorff " * 4, birth_year=1950,
                             birth_date=None)
    dose = SimpleNamespace(dose_number=3, given_on=TODAY, product=product)
    payload = dcc.certificate(person, [dose], country="IN", uvci=new_uvci("IN"),
                              issuer="Ministry of Health and Family Welfare, " * 4)
    _valid(schemas, payload)
    assert len(payload["nam"]["fn"]) <= 80 and len(payload["v"][0]["is"]) <= 80
    assert payload["dob"] == "1950" and (payload["v"][0]["dn"], payload["v"][0]["sd"]) == (3, 3)
    assert payload["v"][0]["vp"] == valuesets.VECTOR
    person.birth_year = 1890  # outside the schema's 1900–2099: the date is left empty
    assert dcc.certificate(person, [dose], country="IN", uvci="x", issuer="x")["dob"] == ""


# --- issued through the database, per country ------------------------------------------------

def _issue(app, database, name, product_code, numbers, *, lot=None, facility_id=None,
           public_url="https://vacunas.example.gob", born=None, gender="female"):
    """Record doses ``numbers`` of a product for a new person, issuing as the deployment
    does: the person's id and their certificate rows, oldest first."""
    from cowin_kit.certificates.models import Certificate
    from cowin_kit.programmes.models import Product
    from cowin_kit.vaccination.service import DoseDetails, record_dose

    dep = app.extensions["cowin_kit"]
    ctx = issuing.context_for(dep.settings, dep.profile, fallback_url=public_url)
    with database.Session() as s:
        person = new_person(s, name, born=born, gender=gender,
                            year=born.year if born else 1975)
        product = s.scalar(select(Product).where(Product.code == product_code))
        for n in numbers:
            details = DoseDetails(idempotency_key=f"k-{person.id}-{n}", lot_id=lot)
            record_dose(s, beneficiary_id=person.id, product=product, dose_number=n,
                        given_on=TODAY - dt.timedelta(days=60 * (len(numbers) - n)),
                        facility_id=facility_id, details=details, certificates=ctx)
        s.commit()
        rows = s.scalars(select(Certificate).where(Certificate.beneficiary_id == person.id)
                         .order_by(Certificate.version)).all()
        s.expunge_all()
        return person.id, rows


@pytest.mark.parametrize("cowin_kit_country", ["PE", "IN", "UA", "AE", "CA", "VN"])
def test_issued_certificates_validate_in_each_country(app, database, schemas,
                                                      cowin_kit_country):
    profile = app.extensions["cowin_kit"].profile
    for _, spec in _covid_products(cowin_kit_country):
        numbers = list(range(1, spec["primary_doses"] + 1))
        _, rows = _issue(app, database, _name_for(profile), spec["code"], numbers)
        for row in rows:
            decoded = decode_hc1(row.hc1)
            _valid(schemas, decoded)
            assert decoded["v"][0]["ci"] == row.uvci and decoded["v"][0]["co"] == \
                cowin_kit_country
            card = decode_shc(row.shc)
            assert card["iss"] == "https://vacunas.example.gob"
            assert "https://smarthealth.cards#covid19" in card["vc"]["type"]
        assert rows[-1].status == "final"
        if cowin_kit_country == "UA":  # the deployment's language: Ukrainian's variant
            assert decoded["nam"]["fnt"] == "OLEKSANDR<HRYHOROVYCH<SHEVCHENKO"


def test_ukrainian_letters_choose_the_ukrainian_variant(app, database):
    _, [row] = _issue(app, database, "Григорій Гнатюк", "comirnaty", [1])
    assert decode_hc1(row.hc1)["nam"]["fnt"] == "HRYHORII<HNATIUK"  # Ukrainian letters


# --- SMART Health Card -------------------------------------------------------------------------

def test_a_three_dose_card_with_a_long_name_fits_one_qr_code(app, database):
    from cowin_kit.programmes.models import Product
    from cowin_kit.scheduling.models import Facility

    with database.Session() as s:
        centre = s.scalar(select(Facility).order_by(Facility.id))
        centre.name = "Centro de Salud Materno Infantil Señor de los Milagros de Villa El Salvador"
        s.commit()
        centre_id = centre.id
        comirnaty = s.scalar(select(Product.id).where(Product.code == "comirnaty"))
    lot = add_lot(database, centre_id, comirnaty, number="FN1234567890ABCD")
    name = "María Guadalupe de los Ángeles Quispe-Ñahui Huamaní de la Santísima Trinidad"
    _, rows = _issue(app, database, name, "comirnaty", [1, 2, 3], lot=lot,
                     facility_id=centre_id, public_url="https://vacunacion.minsa.gob.pe")
    jws = rows[-1].shc
    assert len(jws) <= 1195, len(jws)  # one version-22 numeric QR code (SMART's chunk limit)
    assert len(shc.numeric(jws)) == 5 + 2 * len(jws)
    bundle = decode_shc(jws)["vc"]["credentialSubject"]["fhirBundle"]
    patient, *immunizations = [e["resource"] for e in bundle["entry"]]
    assert patient == {"resourceType": "Patient", "name": [{"family": name, "text": name}],
                       "birthDate": "1975"}
    assert len(immunizations) == 3
    for resource in immunizations:
        assert resource["vaccineCode"] == {"coding": [{"system": "http://hl7.org/fhir/sid/cvx",
                                                       "code": "208"}]}
        assert resource["lotNumber"] == "FN1234567890ABCD"
        assert resource["performer"] == [{"actor": {"display": (
            "Centro de Salud Materno Infantil Señor de los Milagros de Villa El Salvador")}}]
        # Data minimisation: no ids, no dose numbers (the IG forbids protocolApplied).
        assert "id" not in resource and "protocolApplied" not in resource
    assert [e["fullUrl"] for e in bundle["entry"]] == [f"resource:{i}" for i in range(4)]


def test_without_a_public_address_no_card_is_issued_only_the_hc1(app, database):
    _, [row] = _issue(app, database, "Ana Quispe", "comirnaty", [1], public_url="")
    assert row.hc1.startswith("HC1:") and row.shc is None


def test_public_url_wins_over_the_request_address(app, change_settings):
    dep = app.extensions["cowin_kit"]
    change_settings(PUBLIC_URL="https://vacunas.example.gob/")
    ctx = issuing.context_for(dep.settings, dep.profile, fallback_url="http://10.0.0.5:8000/")
    assert ctx.public_url == "https://vacunas.example.gob" and ctx.language == "es"
    change_settings(PUBLIC_URL="")
    ctx = issuing.context_for(dep.settings, dep.profile, fallback_url="http://10.0.0.5:8000/")
    assert ctx.public_url == "http://10.0.0.5:8000"


# --- WHO DDCC:VS -------------------------------------------------------------------------------

def _ddcc(app, database, person_id, **extra):
    from cowin_kit.certificates.models import Certificate
    from cowin_kit.registration.models import Beneficiary

    dep = app.extensions["cowin_kit"]
    with database.Session() as s:
        cert = s.scalar(select(Certificate).where(Certificate.beneficiary_id == person_id)
                        .order_by(Certificate.version.desc()))
        person = s.get(Beneficiary, person_id)
        doses = s.scalars(issuing._doses_query(), {"person": person_id,
                                                  "programme": cert.programme_id}).all()
        bundle = fhir.ddcc_bundle(person, doses, cert, country=dep.profile.code,
                                  issuer=dep.profile["certificate"]["issuer"],
                                  issuer_url=dep.profile["certificate"]["issuer_url"], **extra)
        return json.loads(json.dumps(bundle)), cert.uvci


def _check_document(bundle):
    """A FHIR document: a Composition first, every reference resolving inside the bundle."""
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "document"
    assert bundle["timestamp"] and bundle["identifier"]["value"]
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(set(urls)) == len(urls) and all(u.startswith("urn:uuid:") for u in urls)
    assert bundle["entry"][0]["resource"]["resourceType"] == "Composition"

    def references(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "reference":
                    yield value
                else:
                    yield from references(value)
        elif isinstance(node, list):
            for item in node:
                yield from references(item)

    assert set(references(bundle)) <= set(urls)
    return {url: e["resource"] for url, e in zip(urls, bundle["entry"], strict=True)}


def test_the_ddcc_document_holds_every_dose(app, database):
    from cowin_kit.scheduling.models import Facility

    with database.Session() as s:
        centre = s.scalar(select(Facility).order_by(Facility.id))
        centre_id, centre_name = centre.id, centre.name
    person_id, rows = _issue(app, database, "Rosa Huamán", "comirnaty", [1, 2, 3],
                             facility_id=centre_id, gender="female")
    bundle, uvci = _ddcc(app, database, person_id,
                         next_dose_due=TODAY + dt.timedelta(days=180))
    resources = _check_document(bundle)
    composition = bundle["entry"][0]["resource"]
    assert composition["identifier"]["value"] == uvci == rows[-1].uvci
    assert composition["type"]["coding"][0]["code"] == "82593-5"
    assert composition["meta"]["profile"] == [
        "http://smart.who.int/ddcc/StructureDefinition/DDCCVSComposition"]
    assert composition["title"] == "Digital Documentation of COVID-19 Certificate (DDCC)"
    issuer = resources[composition["attester"][0]["party"]["reference"]]
    assert issuer["resourceType"] == "Organization" and issuer["name"].startswith("Ministerio")
    patient = resources[composition["subject"]["reference"]]
    assert patient["name"] == [{"use": "official", "text": "Rosa Huamán"}]
    assert patient["gender"] == "female" and patient["birthDate"] == "1975"
    section = composition["section"][0]
    immunizations = [resources[r["reference"]] for r in section["entry"]
                     if resources[r["reference"]]["resourceType"] == "Immunization"]
    assert [i["protocolApplied"][0]["doseNumberPositiveInt"] for i in immunizations] == [1, 2, 3]
    assert resources[section["focus"]["reference"]] is immunizations[-1]
    first = immunizations[0]
    assert first["vaccineCode"]["coding"] == [{"system": "http://id.who.int/icd11/mms",
                                               "code": "XM0GQ8"}]
    assert first["location"] == {"display": centre_name}
    assert first["protocolApplied"][0]["targetDisease"][0]["coding"][0]["code"] == "RA01"
    assert first["protocolApplied"][0]["seriesDosesPositiveInt"] == 2
    assert immunizations[-1]["protocolApplied"][0]["seriesDosesPositiveInt"] == 3
    extensions = {e["url"].rsplit("/", 1)[1]: e for e in first["extension"]}
    assert extensions["DDCCCountryOfEvent"]["valueCode"] == "PER"
    assert extensions["DDCCEventBrand"]["valueCoding"]["code"] == "XM8NQ0"
    assert extensions["DDCCVaccineMarketAuthorization"]["valueCoding"]["code"] == "ORG-100030215"
    [recommendation] = [r for r in resources.values()
                        if r["resourceType"] == "ImmunizationRecommendation"]
    assert recommendation["recommendation"][0]["dateCriterion"][0]["value"] == (
        TODAY + dt.timedelta(days=180)).isoformat()


def test_genders_map_to_fhir_administrative_gender(app, database):
    for gender, expected in (("male", "male"), ("other", "other"), ("", "unknown")):
        person_id, _ = _issue(app, database, "Luis Quispe", "comirnaty", [1], gender=gender)
        bundle, _ = _ddcc(app, database, person_id)
        assert bundle["entry"][1]["resource"]["gender"] == expected


@pytest.mark.parametrize("cowin_kit_country", ["IN"])
def test_a_covid_vaccine_outside_the_eu_value_set_gets_no_hc1(app, database, cowin_kit_country):
    person_id, rows = _issue(app, database, "Ananya Reddy", "corbevax", [1, 2])
    assert [r.hc1 for r in rows] == [None, None] and rows[-1].status == "final"
    card = decode_shc(rows[-1].shc)
    assert "https://smarthealth.cards#covid19" in card["vc"]["type"]
    immunization = card["vc"]["credentialSubject"]["fhirBundle"]["entry"][1]["resource"]
    assert immunization["vaccineCode"]["coding"] == [
        {"system": "http://hl7.org/fhir/sid/cvx", "code": "517"}]
    bundle, _ = _ddcc(app, database, person_id)
    immunization = bundle["entry"][3]["resource"]
    assert immunization["vaccineCode"]["coding"][0]["code"] == "XM5JC5"
    brand = immunization["extension"][0]["valueCoding"]
    assert brand == {"display": "Corbevax"}
    assert [e["url"].rsplit("/", 1)[1] for e in immunization["extension"]] == [
        "DDCCEventBrand", "DDCCCountryOfEvent"]  # no EU market-authorisation code


# --- a routine programme ---------------------------------------------------------------------

def test_a_routine_programme_gets_a_card_and_a_ddcc_but_no_hc1(app, database):
    born = TODAY - dt.timedelta(days=400)
    person_id, [row] = _issue(app, database, "Thiago Mamani", "spr", [1], born=born,
                              gender="male")
    assert row.hc1 is None and row.status == "provisional"
    card = decode_shc(row.shc)
    assert "https://smarthealth.cards#covid19" not in card["vc"]["type"]
    assert "https://smarthealth.cards#immunization" in card["vc"]["type"]
    [_, immunization] = [e["resource"] for e in card["vc"]["credentialSubject"]["fhirBundle"][
        "entry"]]
    assert immunization["vaccineCode"]["coding"] == [
        {"system": "http://hl7.org/fhir/sid/cvx", "code": "03"}]
    bundle, _ = _ddcc(app, database, person_id)
    resources = _check_document(bundle)
    composition = bundle["entry"][0]["resource"]
    assert "meta" not in composition and composition["title"].startswith("Vaccination record")
    [immunization] = [r for r in resources.values() if r["resourceType"] == "Immunization"]
    assert immunization["vaccineCode"]["coding"][0]["code"] == "XM8TF3"
    assert immunization["protocolApplied"][0]["targetDisease"] == [
        {"text": "Measles, mumps and rubella"}]
    assert bundle["entry"][1]["resource"]["birthDate"] == born.isoformat()
