"""What an analyst needs on screen to decide about a scan candidate, and the queue of the
places they make (:mod:`sitewatch.scan.places`), most probable first.

The decisions are :mod:`sitewatch.scan.candidates`' (promote) and
:func:`sitewatch.scan.places.dismiss_place` (dismiss, every part of a place); this module
gathers what the workbench shows next to it: the place in context (the object and a margin
of :data:`CONTEXT_M` on the ground, not the chip's few pixels), the catalog site nearest to
it today (the scan measured against the catalog of its day, and promotions since then may
have added a nearer one), and the scenes of both windows that cover it, with their dates
and sensors, so that the two pictures compared are named: each says whether it was
``composited`` into the candidate tile's picture (a scene that covers the candidate on
paper but was clouded over the whole tile was not), when the scan recorded it.
"""

from __future__ import annotations

from typing import Any

from shapely.geometry import mapping
from sqlalchemy.orm import Session

from sitewatch import limits
from sitewatch.db.models import Candidate, Scan
from sitewatch.errors import NotFoundError
from sitewatch.geo import buffer_metres
from sitewatch.imagery.scenes import scene_summary
from sitewatch.scan.candidate_chips import scenes_compared
from sitewatch.scan.candidates import (
    candidate_acquisitions,
    candidate_to_dict,
    count_candidates,
    get_candidate,
    nearest_site,
)
from sitewatch.scan.places import Place, page_places

#: Ground shown around a candidate on each side: enough for the road that leads to a new
#: pad or the compound a new building belongs to, small enough that a 1-ha object shows.
CONTEXT_M = 400.0


def place_queue(
    session: Session,
    scan_id: str,
    *,
    status: str | None = "new",
    include_known: bool = False,
    offset: int = 0,
    limit: int = limits.DEFAULT_PAGE_ROWS,
) -> dict[str, Any]:
    """A page of a scan's places, most probable first (:func:`list_places`: the listed
    candidates grouped), with the number of places and, in ``known_hidden``, how many
    *candidates* near a known site the filter hides (so an empty queue can say why:
    grouping the hidden ones into places would change the places shown).

    An item is its place's named candidate (every field, so the candidate's view and
    decisions work on it as they are) with the place's ``probability``, ``listed_by``,
    ``member_count``, ``members`` (ids), ``edge`` (any part touches unseen pixels),
    ``place_area_m2``, ``place_outline`` (GeoJSON of every part) and
    ``place_context_bounds`` (the whole place with :data:`CONTEXT_M` around it, so a
    place whose parts reach beyond one part's context is shown whole)."""
    limits.ROW_LIMIT.check(limit, item="limit")
    limits.ROW_OFFSET.check(offset, item="offset")
    filters = {"scan_id": scan_id, "status": status}
    page = page_places(session, **filters, include_known=include_known, offset=offset, limit=limit)
    known_hidden = (
        0
        if include_known
        else count_candidates(session, **filters, include_known=True) - page.candidates
    )
    return {
        "scan_id": scan_id,
        "status": status or "all",
        "include_known": include_known,
        "total": page.total,
        "known_hidden": known_hidden,
        "offset": offset,
        "limit": limit,
        "items": [_place_item(place) for place in page.places],
    }


def _place_item(place: Place) -> dict[str, Any]:
    """A queue row: the named candidate's fields, then the place's."""
    members, outline = place.members, place.outline
    return {
        **candidate_to_dict(members[0]),
        "probability": place.probability,
        "listed_by": place.listed_by,
        "member_count": len(members),
        "members": [member.id for member in members],
        "edge": place.edge,
        "place_area_m2": place.area_m2,
        "place_outline": mapping(outline),
        "place_context_bounds": list(buffer_metres(outline, CONTEXT_M).bounds),
    }


def candidate_view(session: Session, candidate_id: str) -> dict[str, Any]:
    """A candidate with its outline as GeoJSON, its nearest catalog site today, the scenes
    of each window that cover it, the scan's windows, and the bounds [W, S, E, N] to show
    it in context. Reads only: its chips are not drawn (``candidates show`` draws them)."""
    candidate = get_candidate(session, candidate_id)
    scan = session.get(Scan, candidate.scan_id)
    if scan is None:
        raise NotFoundError(f"candidate {candidate.id!r} belongs to no scan in this workspace")
    nearest = nearest_site(session, candidate.geometry)
    return {
        **candidate_to_dict(candidate),
        "nearest": (
            {"site_id": nearest.site_id, "distance_m": nearest.distance_m, "known": nearest.known}
            if nearest
            else None
        ),
        "outline": mapping(candidate.geometry),
        "context_bounds": list(buffer_metres(candidate.geometry, CONTEXT_M).bounds),
        "context_m": CONTEXT_M,
        "scan": {
            "id": scan.id,
            "method": scan.method,
            "before": [scan.before_start.isoformat(), scan.before_end.isoformat()],
            "after": [scan.after_start.isoformat(), scan.after_end.isoformat()],
        },
        "before_scenes": _covering(session, scan, candidate, "before"),
        "after_scenes": _covering(session, scan, candidate, "after"),
    }


def _covering(
    session: Session, scan: Scan, candidate: Candidate, window: str
) -> list[dict[str, Any]]:
    """The window's scenes over the candidate that the scan could have compared, newest
    first, each with ``composited``: True or False when the tile recorded the scenes its
    composite was made of, None for a scan stored before tiles recorded them."""
    start, end = getattr(scan, f"{window}_start"), getattr(scan, f"{window}_end")
    found = scenes_compared(session, scan, candidate.geometry, (start, end))
    recorded = candidate.tile is not None and bool(candidate.tile.acquisitions)
    used = {item["scene_id"] for item in candidate_acquisitions(candidate)[window]}
    return [
        {**scene_summary(scene), "composited": (scene.id in used) if recorded else None}
        for scene in reversed(found)
    ]
