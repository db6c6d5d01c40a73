"""What a person registers with: the accepted ID document types and the genders, as plain
values for every form and list that offers them (the portal's member form, the API's
idTypes and genders). No Flask here."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cowin_kit.plugins.interfaces import N_, IdProvider
from cowin_kit.registration.models import IdDocumentType

# (Co-WIN's gender_id, the stored code, its label): the one list of genders.
GENDERS = [(1, "male", N_("Male")), (2, "female", N_("Female")), (3, "other", N_("Other"))]
GENDER_BY_ID = {i: code for i, code, _label in GENDERS}


def local_name(name: str, names: dict | None, lang: str, default_language: str | None) -> str:
    """A name in ``lang``: ``name`` is in the default language, ``names`` in the others."""
    if lang == default_language:
        return name
    return (names or {}).get(lang) or name


@dataclass(frozen=True)
class IdType:
    id: int
    code: str
    name: str  # as the profile names it (the default language)
    name_l: str  # in the reader's language
    provider: IdProvider


def accepted_id_types(session: Session, providers: dict, lang: str,
                      default_language: str | None = None) -> list[IdType]:
    """The active ID document types that an installed provider checks, in the profile's
    order; a type without its provider is left out (registering with it would be refused)."""
    out = []
    for t in session.scalars(select(IdDocumentType).where(IdDocumentType.is_active.is_(True))
                             .order_by(IdDocumentType.sort_order)):
        provider = providers.get(t.code)
        if provider is not None:
            out.append(IdType(id=t.id, code=t.code, name=t.name,
                              name_l=local_name(t.name, t.names, lang, default_language),
                              provider=provider))
    return out
