"""Forms of a centre's pages: the centre itself, cancelling a session, vaccine lots and
the centre's staff (flask-wtf: each carries its own CSRF token)."""
from __future__ import annotations

from flask_babel import get_locale, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FloatField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from cowin_kit.scheduling.session_cancel import MAX_REASON
from cowin_kit.staff.forms import LocalDateField, WholeNumberField
from cowin_kit.vaccination.lots import MAX_DOSES


def _choice(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # refused by the service as not one of the choices


class CoordinateField(FloatField):
    def process_formdata(self, valuelist):
        if valuelist and valuelist[0].strip():
            try:
                self.data = float(valuelist[0].strip().replace(",", "."))
                if self.data != self.data or self.data in (float("inf"), float("-inf")):
                    raise ValueError
            except ValueError:
                self.data = None
                raise ValueError(str(_l("Enter a number, like -12.0464."))) from None
        else:
            self.data = None


class FacilityForm(FlaskForm):
    code = StringField(_l("Code"), validators=[InputRequired(_l("Enter the centre's code.")),
                                               Length(max=40)],
                       description=_l("Capital letters, digits and hyphens, like PE-LIM-0042."))
    name = StringField(_l("Name"), validators=[InputRequired(_l("Enter the centre's name.")),
                                               Length(max=200)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=400)])
    division = SelectField(_l("District"), coerce=_choice, validate_choice=False,
                           validators=[InputRequired(_l("Choose a district."))])
    postal_code = StringField(_l("Postal code"), validators=[Optional(), Length(max=20)])
    latitude = CoordinateField(_l("Latitude (optional)"), validators=[Optional()])
    longitude = CoordinateField(_l("Longitude (optional)"), validators=[Optional()])
    fee_type = SelectField(_l("Fee"), validate_choice=False)  # choices: the view


class ActionForm(FlaskForm):
    """A button that changes something (CSRF only)."""


class CancelSessionForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[
        InputRequired(_l("Say why the session is cancelled; people are told.")),
        Length(max=MAX_REASON, message=_l("Use at most %(max)s characters."))],
        description=_l("Sent to each person by SMS, e.g. \"vaccine delivery delayed\"."))


class LotForm(FlaskForm):
    lot_number = StringField(_l("Lot number"), validators=[
        InputRequired(_l("Enter the lot number.")), Length(max=40)])
    product = SelectField(_l("Vaccine"), coerce=_choice, validate_choice=False,
                          validators=[InputRequired(_l("Choose a vaccine."))])
    expires_on = LocalDateField(_l("Expiry date"), validators=[
        InputRequired(_l("Enter the expiry date."))])
    doses_received = WholeNumberField(_l("Doses received"), validators=[
        InputRequired(_l("Enter the doses received.")),
        NumberRange(1, MAX_DOSES, _l("Enter a number from %(min)s to %(max)s."))])


class LotDosesForm(FlaskForm):
    doses_received = WholeNumberField(_l("Doses received"), validators=[
        InputRequired(_l("Enter the doses received.")),
        NumberRange(1, MAX_DOSES, _l("Enter a number from %(min)s to %(max)s."))])


class AssignForm(FlaskForm):
    staff = SelectField(_l("Staff member"), coerce=_choice, validate_choice=False,
                        validators=[InputRequired(_l("Choose a staff member."))])


def weekday_choices() -> list[tuple[int, str]]:
    """Monday (0) to Sunday (6), named in the page's language."""
    from babel.dates import get_day_names

    names = get_day_names("wide", locale=str(get_locale()))
    return [(n, names[n]) for n in range(7)]
