"""The stable facade for plugin authors: import from here, not from the kit's internals.

    from cowin_kit.toolkit import IdProvider, InvalidIdNumber, N_, mask_tail

Everything named in ``__all__`` keeps its meaning across minor versions.
"""
from cowin_kit.plugins.builtin.ids.base import (
                                                RegexProvider,
                                                StdnumProvider,
                                                ascii_digits,
                                                mask_tail,
                                                visible_chars,
                                                whole_number,
)
from cowin_kit.plugins.interfaces import (
                                                ID_RULES,
                                                N_,
                                                VERIFY_STATUSES,
                                                IdClaims,
                                                IdProvider,
                                                InvalidIdNumber,
                                                SmsError,
                                                SmsGateway,
                                                VerificationResult,
)

__all__ = [
    "ID_RULES", "VERIFY_STATUSES", "IdClaims", "IdProvider", "InvalidIdNumber", "N_",
    "RegexProvider", "SmsError", "SmsGateway", "StdnumProvider", "VerificationResult",
    "ascii_digits", "mask_tail", "visible_chars", "whole_number",
]
