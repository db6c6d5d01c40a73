"""The marshmallow schema of a country profile (``profile.toml``).

Field-level rules live on the fields; rules that span fields (dose order, level-1 codes
belonging to the country) live in ``@validates_schema`` hooks. docs/country-profiles.md
documents every field; a test checks that each field here appears there.
"""
from __future__ import annotations

import datetime as dt
import itertools
import re
import zoneinfo

import phonenumbers
import pycountry
from marshmallow import (
    EXCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates,
    validates_schema,
)


def language_exists(code: str) -> bool:
    if len(code) == 2:
        return pycountry.languages.get(alpha_2=code) is not None
    if len(code) == 3:
        return pycountry.languages.get(alpha_3=code) is not None
    return False


CODE = validate.Regexp(r"^[a-z0-9][a-z0-9._-]*$",
                       error="use lower-case letters, digits, '.', '_' or '-' (e.g. 'dni')")


def _check_unique_codes(data: dict, *keys: str) -> None:
    """Each list under ``keys`` must not repeat a ``code``."""
    for key in keys:
        codes = [item["code"] for item in data.get(key) or []]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValidationError(f"duplicate code(s) {', '.join(dupes)}", key)


AGE_FROM = ("birth_year", "date_of_birth")


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class LanguageMap(fields.Dict):
    """{"en": "…", "qu": "…"}: names in other languages, keyed by ISO 639 code."""

    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(),
                         values=fields.String(validate=validate.Length(min=1)),
                         load_default=dict, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        bad = [k for k in result if not language_exists(k)]
        if bad:
            raise ValidationError(f"unknown language code(s) {', '.join(bad)}; use ISO 639 codes")
        return result


class AdminLevelSchema(_Strict):
    level = fields.Integer(required=True, validate=validate.Range(min=1, max=6))
    name = fields.String(required=True, validate=validate.Length(min=1))
    names = LanguageMap()


# A division code of the profile's own: the country's statistics code (Viet Nam's "01") or
# an ISO 3166-2 code pycountry does not have yet; at most 40 characters (Division.code).
OWN_CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$",
                           error="use letters, digits, '.', '_' or '-', at most 40 (e.g. \"01\" "
                                 "or \"VN-01\")")


class OwnDivisionSchema(_Strict):
    """One level-1 division the profile declares itself, where ISO 3166-2 (as pycountry has
    it) lags behind the country: its code, names, and where and since when it holds."""

    code = fields.String(required=True, validate=OWN_CODE)
    name = fields.String(required=True, validate=validate.Length(min=1))
    names = LanguageMap()
    # Defaults: [divisions] own_source and own_since.
    source = fields.String(load_default=None, validate=validate.Length(min=1))
    since = fields.Date(load_default=None)


class DivisionsSchema(_Strict):
    # ISO 3166-2 codes (names from pycountry). Empty only for a country ISO 3166-2 gives no
    # subdivisions (then `geo import` loads them) or whose divisions `own` declares.
    level1 = fields.List(fields.String(), load_default=list)
    # Also load pycountry's subdivisions below level 1, down to this level.
    pycountry_depth = fields.Integer(load_default=1, validate=validate.Range(min=1, max=2))
    names = fields.Dict(keys=fields.String(), values=LanguageMap(), load_default=dict)
    # Level-1 divisions the profile declares itself, with their source and date (defaults
    # for all of them in own_source and own_since).
    own = fields.List(fields.Nested(OwnDivisionSchema), load_default=list)
    own_source = fields.String(load_default="")
    own_since = fields.Date(load_default=None)
    # Where `init --demo` puts generated demo centres (codes of loaded divisions); empty: the
    # most populous the deployment knows, else three spread over the list.
    demo = fields.List(fields.String(validate=validate.Length(min=1)), load_default=list)
    # A level-1 division's own time zone where it differs from the profile's (Canada's
    # provinces, Mexico's states): division code -> IANA zone. Its children and centres
    # inherit it; "today", slot ends and no-shows at a centre follow it.
    timezones = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)

    @validates_schema
    def _zones(self, data, **kwargs):
        codes = set(data.get("level1") or []) | {d["code"] for d in data.get("own") or []}
        for code, zone in (data.get("timezones") or {}).items():
            if code not in codes:
                raise ValidationError(f"{code} is not a level-1 division of this profile: "
                                      "name one listed in level1 or own", "timezones")
            try:
                zoneinfo.ZoneInfo(zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise ValidationError(
                    f"{code}: {zone!r} is not an IANA time zone; write its IANA name "
                    "(e.g. America/Vancouver), or leave the division out to use the "
                    "profile's timezone", "timezones") from None

    @validates_schema
    def _own_complete(self, data, **kwargs):
        own = data.get("own") or []
        codes = [d["code"] for d in own]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValidationError(f"duplicate code(s) {', '.join(dupes)}", "own")
        both = sorted(set(codes) & set(data.get("level1") or []))
        if both:
            raise ValidationError(f"{', '.join(both)} listed in level1 too: list a division "
                                  "in one of them", "own")
        for i, division in enumerate(own):
            if not (division.get("source") or data.get("own_source")):
                raise ValidationError({i: {"source": [
                    "say where this division comes from (source = \"…\", e.g. the law that "
                    "created it), or give own_source for all of them"]}}, "own")
            if not (division.get("since") or data.get("own_since")):
                raise ValidationError({i: {"since": [
                    "give the date it has held since (since = 2025-07-01), or own_since for "
                    "all of them"]}}, "own")

    @post_load
    def _own_defaults(self, data, **kwargs):
        for division in data["own"]:
            division["source"] = division["source"] or data["own_source"]
            division["since"] = division["since"] or data["own_since"]
        return data


class IdFormatSchema(_Strict):
    """A document checked by its format alone (provider = "format"): see
    cowin_kit.plugins.builtin.ids.declared."""

    pattern = fields.String(required=True, validate=validate.Length(min=1))
    lengths = fields.List(fields.Integer(validate=validate.Range(min=1, max=64)),
                          load_default=list)
    check_digit = fields.String(load_default=None, validate=validate.OneOf(
        ("luhn", "verhoeff", "iso7064-mod11-2", "iso7064-mod97-10")))
    example = fields.String(load_default="")
    hint = fields.String(load_default="")

    @validates_schema
    def _usable(self, data, **kwargs):
        from cowin_kit.plugins.builtin.ids.declared import format_problems

        problems = format_problems(data)
        if problems:
            raise ValidationError(problems[0], "pattern" if "pattern" in problems[0]
                                  else "example")


class IdDocumentSchema(_Strict):
    code = fields.String(required=True, validate=CODE)
    provider = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=validate.Length(min=1))
    names = LanguageMap()
    notes = fields.String(load_default="")
    format = fields.Nested(IdFormatSchema, load_default=None)

    @validates_schema
    def _format_for_declared(self, data, **kwargs):
        from cowin_kit.plugins.builtin.ids.declared import DECLARED

        if data.get("provider") == DECLARED and not data.get("format"):
            raise ValidationError(f'provider "{DECLARED}" needs a format table (pattern, '
                                  'lengths, check_digit, example)', "format")
        if data.get("format") and data.get("provider") != DECLARED:
            raise ValidationError(f'a format is used only with provider = "{DECLARED}"; '
                                  f'remove it or set provider = "{DECLARED}"', "format")


class DurationText(fields.String):
    """An age or interval as a schedule states it: "21 days", "6 weeks", "9 months",
    "1 year". Loaded as its canonical text ("6 weeks")."""

    def _deserialize(self, value, attr, data, **kwargs):
        from cowin_kit.programmes.durations import parse_duration

        try:
            return str(parse_duration(super()._deserialize(value, attr, data, **kwargs)))
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


_REFERENCE_DAY = dt.date(2000, 1, 1)  # to compare "8 weeks" with "2 months"


def _one_of(data: dict, text_key: str, old_key: str, old_unit: str):
    """The Duration that ``text_key`` or the older ``old_key`` (whole ``old_unit``) states;
    ValidationError when both are given."""
    from cowin_kit.programmes.durations import Duration, parse_duration

    text, old = data.get(text_key), data.get(old_key)
    if text is not None and old is not None:
        raise ValidationError(f"give {text_key} or {old_key}, not both (e.g. {text_key} = "
                              f"\"{old} {old_unit}\")", text_key)
    if text is not None:
        return parse_duration(text)
    return None if old is None else Duration(old, old_unit)


class DoseSchema(_Strict):
    number = fields.Integer(required=True, validate=validate.Range(min=1, max=10))
    booster = fields.Boolean(load_default=False)
    # The interval from the previous dose, in days (older profiles) or as text ("6 weeks").
    min_interval_days = fields.Integer(load_default=None,
                                       validate=validate.Range(min=0, max=3650))
    max_interval_days = fields.Integer(load_default=None, allow_none=True,
                                       validate=validate.Range(min=1, max=3650))
    min_interval = DurationText(load_default=None)
    max_interval = DurationText(load_default=None)
    # The maximum interval is a recommended window (a late dose is still given, reported
    # overdue) unless this marks it as a hard limit.
    max_interval_hard = fields.Boolean(load_default=False)
    # The youngest age this dose may be given at ("10 weeks"), besides the interval.
    min_age = DurationText(load_default=None)

    @validates_schema
    def _interval_order(self, data, **kwargs):
        lo = _one_of(data, "min_interval", "min_interval_days", "days")
        hi = _one_of(data, "max_interval", "max_interval_days", "days")
        if hi is not None and hi.after(_REFERENCE_DAY) < (lo or hi).after(_REFERENCE_DAY):
            key = "max_interval" if data.get("max_interval") else "max_interval_days"
            low = "min_interval" if data.get("min_interval") else "min_interval_days"
            raise ValidationError(f"must not be less than {low}", key)
        if data.get("max_interval_hard") and hi is None:
            raise ValidationError("a hard limit needs a maximum interval (max_interval = "
                                  "\"42 days\") or remove max_interval_hard",
                                  "max_interval_hard")

    @post_load
    def _normalise(self, data, **kwargs):
        """Both forms filled: the text as stated, and whole days for older readers."""
        for text_key, old_key in (("min_interval", "min_interval_days"),
                                  ("max_interval", "max_interval_days")):
            d = _one_of(data, text_key, old_key, "days")
            data[text_key] = str(d) if d is not None else None
            data[old_key] = d.approx_days if d is not None else None
        data["min_interval_days"] = data["min_interval_days"] or 0
        return data


class ProductSchema(_Strict):
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=validate.Length(min=1))
    manufacturer = fields.String(required=True, validate=validate.Length(min=1))
    dcc_product = fields.String(load_default=None, allow_none=True)
    # The product's EU DCC vaccine type and marketing-authorisation holder, when they are
    # not those cowin_kit.certificates.valuesets knows for dcc_product; its CDC CVX code
    # (SMART Health Cards) and WHO ICD-11 vaccine code (DDCC:VS), e.g. for a routine vaccine.
    dcc_vaccine_type = fields.String(load_default=None, allow_none=True)
    dcc_manufacturer = fields.String(load_default=None, allow_none=True)
    cvx = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(
        r"^[0-9]{1,3}$", error="a CDC CVX code is 1 to 3 digits (e.g. cvx = \"03\" for MMR)"))
    icd11 = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(
        r"^X[A-Z0-9]{3,6}$", error="a WHO ICD-11 vaccine code starts with X (e.g. icd11 = "
                                   "\"XM8TF3\" for measles, mumps and rubella)"))
    # Ages in whole years (older profiles) or as text ("6 weeks", "9 months", "4 years").
    min_age_years = fields.Integer(load_default=None, validate=validate.Range(min=0, max=120))
    max_age_years = fields.Integer(load_default=None, allow_none=True,
                                   validate=validate.Range(min=0, max=130))
    min_age = DurationText(load_default=None)
    max_age = DurationText(load_default=None)
    primary_doses = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    doses = fields.List(fields.Nested(DoseSchema), required=True, validate=validate.Length(min=1))
    notes = fields.String(load_default="")

    @validates_schema
    def _dcc_codes(self, data, **kwargs):
        """EU DCC codes from its value sets, never free text (a verifier would refuse it)."""
        from cowin_kit.certificates import valuesets
        product = data.get("dcc_product")
        if product is not None and not valuesets.is_product(product):
            raise ValidationError(
                f"unknown EU DCC product code {product!r}: use a code of the EU value set "
                f"vaccine-medicinal-product ({valuesets.example_products()}, …), or leave "
                "dcc_product out for a vaccine the EU DCC does not list", "dcc_product")
        for key, known, value_set in (
                ("dcc_vaccine_type", valuesets.is_vaccine_type, "vaccine-prophylaxis"),
                ("dcc_manufacturer", valuesets.is_manufacturer, "vaccine-mah-manf")):
            value = data.get(key)
            if value is None:
                continue
            if product is None:
                raise ValidationError(f"{key} needs dcc_product (the EU DCC codes the "
                                      "product by both)", key)
            if not known(value):
                raise ValidationError(f"unknown code {value!r}: use an active code of the EU "
                                      f"value set {value_set}", key)
        if product is not None and valuesets.facts(product) is None and not (
                data.get("dcc_vaccine_type") and data.get("dcc_manufacturer")):
            raise ValidationError(f"the kit does not know the vaccine type and manufacturer of "
                                  f"{product!r}: give dcc_vaccine_type and dcc_manufacturer",
                                  "dcc_product")

    @validates_schema
    def _doses_consistent(self, data, **kwargs):
        doses = data.get("doses") or []
        numbers = [d["number"] for d in doses]
        if numbers != list(range(1, len(doses) + 1)):
            raise ValidationError(
                f"dose numbers must be 1, 2, 3, … in order; got {numbers}", "doses")
        primary = [d for d in doses if not d["booster"]]
        if len(primary) != data.get("primary_doses"):
            raise ValidationError(
                f"primary_doses is {data.get('primary_doses')} but {len(primary)} dose(s) "
                "are not marked booster", "primary_doses")
        if any(d["booster"] for d in doses[: len(primary)]) and primary:
            raise ValidationError("boosters must come after the primary doses", "doses")
        if doses and (doses[0]["min_interval_days"] or doses[0].get("max_interval_days")):
            raise ValidationError("dose 1 has no interval (it is the first dose)", "doses")
        lo = _one_of(data, "min_age", "min_age_years", "years")
        if lo is None:
            raise ValidationError("give the youngest age: min_age_years = 18, or min_age = "
                                  "\"6 weeks\"", "min_age_years")
        hi = _one_of(data, "max_age", "max_age_years", "years")
        if hi is not None and hi.after(_REFERENCE_DAY) < lo.after(_REFERENCE_DAY):
            raise ValidationError(
                "must not be less than " + ("min_age" if data.get("min_age") else "min_age_years"),
                "max_age" if data.get("max_age") else "max_age_years")

    @post_load
    def _normalise(self, data, **kwargs):
        """The stated ages, and their complete years for sessions (which count in years)."""
        for text_key, old_key in (("min_age", "min_age_years"), ("max_age", "max_age_years")):
            d = _one_of(data, text_key, old_key, "years")
            data[text_key] = str(d) if d is not None and data[text_key] else None
            data[old_key] = d.whole_years if d is not None else None
        return data


class PhaseSchema(_Strict):
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=validate.Length(min=1))
    names = LanguageMap()
    # Required: a phase without a start date would be open from the deployment's first day.
    starts_on = fields.Date(required=True, error_messages={"required": (
        "give the date the phase opened, e.g. starts_on = 2021-05-01 (a phase without one "
        "would be open from the first day)")})
    min_age_years = fields.Integer(load_default=None, allow_none=True,
                                   validate=validate.Range(min=0, max=120))
    groups = fields.List(fields.String(validate=CODE), load_default=list)

    @validates_schema
    def _admits_someone_on_purpose(self, data, **kwargs):
        """A phase with neither an age nor a group would admit everyone; say so explicitly."""
        if data.get("min_age_years") is None and not data.get("groups"):
            raise ValidationError("a phase admits people from an age (min_age_years) or in "
                                  "priority groups (groups); to admit every age on purpose, "
                                  "write min_age_years = 0", "min_age_years")


class ProgrammeSchema(_Strict):
    code = fields.String(required=True, validate=CODE)
    disease = fields.String(required=True, validate=validate.Length(min=1))
    name = fields.String(required=True, validate=validate.Length(min=1))
    names = LanguageMap()
    allow_mixed_products = fields.Boolean(load_default=False)
    mixed_boosters = fields.Boolean(load_default=False)
    # How age is counted: from the year of birth as Co-WIN did, or from the date of birth
    # (a childhood schedule in weeks and months; people are then asked for it).
    age_from = fields.String(load_default="birth_year", validate=validate.OneOf(
        AGE_FROM, error="must be one of: {choices} (e.g. age_from = \"date_of_birth\")"))
    products = fields.List(fields.Nested(ProductSchema), required=True,
                           validate=validate.Length(min=1))
    phases = fields.List(fields.Nested(PhaseSchema), load_default=list)

    @validates_schema
    def _unique_codes(self, data, **kwargs):
        _check_unique_codes(data, "products", "phases")

    @validates_schema
    def _ages_countable(self, data, **kwargs):
        """From a year of birth alone, ages are whole years: a child of 6 months and a
        newborn share it, so an age in weeks or months needs the date of birth."""
        if data.get("age_from") != "birth_year":
            return
        from cowin_kit.programmes.durations import parse_duration

        for i, product in enumerate(data.get("products") or []):
            ages = [("min_age", product.get("min_age")), ("max_age", product.get("max_age"))]
            ages += [(f"doses[{j}].min_age", d.get("min_age"))
                     for j, d in enumerate(product.get("doses") or [])]
            for key, text in ages:
                age = parse_duration(text) if text else None
                if age is not None and not (age.unit == "years" or (
                        age.unit == "months" and age.amount % 12 == 0)):
                    raise ValidationError(
                        f"products[{i}].{key}: {text!r} cannot be told from a year of birth; "
                        "give it in whole years or set age_from = \"date_of_birth\"",
                        "age_from")


class CertificateSchema(_Strict):
    issuer = fields.String(required=True, validate=validate.Length(min=1))
    issuer_names = LanguageMap()
    document_name = fields.String(load_default="")
    issuer_url = fields.Url(load_default=None, allow_none=True)


# Co-WIN's age groups (12-14, 15-17, 18-44, 45-59, 60+), with children below 12.
DEFAULT_AGE_BANDS = [0, 12, 15, 18, 45, 60]


class ReportingSchema(_Strict):
    """[reporting]: what the dashboard and the open data need beyond the dose records."""

    # People per area: the country's own code for the nation, ISO 3166-2 codes (or the
    # country's own division codes) below. A geography import's population column wins.
    population = fields.Dict(keys=fields.String(validate=validate.Length(min=2)),
                             values=fields.Integer(validate=validate.Range(min=1)),
                             load_default=dict)
    population_year = fields.Integer(load_default=None, allow_none=True,
                                     validate=validate.Range(min=1900, max=2100))
    population_source = fields.String(load_default="")
    # Lower bounds of the age bands the reports count by, from 0, ascending.
    age_bands = fields.List(fields.Integer(validate=validate.Range(min=0, max=120)),
                            load_default=lambda: list(DEFAULT_AGE_BANDS))
    # Open data: a cell counting fewer people than this is suppressed (k-anonymity).
    min_cell = fields.Integer(load_default=10, validate=validate.Range(min=1, max=1000))
    licence = fields.String(load_default="CC-BY-4.0", validate=validate.Length(min=1))
    licence_url = fields.Url(load_default="https://creativecommons.org/licenses/by/4.0/")

    @validates("age_bands")
    def _bands(self, value, **kwargs):
        if not value or value[0] != 0 or any(b <= a for a, b in itertools.pairwise(value)):
            raise ValidationError("list ascending lower bounds that start at 0, e.g. "
                                  "age_bands = [0, 18, 45, 60]")


def _default_reporting() -> dict:
    return ReportingSchema().load({})


class AefiSymptomSchema(_Strict):
    code = fields.String(required=True, validate=CODE)
    # Optional for a code the kit names (cowin_kit.vaccination.aefi_terms.SYMPTOM_NAMES,
    # translated with the kit); required for any other code.
    name = fields.String(load_default=None, validate=validate.Length(min=1))
    names = LanguageMap()

    @validates_schema
    def _named(self, data, **kwargs):
        from cowin_kit.vaccination.aefi_terms import SYMPTOM_NAMES

        if data.get("code") and data["code"] not in SYMPTOM_NAMES and not data.get("name"):
            raise ValidationError(
                f"the kit has no name for the symptom {data['code']!r}: give name = \"…\" in "
                f"the profile's first language, or use one of the kit's codes "
                f"({', '.join(SYMPTOM_NAMES)})", "name")


def _default_aefi() -> dict:
    from cowin_kit.vaccination.aefi_terms import DEFAULT_SYMPTOMS

    return {"symptoms": [{"code": c, "name": None, "names": {}} for c in DEFAULT_SYMPTOMS]}


class AefiSchema(_Strict):
    """Adverse events following immunisation: the symptoms a report chooses from."""

    symptoms = fields.List(fields.Nested(AefiSymptomSchema), load_default=lambda: (
        _default_aefi()["symptoms"]), validate=validate.Length(
            min=1, error="list at least one symptom, e.g. symptoms = [{{ code = \"fever\" }}], "
                         "or leave out [aefi] for the kit's list"))

    @validates_schema
    def _unique_codes(self, data, **kwargs):
        _check_unique_codes(data, "symptoms")


class ProfileSchema(_Strict):
    code = fields.String(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1))
    languages = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    # Where a name is missing in a language, the languages whose name is shown instead, in
    # order ({ qu = ["es"] }). Unlisted languages fall back to the first (English to none:
    # ISO's names are in Latin script).
    language_fallbacks = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                                     load_default=dict)
    timezone = fields.String(required=True)
    currency = fields.String(required=True)
    phone_region = fields.String(required=True)
    postal_code_pattern = fields.String(required=True)
    postal_code_example = fields.String(required=True)
    max_beneficiaries_per_mobile = fields.Integer(load_default=4,
                                                  validate=validate.Range(min=1, max=20))
    sources = fields.List(fields.String(), load_default=list)
    notes = fields.String(load_default="")
    # The date the profile's facts are as of (last checked); shipped profiles give it.
    as_of = fields.Date(load_default=None)
    admin_levels = fields.List(fields.Nested(AdminLevelSchema), required=True,
                               validate=validate.Length(min=1))
    divisions = fields.Nested(DivisionsSchema, required=True)
    id_documents = fields.List(fields.Nested(IdDocumentSchema), required=True,
                               validate=validate.Length(min=1))
    programmes = fields.List(fields.Nested(ProgrammeSchema), required=True,
                             validate=validate.Length(min=1))
    certificate = fields.Nested(CertificateSchema, required=True)
    # Without [aefi], the kit's list of symptoms (aefi_terms.DEFAULT_SYMPTOMS).
    aefi = fields.Nested(AefiSchema, load_default=_default_aefi)
    # Without [reporting]: no population figures, Co-WIN's age bands, k = 10, CC BY 4.0.
    reporting = fields.Nested(ReportingSchema, load_default=_default_reporting)

    @validates("code")
    def _code(self, value, **kwargs):
        if not re.fullmatch(r"[A-Z]{2}", value):
            raise ValidationError(f"{value!r} must be two capital letters (ISO 3166-1 alpha-2)")
        if pycountry.countries.get(alpha_2=value) is None:
            raise ValidationError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")

    @validates("languages")
    def _languages(self, value, **kwargs):
        bad = [v for v in value if not language_exists(v)]
        if bad:
            raise ValidationError(f"unknown language code(s) {', '.join(bad)}; use ISO 639 codes")
        if len(set(value)) != len(value):
            raise ValidationError("a language is listed twice")

    @validates_schema
    def _fallbacks(self, data, **kwargs):
        languages = data.get("languages") or []
        for lang, chain in (data.get("language_fallbacks") or {}).items():
            bad = [c for c in [lang, *chain] if c not in languages]
            if bad:
                raise ValidationError(f"{', '.join(bad)} not in languages: a fallback chain "
                                      f"names the profile's languages (e.g. qu = [\"es\"])",
                                      "language_fallbacks")
            if lang in chain:
                raise ValidationError(f"{lang} falls back to itself", "language_fallbacks")

    @validates("timezone")
    def _timezone(self, value, **kwargs):
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValidationError(
                f"{value!r} is not an IANA time zone (e.g. America/Lima)") from None

    @validates("currency")
    def _currency(self, value, **kwargs):
        if pycountry.currencies.get(alpha_3=value) is None:
            raise ValidationError(f"{value!r} is not an ISO 4217 currency code")

    @validates("phone_region")
    def _phone_region(self, value, **kwargs):
        # Empty: the territory has no numbering plan of its own (e.g. AQ); numbers are then
        # entered in international form (+…).
        if value and value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValidationError(f"{value!r} is not a phone region known to phonenumbers")

    @validates("postal_code_pattern")
    def _postal_pattern(self, value, **kwargs):
        try:
            re.compile(value)
        except re.error as exc:
            raise ValidationError(f"not a valid regular expression: {exc}") from None

    @validates_schema
    def _cross_checks(self, data, **kwargs):
        pattern, example = data.get("postal_code_pattern"), data.get("postal_code_example")
        if pattern and example:
            try:
                if not re.fullmatch(pattern, example):
                    raise ValidationError(f"{example!r} does not match postal_code_pattern",
                                          "postal_code_example")
            except re.error:
                pass  # reported on the pattern itself
        levels = [lvl["level"] for lvl in data.get("admin_levels") or []]
        if levels and levels != list(range(1, len(levels) + 1)):
            raise ValidationError(f"levels must be 1, 2, 3, … in order; got {levels}",
                                  "admin_levels")
        code = data.get("code")
        divisions = data.get("divisions")
        if code and divisions:
            known = {s.code for s in pycountry.subdivisions.get(country_code=code) or []}
            if known and not divisions["level1"] and not divisions["own"]:
                raise ValidationError({"level1": ["list the ISO 3166-2 level-1 codes, or "
                                                  "declare the divisions under own"]},
                                      "divisions")
            bad = [c for c in divisions["level1"] if c not in known]
            if bad:
                raise ValidationError(
                    {"level1": [f"not ISO 3166-2 codes of {code}: {', '.join(bad)}"]}, "divisions")
            if divisions["pycountry_depth"] > len(levels):
                raise ValidationError(
                    {"pycountry_depth": ["deeper than the admin_levels declared"]}, "divisions")
        _check_unique_codes(data, "id_documents", "programmes")


def flatten_errors(messages, prefix: str = "") -> list[tuple[str, str]]:
    """Turn marshmallow's nested error dict into [("programmes[0].products[1].name", "…")]."""
    out: list[tuple[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if isinstance(key, int):
                path = f"{prefix}[{key}]"
            elif key == "_schema":
                path = prefix or "(profile)"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                out.extend((path, str(m)) for m in (value if isinstance(value, list) else [value]))
            else:
                out.extend(flatten_errors(value, path))
    elif isinstance(messages, list):
        for item in messages:
            if isinstance(item, (dict, list)):
                out.extend(flatten_errors(item, prefix))
            else:
                out.append((prefix or "(profile)", str(item)))
    else:
        out.append((prefix or "(profile)", str(messages)))
    return out


__all__ = ["ProfileSchema", "flatten_errors", "EXCLUDE"]
