"""Places of a scan: its candidates grouped (:mod:`sitewatch.analysis.places`) and ranked by
the probability that they hold real change.

A place is computed from the candidates when it is listed, not stored: the grouping
depends on which candidates are listed (new ones, or every status; near known sites or
not), and re-grouping a city's few hundred candidates costs milliseconds. A place is
named by its best member (highest peak score, then area, then id), a candidate id, so
``candidates show``, ``promote`` and ``dismiss`` take it as they are.

Candidates are grouped within one scan and one UTM zone (distances are measured there,
on the ground); a place split by a zone boundary stays two places.

The probability comes from the place model shipped in ``sitewatch/models/place_ranker.json``
(fitted by benchmarks/scan_places.py on the ten labelled OSCD cities, its precision
reported out of fold). Places are listed by :func:`~sitewatch.analysis.places.listing_score`:
the probability, a place touching nodata listed lower. Ties, rare with continuous
features, go to the larger place, then the id, so the same scan always lists the same way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from sitewatch import limits
from sitewatch.analysis.places import (
    PLACE_FEATURES,
    PLACE_GAP_M,
    PlaceModel,
    group_places,
    listing_score,
    place_features,
)
from sitewatch.db.models import Candidate
from sitewatch.errors import InputError
from sitewatch.scan.candidates import (
    candidate_to_dict,
    dismiss_candidate,
    get_candidate,
    list_candidates,
)
from sitewatch.scan.grid import LONLAT_EPSG, reproject, utm_epsg

MODEL_FILE = "place_ranker.json"


@dataclass(frozen=True)
class Place:
    """Candidates of one scan closer than the place gap to each other, as one thing."""

    id: str
    scan_id: str
    probability: float
    #: What the place is listed by: ``probability``, lower when it touches nodata.
    listed_by: float
    features: dict[str, float]
    members: tuple[Candidate, ...]

    @property
    def outline(self) -> BaseGeometry:
        """The members' outlines as one (lon/lat): a cut object's halves become one."""
        return shapely.union_all([member.geometry for member in self.members])

    @property
    def area_m2(self) -> float:
        return float(sum(member.area_m2 for member in self.members))

    @property
    def edge(self) -> bool:
        return any(member.edge for member in self.members)

    @property
    def nearest(self) -> Candidate | None:
        """The member nearest to a catalog site (None: no member measured one)."""
        measured = [member for member in self.members if member.nearest_site_m is not None]
        return min(measured, key=lambda member: member.nearest_site_m) if measured else None

    def as_dict(self, *, members: bool = True) -> dict[str, Any]:
        """The place, JSON-ready: its numbers, its outline (WKT), and its members (every
        field, or only their ids when ``members`` is False)."""
        outline = self.outline
        centre = outline.centroid
        nearest = self.nearest
        return {
            "id": self.id,
            "scan_id": self.scan_id,
            "probability": self.probability,
            "listed_by": self.listed_by,
            "area_m2": self.area_m2,
            "member_count": len(self.members),
            "edge": self.edge,
            "known": any(member.known for member in self.members),
            "nearest_site_id": nearest.nearest_site_id if nearest else None,
            "nearest_site_m": nearest.nearest_site_m if nearest else None,
            "features": self.features,
            "centroid_lon": centre.x,
            "centroid_lat": centre.y,
            "geometry": outline.wkt,
            "members": (
                [candidate_to_dict(member) for member in self.members]
                if members
                else [member.id for member in self.members]
            ),
        }


@lru_cache(maxsize=4)
def load_place_model(path: str | None = None) -> PlaceModel:
    """The shipped place model (``sitewatch/models/place_ranker.json``) or the one at ``path``."""
    try:
        if path is None:
            text = (resources.files("sitewatch") / "models" / MODEL_FILE).read_text()
        else:
            text = Path(path).read_text()
        return PlaceModel.from_dict(json.loads(text))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(
            f"cannot load the place model: {error}", source=path or MODEL_FILE
        ) from None


def list_places(
    session: Session,
    *,
    scan_id: str | None = None,
    status: str | None = "new",
    include_known: bool = False,
    limit: int | None = None,
) -> list[Place]:
    """The places of the listed candidates (the filters of :func:`list_candidates`), most
    probable first (a place touching nodata listed lower); ``limit`` counts places."""
    if limit is not None:
        limits.ROW_LIMIT.check(limit, item="--limit")
    candidates = list_candidates(
        session, scan_id=scan_id, status=status, include_known=include_known
    )
    found = group_candidates(candidates, load_place_model())
    found.sort(key=lambda place: (-place.listed_by, -place.area_m2, place.id))
    return found if limit is None else found[:limit]


def place_of(session: Session, candidate_id: str, *, include_known: bool = False) -> Place | None:
    """The place of new candidates that ``candidate_id`` belongs to, grouped as the triage
    queue and ``candidates list`` group them: the new candidates of its scan, those near a
    known site too with ``include_known`` or when it is one (it was only listed so). None
    when the candidate is not new (it belongs to no place of new candidates)."""
    candidate = get_candidate(session, candidate_id)
    if candidate.status != "new":
        return None
    found = list_places(
        session,
        scan_id=candidate.scan_id,
        status="new",
        include_known=include_known or candidate.known,
    )
    return next(place for place in found if candidate in place.members)


def dismiss_place(
    session: Session,
    candidate_id: str,
    reason: str,
    *,
    include_known: bool = False,
    author: str | None = None,
) -> list[Candidate]:
    """Dismiss a candidate and the other new candidates of its place (:func:`place_of`)
    with the one reason, each in the ledger; returns them, the named one first.

    A place is one thing to the analyst: dismissing only its named candidate would list
    the place again, named by its next member, for the same decision. The place is grouped
    before anything is dismissed (dismissing a member could split what is left). The named
    candidate is dismissed first, so a missing reason or a decided candidate is refused
    before anything is written. Promotion has no such rule: the new site makes every new
    candidate within a kilometre of it ``known`` (hidden from the default listing), which
    takes the place's other parts along unless the place reaches farther than that.
    """
    place = place_of(session, candidate_id, include_known=include_known)
    others = [member for member in place.members if member.id != candidate_id] if place else []
    named = dismiss_candidate(session, candidate_id, reason, author=author)
    return [named, *(dismiss_candidate(session, m.id, reason, author=author) for m in others)]


def group_candidates(
    candidates: Sequence[Candidate], model: PlaceModel | None, gap_m: float = PLACE_GAP_M
) -> list[Place]:
    """The places of ``candidates`` (grouped per scan and UTM zone), scored by ``model``
    (None: probability NaN, for fitting one)."""
    by_zone: dict[tuple[str, int], list[Candidate]] = {}
    for candidate, epsg in zip(candidates, _zones(candidates), strict=True):
        by_zone.setdefault((candidate.scan_id, epsg), []).append(candidate)
    places: list[Place] = []
    for (scan_id, epsg), members in sorted(by_zone.items()):
        outlines = reproject(
            np.array([member.geometry for member in members], dtype=object), LONLAT_EPSG, epsg
        )
        labels = group_places(outlines, gap_m)
        features = place_features(
            labels,
            np.array([member.area_m2 for member in members], float),
            np.array([member.score for member in members], float),
            np.array([member.max_score for member in members], float),
            np.array([member.edge for member in members], bool),
            np.array([_share(member.vegetation_share) for member in members], float),
        )
        probability = (
            model.probability(features) if model is not None else np.full(len(features), np.nan)
        )
        listed_by = listing_score(probability, features[:, PLACE_FEATURES.index("edge")])
        grouped: list[list[Candidate]] = [[] for _ in range(len(features))]
        for member, label in zip(members, labels.tolist(), strict=True):
            grouped[label].append(member)
        for number, group in enumerate(grouped):
            group.sort(key=lambda member: (-member.max_score, -member.area_m2, member.id))
            places.append(
                Place(
                    id=group[0].id,
                    scan_id=scan_id,
                    probability=float(probability[number]),
                    listed_by=float(listed_by[number]),
                    features=dict(zip(PLACE_FEATURES, features[number].tolist(), strict=True)),
                    members=tuple(group),
                )
            )
    return places


def _share(value: float | None) -> float:
    """A member's vegetation share, NaN when it was not measured."""
    return np.nan if value is None else value


def _zones(candidates: Sequence[Candidate]) -> list[int]:
    """The UTM zone (EPSG) of each candidate's centroid."""
    lon = np.array([candidate.centroid_lon for candidate in candidates], float)
    lat = np.array([candidate.centroid_lat for candidate in candidates], float)
    zone = np.minimum(np.floor((lon + 180.0) / 6.0).astype(int) + 1, 60)
    return [utm_epsg(int(z), bool(north)) for z, north in zip(zone, lat >= 0, strict=True)]
