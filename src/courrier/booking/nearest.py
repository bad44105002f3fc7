"""Centres nearest to the person's commune first.

The rule: the great-circle distance between the person's commune and the centre's commune, each placed
at its main locality (``register/data/communes.csv``, to about a kilometre); nearer first, ties by centre
id. A person whose commune is not known (an address abroad, a cross-border worker) or a centre in a
commune the list does not have gets no distance, and is ordered after the measured ones by centre id.
Road distance would differ a little; for five to a few dozen centres in a small country, this order is
the one a person expects.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from courrier.centres.centres_file import Centre
from courrier.centres.store import list_centres
from courrier.db.schema import codes, persons
from courrier.register.communes import commune_by_name

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class NearCentre:
    centre: Centre
    # None when the person's or the centre's commune has no known place.
    distance_km: float | None

    def to_json(self) -> dict[str, object]:
        distance = None if self.distance_km is None else round(self.distance_km, 1)
        return {**self.centre.to_json(), "distance_km": distance}


def distance_km(from_commune: str, to_commune: str) -> float | None:
    """Great-circle distance between two communes' main localities; None if either is not known."""
    places = commune_by_name()
    a, b = places.get(from_commune), places.get(to_commune)
    if a is None or b is None:
        return None
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def order_by_distance(centres: Sequence[Centre], commune: str) -> list[NearCentre]:
    """``centres`` nearest to ``commune`` first (the rule above)."""
    near = [NearCentre(centre, distance_km(commune, centre.commune)) for centre in centres]
    return sorted(
        near,
        key=lambda item: (item.distance_km is None, item.distance_km or 0.0, item.centre.id),
    )


def nearest_centres(connection: Connection, commune: str) -> list[NearCentre]:
    """Every centre, nearest to ``commune`` first."""
    return order_by_distance(list_centres(connection), commune)


def nearest_centres_for_code(connection: Connection, code_id: int) -> list[NearCentre]:
    """Every centre, nearest first to the commune of the person the code was issued to."""
    commune = connection.execute(
        select(persons.c.commune).join(codes, codes.c.person_id == persons.c.id).where(codes.c.id == code_id)
    ).scalar_one_or_none()
    return nearest_centres(connection, commune or "")
