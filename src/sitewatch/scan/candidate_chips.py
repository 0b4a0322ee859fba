"""Before/after quicklooks of a scan candidate, drawn when an analyst opens it.

A scan does not draw chips: it finds tens of candidates per tile over a whole country, an
analyst opens a few of them, and drawing two PNGs per tile in the scan cost as much CPU as
finding the change. Everything needed to draw them again is in the database: the scan row
(date windows, bands, resolution, tile size), the candidate (tile key, geometry) and the
scene catalog. The tile's two composites are rebuilt exactly as the scan's task built them
(:func:`sitewatch.scan.tasks.read_pair`), from the scenes of each window that were in the
catalog when the scan was created (a scene added later would change the picture), and cut
around the object by :func:`sitewatch.scan.quicklook.write_quicklooks`. Each chip has the
acquisition dates of the scenes its composite was made of burnt in (:func:`dates_label`),
not the window the scan asked for: two pictures of a window a year wide say little about
when a thing was built.

The chips are written once under ``<products>/scans/<scan>/chips/`` and their paths stored
on the candidate, so opening it again, promoting or dismissing it (which hash the chips
into the ledger) reuse the same files.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from sitewatch.db.models import Candidate, Scan, Scene
from sitewatch.errors import InputError, NotFoundError, SitewatchError
from sitewatch.imagery.chips import true_colour_bands
from sitewatch.imagery.search import find_scenes
from sitewatch.imagery.stack import scene_plan
from sitewatch.scan import quicklook
from sitewatch.scan.composite import TileScene, tile_scene
from sitewatch.scan.grid import LONLAT_EPSG, Tile, reproject, tile_from_key
from sitewatch.scan.tasks import TilePair, TileTask, read_tile
from sitewatch.workspace import workspace_of

CHIP_NAMES = ("before", "after")


def ensure_chips(session: Session, candidates: Sequence[Candidate]) -> dict[str, str]:
    """Chips for every candidate that has none on disk yet, reading each tile's imagery
    once for all of its candidates (one candidate opened, or a scan's best ones triaged).
    Returns why a candidate got none, by candidate id (the imagery can no longer be read,
    say); the others have ``chips`` set in the caller's transaction."""
    missing: dict[tuple[str, str], list[Candidate]] = {}
    for candidate in candidates:
        if not _has_chips(candidate):
            missing.setdefault((candidate.scan_id, candidate.tile_key), []).append(candidate)
    problems: dict[str, str] = {}
    for (_, tile_key), group in missing.items():
        try:
            _draw_tile(session, _scan_of(session, group[0]), tile_key, group)
        except SitewatchError as error:
            problems.update((candidate.id, str(error)) for candidate in group)
    return problems


def _has_chips(candidate: Candidate) -> bool:
    existing = candidate.chips or {}
    return set(CHIP_NAMES) <= set(existing) and all(Path(p).is_file() for p in existing.values())


def _scan_of(session: Session, candidate: Candidate) -> Scan:
    scan = session.get(Scan, candidate.scan_id)
    if scan is None:
        raise NotFoundError(f"candidate {candidate.id!r} belongs to no scan in this workspace")
    return scan


def tile_composites(
    session: Session, scan: Scan, tile_key: str
) -> tuple[Tile, list[str], TilePair]:
    """The tile of ``tile_key``, the scan's bands, and its BEFORE and AFTER composites
    (bands, rows, cols) rebuilt exactly as the scan's task built them, with the scenes
    they were made of."""
    parameters = scan.parameters or {}
    if not parameters.get("bands") or not parameters.get("resolution_m"):
        raise InputError(f"scan {scan.id} records no bands or resolution", item="chips")
    bands = list(parameters["bands"])
    # Scans stored before tiles had a halo record none and were read without one.
    halo = int(parameters.get("halo_px", 0))
    tile = tile_from_key(tile_key, scan.tile_size_m, parameters["resolution_m"], halo)
    outline = tile.read_lonlat_outline()
    task = TileTask(
        tile,
        _scenes(session, scan, tile, outline, (scan.before_start, scan.before_end), bands),
        _scenes(session, scan, tile, outline, (scan.after_start, scan.after_end), bands),
    )
    return tile, bands, read_tile(task, bands)


def _draw_tile(session: Session, scan: Scan, tile_key: str, candidates: list[Candidate]) -> None:
    """Rebuild one tile's composites and draw the chips of ``candidates`` (all on it)."""
    tile, bands, pair = tile_composites(session, scan, tile_key)
    picks = [bands.index(name) for name in true_colour_bands(bands)]
    folder = workspace_of(session).products / "scans" / scan.id / "chips"
    labels = (
        dates_label(pair.acquisitions["before"], (scan.before_start, scan.before_end)),
        dates_label(pair.acquisitions["after"], (scan.after_start, scan.after_end)),
    )
    for candidate in candidates:
        candidate.chips = quicklook.write_quicklooks(
            pair.before[picks],
            pair.after[picks],
            object_box(candidate, tile),
            folder,
            re.sub(r"[^A-Za-z0-9_.-]", "_", candidate.id.removeprefix(f"{scan.id}:")),
            labels=labels,
        )


def object_box(candidate: Candidate, tile: Tile) -> tuple[int, int, int, int]:
    """(row0, col0, row1, col1) of the candidate's bounding box on the grid of the tile's
    window (square and halo)."""
    min_x, min_y, max_x, max_y = reproject(candidate.geometry, LONLAT_EPSG, tile.epsg).bounds
    inverse = ~tile.read_transform
    col0, row0 = inverse @ (min_x, max_y)
    col1, row1 = inverse @ (max_x, min_y)
    # Round outwards, and keep at least one pixel: a reprojected edge can land a hair
    # inside the pixel it bounds.
    top, left = max(0, math.floor(row0 + 1e-6)), max(0, math.floor(col0 + 1e-6))
    bottom = min(tile.read_pixels, max(top + 1, math.ceil(row1 - 1e-6)))
    right = min(tile.read_pixels, max(left + 1, math.ceil(col1 - 1e-6)))
    return top, left, bottom, right


def _scenes(
    session: Session,
    scan: Scan,
    tile: Tile,
    outline: BaseGeometry,
    window: tuple[datetime, datetime],
    bands: list[str],
) -> tuple[TileScene, ...]:
    """The window's scenes over the tile (``outline``: its window's lon/lat outline) that the scan
    compared, placed on the tile."""
    found = []
    for scene in scenes_compared(session, scan, outline, window):
        plan = scene_plan(scene, bands)
        placed = tile_scene(plan, reproject(plan.footprint, LONLAT_EPSG, tile.epsg), tile)
        if placed is not None:
            found.append(placed)
    return tuple(found)


def scenes_compared(
    session: Session, scan: Scan, area: BaseGeometry, window: tuple[datetime, datetime]
) -> list[Scene]:
    """The window's scenes over ``area`` (lon/lat) that the catalog held when the scan was
    created, oldest first: those the scan compared (a scene added later would change the
    picture)."""
    return [
        scene
        for scene in find_scenes(session, area, *window)
        if scene.created_at <= scan.created_at
    ]


def dates_label(acquisitions: Sequence[dict[str, str]], window: tuple[datetime, datetime]) -> str:
    """The dates a chip shows: the one acquisition, or the first and last and how many
    (a median of several scenes); the window, marked as such, when no scene was clear."""
    days = sorted({item["acquired"][:10] for item in acquisitions})
    if not days:
        start, end = window
        return f"window {start:%Y-%m-%d}/{end:%Y-%m-%d}"
    if len(days) == 1:
        return days[0]
    return f"{days[0]}..{days[-1]} ({len(acquisitions)} scenes)"
