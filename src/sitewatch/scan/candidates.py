"""Triage of scan candidates: list, show, promote to a catalog site, dismiss with a reason.

A scan finds places that changed; an analyst decides which of them are sites. Both
decisions are claims that others will question, so each is written to the evidence ledger
in the same transaction as the change it describes, with the provenance that led to it
(scan, tile, score, date windows, method) and the quicklook chips the analyst looked at
(drawn on first use by :mod:`sitewatch.scan.candidate_chips`, then hashed, so a later
reader can check they are the same pictures).

Candidates near a site already in the catalog are flagged ``known`` by the scan and left out
of listings unless asked for: a scan of a well-documented area would otherwise bury the new
places under the old ones. Promoting a candidate flags the new candidates near the site it
makes in the same way (:func:`flag_candidates_near`). "Near" is one rule,
:attr:`NearestSite.known`, on distances measured on the ground, edge to edge.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, selectinload

from sitewatch import limits
from sitewatch.catalog.records import SiteRecord, SourceRecord
from sitewatch.catalog.sites import add_site, to_record
from sitewatch.db.models import Candidate, Scan, Site
from sitewatch.errors import ConflictError, InputError, NotFoundError
from sitewatch.evidence import ledger
from sitewatch.geo import buffer_metres, distance_metres, local_utm
from sitewatch.scan.candidate_chips import ensure_chips
from sitewatch.scan.grid import LONLAT_EPSG, reproject
from sitewatch.text import check_text
from sitewatch.workspace import workspace_of

STATUSES = ("new", "promoted", "dismissed")
# A candidate this close to a catalog site is that site (or its surroundings), not a new one.
KNOWN_WITHIN_M = 1000.0
# A promoted site is never claimed more precisely than one Sentinel-2 pixel.
MIN_UNCERTAINTY_M = 10.0


@dataclass(frozen=True)
class NearestSite:
    """The catalog site closest to a place and its ground distance in metres."""

    site_id: str
    distance_m: float

    @property
    def known(self) -> bool:
        return self.distance_m <= KNOWN_WITHIN_M


def nearest_site(session: Session, geometry: BaseGeometry) -> NearestSite | None:
    """The located catalog site nearest to a lon/lat ``geometry`` (None for an empty catalog).

    Distances are measured on the ground (UTM of ``geometry``), edge to edge, so a change
    inside a site's polygon is at 0 m. Catalogs hold hundreds of sites, not millions: one
    pass over them is cheaper than maintaining a spatial index for this.
    """
    best: NearestSite | None = None
    for site_id, site_geometry in session.execute(
        select(Site.id, Site.geometry).where(Site.geometry.is_not(None))
    ):
        distance = distance_metres(geometry, site_geometry)
        if best is None or distance < best.distance_m:
            best = NearestSite(site_id, distance)
    return best


def list_candidates(
    session: Session,
    *,
    scan_id: str | None = None,
    status: str | None = "new",
    include_known: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[Candidate]:
    """Candidates by descending score, larger first among equal scores (strong objects
    share the significance cap); ``status`` None means every status."""
    query = _candidates_query(session, scan_id, status, include_known).order_by(
        Candidate.score.desc(), Candidate.area_m2.desc(), Candidate.id
    )
    if limit is not None:
        query = query.limit(limits.ROW_LIMIT.check(limit, item="--limit"))
    if offset:
        query = query.offset(limits.ROW_OFFSET.check(offset, item="offset"))
    return list(session.scalars(query))


#: Ids per ``IN (...)`` query: far below SQLite's bound on a statement's parameters.
ID_BATCH = 5000


def load_candidates(session: Session, ids: Sequence[str]) -> list[Candidate]:
    """The candidates of ``ids`` (those that exist), with their tiles, in a few queries."""
    found: list[Candidate] = []
    for start in range(0, len(ids), ID_BATCH):
        batch = list(ids[start : start + ID_BATCH])
        query = select(Candidate).options(selectinload(Candidate.tile))
        found.extend(session.scalars(query.where(Candidate.id.in_(batch))))
    return found


def count_candidates(
    session: Session,
    *,
    scan_id: str | None = None,
    status: str | None = "new",
    include_known: bool = False,
) -> int:
    """How many candidates :func:`list_candidates` lists without a limit."""
    query = _candidates_query(session, scan_id, status, include_known)
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def _candidates_query(
    session: Session, scan_id: str | None, status: str | None, include_known: bool
) -> Select[tuple[Candidate]]:
    # The tile's acquisitions are read with the page, not one query per candidate.
    return (
        select(Candidate)
        .options(selectinload(Candidate.tile))
        .where(*listing_filters(session, scan_id, status, include_known))
    )


def listing_filters(
    session: Session, scan_id: str | None, status: str | None, include_known: bool
) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a listing (checked: a known status, an existing scan), for
    whole candidates here and for the columns places are grouped from."""
    if status is not None and status not in STATUSES:
        raise InputError(
            f"must be one of {', '.join(STATUSES)} or all, got {status!r}", item="status"
        )
    if scan_id is not None and session.get(Scan, scan_id) is None:
        raise NotFoundError(f"no scan with id {scan_id!r} in this workspace")
    conditions: list[ColumnElement[bool]] = []
    if scan_id is not None:
        conditions.append(Candidate.scan_id == scan_id)
    if status is not None:
        conditions.append(Candidate.status == status)
    if not include_known:
        conditions.append(Candidate.known.is_(False))
    return conditions


def get_candidate(session: Session, candidate_id: str) -> Candidate:
    candidate = session.get(Candidate, candidate_id)
    if candidate is None:
        raise NotFoundError(f"no candidate with id {candidate_id!r} in this workspace")
    return candidate


def open_candidate(session: Session, candidate_id: str) -> tuple[Candidate, str | None]:
    """The candidate with its chips drawn (in the caller's transaction), and why they could
    not be drawn (None when they were): a candidate whose imagery has moved is still worth
    reading."""
    ((candidate, problem),) = draw_chips(session, [get_candidate(session, candidate_id)])
    return candidate, problem


def draw_chips(
    session: Session, candidates: Sequence[Candidate]
) -> list[tuple[Candidate, str | None]]:
    """Each candidate with its chips drawn (in the caller's transaction) and why they could
    not be (None when they were); one read of the imagery per tile."""
    problems = ensure_chips(session, candidates)
    return [(candidate, problems.get(candidate.id)) for candidate in candidates]


def candidate_to_dict(candidate: Candidate) -> dict[str, Any]:
    """Every field of a candidate, JSON-ready (geometry as WKT, times as ISO strings)."""
    return {
        "id": candidate.id,
        "scan_id": candidate.scan_id,
        "tile_key": candidate.tile_key,
        "status": candidate.status,
        "status_reason": candidate.status_reason,
        "promoted_site_id": candidate.promoted_site_id,
        "score": candidate.score,
        "max_score": candidate.max_score,
        "area_m2": candidate.area_m2,
        "centroid_lon": candidate.centroid_lon,
        "centroid_lat": candidate.centroid_lat,
        "geometry": candidate.geometry.wkt,
        "known": candidate.known,
        "nearest_site_id": candidate.nearest_site_id,
        "nearest_site_m": candidate.nearest_site_m,
        "chips": dict(candidate.chips or {}),
        "created_at": candidate.created_at.isoformat(),
        "edge": candidate.edge,
        "vegetation_share": candidate.vegetation_share,
        "change_class": candidate.change_class,
        "acquisitions": candidate_acquisitions(candidate),
    }


def candidate_acquisitions(candidate: Candidate) -> dict[str, list[dict[str, str]]]:
    """The scenes (id, acquisition time) the candidate's tile compared, per window; empty
    for a scan stored before tiles recorded them (migration 0007)."""
    tile = candidate.tile
    return {
        name: list((tile.acquisitions or {}).get(name, [])) if tile else []
        for name in ("before", "after")
    }


def promote_candidate(
    session: Session,
    candidate_id: str,
    *,
    site_id: str | None = None,
    name: str | None = None,
    category: str | None = None,
    author: str | None = None,
) -> Site:
    """Make a catalog site of a candidate and record it in the ledger (one transaction).

    The site gets the candidate's geometry, an uncertainty of the object's equivalent
    radius (at least :data:`MIN_UNCERTAINTY_M`), and its provenance as notes and a source.
    A candidate already promoted is a :class:`ConflictError`; a dismissed one may be
    promoted (analysts change their minds) and the ledger keeps both decisions.
    """
    candidate = get_candidate(session, candidate_id)
    if candidate.status == "promoted":
        raise ConflictError(
            f"candidate {candidate.id!r} was already promoted to site "
            f"{candidate.promoted_site_id!r}"
        )
    chips = _chip_files(session, candidate)
    provenance = _provenance(candidate, session.get(Scan, candidate.scan_id))
    record = SiteRecord(
        id=site_id or "",
        name=name or f"Scan candidate {candidate.id}",
        geometry=site_footprint(candidate.geometry),
        category=category or "other",
        uncertainty_m=_uncertainty_m(candidate.area_m2),
        notes=_provenance_note(provenance),
        sources=[SourceRecord(title=_source_title(provenance)[:500], url="", date=None)],
    )
    site = add_site(session, record, author=author)
    previous = candidate.status
    candidate.status = "promoted"
    candidate.promoted_site_id = site.id
    candidate.status_reason = ""
    now_known = flag_candidates_near(session, site)
    ledger.record(
        session,
        kind="candidate.promote",
        payload={
            "candidate": provenance,
            "previous_status": previous,
            "site": to_record(site).as_dict(),
            "now_known": now_known,
        },
        files=chips,
        site_id=site.id,
        subject_id=candidate.id,
        author=author,
    )
    session.flush()
    return site


def flag_candidates_near(session: Session, site: Site) -> list[str]:
    """New candidates (of any scan) within :data:`KNOWN_WITHIN_M` of ``site``, a site just
    added to the catalog, become ``known`` with it as their nearest site; returns their ids.

    A scan measures "known" against the catalog of its day. Once an analyst promotes one
    part of a base (a compound wider than a tile's halo, or its scattered new buildings), the
    other parts are the same place, and leaving them in the "new" list would ask for the
    same decision again. Only candidates whose bounds come within the distance are
    measured, on the ground as the scan measures.
    """
    # The hull's buffer bounds the same candidates; buffering a large traced outline itself
    # costs GEOS a time that grows with its many vertices.
    reach = buffer_metres(site.geometry.convex_hull, KNOWN_WITHIN_M)
    west, south, east, north = reach.bounds
    nearby = select(Candidate).where(
        Candidate.status == "new",
        Candidate.known.is_(False),
        Candidate.max_lon >= west,
        Candidate.min_lon <= east,
        Candidate.max_lat >= south,
        Candidate.min_lat <= north,
    )
    found = list(session.scalars(nearby))
    if not found:
        return []
    # One projection for all of them (a large site can have hundreds of neighbours).
    zone = local_utm(site.geometry).to_epsg()
    outlines = np.array([candidate.geometry for candidate in found], dtype=object)
    distances = shapely.distance(
        reproject(outlines, LONLAT_EPSG, zone), reproject(site.geometry, LONLAT_EPSG, zone)
    )
    flagged = []
    for candidate, distance in zip(found, distances.tolist(), strict=True):
        near = NearestSite(site.id, distance)
        if near.known:
            candidate.known = True
            candidate.nearest_site_id, candidate.nearest_site_m = near.site_id, near.distance_m
            flagged.append(candidate.id)
    return sorted(flagged)


def site_footprint(outline: BaseGeometry) -> BaseGeometry:
    """A candidate's outline as a valid site geometry, covering the same ground.

    The scan traces objects of 8-connected pixels, so an outline may touch itself where two
    pixels meet only at a corner (one in ten in a scan of dense change). That is a faithful
    trace but not a valid OGC polygon, which the catalog requires: the pinch is split into
    the parts of a multipolygon. Repaired here, once per promotion, rather than for every
    candidate on the workers, where checking and repairing would cost about a tenth of a
    tile's time for outlines most of which nobody promotes.
    """
    if outline.is_valid:
        return outline
    return shapely.make_valid(outline, method="structure", keep_collapsed=False)


def dismiss_candidate(
    session: Session, candidate_id: str, reason: str, *, author: str | None = None
) -> Candidate:
    """Mark a candidate dismissed with the analyst's reason and record it in the ledger."""
    reason = check_text((reason or "").strip(), "--reason", multiline=True)
    if not reason:
        raise InputError("a dismissal needs a reason (what the analyst saw)", item="--reason")
    candidate = get_candidate(session, candidate_id)
    if candidate.status != "new":
        raise ConflictError(
            f"candidate {candidate.id!r} is already {candidate.status}"
            + (
                f" as site {candidate.promoted_site_id!r}; edit or remove that site instead"
                if candidate.status == "promoted"
                else f" ({candidate.status_reason})"
            )
        )
    chips = _chip_files(session, candidate)
    scan = session.get(Scan, candidate.scan_id)
    candidate.status = "dismissed"
    candidate.status_reason = reason
    ledger.record(
        session,
        kind="candidate.dismiss",
        payload={"candidate": _provenance(candidate, scan), "reason": reason},
        files=chips,
        subject_id=candidate.id,
        author=author,
    )
    session.flush()
    return candidate


def _provenance(candidate: Candidate, scan: Scan | None) -> dict[str, Any]:
    """What led to the candidate: the scan's area, dates and method, the tile and scores."""
    data: dict[str, Any] = {
        "id": candidate.id,
        "scan_id": candidate.scan_id,
        "tile_key": candidate.tile_key,
        "score": candidate.score,
        "max_score": candidate.max_score,
        "area_m2": candidate.area_m2,
        "centroid": [candidate.centroid_lon, candidate.centroid_lat],
        "geometry": candidate.geometry.wkt,
        "known": candidate.known,
        "nearest_site_id": candidate.nearest_site_id,
        "nearest_site_m": candidate.nearest_site_m,
        "chips": dict(candidate.chips or {}),
    }
    if scan is not None:
        data["scan"] = {
            "aoi": scan.aoi_spec,
            "method": scan.method,
            "parameters": scan.parameters,
            "before": [scan.before_start.isoformat(), scan.before_end.isoformat()],
            "after": [scan.after_start.isoformat(), scan.after_end.isoformat()],
            "tile_size_m": scan.tile_size_m,
            "crs": scan.crs,
        }
    return data


def _source_title(provenance: dict[str, Any]) -> str:
    return (
        f"sitewatch scan {provenance['scan_id']}, tile {provenance['tile_key']}, "
        f"candidate {provenance['id']}"
    )


def _provenance_note(provenance: dict[str, Any]) -> str:
    """One readable paragraph of provenance for the site's notes."""
    text = (
        f"Promoted from scan candidate {provenance['id']} (scan {provenance['scan_id']}, "
        f"tile {provenance['tile_key']}): score {provenance['score']:.3g}, "
        f"area {provenance['area_m2']:.0f} m2"
    )
    scan = provenance.get("scan")
    if scan:
        text += (
            f", method {scan['method']}, before {scan['before'][0][:10]}..{scan['before'][1][:10]}"
            f", after {scan['after'][0][:10]}..{scan['after'][1][:10]}"
        )
    return text + "."


def _uncertainty_m(area_m2: float) -> float:
    """The radius of a disc of the object's area: how far the site may reach beyond its centre."""
    radius = math.sqrt(max(area_m2, 0.0) / math.pi) if math.isfinite(area_m2) else 0.0
    return round(max(radius, MIN_UNCERTAINTY_M), 1)


def _chip_files(session: Session, candidate: Candidate) -> Sequence[Path]:
    """The candidate's quicklooks, drawn if needed, that exist on disk (relative paths are
    under the workspace).

    Imagery that can no longer be read is not a reason to refuse a decision: the payload
    then names no chips, and the ledger hashes the pictures that are there.
    """
    ensure_chips(session, [candidate])  # a candidate it cannot draw keeps what it has
    root = workspace_of(session).root
    paths = []
    for value in (candidate.chips or {}).values():
        path = Path(value)
        path = path if path.is_absolute() else root / path
        if path.is_file():
            paths.append(path)
    return paths
