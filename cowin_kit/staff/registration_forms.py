"""The forms of registering for someone: walk-ins at a centre and assisted registration by
a call or service centre. The rules (a valid ID number, the family limit, eligibility) are
the services'; their refusals are put next to the field they name. Labels shared with the
portal's member form are the same texts."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from cowin_kit.registration.service import MSG_GENDER, MSG_NAME
from cowin_kit.staff.forms import LocalDateField, WholeNumberField


class FindForm(FlaskForm):
    """The ID a person shows: found if registered, else the start of registering them."""

    id_type = SelectField(_l("ID document"), validators=[
        InputRequired(_l("Choose the ID document."))])
    id_number = StringField(_l("ID number"), validators=[
        DataRequired(_l("Enter the ID number.")), Length(max=60)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "dir": "ltr"})


class PersonForm(FindForm):
    """Registering a person on the spot (the ID fields come filled from the search)."""

    name = StringField(_l("Full name, as on the ID document"), validators=[
        DataRequired(_l(MSG_NAME)), Length(max=200)], render_kw={"autocomplete": "off"})
    birth_year = WholeNumberField(_l("Year of birth"), validators=[
        InputRequired(_l("Enter the year of birth, e.g. 1980."))],
        render_kw={"inputmode": "numeric", "maxlength": 4, "dir": "ltr"})
    birth_date = LocalDateField(_l("Date of birth"), validators=[Optional()])
    gender = RadioField(_l("Gender"), validators=[InputRequired(_l(MSG_GENDER))])
    language = SelectField(_l("Language for text messages"), validators=[Optional()])
    mobile = StringField(_l("Mobile number (optional)"), validators=[Length(max=30)],
                         render_kw={"inputmode": "tel", "type": "tel", "dir": "ltr",
                                    "autocomplete": "off"})


class WalkInBookForm(FlaskForm):
    session_id = RadioField(_l("Today's session"), validators=[
        InputRequired(_l("Choose one of today's sessions."))], validate_choice=False)
    move = BooleanField(_l("Cancel their other appointment and vaccinate here today"))


class MobileForm(FlaskForm):
    """The citizen's mobile number, and how they consent."""

    mobile = StringField(_l("Mobile number"), validators=[
        DataRequired(_l("Enter the citizen's mobile number.")), Length(max=30)],
        render_kw={"inputmode": "tel", "type": "tel", "dir": "ltr", "autocomplete": "off"})
    attest = BooleanField(_l("The citizen cannot receive a code now, and gave consent in "
                             "person or by phone"))


class ConsentCodeForm(FlaskForm):
    code = StringField(_l("Code the citizen reads out"), validators=[
        DataRequired(_l("Enter the 6-digit code from the SMS.")),
        Regexp(r"^\s*[0-9]{6}\s*$", message=_l("The code has 6 digits."))],
        render_kw={"autocomplete": "off", "inputmode": "numeric", "maxlength": 6,
                   "dir": "ltr"})


class AssistBookForm(FlaskForm):
    session_id = HiddenField(validators=[DataRequired()])
    # One of the session's slots as the search shows it; booking resolves and checks it.
    slot = StringField(_l("Time"), validators=[InputRequired(_l("Choose a time.")),
                                               Length(max=40)])
