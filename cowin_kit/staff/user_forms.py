"""Forms of the staff-user pages and of the lists' filters (cowin_kit.staff.forms style:
every message translatable; posting forms carry a CSRF token, the GET filters need none).

The role is a choice among the roles the administrator may give; the area and the centre are
typed as codes (a district may have thousands of centres: no list to scroll), and the service
(cowin_kit.accounts.staff_users) says which one is wrong."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, HiddenField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from cowin_kit.staff.forms import LocalDateField

MAX_SEARCH = 100


class ScopeForm(FlaskForm):
    role = SelectField(_l("Role"), validate_choice=False,
                       validators=[InputRequired(_l("Choose a role."))])
    division = StringField(_l("Area (division code)"), validators=[Optional(), Length(max=40)],
                           description=_l("For an administrator, a call-centre or "
                                          "service-centre operator or a verifier, e.g. "
                                          "1501. Empty: the whole country."))
    facility = StringField(_l("Centre code"), validators=[Optional(), Length(max=40)],
                           description=_l("For a facility manager or a vaccinator: the code "
                                          "of their centre, e.g. DEMO-PE-0001."))


class NewUserForm(ScopeForm):
    email = StringField(_l("E-mail address"), validators=[
        InputRequired(_l("Enter the e-mail address.")),
        Length(max=254, message=_l("The e-mail address is too long."))])


class ActionForm(FlaskForm):
    """Disable, enable or reset the password: one button each, the action in ``do``."""
    do = HiddenField()


class ExportForm(FlaskForm):
    """The audit log's CSV export is a POST: it is itself audited."""


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class _Filters(Form):
    """A GET form: no CSRF (it changes nothing), bound to request.args."""

    class Meta:
        csrf = False


class UserFilters(_Filters):
    q = StringField(_l("E-mail contains"), filters=[_strip],
                    validators=[Optional(), Length(max=MAX_SEARCH)])
    role = SelectField(_l("Role"), validate_choice=False, validators=[Optional()])


class AuditFilters(_Filters):
    action = StringField(_l("Action"), filters=[_strip],
                         validators=[Optional(), Length(max=80)],
                         description=_l("Exact, like staff.created, or the start of several "
                                        "ending in a dot, like staff."))
    actor = StringField(_l("Actor"), filters=[_strip],
                        validators=[Optional(), Length(max=254)],
                        description=_l("As the log names it, e.g. staff:12 or cli:root."))
    since = LocalDateField(_l("From"), validators=[Optional()])
    until = LocalDateField(_l("To"), validators=[Optional()])


class CentreFilters(_Filters):
    q = StringField(_l("Name or code"), filters=[_strip],
                    validators=[Optional(), Length(max=MAX_SEARCH)])


class AppointmentFilters(_Filters):
    ref = StringField(_l("Beneficiary reference ID"), filters=[_strip],
                      validators=[Optional(), Length(max=14)])
    date = LocalDateField(_l("Date"), validators=[Optional()])
    centre = StringField(_l("Centre code"), filters=[_strip],
                         validators=[Optional(), Length(max=40)])
    status = SelectField(_l("Status"), validate_choice=False, validators=[Optional()])
