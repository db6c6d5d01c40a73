"""What `profiles validate` and `profiles show` warn of in a valid profile: facts a ministry
should look at, never a reason to refuse it (divisions ISO 3166-2 does not have yet, an old
or missing ``as_of`` date)."""
from __future__ import annotations

import datetime as dt
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
