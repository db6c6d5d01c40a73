"""The vaccinator's forms (flask-wtf: each carries its CSRF token). The rules are the
services' (cowin_kit.vaccination.centre, .recording); these only read what was typed."""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields import TimeField
from wtforms.validators import InputRequired, Length, Optional


class FindForm(FlaskForm):
    """One form, three ways to find a person (``by``): the appointment's secret code with
    the person's reference, an ID number, or a mobile number."""

    by = HiddenField(default="code")
    reference = StringField(_l("Reference (14 digits)"), validators=[Length(max=40)])
    code = StringField(_l("Secret code (4 digits)"), validators=[Length(max=20)])
    id_type = SelectField(_l("ID document"), validate_choice=False)
    id_number = StringField(_l("ID number"), validators=[Length(max=60)])
    mobile = StringField(_l("Mobile number"), validators=[Length(max=40)])


class LocalTimeField(TimeField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(str(_l("Enter a time like 09:30."))) from None


def _lot_id(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None  # refused by the service: "choose the lot"


class RecordForm(FlaskForm):
    idempotency_key = HiddenField()
    lot = SelectField(_l("Lot"), coerce=_lot_id, validate_choice=False,
                      validators=[InputRequired(_l("Choose the lot the dose came from."))])
    site = RadioField(_l("Where the dose was given"), validate_choice=False,
                      validators=[InputRequired(_l("Choose where the dose was given."))])
    given_time = LocalTimeField(_l("Time given"), validators=[
        InputRequired(_l("Enter the time the dose was given."))])
    override_reason = TextAreaField(_l("Supervisor's reason to give it anyway"),
                                    validators=[Optional(), Length(max=500)])

    def given_at(self, day: dt.date, zone) -> dt.datetime | None:
        if self.given_time.data is None:
            return None
        return dt.datetime.combine(day, self.given_time.data, tzinfo=zone)


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token (arrived, close the day)."""
