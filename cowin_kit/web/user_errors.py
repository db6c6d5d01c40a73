"""A user error (cowin_kit.errors) on a page, in the request's language: next to the form
field it names, else above the form, or flashed when the page has no form to show it in.
The portal's and the staff pages' one way to show a refusal."""
from __future__ import annotations

from flask import flash
from flask_babel import gettext

from cowin_kit.errors import UserError


def form_error(form, exc: UserError, *, default: str | None = None) -> str | None:
    """Put the error's text on the form field it names, or on ``default`` (a page whose form
    has one input) when it names none of the form's. Returns the text when no field took it,
    for the page to show above the form."""
    message = exc.text(gettext)
    name = exc.field if exc.field and exc.field in form else default
    if name is None or name not in form:
        return message
    # A field's errors are a tuple until the form is validated, a list after.
    form[name].errors = [*form[name].errors, message]
    return None


def flash_error(exc: UserError) -> None:
    """The error as a message on the next page (after a redirect)."""
    flash(exc.text(gettext), "error")
