"""What `profiles validate` and `profiles show` warn of in a valid profile: facts a ministry
should look at, never a reason to refuse it (divisions ISO 3166-2 does not have yet, an old
or missing ``as_of`` date, commentary in a name that pages show to citizens)."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata

import pycountry

from cowin_kit.errors import Gettext
from cowin_kit.plugins.interfaces import N_
from cowin_kit.profiles import Profile

# A profile whose facts were last checked longer ago than this is flagged as old.
STALE_AFTER_YEARS = 2

MSG_NOT_IN_ISO = N_(
    "divisions.own: %(count)s declared division(s) are not ISO 3166-2 codes of %(country)s "
    "in pycountry %(version)s; they are loaded as the profile declares them (source: "
    "%(source)s): %(divisions)s")
MSG_NO_AS_OF = N_(
    "as_of is missing: give the date this profile's facts were last checked, e.g. as_of = "
    "%(today)s")
MSG_OLD_AS_OF = N_(
    "as_of is %(as_of)s, more than %(years)s years ago: check the profile's facts (vaccines, "
    "phases, divisions, ID documents) and update the date")

MSG_SHOWN_MARKER = N_(
    "%(field)s is shown to citizens as it is, and it holds %(marker)r: %(text)s. Give the name "
    "only, and put what is unsure in notes")
MSG_SHOWN_COMMENTARY = N_(
    "%(field)s is shown to citizens as it is, and it looks like a name with commentary "
    "(%(reason)s): %(text)s. Give the name only, and move the rest to notes")

# A name shown to citizens (an issuer, a document, a division) is a name: markers
# of unfinished work, a long aside in parentheses, a second clause after ";" or a paragraph's
# length mean commentary that belongs in ``notes``. An acronym or a short gloss in
# parentheses ("(MINSA)", "(Secretaría de Salud)") is part of the name.
MARKERS = re.compile(r"\b(TODO|FIXME|TBD|XXX|unverified|not verified|unconfirmed)\b|\?\?",
                     re.IGNORECASE)
ASIDE = re.compile(r"[(\[（]([^)\]）]*)[)\]）]")
ASIDE_MAX_WORDS = 4
NAME_MAX_CHARS = 100


def _shown_texts(profile: Profile) -> Iterator[tuple[str, str, bool]]:
    """(field, text, is_a_name) of what the pages, the API and documents show to citizens.
    Names (the issuer, documents, ID documents, divisions) are checked for any commentary;
    descriptions (a phase's "who it is for", a level's alternatives, a product with its
    maker) may be long, and are checked only for markers of unfinished work."""
    data = profile.data

    def named(prefix: str, item: dict, is_name: bool, name_key: str = "name",
              names_key: str = "names"):
        if item.get(name_key):
            yield f"{prefix}.{name_key}", item[name_key], is_name
        for lang, text in (item.get(names_key) or {}).items():
            yield f"{prefix}.{names_key}.{lang}", text, is_name

    cert = data["certificate"]
    yield from named("certificate", cert, True, "issuer", "issuer_names")
    if cert.get("document_name"):
        yield "certificate.document_name", cert["document_name"], True
    for i, doc in enumerate(data["id_documents"]):
        yield from named(f"id_documents[{i}]", doc, True)
    for code, names in data["divisions"]["names"].items():
        for lang, text in names.items():
            yield f"divisions.names.{code}.{lang}", text, True
    for i, own in enumerate(data["divisions"]["own"]):
        yield from named(f"divisions.own[{i}]", own, True)
    for i, level in enumerate(data["admin_levels"]):
        yield from named(f"admin_levels[{i}]", level, False)
    for i, programme in enumerate(data["programmes"]):
        yield from named(f"programmes[{i}]", programme, False)
        for j, product in enumerate(programme["products"]):
            yield f"programmes[{i}].products[{j}].name", product["name"], False
        for j, phase in enumerate(programme["phases"]):
            yield from named(f"programmes[{i}].phases[{j}]", phase, False)


def commentary_in_names(profile: Profile) -> list[ProfileWarning]:
    """Warnings for texts shown to citizens that carry commentary (see MARKERS, ASIDE)."""
    out = []
    for field_path, text, is_name in _shown_texts(profile):
        marker = MARKERS.search(text)
        if marker:
            out.append(ProfileWarning(MSG_SHOWN_MARKER, {"field": field_path, "text": text,
                                                         "marker": marker.group(0)}))
            continue
        if not is_name:
            continue
        reason = None
        asides = [a for a in ASIDE.findall(text) if len(a.split()) > ASIDE_MAX_WORDS]
        if asides:
            reason = f"({asides[0]})"
        elif ";" in text or "\u061b" in text:  # the Latin or the Arabic semicolon
            reason = ";"
        elif len(text) > NAME_MAX_CHARS:
            reason = f"{len(text)} > {NAME_MAX_CHARS}"
        if reason:
            out.append(ProfileWarning(MSG_SHOWN_COMMENTARY, {"field": field_path, "text": text,
                                                             "reason": reason}))
    return out


@dataclass(frozen=True)
class ProfileWarning:
    """One warning: an English message id (N_) and its params, rendered in the reader's
    language by :meth:`text`."""

    msgid: str
    params: dict = field(default_factory=dict)

    def text(self, gettext: Gettext | None = None) -> str:
        translated = gettext(self.msgid) if gettext else self.msgid
        return translated % self.params if self.params else translated


def pycountry_version() -> str:
    try:
        return metadata.version("pycountry")
    except metadata.PackageNotFoundError:  # pragma: no cover - installed with the kit
        return "?"


def undeclared_in_iso(profile: Profile) -> list[dict]:
    """The divisions ``divisions.own`` declares whose codes pycountry does not know."""
    known = {s.code for s in pycountry.subdivisions.get(country_code=profile.code) or []}
    return [d for d in profile["divisions"]["own"] if d["code"] not in known]


def profile_warnings(profile: Profile, today: dt.date | None = None) -> list[ProfileWarning]:
    today = today or dt.date.today()
    warnings: list[ProfileWarning] = []
    by_source: dict[str, list[dict]] = {}
    for division in undeclared_in_iso(profile):
        by_source.setdefault(division["source"], []).append(division)
    for source, divisions in by_source.items():
        warnings.append(ProfileWarning(MSG_NOT_IN_ISO, {
            "count": len(divisions), "country": profile.code, "version": pycountry_version(),
            "source": source,
            "divisions": ", ".join(f"{d['code']} {d['name']}" for d in divisions)}))
    warnings += commentary_in_names(profile)
    as_of = profile.data.get("as_of")
    if as_of is None:
        warnings.append(ProfileWarning(MSG_NO_AS_OF, {"today": today.isoformat()}))
    elif is_stale(as_of, today):
        warnings.append(ProfileWarning(MSG_OLD_AS_OF, {"as_of": as_of.isoformat(),
                                                        "years": STALE_AFTER_YEARS}))
    return warnings


def is_stale(as_of: dt.date, today: dt.date) -> bool:
    """Whether ``as_of`` is more than STALE_AFTER_YEARS calendar years before ``today``."""
    try:
        limit = as_of.replace(year=as_of.year + STALE_AFTER_YEARS)
    except ValueError:  # 29 February
        limit = as_of.replace(year=as_of.year + STALE_AFTER_YEARS, day=28)
    return today > limit
