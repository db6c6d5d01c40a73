"""Names of the priority groups that profiles use in their eligibility phases.

Profiles name groups by code ("health-workers"); people choose them on forms by name, in
their language. A code not listed here is shown as written, dashes as spaces.
"""
from __future__ import annotations

from cowin_kit.plugins.interfaces import N_

GROUP_NAMES = {
    "health-workers": N_("Health worker"),
    "front-line-staff": N_("Front-line worker"),
    "comorbidities": N_("Has a long-term illness (comorbidity)"),
    "police": N_("Police"),
    "armed-forces": N_("Armed forces"),
    "security-forces": N_("Security forces"),
    "firefighters": N_("Firefighter"),
    "teachers": N_("Teacher"),
    "prisons": N_("Lives or works in a prison"),
    "long-term-care": N_("Lives or works in long-term care"),
    "care-homes": N_("Lives or works in a care home"),
    "congregate-settings": N_("Lives in a shared residence (shelter, hostel, dormitory)"),
    "indigenous-communities": N_("Member of an indigenous community"),
    "travellers-abroad": N_("Must travel abroad"),
    "strategic-leaders": N_("Essential public office holder"),
    "social-workers": N_("Social worker"),
    "pregnant-women": N_("Pregnant"),
    "outbreak-areas": N_("Lives in an outbreak area"),
    "essential-services": N_("Works in an essential service"),
    "elderly": N_("Older person"),
    "disabilities": N_("Person with a disability"),
    "diplomats": N_("Diplomatic staff"),
    "customs": N_("Customs and border staff"),
    "age-65-plus": N_("Aged 65 or over"),
}


def profile_groups(profile) -> list[str]:
    """Every group code the profile's phases name, in the order they first appear, with
    "comorbidities" always offered (Co-WIN's comorbidity_ind)."""
    seen: list[str] = []
    for programme in profile["programmes"]:
        for phase in programme["phases"]:
            for group in phase["groups"]:
                if group not in seen:
                    seen.append(group)
    if "comorbidities" not in seen:
        seen.append("comorbidities")
    return seen


def group_name(code: str, gettext) -> str:
    """The group's name in the reader's language (``gettext`` of the request)."""
    msgid = GROUP_NAMES.get(code)
    return gettext(msgid) if msgid else code.replace("-", " ").replace("_", " ")
