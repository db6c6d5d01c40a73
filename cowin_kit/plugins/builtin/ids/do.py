"""Dominican Republic: cédula de identidad y electoral."""
from __future__ import annotations

from stdnum.do import cedula

from cowin_kit.plugins.builtin.ids.base import StdnumProvider
from cowin_kit.plugins.interfaces import N_


class Cedula(StdnumProvider):
    """The Dominican Republic's cédula de identidad y electoral, issued by the Junta
    Central Electoral (JCE).

    Source: python-stdnum's ``stdnum.do.cedula``: 11 digits (printed 001-1391820-5), the
    last a Luhn check digit. Some cédulas issued before the check digit was enforced do not
    pass it; stdnum keeps a whitelist of those (a few have 10 digits) and they are accepted
    as they are. The canonical form is the digits without hyphens.

    >>> c = Cedula()
    >>> c.validate("001-1391820-5")
    '00113918205'
    >>> c.validate("22400022111")
    '22400022111'
    >>> c.validate("00000021249")
    '00000021249'
    >>> c.validate("00113918204")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number's check digit does not match: look for a mistyped character.
    >>> c.validate("0011391820A")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> c.validate("001-139182")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> c.mask("001-1391820-5")
    'XXXXXXXX205'
    """

    code = "do.cedula"
    country = "DO"
    name = N_("Identity and electoral card (cédula)")
    hint = N_("The 11 digits of the cédula, e.g. 001-1391820-5; the hyphens are optional.")
    example = "00113918205"
    module = cedula
