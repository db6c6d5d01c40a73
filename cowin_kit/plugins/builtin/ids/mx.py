"""Mexico: CURP."""
from __future__ import annotations

from stdnum.mx import curp

from cowin_kit.plugins.builtin.ids.base import StdnumProvider
from cowin_kit.plugins.interfaces import N_


class Curp(StdnumProvider):
    """Mexico's Clave Única de Registro de Población (CURP), issued by RENAPO.

    Source: python-stdnum's ``stdnum.mx.curp`` (after RENAPO's published structure): 18
    characters, 4 letters from the name, the birth date YYMMDD, H or M for the sex, the
    2-letter state of birth (or NE, born abroad), 3 inner consonants of the names, a
    character that tells the century apart, and a check digit (weighted sum mod 10). The
    date, sex and state are checked, and the 4 letters may not be one of the words RENAPO
    replaces. The canonical form is the 18 characters in capitals.

    >>> c = Curp()
    >>> c.validate("BOXW310820HNERXN09")
    'BOXW310820HNERXN09'
    >>> c.validate("hegg 560427 mvzrrl04")
    'HEGG560427MVZRRL04'
    >>> c.validate("BOXW310820HNERXN08")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number's check digit does not match: look for a mistyped character.
    >>> c.validate("BOXW310820HNERXN0")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has the wrong number of characters.
    >>> c.validate("BOXW311320HNERXN09")
    Traceback (most recent call last):
    cowin_kit.toolkit.InvalidIdNumber: The number has characters or a layout this document does not use.
    >>> c.mask("BOXW310820HNERXN09")
    'XXXXXXXXXXXXXXXN09'
    """

    code = "mx.curp"
    country = "MX"
    name = N_("Population registry code (CURP)")
    hint = N_("The 18 letters and digits of the CURP, as on your CURP record or voter card.")
    example = "HEGG560427MVZRRL04"
    module = curp
