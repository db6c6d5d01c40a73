"""The staff pages' forms (flask-wtf: each form carries its own CSRF token).

Every message is given here, translatable, rather than left to WTForms' own English.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import (
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields import DateField, DecimalField, IntegerField
from wtforms.validators import EqualTo, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from cowin_kit.toolkit import whole_number

MAX_AGE = 120
MAX_CAPACITY = 100_000
MAX_FEE = Decimal("99999999.99")  # the fee column's precision (10, 2)
MAX_UPLOAD = 2 * 1024 * 1024  # bytes: some 30,000 session lines


class WholeNumberField(IntegerField):
    def process_formdata(self, valuelist):
        if valuelist and valuelist[0].strip():
            raw = valuelist[0].strip()
            self.data = whole_number(raw)
            if self.data is None:
                raise ValueError(str(_l("Enter a whole number, like 12.")))
        else:
            self.data = None


class LocalDateField(DateField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(str(_l("Enter a real date, like %(example)s.",
                                    example=dt.date(2030, 3, 31).isoformat()))) from None


class FeeField(DecimalField):
    def process_formdata(self, valuelist):
        if valuelist and valuelist[0].strip():
            try:
                self.data = Decimal(valuelist[0].strip().replace(",", "."))
                if not self.data.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                self.data = None
                raise ValueError(str(_l("Enter an amount, like 50 or 12.50."))) from None
        else:
            self.data = None


class LoginForm(FlaskForm):
    email = StringField(_l("E-mail address"), validators=[
        InputRequired(_l("Enter your e-mail address.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[
        InputRequired(_l("Enter your password.")), Length(max=1024)])


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[
        InputRequired(_l("Enter your current password."))])
    new = PasswordField(_l("New password"), validators=[
        InputRequired(_l("Enter a new password.")), Length(max=1024)])
    confirm = PasswordField(_l("New password again"), validators=[
        InputRequired(_l("Enter the new password again.")),
        EqualTo("new", _l("The two new passwords are not the same."))])


class CodeForm(FlaskForm):
    """A 6-digit code from the user's authenticator app (TOTP)."""
    code = StringField(_l("Code from your app"), validators=[
        InputRequired(_l("Type the code your app shows.")), Length(max=32)])


class TotpEnrolForm(CodeForm):
    """Switching two-step login on asks for the password too: a borrowed or stolen logged-in
    browser must not be able to bind the account to someone else's phone."""
    current = PasswordField(_l("Current password"), validators=[
        InputRequired(_l("Enter your current password."))])


class LogoutForm(FlaskForm):
    pass


class UploadForm(FlaskForm):
    file = FileField(_l("Sessions file (CSV)"), validators=[
        FileRequired(_l("Choose a CSV file to upload.")),
        FileSize(MAX_UPLOAD, message=_l("The file is too large; split it into files of "
                                         "at most 2 MB."))])


def _product_id(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # refused by the service as "choose one of the vaccines offered"


class SessionForm(FlaskForm):
    date = LocalDateField(_l("Date"), validators=[InputRequired(_l("Enter the date."))])
    product = SelectField(_l("Vaccine"), coerce=_product_id, validate_choice=False,
                          validators=[InputRequired(_l("Choose a vaccine."))])
    min_age = WholeNumberField(_l("Minimum age (years)"), validators=[
        InputRequired(_l("Enter the minimum age.")),
        NumberRange(0, MAX_AGE, _l("Enter an age from %(min)s to %(max)s."))])
    max_age = WholeNumberField(_l("Maximum age (years, optional)"), validators=[
        Optional(), NumberRange(0, MAX_AGE, _l("Enter an age from %(min)s to %(max)s."))])
    slots = TextAreaField(_l("Time slots"), validators=[
        InputRequired(_l("Enter at least one time slot.")), Length(max=1000)],
        description=_l("Start and end of each slot, separated by commas, e.g. "
                       "09:00-11:00, 11:00-13:00"))
    # Recurring sessions and walk-in places (cowin_kit.staff.centre_forms: the weekdays).
    until = LocalDateField(_l("Last day (optional)"), validators=[Optional()],
                           description=_l("To add a session on every chosen weekday up to "
                                          "this day. Leave empty for one session."))
    weekdays = SelectMultipleField(_l("Weekdays"), coerce=int, validate_choice=False,
                                   widget=ListWidget(prefix_label=False),
                                   option_widget=CheckboxInput())
    walk_in_quota = WholeNumberField(_l("Walk-in places"), default=0, validators=[
        Optional(), NumberRange(0, MAX_CAPACITY, _l("Enter a number from %(min)s to %(max)s."))],
        description=_l("Kept for people who walk in, apart from the places above."))

    dose_numbers: list[int] = []

    def capacity_fields(self):
        return [getattr(self, f"capacity_dose{n}") for n in self.dose_numbers]


def session_form(dose_numbers: list[int], paid: bool, currency: str, **kwargs) -> SessionForm:
    """A session form with one capacity field per dose number, and a fee at paid centres."""
    class Form(SessionForm):
        pass

    Form.dose_numbers = list(dose_numbers)
    for n in dose_numbers:
        setattr(Form, f"capacity_dose{n}", WholeNumberField(
            _l("Dose %(num)s", num=n), validators=[
                Optional(), NumberRange(0, MAX_CAPACITY,
                                        _l("Enter a number from %(min)s to %(max)s."))]))
    if paid:
        Form.fee = FeeField(_l("Fee (%(currency)s)", currency=currency), validators=[
            InputRequired(_l("Enter the fee; 0 if this session is free.")),
            NumberRange(0, MAX_FEE, _l("Enter an amount from %(min)s to %(max)s."))])
    return Form(**kwargs)
