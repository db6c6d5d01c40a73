from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cowin_kit.db import Base


class Division(Base):
    """One administrative division: a state/región (level 1), a district (level 2), …"""

    __tablename__ = "division"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # ISO 3166-2 code for level 1 (e.g. PE-LIM); the country's own code below (e.g. UBIGEO).
    code: Mapped[str] = mapped_column(String(40), unique=True)
    level: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("division.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Names in other languages, {"es": "…", "qu": "…"}; pycountry fills gaps at display time.
    names: Mapped[dict] = mapped_column(JSON, default=dict)
    postal_code: Mapped[str | None] = mapped_column(String(20))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(20), default="profile")
    # People living here (a geography import's population column, or the profile's
    # [reporting.population]): the dashboard's coverage shares. None: not known.
    population: Mapped[int | None] = mapped_column(BigInteger)
    # Its own IANA time zone (the profile's [divisions.timezones]); None: its parent's, up to
    # the deployment's. See cowin_kit.geography.service.zone_of.
    timezone: Mapped[str | None] = mapped_column(String(64))

    parent: Mapped[Division | None] = relationship(remote_side=[id])

    def name_in(self, lang: str) -> str:
        return (self.names or {}).get(lang) or self.name
