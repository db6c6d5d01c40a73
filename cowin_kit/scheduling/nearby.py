"""Centres near a point: an indexed box around it, widened until it holds enough centres,
then the exact great-circle distance. The same SQL on SQLite and PostgreSQL (no trigonometry
in the database, no spatial extension): the box's bounds and the flat-earth ordering are
plain arithmetic on the latitude and longitude columns."""
from __future__ import annotations

import math

from sqlalchemy import select
from sqlalchemy.orm import Session

from cowin_kit.scheduling.models import Facility

EARTH_RADIUS_KM = 6371.0
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180  # of latitude, and of longitude at the equator
# Where centres are looked for, widening until enough are found: a town's, a province's, a
# region's. A centre farther than the last is no help to someone looking for one nearby.
NEAR_RADII_KM = (10.0, 50.0, 200.0)
NEAR_LIMIT = 20


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def _in_box(session: Session, lat: float, lon: float, radius: float, limit: int):
    """(id, lat, long) of active centres in the box around the point ``radius`` km each way
    (the index on latitude and longitude finds them): the ``limit`` nearest by a flat-earth
    distance the database can compute, or all of them where the box crosses a pole or the
    180th meridian (rare; sorted by the caller)."""
    dlat = radius / KM_PER_DEGREE
    coslat = math.cos(math.radians(lat))
    dlon = radius / (KM_PER_DEGREE * coslat) if coslat > 1e-6 else 360.0
    where = [Facility.latitude.between(lat - dlat, lat + dlat), Facility.is_active.is_(True)]
    query = select(Facility.id, Facility.latitude, Facility.longitude)
    if dlon >= 180 or lat + dlat > 90 or lat - dlat < -90:
        return session.execute(query.where(*where, Facility.longitude.is_not(None))).all()
    west, east = lon - dlon, lon + dlon
    if west < -180 or east > 180:
        across = Facility.longitude >= (west + 360 if west < -180 else west)
        back = Facility.longitude <= (east - 360 if east > 180 else east)
        return session.execute(query.where(*where, across | back)).all()
    flat = ((Facility.latitude - lat) * (Facility.latitude - lat)
            + (Facility.longitude - lon) * (Facility.longitude - lon) * (coslat * coslat))
    return session.execute(query.where(*where, Facility.longitude.between(west, east))
                           .order_by(flat, Facility.id).limit(limit)).all()


def nearest_centres(session: Session, lat: float, lon: float, limit: int = NEAR_LIMIT,
                    radius_km: float = NEAR_RADII_KM[-1]) -> list[tuple[int, float]]:
    """(centre id, km) of the ``limit`` active centres nearest the point within
    ``radius_km``, nearest first. A box around the point, widened from a town's size until
    it holds enough centres: a few index look-ups, however many centres the country has."""
    radii = [r for r in NEAR_RADII_KM if r < radius_km] + [radius_km]
    found: list[tuple[float, int]] = []
    for radius in radii:
        # Twice the limit by the flat distance, then the exact one: the two orders differ
        # only in the last digits at these distances.
        rows = _in_box(session, lat, lon, radius, 2 * limit + 10)
        found = sorted((distance_km(lat, lon, r.latitude, r.longitude), r.id) for r in rows)
        found = [(km, fid) for km, fid in found if km <= radius][:limit]
        if len(found) >= limit:
            break
    return [(fid, km) for km, fid in found]
