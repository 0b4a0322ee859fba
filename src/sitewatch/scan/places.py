"""Places of a scan: its candidates grouped (:mod:`sitewatch.analysis.places`) and ranked by
the probability that they hold real change.

A place is computed from the candidates when it is listed, not stored: the grouping
depends on which candidates are listed (new ones, or every status; near known sites or
not), and re-grouping a city's few hundred candidates costs milliseconds. Grouping reads
only the columns it needs (:class:`ListedColumns`, outlines decoded at once) and loads
whole candidates only for the places a page returns: a country's 100,000 candidates group
in about 1.5 s (benchmarks/map_scale.py, the triage queue's row), where loading each as an
ORM object took seconds more. The place of one candidate (:func:`place_of`, what a
dismissal takes along) reads only its neighbourhood: a box around the candidate, widened
until the place found in it, plus twice the place gap, lies inside it (so no candidate
outside could join): 28 ms at p50 over those 100,000, where grouping them all takes 1.3 s
(benchmarks/places_scale.py). A place is
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
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import LargeBinary, and_, or_, select, type_coerce
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
    listing_filters,
    load_candidates,
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
    probable first (a place touching nodata listed lower); ``limit`` counts places.

    Grouping reads only the columns it needs of every listed candidate; whole candidates
    are loaded for the places returned (a country's scan lists 100,000 candidates, and an
    ORM object each cost seconds; the queue shows 20 places a page)."""
    if limit is not None:
        limits.ROW_LIMIT.check(limit, item="--limit")
    filters = {"scan_id": scan_id, "status": status, "include_known": include_known}
    return page_places(session, **filters, limit=limit).places


@dataclass(frozen=True)
class PlacePage:
    """Places ``offset`` to ``offset + limit`` of a listing, and how many it holds."""

    places: list[Place]
    #: Places in the whole listing.
    total: int
    #: Candidates they are made of.
    candidates: int


def page_places(
    session: Session,
    *,
    scan_id: str | None,
    status: str | None,
    include_known: bool,
    offset: int = 0,
    limit: int | None = None,
) -> PlacePage:
    """A page of :func:`list_places` (every place from ``offset`` when ``limit`` is None)."""
    listed = ListedColumns.query(session, scan_id, status, include_known)
    grouping = group_columns(listed, load_place_model())
    order = grouping.listing_order(listed)
    numbers = order[offset:] if limit is None else order[offset : offset + limit]
    return PlacePage(_places(session, listed, grouping, numbers), len(order), len(listed.ids))


def place_of(session: Session, candidate_id: str, *, include_known: bool = False) -> Place | None:
    """The place of new candidates that ``candidate_id`` belongs to, grouped as the triage
    queue and ``candidates list`` group them: the new candidates of its scan, those near a
    known site too with ``include_known`` or when it is one (it was only listed so). None
    when the candidate is not new (it belongs to no place of new candidates)."""
    candidate = get_candidate(session, candidate_id)
    if candidate.status != "new":
        return None
    filters = (candidate.scan_id, "new", include_known or candidate.known)
    model = load_place_model()
    # Only the candidates near it: grow a box until the place's whole reach is inside it
    # (module docstring); the whole listing only across the antimeridian or at a pole.
    box = _reach(candidate.geometry.bounds)
    while True:
        listed = ListedColumns.query(session, *filters, within=box)
        grouping = group_columns(listed, model)
        number = int(grouping.place_of_member[np.flatnonzero(listed.ids == candidate_id)[0]])
        reach = _reach(shapely.total_bounds(listed.outlines[grouping.members[number]]))
        if box is None or (reach is not None and _inside(reach, box)):
            return _places(session, listed, grouping, [number])[0]
        box = reach


#: Metres in a degree of latitude, rounded down (so a margin in degrees errs wide).
METRES_PER_DEGREE = 110_000.0


def _reach(bounds: Sequence[float]) -> tuple[float, float, float, float] | None:
    """``bounds`` (lon/lat) widened by twice the place gap: every candidate that could join
    a place of those bounds touches this box. None when it crosses the antimeridian or
    comes within a degree of a pole (the box would not be one lon/lat rectangle there)."""
    west, south, east, north = (float(value) for value in bounds)
    margin_lat = 2 * PLACE_GAP_M / METRES_PER_DEGREE
    widest = max(abs(south), abs(north)) + margin_lat
    if widest >= 89.0:
        return None
    margin_lon = margin_lat / math.cos(math.radians(widest))
    box = (west - margin_lon, south - margin_lat, east + margin_lon, north + margin_lat)
    return box if box[0] >= -180.0 and box[2] <= 180.0 else None


def _inside(inner: Sequence[float], outer: Sequence[float]) -> bool:
    """Whether the box ``inner`` lies within ``outer`` (both west, south, east, north)."""
    west, south, east, north = inner
    return outer[0] <= west and outer[1] <= south and east <= outer[2] and north <= outer[3]


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
    (None: probability NaN, for fitting one), in the order of their first member."""
    listed = ListedColumns.of(candidates)
    grouping = group_columns(listed, model, gap_m)
    return [
        _place(listed, grouping, number, [candidates[index] for index in members])
        for number, members in enumerate(grouping.members)
    ]


@dataclass(frozen=True)
class ListedColumns:
    """The listed candidates as columns: what grouping and the place model read."""

    ids: np.ndarray  # str
    scan_ids: np.ndarray  # str
    outlines: np.ndarray  # shapely geometries, lon/lat
    area_m2: np.ndarray
    score: np.ndarray
    max_score: np.ndarray
    edge: np.ndarray  # bool
    vegetation_share: np.ndarray  # NaN where not measured
    lon: np.ndarray  # centroid
    lat: np.ndarray

    @classmethod
    def of(cls, candidates: Sequence[Candidate]) -> ListedColumns:
        """Columns of candidates already loaded."""
        return cls(
            ids=np.array([c.id for c in candidates], dtype=object),
            scan_ids=np.array([c.scan_id for c in candidates], dtype=object),
            outlines=np.array([c.geometry for c in candidates], dtype=object),
            area_m2=np.array([c.area_m2 for c in candidates], float),
            score=np.array([c.score for c in candidates], float),
            max_score=np.array([c.max_score for c in candidates], float),
            edge=np.array([c.edge for c in candidates], bool),
            vegetation_share=np.array([_share(c.vegetation_share) for c in candidates], float),
            lon=np.array([c.centroid_lon for c in candidates], float),
            lat=np.array([c.centroid_lat for c in candidates], float),
        )

    @classmethod
    def query(
        cls,
        session: Session,
        scan_id: str | None,
        status: str | None,
        include_known: bool,
        *,
        within: Sequence[float] | None = None,
    ) -> ListedColumns:
        """Columns of the candidates a listing with these filters holds, read in one query
        and their outlines decoded at once (no ORM object per candidate); ``within``
        (west, south, east, north): only those whose bounding box touches it (and any
        without one, which cannot be placed); None: all of them."""
        conditions = listing_filters(session, scan_id, status, include_known)
        if within is not None:
            west, south, east, north = within
            conditions.append(
                or_(
                    Candidate.min_lon.is_(None),
                    and_(
                        Candidate.max_lon >= west,
                        Candidate.min_lon <= east,
                        Candidate.max_lat >= south,
                        Candidate.min_lat <= north,
                    ),
                )
            )
        rows = session.execute(
            select(
                Candidate.id,
                Candidate.scan_id,
                type_coerce(Candidate.geometry, LargeBinary),
                Candidate.area_m2,
                Candidate.score,
                Candidate.max_score,
                Candidate.edge,
                Candidate.vegetation_share,
                Candidate.centroid_lon,
                Candidate.centroid_lat,
            ).where(*conditions)
        ).all()
        columns = list(zip(*rows, strict=True)) if rows else [()] * 10
        wkb = np.array([bytes(value) for value in columns[2]], dtype=object)
        return cls(
            ids=np.array(columns[0], dtype=object),
            scan_ids=np.array(columns[1], dtype=object),
            outlines=shapely.from_wkb(wkb) if len(wkb) else np.array([], dtype=object),
            area_m2=np.array(columns[3], float),
            score=np.array(columns[4], float),
            max_score=np.array(columns[5], float),
            edge=np.array(columns[6], bool),
            vegetation_share=np.array([_share(share) for share in columns[7]], float),
            lon=np.array(columns[8], float),
            lat=np.array(columns[9], float),
        )


@dataclass(frozen=True)
class ColumnGrouping:
    """The places of :class:`ListedColumns`: each place's member rows (best member first),
    its features, probability and listing score, and each row's place."""

    members: list[np.ndarray]
    scan_ids: list[str]
    features: np.ndarray
    probability: np.ndarray
    listed_by: np.ndarray
    place_of_member: np.ndarray

    def listing_order(self, listed: ListedColumns) -> list[int]:
        """Place numbers as places are listed: listing score, then area, then id."""
        area = np.bincount(
            self.place_of_member, weights=listed.area_m2, minlength=len(self.members)
        )
        names = np.array([listed.ids[members[0]] for members in self.members], dtype=object)
        return np.lexsort((names, -area, -self.listed_by)).tolist()


def group_columns(
    listed: ListedColumns, model: PlaceModel | None, gap_m: float = PLACE_GAP_M
) -> ColumnGrouping:
    """Group ``listed`` per scan and UTM zone (:func:`~sitewatch.analysis.places.group_places`)
    and score the places by ``model`` (None: probability NaN)."""
    zones = _zones(listed.lon, listed.lat)
    members: list[np.ndarray] = []
    scan_ids: list[str] = []
    features: list[np.ndarray] = []
    place_of_member = np.zeros(len(listed.ids), dtype=np.int64)
    keys = sorted(set(zip(listed.scan_ids.tolist(), zones.tolist(), strict=True)))
    for scan_id, epsg in keys:
        rows = np.flatnonzero((listed.scan_ids == scan_id) & (zones == epsg))
        outlines = reproject(listed.outlines[rows], LONLAT_EPSG, int(epsg))
        labels = group_places(outlines, gap_m)
        features.append(
            place_features(
                labels,
                listed.area_m2[rows],
                listed.score[rows],
                listed.max_score[rows],
                listed.edge[rows],
                listed.vegetation_share[rows],
            )
        )
        # Best member first: highest peak score, then area, then id.
        best_first = np.lexsort((listed.ids[rows], -listed.area_m2[rows], -listed.max_score[rows]))
        by_place = best_first[np.argsort(labels[best_first], kind="stable")]
        grouped = np.split(rows[by_place], np.cumsum(np.bincount(labels))[:-1])
        place_of_member[rows] = labels + len(members)
        members.extend(grouped)
        scan_ids.extend([scan_id] * len(grouped))
    table = np.vstack(features) if features else np.zeros((0, len(PLACE_FEATURES)))
    probability = model.probability(table) if model is not None else np.full(len(table), np.nan)
    return ColumnGrouping(
        members=members,
        scan_ids=scan_ids,
        features=table,
        probability=probability,
        listed_by=listing_score(probability, table[:, PLACE_FEATURES.index("edge")]),
        place_of_member=place_of_member,
    )


def _places(
    session: Session, listed: ListedColumns, grouping: ColumnGrouping, numbers: Sequence[int]
) -> list[Place]:
    """The places ``numbers`` of ``grouping``, with their members loaded whole."""
    wanted = [str(listed.ids[row]) for number in numbers for row in grouping.members[number]]
    loaded = {candidate.id: candidate for candidate in load_candidates(session, wanted)}
    return [
        _place(
            listed,
            grouping,
            number,
            [loaded[str(listed.ids[row])] for row in grouping.members[number]],
        )
        for number in numbers
    ]


def _place(
    listed: ListedColumns, grouping: ColumnGrouping, number: int, members: list[Candidate]
) -> Place:
    return Place(
        id=str(listed.ids[grouping.members[number][0]]),
        scan_id=grouping.scan_ids[number],
        probability=float(grouping.probability[number]),
        listed_by=float(grouping.listed_by[number]),
        features=dict(zip(PLACE_FEATURES, grouping.features[number].tolist(), strict=True)),
        members=tuple(members),
    )


def _share(value: float | None) -> float:
    """A member's vegetation share, NaN when it was not measured."""
    return np.nan if value is None else value


def _zones(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The UTM zone (EPSG) of each centroid."""
    zone = np.minimum(np.floor((lon + 180.0) / 6.0).astype(int) + 1, 60)
    return np.where(lat >= 0, utm_epsg(0, True), utm_epsg(0, False)) + zone
