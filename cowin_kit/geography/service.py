"""Loading and naming administrative divisions."""
from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import pycountry
from sqlalchemy import select
from sqlalchemy.orm import Session

from cowin_kit.csvfiles import CsvProblems, read_rows, translated_names
from cowin_kit.geography.models import Division
from cowin_kit.profiles import Profile

DIVISION_COLUMNS = ("code", "level", "parent_code", "name")
DIVISION_OPTIONAL = ("postal_code", "population")  # and name_<lang>
# Divisions the country profile makes (ISO 3166-2 via pycountry, or its own declared ones):
# an import may add names and figures to them but not move them.
PROFILE_SOURCES = ("pycountry", "profile")


@lru_cache(maxsize=64)
def _pycountry_translation(lang: str) -> gettext.NullTranslations:
    return gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=[lang],
                               fallback=True)


def pycountry_name(english_name: str, lang: str) -> str:
    return _pycountry_translation(lang).gettext(english_name)


def pycountry_translated(english_name: str, lang: str) -> str | None:
    """pycountry's translation of an ISO 3166-2 name into ``lang``, or None when it has none
    (pycountry has no catalogue for Quechua, Aymara or Kurdish subdivisions)."""
    catalogue = getattr(_pycountry_translation(lang), "_catalog", None) or {}
    return catalogue.get(english_name) or None


def with_fallback_names(profile: Profile, names: dict, *, own_name: str | None = None,
                        iso_name: str | None = None) -> dict:
    """``names`` plus, for each of the profile's languages that has no name of its own
    (nor pycountry's translation of ``iso_name``), the name in its first fallback language
    that has one (profile.fallback_languages): Peru's Quechua pages show the Spanish names,
    Iraq's Kurdish pages the Arabic ones, never ISO's romanisation. ``own_name`` is the name
    in the profile's first language, where the profile gives one."""
    def known(lang: str) -> str | None:
        if names.get(lang):
            return names[lang]
        if lang == profile.default_language and own_name:
            return own_name
        return pycountry_translated(iso_name, lang) if iso_name else None

    out = dict(names)
    for lang in profile.languages:
        if known(lang):
            continue
        for other in profile.fallback_languages(lang):
            name = known(other)
            if name:
                out[lang] = name
                break
    return out


def division_name(division: Division, lang: str) -> str:
    """The name in ``lang``: the profile's or importer's own, then pycountry's, then default."""
    own = (division.names or {}).get(lang)
    if own:
        return own
    if division.source == "pycountry":
        return pycountry_name(division.name, lang)
    return division.name


def load_profile_divisions(session: Session, profile: Profile) -> int:
    """Create the profile's level-1 (and pycountry-deeper) divisions that are missing: the
    ISO 3166-2 ones named by pycountry, then those the profile declares itself
    (``divisions.own``, source "profile"), whose names follow the profile on every run."""
    spec = profile["divisions"]
    overrides = spec["names"]
    subs = {s.code: s for s in pycountry.subdivisions.get(country_code=profile.code)}
    wanted: list[tuple[int, object]] = [(1, subs[c]) for c in spec["level1"]]
    if spec["pycountry_depth"] >= 2:
        level1 = set(spec["level1"])
        wanted += [(2, s) for s in subs.values() if s.parent_code in level1]
    existing = {d.code: d for d in session.scalars(select(Division))}
    created = 0
    for level, sub in wanted:
        names = with_fallback_names(profile, dict(overrides.get(sub.code, {})),
                                    iso_name=sub.name)
        if sub.code in existing:
            division = existing[sub.code]
            if division.source == "pycountry":
                # The profile's names win, an import's stay; a language without either gets
                # its fallback (fixes deployments made before fallbacks existed).
                division.names = {**names, **(division.names or {}),
                                  **overrides.get(sub.code, {})}
            continue
        parent = existing.get(sub.parent_code) if level > 1 else None
        division = Division(code=sub.code, level=level, parent=parent, name=sub.name,
                            names=names, source="pycountry")
        session.add(division)
        existing[sub.code] = division
        created += 1
    for own in spec["own"]:
        names = with_fallback_names(profile, {**own["names"], **overrides.get(own["code"], {})},
                                    own_name=own["name"])
        division = existing.get(own["code"])
        if division is None:
            session.add(Division(code=own["code"], level=1, parent=None, name=own["name"],
                                 names=names, source="profile"))
            created += 1
        elif division.source == "profile" and division.level == 1:
            division.name, division.names = own["name"], names  # a corrected name
    # Level-1 divisions' own time zones follow the profile on every run (None: the
    # deployment's); `init --update` after a corrected zone fixes it.
    zones = spec.get("timezones") or {}
    for division in existing.values():
        if division.level == 1 and division.timezone != zones.get(division.code):
            division.timezone = zones.get(division.code)
    session.flush()
    return created


def zone_of(session: Session, division_id: int | None, default: str, *,
            cache: dict | None = None) -> str:
    """The time zone of a centre in this division: the nearest division up the tree that
    has its own (the profile's [divisions.timezones]), else ``default`` (the deployment's).
    ``cache`` (division id -> zone) saves the walk up the tree for the next call."""
    if division_id is None:
        return default
    if cache is not None and division_id in cache:
        return cache[division_id]
    seen, current, zone = [], division_id, None
    while current is not None and len(seen) < 10:
        row = session.execute(select(Division.parent_id, Division.timezone)
                              .where(Division.id == current)).first()
        if row is None:
            break
        seen.append(current)
        if row.timezone:
            zone = row.timezone
            break
        current = row.parent_id
    zone = zone or default
    if cache is not None:
        cache.update(dict.fromkeys(seen, zone))
        cache[division_id] = zone
    return zone


def divisions_left_behind(session: Session, profile: Profile) -> list[Division]:
    """Divisions an earlier version of the profile made that it no longer lists at level 1
    (a country's reorganisation: Viet Nam's 63 provinces of before 1 July 2025), and those it
    now lists at level 1 that the database holds at another level. `init --update` keeps
    them, with the centres and records that refer to them, and names them for the ministry."""
    spec = profile["divisions"]
    level1 = set(spec["level1"]) | {d["code"] for d in spec["own"]}
    rows = session.scalars(select(Division).where(Division.source.in_(PROFILE_SOURCES))
                           .order_by(Division.code))
    return [d for d in rows if (d.level == 1 and d.code not in level1)
            or (d.level != 1 and d.code in level1)]


def import_divisions_csv(session: Session, path: Path | str, profile: Profile, *,
                         is_demo: bool = False,
                         progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Create or update divisions from a CSV file; safe to run twice.

    Columns: code, level, parent_code, name, optional postal_code, population (people
    living there, for the dashboard's coverage shares) and name_<lang>.
    Nothing is written unless every line is valid.
    """
    rows = read_rows(path, DIVISION_COLUMNS, optional=DIVISION_OPTIONAL,
                     optional_prefixes=("name_",))
    has_postal = "postal_code" in rows[0][1]
    has_population = "population" in rows[0][1]
    max_level = len(profile["admin_levels"])
    existing = {d.code: d for d in session.scalars(select(Division))}
    with_children = set(session.scalars(select(Division.parent_id).distinct()
                                        .where(Division.parent_id.is_not(None))))
    seen: dict[str, int] = {}
    levels = {code: d.level for code, d in existing.items()}
    problems: list[tuple[int, str]] = []
    for line, row in rows:
        code = row["code"]
        if not code:
            problems.append((line, "code is empty"))
            continue
        if len(code) > 40:
            problems.append((line, "code is longer than 40 characters"))
        if code in seen:
            problems.append((line, f"code {code} is repeated (first on line {seen[code]})"))
        seen[code] = line
        try:
            level = int(row["level"])
        except ValueError:
            problems.append((line, f"level {row['level']!r} is not a whole number"))
            continue
        if not 1 <= level <= max_level:
            problems.append((line, f"level {level} is outside 1–{max_level}, the levels of "
                                   f"the {profile.code} profile"))
        current = existing.get(code)
        if current is not None and current.level != level and current.id in with_children:
            problems.append((line, f"{code} is level {current.level} and has divisions under "
                                   f"it; it cannot become level {level}"))
        if current is not None and current.source in PROFILE_SOURCES and (
                level != current.level or row["parent_code"] != (
                    current.parent.code if current.parent else "")):
            problems.append((line, f"{code} comes from the country profile; its "
                                   "level and parent cannot be changed by an import"))
        levels[code] = level
        if not row["name"]:
            problems.append((line, "name is empty"))
        if has_population and row["population"] and not (
                row["population"].isascii() and row["population"].isdigit()
                and 0 < int(row["population"]) < 10**10):
            problems.append((line, f"population {row['population']!r} is not a whole number "
                                   "of people (digits only, e.g. 125000; empty if unknown)"))
        bad_langs = [lang for lang in translated_names(row)
                     if pycountry.languages.get(alpha_2=lang) is None
                     and pycountry.languages.get(alpha_3=lang) is None]
        if bad_langs:
            problems.append((line, f"column name_{bad_langs[0]} is not an ISO 639 language"))
    for line, row in rows:
        code, parent = row["code"], row["parent_code"]
        level = levels.get(code)
        if level is None:
            continue
        if level == 1 and parent:
            problems.append((line, "a level-1 division has no parent_code"))
        elif level > 1:
            if not parent:
                problems.append((line, "parent_code is empty (required below level 1)"))
            elif parent not in levels:
                problems.append((line, f"parent_code {parent} is neither in this file nor in "
                                       "the database"))
            elif levels[parent] != level - 1:
                problems.append((line, f"parent_code {parent} is level {levels[parent]}, "
                                       f"expected level {level - 1}"))
    if problems:
        raise CsvProblems(str(path), problems)

    created = updated = kept = 0
    # Parents first, so that every parent exists when its children are written.
    for _line, row in sorted(rows, key=lambda r: int(r[1]["level"])):
        division = existing.get(row["code"])
        names = translated_names(row)
        if progress:
            progress(1)
        if division is None:
            division = Division(code=row["code"], source="demo" if is_demo else "import",
                                is_demo=is_demo)
            session.add(division)
            existing[row["code"]] = division
            created += 1
        elif is_demo and not division.is_demo:
            kept += 1  # demo data never overwrites real data
            continue
        else:
            updated += 1
            if not is_demo and division.is_demo:
                division.is_demo, division.source = False, "import"  # now real
        if division.source not in PROFILE_SOURCES:
            division.level = int(row["level"])
            division.parent = existing.get(row["parent_code"]) if row["parent_code"] else None
            division.name = row["name"]
        division.names = {**(division.names or {}), **names}
        if has_postal and row["postal_code"]:
            division.postal_code = row["postal_code"]
        if has_population and row["population"]:
            division.population = int(row["population"])
    session.flush()
    return {"created": created, "updated": updated, "kept": kept}
