"""The EU DCC value-set codes of products (cowin_kit.certificates.valuesets) and the profile
fields that state them: every shipped product is coded from the value sets, never free text;
an unknown code is refused when the profile loads."""
import json
from pathlib import Path

import pytest

from cowin_kit.certificates import valuesets
from cowin_kit.profiles import ProfileError, load_profile, load_profile_file, shipped_codes
from cowin_kit.programmes.service import product_from_profile

from helpers import shared_testdata

ROOT = Path(__file__).resolve().parent.parent
VENDORED = ("disease-agent-targeted", "vaccine-mah-manf", "vaccine-medicinal-product",
            "vaccine-prophylaxis")


def test_every_product_of_the_value_set_has_its_codes():
    products = valuesets.value_set("vaccine-medicinal-product")
    assert set(valuesets.PRODUCTS) == set(products)
    for mp, facts in valuesets.PRODUCTS.items():
        assert valuesets.is_vaccine_type(facts.vp), (mp, facts.vp)  # active codes only
        assert valuesets.is_manufacturer(facts.ma), (mp, facts.ma)
        assert facts.cvx.isdigit() and facts.icd11.startswith("XM"), mp


def test_the_value_sets_are_read_once():
    valuesets.value_set.cache_clear()
    for _ in range(3):
        valuesets.is_product("Covishield")
    assert valuesets.value_set.cache_info().misses == 1


@pytest.mark.parametrize("name", VENDORED)
def test_the_packaged_value_sets_are_the_upstream_files(name):
    upstream = shared_testdata("eu-dcc-valuesets", f"{name}.json")
    assert json.loads(upstream.read_text()) == json.loads(
        (valuesets.FOLDER / f"{name}.json").read_text())


@pytest.mark.parametrize("code", shipped_codes())
def test_every_shipped_covid_product_is_coded_from_the_value_sets(code):
    for programme in load_profile(code)["programmes"]:
        for spec in programme["products"]:
            product = product_from_profile(spec)
            if spec["dcc_product"] is None:
                continue
            assert programme["disease"] == "COVID-19"
            assert valuesets.is_product(product.dcc_product)
            assert valuesets.is_vaccine_type(product.dcc_vaccine_type)
            assert valuesets.is_manufacturer(product.dcc_manufacturer)
            assert product.cvx and product.icd11


def test_the_known_manufacturers_of_the_brief():
    expected = {"EU/1/20/1528": "ORG-100030215", "EU/1/20/1507": "ORG-100031184",
                "EU/1/21/1529": "ORG-100001699", "EU/1/20/1525": "ORG-100001417",
                "Covishield": "ORG-100001981", "Covaxin": "Bharat-Biotech",
                "Sputnik-V": "Gamaleya-Research-Institute", "CoronaVac": "Sinovac-Biotech",
                "BBIBP-CorV": "ORG-100020693", "Convidecia": "ORG-100013793",
                "Abdala": "CIGB", "Hayat-Vax": "ORG-100023050",
                "EU/1/21/1618": "ORG-100032020", "Covovax": "ORG-100001981"}
    assert {mp: valuesets.facts(mp).ma for mp in expected} == expected
    assert valuesets.display("vaccine-mah-manf", "ORG-100023050") == \
        "Gulf Pharmaceutical Industries"
    cvx = {mp: valuesets.facts(mp).cvx for mp in (
        "EU/1/20/1528", "EU/1/20/1507", "EU/1/20/1525", "EU/1/21/1529", "EU/1/21/1618",
        "BBIBP-CorV", "CoronaVac", "Covaxin")}
    assert cvx == {"EU/1/20/1528": "208", "EU/1/20/1507": "207", "EU/1/20/1525": "212",
                   "EU/1/21/1529": "210", "EU/1/21/1618": "211", "BBIBP-CorV": "510",
                   "CoronaVac": "511", "Covaxin": "502"}


def test_a_profile_may_override_the_vaccine_type_and_manufacturer(tmp_path):
    folder = _pe_with(tmp_path, 'dcc_product = "EU/1/21/1529"',
                      'dcc_product = "EU/1/21/1529"\ndcc_manufacturer = "Fiocruz"\n'
                      'dcc_vaccine_type = "1119305005"')
    [covid] = [p for p in load_profile_file(folder)["programmes"] if p["code"] == "covid19"]
    [spec] = [p for p in covid["products"] if p["code"] == "vaxzevria"]
    product = product_from_profile(spec)
    assert (product.dcc_manufacturer, product.dcc_vaccine_type) == ("Fiocruz", "1119305005")


@pytest.mark.parametrize(("old", "new", "field", "reason"), [
    ('dcc_product = "EU/1/20/1528"', 'dcc_product = "Pfizer"', "dcc_product",
     "unknown EU DCC product code 'Pfizer'"),
    ('dcc_product = "EU/1/20/1528"', 'dcc_product = "EU/1/20/1528"\ndcc_manufacturer = "Pfizer"',
     "dcc_manufacturer", "vaccine-mah-manf"),
    ('dcc_product = "EU/1/20/1528"', 'dcc_product = "EU/1/20/1528"\ndcc_vaccine_type = "J07BX03"',
     "dcc_vaccine_type", "active code"),
    ('manufacturer = "Serum Institute of India"',
     'manufacturer = "Serum Institute of India"\ndcc_manufacturer = "ORG-100001981"',
     "dcc_manufacturer", "needs dcc_product"),
    ('cvx = "03"', 'cvx = "MMR"', "cvx", "1 to 3 digits"),
    ('icd11 = "XM8TF3"', 'icd11 = "measles"', "icd11", "starts with X"),
])
def test_bad_codes_are_refused_with_the_field_and_the_fix(tmp_path, old, new, field, reason):
    folder = _pe_with(tmp_path, old, new)
    with pytest.raises(ProfileError) as info:
        load_profile_file(folder)
    assert any(f.endswith(field) and reason in r for f, r in info.value.problems), \
        info.value.problems


def test_init_refuses_an_unknown_product_naming_the_file(tmp_path, run_cli, refused):
    folder = _pe_with(tmp_path, 'dcc_product = "EU/1/20/1528"', 'dcc_product = "Pfizer"')
    result = run_cli("init", "--country", "PE", "--profile", str(folder), "--no-input",
                     "--instance", str(tmp_path / "inst"))
    refused(result, "profile.toml", "dcc_product", "Pfizer")


def _pe_with(tmp_path, old, new):
    text = (ROOT / "country_profiles" / "PE" / "profile.toml").read_text(encoding="utf-8")
    assert old in text
    folder = tmp_path / "PE"
    folder.mkdir()
    (folder / "profile.toml").write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder
