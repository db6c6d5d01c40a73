"""The adverse-event (AEFI) report form, one for the vaccinator's page and the citizen
portal, so both ask the same questions; the rules (which symptoms, the onset, seriousness)
are cowin_kit.vaccination.aefi's, whose refusals the views put next to the field they name.

The choices are checked by the service, not WTForms (whose refusals are English and name no
fix): every choice field here is ``validate_choice=False``.
"""
from __future__ import annotations

from flask_babel import format_date, get_locale, gettext, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SelectMultipleField, TextAreaField
from wtforms.fields import DateField, TimeField
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from cowin_kit.runtime import deployment
from cowin_kit.vaccination.aefi import AefiInput, profile_symptoms
from cowin_kit.vaccination.aefi_terms import (
    CAUSALITY_NAMES,
    CRITERION_NAMES,
    OUTCOME_NAMES,
    SERIOUSNESS_NAMES,
    SERIOUSNESS_SHORT,
    STATUS_NAMES,
)

MSG_DATE = _l("Enter a real date, written year-month-day, e.g. 2021-05-21.")
MSG_TIME = _l("Enter a time written hours:minutes, e.g. 14:30, or leave it empty.")


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class _Date(DateField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(str(MSG_DATE)) from None


class _Time(TimeField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(str(MSG_TIME)) from None


class AefiReportForm(FlaskForm):
    dose = SelectField(_l("Dose"), validate_choice=False)
    symptoms = Checkboxes(_l("Symptoms"), validate_choice=False)
    onset = _Date(_l("Day it started"), validators=[Optional()])
    onset_time = _Time(_l("Time it started (if known)"), validators=[Optional()])
    seriousness = RadioField(_l("Seriousness"), validate_choice=False)
    serious_criteria = Checkboxes(_l("What made it serious"), validate_choice=False)
    outcome = SelectField(_l("Outcome"), validate_choice=False)
    description = TextAreaField(_l("What happened"))

    def fill(self, doses, symptoms, lang: str, default_language: str) -> None:
        """The choices: the person's doses (the latest chosen unless another is), the
        profile's symptoms, WHO's seriousness and outcomes, in the page's language."""
        self.dose.choices = [(str(d.id), gettext("Dose %(dose)s: %(vaccine)s on %(date)s",
                                                 dose=d.dose_number, vaccine=d.product.name,
                                                 date=format_date(d.given_on, "medium")))
                             for d in reversed(doses)]
        if not self.dose.data and doses:
            self.dose.data = str(doses[-1].id)
        self.symptoms.choices = [(s.code, s.label(gettext, lang, default_language))
                                 for s in symptoms]
        self.seriousness.choices = [(k.value, gettext(v)) for k, v in SERIOUSNESS_NAMES.items()]
        self.serious_criteria.choices = [(k.value, gettext(v))
                                         for k, v in CRITERION_NAMES.items()]
        self.outcome.choices = [("", gettext("Choose…"))] + [
            (k.value, gettext(v)) for k, v in OUTCOME_NAMES.items()]

    def values(self) -> AefiInput:
        dose = self.dose.data
        return AefiInput(
            dose_id=int(dose) if isinstance(dose, str) and dose.isdigit() and len(dose) < 10
            else -1 if dose else None,
            symptoms=list(self.symptoms.data or []), onset_on=self.onset.data,
            onset_time=self.onset_time.data, seriousness=self.seriousness.data or None,
            serious_criteria=list(self.serious_criteria.data or []),
            outcome=self.outcome.data or None, description=self.description.data or "")


def aefi_names() -> dict[str, dict[str, str]]:
    """The AEFI words in the page's language, by code (for the templates)."""
    dep = deployment()
    lang = str(get_locale())
    return {"seriousness": {k.value: gettext(v) for k, v in SERIOUSNESS_SHORT.items()},
            "criteria": {k.value: gettext(v) for k, v in CRITERION_NAMES.items()},
            "outcome": {k.value: gettext(v) for k, v in OUTCOME_NAMES.items()},
            "status": {k.value: gettext(v) for k, v in STATUS_NAMES.items()},
            "causality": {k.value: gettext(v) for k, v in CAUSALITY_NAMES.items()},
            "symptoms": {s.code: s.label(gettext, lang, dep.profile.default_language)
                         for s in profile_symptoms(dep.profile)}}
