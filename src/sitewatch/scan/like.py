""" "Find more like this": the scan's exemplars, described from their site stacks.

An analyst who knows what a base looks like (from sites already in the catalog) but not
where the others are wants tiles ranked by resemblance. Each scan tile and each exemplar
site is described by the same appearance features (spectral shape and texture:
:mod:`sitewatch.analysis.appearance`, which says why those); the tile's ``like_score`` is
its :func:`~sitewatch.analysis.appearance.similarity` to the nearest exemplar. This module
is the workspace side: it reads the exemplars' imagery.

From the triage queue, "more like this" starts from a candidate instead of a site: its
surroundings in the AFTER composite (the window its quicklook shows) are described by the
same features and the scan's other candidates ranked by resemblance to it
(:func:`candidates_like`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import numpy as np
from sqlalchemy.orm import Session

from sitewatch import limits
from sitewatch.analysis.appearance import (
    MIN_VALID_SHARE,
    FeatureScale,
    appearance_features,
    similarity,
)
from sitewatch.db.models import Candidate, Scan
from sitewatch.errors import InputError
from sitewatch.imagery.stack import load_site_stack
from sitewatch.scan.candidate_chips import object_box, tile_composites
from sitewatch.scan.candidates import get_candidate, list_candidates
from sitewatch.scan.quicklook import chip_window
from sitewatch.workspace import Workspace

#: "More like this" compares a candidate with the scan's best candidates on at most this
#: many tiles (its own included): each tile's composites are read again, so a question
#: asked from a page stays a few seconds on a country scan.
LIKE_TILES = 8
LIKE_POOL = 200


def exemplar_features(
    workspace: Workspace,
    site_ids: Sequence[str],
    *,
    bands: Sequence[str] | None = None,
    resolution: float | None = None,
    end: datetime | date | None = None,
    buffer_m: float | None = None,
) -> np.ndarray:
    """Features of each exemplar site's most recent usable date, as (sites, features).

    Reads each site's stack (up to ``end``) through :func:`load_site_stack` with the scan's
    ``bands`` and ``resolution`` so that the features line up with the tiles', and describes
    the latest date with at least :data:`MIN_VALID_SHARE` valid pixels. A site without such
    a date is an :class:`InputError` naming it: a "like" search must not silently drop one.
    """
    if not site_ids:
        raise InputError("give at least one exemplar site", item="--like")
    rows = []
    for site_id in dict.fromkeys(site_ids):
        stack = load_site_stack(
            workspace,
            site_id,
            end=end,
            bands=bands,
            resolution=resolution,
            buffer_m=buffer_m,
        )
        band_names = [str(band) for band in stack["band"].values]
        values = stack.values
        for index in reversed(range(values.shape[0])):
            features = appearance_features(values[index], band_names)
            if np.all(np.isfinite(features)):
                rows.append(features)
                break
        else:
            raise InputError(
                f"no date has {MIN_VALID_SHARE:.0%} valid pixels to describe it",
                item=f"exemplar site {site_id}",
            )
    return np.stack(rows)


def candidates_like(
    session: Session, candidate_id: str, *, limit: int = 20
) -> list[tuple[Candidate, float]]:
    """The scan's other candidates most like ``candidate_id``, with their similarity (0..1),
    best first.

    Each candidate is described by :func:`appearance_features` of the AFTER composite in
    its quicklook window (the object and its surroundings); features are standardised over
    the candidates compared (:meth:`FeatureScale.fit`). The pool is the scan's best
    :data:`LIKE_POOL` candidates of any status on at most :data:`LIKE_TILES` tiles; one
    without enough valid pixels to describe is left out. A candidate that cannot itself be
    described is an :class:`InputError`.
    """
    limits.ROW_LIMIT.check(limit, item="limit")
    target = get_candidate(session, candidate_id)
    scan = session.get_one(Scan, target.scan_id)
    pool = _pool(session, target)
    features = _after_features(session, scan, [target, *pool])
    if target.id not in features:
        raise InputError(
            f"too few valid pixels around candidate {target.id!r} to describe it", item="like"
        )
    described = np.stack(list(features.values()))
    scale = FeatureScale.fit(described) if len(described) >= 2 else None
    ranked = [
        (candidate, similarity(features[candidate.id], features[target.id], scale))
        for candidate in pool
        if candidate.id in features
    ]
    ranked.sort(key=lambda pair: (-pair[1], pair[0].id))
    return ranked[:limit]


def _pool(session: Session, target: Candidate) -> list[Candidate]:
    tiles = {target.tile_key}
    pool = []
    for candidate in list_candidates(
        session, scan_id=target.scan_id, status=None, include_known=True, limit=LIKE_POOL
    ):
        if candidate.id == target.id:
            continue
        if candidate.tile_key not in tiles and len(tiles) >= LIKE_TILES:
            continue
        tiles.add(candidate.tile_key)
        pool.append(candidate)
    return pool


def _after_features(
    session: Session, scan: Scan, candidates: Sequence[Candidate]
) -> dict[str, np.ndarray]:
    """Features of each candidate's quicklook window in the AFTER composite, by id (one
    read per tile); a window too empty to describe is left out."""
    by_tile: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_tile.setdefault(candidate.tile_key, []).append(candidate)
    features: dict[str, np.ndarray] = {}
    for tile_key, group in by_tile.items():
        tile, bands, pair = tile_composites(session, scan, tile_key)
        after = pair.after
        for candidate in group:
            top, left, bottom, right = chip_window(
                object_box(candidate, tile), tile.read_pixels, tile.read_pixels
            )
            values = appearance_features(after[:, top:bottom, left:right], bands)
            if np.all(np.isfinite(values)):
                features[candidate.id] = values
    return features
