"""ID document types (the beneficiary rules arrive with the registration issue)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cowin_kit.profiles import Profile
from cowin_kit.registration.models import IdDocumentType


def load_profile_id_documents(session: Session, profile: Profile) -> int:
    """Create the profile's ID document types that are missing; returns how many."""
    have = {t.code for t in session.scalars(select(IdDocumentType))}
    created = 0
    for order, spec in enumerate(profile["id_documents"]):
        if spec["code"] in have:
            continue
        session.add(IdDocumentType(code=spec["code"], provider=spec["provider"],
                                   name=spec["name"], names=spec["names"], sort_order=order))
        created += 1
    session.flush()
    return created
