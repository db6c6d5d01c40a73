"""Demo centres for any profile: what `cowin-kit init --demo` adds where a profile ships no
``demo/facilities.csv`` of its own (PE and IN ship hand-made ones).

A few of the profile's own divisions (``[divisions] demo``, else the most populous known,
else three spread over the list) get two centres each, marked demo in their code
(``DEMO-<CC>-Gnn``), their name ("Demo centre 1 — <division>"), their address and the
database (``is_demo``). Postal codes have the country's format: they are the profile's
``postal_code_example`` with its last digits varied, each checked against
``postal_code_pattern`` (they are not the divisions' real codes); none where the country has
none (AE, UG). The kit holds no coordinates of divisions, so the centres have none.
"""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from cowin_kit.geography.models import Division
from cowin_kit.geography.service import PROFILE_SOURCES, division_name
from cowin_kit.plugins.interfaces import N_
from cowin_kit.profiles import Profile
from cowin_kit.scheduling.models import Facility

MSG_DEMO_CENTRE = N_("Demo centre %(number)s — %(division)s")
MSG_DEMO_ADDRESS = N_("Demo address, %(division)s (not a real centre)")

DEMO_DIVISIONS = 3  # spread over the list of divisions: first, middle, last
CENTRES_PER_DIVISION = 2


def demo_postal_codes(pattern: str, example: str, count: int) -> list[str | None]:
    """``count`` postal codes of the country's format, from its example: the example, then
    the example with its last digit, then its last two digits, varied; each one matches
    ``pattern``. None for each when the country has no postal codes (an empty example)."""
    if not example:
        return [None] * count
    digits = [i for i, ch in enumerate(example) if ch.isdigit()]
    found: list[str] = [example] if re.fullmatch(pattern, example) else []
    for width in (1, 2, 3):
        if len(found) >= count or len(digits) < width:
            break
        places = digits[-width:]
        base = int("".join(example[i] for i in places))
        for step in range(1, 10 ** width):
            value = str((base + step) % 10 ** width).zfill(width)
            chars = list(example)
            for place, ch in zip(places, value, strict=True):
                chars[place] = ch
            code = "".join(chars)
            if code not in found and re.fullmatch(pattern, code):
                found.append(code)
            if len(found) >= count:
                break
    if not found:
        return [None] * count
    return [found[i % len(found)] for i in range(count)]


def demo_divisions(session: Session, count: int = DEMO_DIVISIONS,
                   chosen: list[str] | None = None) -> list[Division]:
    """Where demo centres go: the profile's ``[divisions] demo`` codes when it gives them;
    else ``count`` of its divisions that hold no others, the most populous when the
    deployment knows populations, else spread over the list ordered by code."""
    rows = list(session.scalars(select(Division).where(Division.source.in_(PROFILE_SOURCES))
                                .order_by(Division.code)))
    if chosen:
        by_code = {d.code: d for d in rows}
        picked = [by_code[c] for c in chosen if c in by_code]
        if picked:
            return picked
    parents = {d.parent_id for d in rows if d.parent_id is not None}
    leaves = [d for d in rows if d.id not in parents]
    counted = [d for d in leaves if d.population]
    if len(counted) >= count:
        return sorted(counted, key=lambda d: -d.population)[:count]
    if len(leaves) <= count:
        return leaves
    picks = sorted({round(i * (len(leaves) - 1) / (count - 1)) for i in range(count)}) \
        if count > 1 else [0]
    return [leaves[i] for i in picks]


def _translations(profile: Profile) -> dict[str, object]:
    from cowin_kit.catalogues import load_translations
    from cowin_kit.paths import locales_dir

    return {lang: load_translations(lang, [locales_dir()]) for lang in profile.languages}


def create_demo_centres(session: Session, profile: Profile) -> int:
    """Demo centres in a few of the profile's divisions; safe to run twice (a code already
    taken is left as it is). Returns how many were created."""
    divisions = demo_divisions(session, chosen=profile["divisions"]["demo"])
    codes = demo_postal_codes(profile["postal_code_pattern"], profile["postal_code_example"],
                              len(divisions) * CENTRES_PER_DIVISION)
    taken = set(session.scalars(select(Facility.code)))
    translations = _translations(profile)
    default = profile.default_language
    created = 0
    number = 0
    for division in divisions:
        for _ in range(CENTRES_PER_DIVISION):
            number += 1
            code = f"DEMO-{profile.code}-G{number:02d}"
            if code in taken:
                continue

            def text(msgid: str, lang: str, division=division, number=number) -> str:
                return translations[lang].gettext(msgid) % {
                    "number": number, "division": division_name(division, lang)}

            session.add(Facility(
                code=code, is_demo=True, is_active=True, division=division,
                name=text(MSG_DEMO_CENTRE, default)[:200],
                names={lang: text(MSG_DEMO_CENTRE, lang)[:200]
                       for lang in profile.languages if lang != default},
                address=text(MSG_DEMO_ADDRESS, default)[:400],
                postal_code=codes[number - 1], latitude=None, longitude=None,
                fee_type="Free"))
            created += 1
    session.flush()
    return created


__all__ = ["CENTRES_PER_DIVISION", "DEMO_DIVISIONS", "create_demo_centres",
           "demo_divisions", "demo_postal_codes"]
