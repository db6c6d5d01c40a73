"""The words of adverse-event reporting (AEFI), after WHO's Global Manual on Surveillance of
Adverse Events Following Immunization and its causality-assessment manual (2nd ed., 2018):
seriousness, the serious criteria, outcomes, the report's status, the causality categories
and the kit's default list of symptoms.

A leaf module (no database, no Flask): the profile schema reads the symptom codes the kit
names, the models read the enums, the pages and the API the translatable names.
"""
from __future__ import annotations

from enum import StrEnum

from cowin_kit.plugins.interfaces import N_


class Seriousness(StrEnum):
    """WHO's grading: minor (mild, self-limited), severe (intense, but not serious) and
    serious (one of SeriousCriterion)."""

    MINOR = "minor"
    SEVERE = "severe"
    SERIOUS = "serious"


class SeriousCriterion(StrEnum):
    """What makes an event serious (WHO; ICH E2A)."""

    DEATH = "death"
    LIFE_THREATENING = "life_threatening"
    HOSPITALISATION = "hospitalisation"  # in-patient stay, or a longer one
    DISABILITY = "disability"  # persistent or significant
    CONGENITAL_ANOMALY = "congenital_anomaly"


class Outcome(StrEnum):
    RECOVERED = "recovered"
    RECOVERING = "recovering"
    NOT_RECOVERED = "not_recovered"
    RECOVERED_WITH_SEQUELAE = "recovered_with_sequelae"
    DIED = "died"
    UNKNOWN = "unknown"


class AefiStatus(StrEnum):
    REPORTED = "reported"
    INVESTIGATING = "investigating"
    CLOSED = "closed"


class ReporterKind(StrEnum):
    VACCINATOR = "vaccinator"  # staff at the centre (a staff user)
    CITIZEN = "citizen"  # the person or their family (a citizen account), portal or API


class Causality(StrEnum):
    """WHO's causality categories (A: consistent, B: indeterminate, C: inconsistent,
    D: unclassifiable)."""

    A1 = "a1"
    A2 = "a2"
    A3 = "a3"
    A4 = "a4"
    B1 = "b1"
    B2 = "b2"
    C = "c"
    D = "d"


SERIOUSNESS_NAMES = {
    Seriousness.MINOR: N_("Minor: mild, went away by itself"),
    Seriousness.SEVERE: N_("Severe: intense, but not serious"),
    Seriousness.SERIOUS: N_("Serious: death, danger to life, hospital stay or disability"),
}
SERIOUSNESS_SHORT = {Seriousness.MINOR: N_("Minor"), Seriousness.SEVERE: N_("Severe"),
                     Seriousness.SERIOUS: N_("Serious")}
CRITERION_NAMES = {
    SeriousCriterion.DEATH: N_("Death"),
    SeriousCriterion.LIFE_THREATENING: N_("Life-threatening"),
    SeriousCriterion.HOSPITALISATION: N_("Hospital stay"),
    SeriousCriterion.DISABILITY: N_("Lasting disability"),
    SeriousCriterion.CONGENITAL_ANOMALY: N_("Birth defect"),
}
OUTCOME_NAMES = {
    Outcome.RECOVERED: N_("Recovered"),
    Outcome.RECOVERING: N_("Recovering"),
    Outcome.NOT_RECOVERED: N_("Not recovered"),
    Outcome.RECOVERED_WITH_SEQUELAE: N_("Recovered with lasting effects"),
    Outcome.DIED: N_("Died"),
    Outcome.UNKNOWN: N_("Not known"),
}
STATUS_NAMES = {
    AefiStatus.REPORTED: N_("Reported"),
    AefiStatus.INVESTIGATING: N_("Under investigation"),
    AefiStatus.CLOSED: N_("Closed"),
}
CAUSALITY_NAMES = {
    Causality.A1: N_("A1 Consistent: vaccine product-related reaction"),
    Causality.A2: N_("A2 Consistent: vaccine quality defect-related reaction"),
    Causality.A3: N_("A3 Consistent: immunisation error-related reaction"),
    Causality.A4: N_("A4 Consistent: immunisation anxiety-related reaction"),
    Causality.B1: N_("B1 Indeterminate: consistent timing, not enough evidence"),
    Causality.B2: N_("B2 Indeterminate: evidence points both ways"),
    Causality.C: N_("C Inconsistent: coincidental"),
    Causality.D: N_("D Unclassifiable: more information needed"),
}

# The symptoms the kit names (in every language it is translated to), in the order a form
# lists them: the events WHO's manual and its COVID-19 reporting form ask about. A profile
# lists its own (profile.toml [aefi] symptoms); without one, it gets these.
SYMPTOM_NAMES = {
    "fever": N_("Fever"),
    "injection-site": N_("Pain, swelling or redness where the injection was given"),
    "headache": N_("Headache"),
    "rash": N_("Rash"),
    "allergic-reaction": N_("Allergic reaction"),
    "anaphylaxis": N_("Anaphylaxis (severe allergic reaction)"),
    "seizure": N_("Seizure (fit)"),
    "syncope": N_("Fainting"),
    "tts": N_("Blood clots with low platelets (TTS)"),
    "myocarditis": N_("Myocarditis or pericarditis"),
    "guillain-barre": N_("Guillain-Barré syndrome"),
    "other": N_("Other"),
}
DEFAULT_SYMPTOMS = tuple(SYMPTOM_NAMES)
