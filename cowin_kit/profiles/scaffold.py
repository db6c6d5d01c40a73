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
from babel.core import Locale, UnknownLocaleError, get_global
from babel.languages import get_official_languages
from babel.numbers import get_territory_currencies


class ScaffoldError(ValueError):
    pass


# The zone of the capital, for the countries CLDR gives several zones (CLDR lists them
# alphabetically by city, which made the United States America/Adak). One zone for a whole
# country is a guess either way; the capital's is where the ministry sits. A test checks that
# every territory with several zones in Babel's CLDR data is here.
CAPITAL_ZONES = {
    "AR": "America/Argentina/Buenos_Aires", "AU": "Australia/Sydney",  # Canberra
    "BR": "America/Sao_Paulo",  # Brasília
    "CA": "America/Toronto",  # Ottawa
    "CD": "Africa/Kinshasa", "CL": "America/Santiago", "CN": "Asia/Shanghai",  # Beijing
    "CY": "Asia/Nicosia", "DE": "Europe/Berlin", "EC": "America/Guayaquil",  # Quito
    "ES": "Europe/Madrid", "FM": "Pacific/Pohnpei",  # Palikir
    "GL": "America/Nuuk", "ID": "Asia/Jakarta", "KI": "Pacific/Tarawa",
    "KZ": "Asia/Almaty",  # Astana
    "MH": "Pacific/Majuro", "MN": "Asia/Ulaanbaatar", "MX": "America/Mexico_City",
    "MY": "Asia/Kuala_Lumpur", "NZ": "Pacific/Auckland", "PF": "Pacific/Tahiti",  # Papeete
    "PG": "Pacific/Port_Moresby", "PS": "Asia/Hebron",  # Ramallah, in the West Bank
    "PT": "Europe/Lisbon", "RU": "Europe/Moscow", "UA": "Europe/Kyiv",
    "US": "America/New_York",  # Washington, D.C.
    "UZ": "Asia/Tashkent",
}

# Where CLDR's order (by the share of the population speaking it) would make the default a
# language the administration does not work in. Uganda: Swahili is official since 2005, but
# English is the language of government and of the health system.
ADMINISTRATION_LANGUAGE = {"UG": "en"}

_STATUS = {"official": "official", "de_facto_official": "official de facto",
           "official_regional": "official in some regions"}


def _usable(lang: str) -> bool:
    try:
        Locale.parse(lang)
    except (UnknownLocaleError, ValueError):
        return False
    return bool(pycountry.languages.get(alpha_2=lang) if len(lang) == 2
                else pycountry.languages.get(alpha_3=lang))


def proposed_languages(code: str) -> list[tuple[str, str]]:
    """(language, why) in the order proposed, the default first: the languages CLDR marks
    official, else (a country with no de jure official language, such as the United States)
    those official de facto; then those official in some regions (Romansh in Switzerland).
    A de facto language beside de jure ones (Swiss German, Russian in Ukraine) is left out.

    >>> [lang for lang, _ in proposed_languages("CH")]
    ['de', 'fr', 'it', 'rm']
    >>> [lang for lang, _ in proposed_languages("UA")], proposed_languages("US")[0][0]
    (['uk'], 'en')
    >>> proposed_languages("UG")[0]
    ('en', 'official; the language of administration')
    """
    spoken = get_global("territory_languages").get(code, {})

    def share(lang):
        return spoken.get(lang, {}).get("population_percent", 0)

    def status(lang):
        return spoken.get(lang, {}).get("official_status", "")

    official = [lang for lang in get_official_languages(code) if _usable(lang)]
    if not official:
        official = [lang for lang in get_official_languages(code, de_facto=True)
                    if _usable(lang)]
    regional = [lang for lang in get_official_languages(code, regional=True)
                if lang not in official and status(lang) == "official_regional"
                and _usable(lang)]
    first = ADMINISTRATION_LANGUAGE.get(code)
    if first in official:
        official.remove(first)
        official.insert(0, first)
    out = []
    for lang in official + regional:
        why = _STATUS.get(status(lang), "official")
        if lang == first:
            why += "; the language of administration"
        elif share(lang):
            why += f", spoken by {share(lang):g}%"
        out.append((lang, why))
    return out or [("en", "no official language in CLDR: a guess")]


def proposed_timezone(code: str) -> tuple[str, list[str]]:
    """(zone, every zone of the country): the capital's zone where there are several.

    >>> proposed_timezone("US")[0], proposed_timezone("KE")
    ('America/New_York', ('Africa/Nairobi', ['Africa/Nairobi']))
    """
    zones = list(get_global("territory_zones").get(code) or [])
    if len(zones) > 1 and CAPITAL_ZONES.get(code) in zones:
        return CAPITAL_ZONES[code], zones
    return (zones[0] if zones else "UTC"), zones


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _language_lines(languages: list[tuple[str, str]]) -> str:
    lines = [f"#   {lang}: {why}" for lang, why in languages]
    return "\n".join(lines)


def scaffold_profile(code: str) -> str:
    code = code.upper()
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        raise ScaffoldError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    proposed = proposed_languages(code)
    languages = [lang for lang, _ in proposed]
    zone, zones = proposed_timezone(code)
    if len(zones) > 1:
        others = [z for z in zones if z != zone]
        zone_note = (f"  # TODO: the capital's zone; {len(others)} other(s): "
                     + ", ".join(others[:5]) + (", …" if len(others) > 5 else "")
                     + " (divisions in them carry their own)")
    else:
        zone_note = "  # TODO: check (CLDR)"
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
# TODO: check the languages, proposed from CLDR's official status; the first is the default:
{_language_lines(proposed)}
languages = [{", ".join(_toml_str(lang) for lang in languages)}]
timezone = {_toml_str(zone)}{zone_note}
currency = {_toml_str(currencies[0] if currencies else "XXX")}  # TODO: check (CLDR)
phone_region = {_toml_str(phone)}  # TODO: check (libphonenumber)
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

# TODO: national ID documents first, names in the first language. A document whose rules
# are only its format needs no plugin: provider = "format" and a format table, e.g.
#   [[id_documents]]
#   code = "national-id"
#   name = "National ID card"
#   provider = "format"
#   format = {{ pattern = '[0-9]{{7,8}}', lengths = [7, 8], example = "12345678" }}
# with check_digit = "luhn", "verhoeff", "iso7064-mod11-2" or "iso7064-mod97-10" if the
# document has one of those standard check digits. Others need an ID-provider plugin
# (`cowin-kit plugins new id-provider`).
[[id_documents]]
code = "passport"
provider = "passport"
name = "Passport"  # TODO: the name in the first language

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
