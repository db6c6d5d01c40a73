"""The one family of user errors: a refusal the person can fix (or wait out).

Every domain raises a subclass of :class:`UserError` (``BookingError``,
``RegistrationError``, ``LoginError``, ...), always with the same arguments in the same
order: the English message id (marked with ``N_`` where it is defined), then the input it
concerns (or None), then the message's ``%(name)s`` params::

    raise BookingError(N_("The slot is not valid."), "slot")
    raise SessionFull(MSG_FULL, "session_id", dose=2)

The text is made at render time, in the reader's language, by :meth:`UserError.text`; each
surface maps an error in one place: ``api.errors`` (the Co-WIN JSON answer),
``web.user_errors`` (a form field's error, or a page-level message) and ``cli.common``
(a one-line refusal naming the file and field). This module is a leaf: no Flask, no
database, so services raise these freely.
"""
from __future__ import annotations

from collections.abc import Callable

Gettext = Callable[[str], str]


def _english(msgid: str) -> str:
    return msgid


class UserError(Exception):
    """A refused request. ``msgid`` is the English message (an ``N_`` msgid) with
    ``%(name)s`` placeholders filled from ``params``; ``field`` names the input to fix (None
    when the whole request is refused); ``status`` is the HTTP status it is answered with and
    ``code`` the API's ``errorCode`` (None: the one of the status); ``retry_after`` (seconds)
    is set when waiting is the fix. ``str()`` is the English text, for logs."""

    status = 400
    code: str | None = None

    def __init__(self, msgid: str, field: str | None = None, /, *,
                 retry_after: int | None = None, **params):
        self.msgid, self.field, self.params = msgid, field, params
        self.retry_after = retry_after
        super().__init__(self.text())

    def text(self, gettext: Gettext | None = None) -> str:
        """The message in the language of ``gettext`` (the request's, or a catalogue's);
        English without it. A param that is itself a UserError (a reason inside a reason)
        is rendered in the same language."""
        gettext = gettext or _english
        params = {name: value.text(gettext) if isinstance(value, UserError) else value
                  for name, value in self.params.items()}
        translated = gettext(self.msgid)
        return translated % params if params else translated

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.msgid!r}, {self.field!r})"

