"""`cowin-kit profiles new XX`: a starting profile for any country, from CLDR and ISO data.

What reference data can tell (languages, time zone, currency, phone region, level-1
divisions) is filled in; what only the ministry knows (ID documents beyond the passport,
products used, phases, postal codes, issuer) is marked TODO in the notes and comments.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter

import phonenumbers
import pycountry
from babel.core import get_global
from babel.languages import get_official_languages
from babel.numbers import get_territory_currencies


class ScaffoldError(ValueError):
    pass


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def scaffold_profile(code: str) -> str:
    code = code.upper()
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        raise ScaffoldError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    languages = [lang for lang in get_official_languages(code, de_facto=True)
                 if pycountry.languages.get(alpha_2=lang) or pycountry.languages.get(alpha_3=lang)]
    languages = languages or ["en"]
    zones = get_global("territory_zones").get(code) or []
    currencies = get_territory_currencies(code) or []
    subs = [s for s in pycountry.subdivisions.get(country_code=code) or []
            if s.parent_code is None]
    # Some territories (AQ, VA, …) have no ISO 3166-2 subdivisions: their divisions are
    # loaded with `cowin-kit geo import` instead.
    level_type = (Counter(s.type for s in subs).most_common(1)[0][0] if subs
                  else "Division")
    phone = code if code in phonenumbers.SUPPORTED_REGIONS else ""
    level1 = ",\n".join(f"  {_toml_str(s.code)}" for s in sorted(subs, key=lambda s: s.code))
    return f"""# cowin-kit country profile: {country.name}. SCAFFOLD made by `cowin-kit profiles new {code}`.
# Filled in from ISO 3166, CLDR and libphonenumber data; every TODO needs the ministry's answer.
# Reference: docs/country-profiles.md. Validate with `cowin-kit profiles validate DIR`.

code = {_toml_str(code)}
name = {_toml_str(country.name)}
# TODO: check the languages (CLDR's official and de-facto languages); the first is the default.
languages = [{", ".join(_toml_str(lang) for lang in languages)}]
timezone = {_toml_str(zones[0] if zones else "UTC")}{"  # TODO: the country has several zones: " + ", ".join(zones) if len(zones) > 1 else ""}
currency = {_toml_str(currencies[0] if currencies else "XXX")}
phone_region = {_toml_str(phone)}
# TODO: the national postal-code format and a real example.
postal_code_pattern = '^[0-9A-Za-z -]{{2,10}}$'
postal_code_example = "00000"
max_beneficiaries_per_mobile = 4
# TODO: the date the facts below were last checked; change it whenever they are checked again.
as_of = {dt.date.today().isoformat()}
sources = []
notes = \"\"\"
SCAFFOLD: not yet reviewed by the ministry. TODO: ID documents, products and dose schedules,
eligibility phases, postal codes, names of the administrative levels, certificate issuer.
\"\"\"

[[admin_levels]]
level = 1
name = {_toml_str(level_type)}  # TODO: the name in the first language

[divisions]
{"# ISO 3166-2 lists no subdivisions: TODO load them with `cowin-kit geo import`." if not subs else ""}
# Divisions ISO 3166-2 lacks (a reorganisation, a new district) go under `own`, each with its
# code, name, source and date; see docs/country-profiles.md.
level1 = [
{level1}{"," if subs else ""}
]

[[id_documents]]
code = "passport"
provider = "passport"
name = "Passport"  # TODO: national ID documents first, names in the first language

[[programmes]]
code = "covid19"
disease = "COVID-19"
name = "COVID-19 vaccination"

# TODO: the products the country uses, with their schedules.
[[programmes.products]]
code = "comirnaty"
name = "Comirnaty (Pfizer-BioNTech)"
manufacturer = "BioNTech Manufacturing GmbH"
dcc_product = "EU/1/20/1528"
min_age_years = 12
primary_doses = 2
doses = [
  {{ number = 1 }},
  {{ number = 2, min_interval_days = 21, max_interval_days = 42 }},
]

[certificate]
issuer = "Ministry of Health"  # TODO: the issuing authority's name
"""
