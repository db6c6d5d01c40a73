"""The portal's forms. flask-wtf gives each POST form a CSRF token; the rules themselves
(valid mobile, valid ID number, eligibility…) live in the services, whose refusals the
views attach to the field they name."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)
from wtforms.widgets import CheckboxInput, ListWidget

from cowin_kit.registration.service import MSG_GENDER, MSG_NAME

MSG_CSRF = _l("This form has expired or was sent from another site. Nothing was changed; "
              "please try again.")


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(FlaskForm):
    mobile = StringField(_l("Mobile number"), validators=[
        DataRequired(_l("Enter your mobile number.")), Length(max=30)],
        render_kw={"autocomplete": "tel", "inputmode": "tel", "type": "tel"})


class OtpForm(FlaskForm):
    code = StringField(_l("Code from the SMS"), validators=[
        DataRequired(_l("Enter the 6-digit code from the SMS.")),
        Regexp(r"^\s*[0-9]{6}\s*$", message=_l("The code has 6 digits."))],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 6,
                   "pattern": "[0-9]*"})


class MemberForm(FlaskForm):
    """Add a member (every field) or edit one (no ID fields: see update_beneficiary)."""

    name = StringField(_l("Full name, as on the ID document"), validators=[
        DataRequired(_l(MSG_NAME)), Length(max=200)],
        render_kw={"autocomplete": "name"})
    birth_year = IntegerField(_l("Year of birth"), validators=[
        InputRequired(_l("Enter the year of birth, e.g. 1980.")),
        NumberRange(min=1000, max=9999, message=_l("Enter the year of birth, e.g. 1980."))],
        render_kw={"inputmode": "numeric", "maxlength": 4, "autocomplete": "bday-year"})
    # Optional: only a programme that counts age from it asks (booking says so). Whether it
    # falls in the year of birth and not in the future is the registration's rule.
    birth_date = DateField(_l("Date of birth"), validators=[Optional()],
                           invalid_value_message=_l("Enter a real date, written "
                                                    "year-month-day, e.g. 2020-06-15."),
                           render_kw={"autocomplete": "bday"})
    gender = RadioField(_l("Gender"), validators=[
        InputRequired(_l(MSG_GENDER))])
    id_type = SelectField(_l("ID document"), validators=[
        InputRequired(_l("Choose the ID document."))])
    id_number = StringField(_l("ID number"), validators=[
        DataRequired(_l("Enter the ID number.")), Length(max=60)],
        render_kw={"autocomplete": "off", "spellcheck": "false"})
    priority_groups = CheckboxesField(_l("Priority groups (tick any that apply)"))

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:  # the ID is what makes a person unique; it is not edited
            del self.id_type
            del self.id_number


class ConfirmForm(FlaskForm):
    """A POST that only needs the CSRF token: log out, delete, cancel."""


class BookForm(FlaskForm):
    session_id = HiddenField(validators=[DataRequired()])
    slot = RadioField(_l("Time"), validators=[InputRequired(_l("Choose a time."))])
    members = HiddenField()  # reference ids, comma-separated
