""" "Find more like this": the scan's exemplars, described from their site stacks.

An analyst who knows what a base looks like (from sites already in the catalog) but not
where the others are wants tiles ranked by resemblance. Each scan tile and each exemplar
site is described by the same appearance features (spectral shape and texture:
:mod:`sitewatch.analysis.appearance`, which says why those); the tile's ``like_score`` is
its :func:`~sitewatch.analysis.appearance.similarity` to the nearest exemplar. This module
is the workspace side: it reads the exemplars' imagery.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import numpy as np

from sitewatch.analysis.appearance import MIN_VALID_SHARE, appearance_features
from sitewatch.errors import InputError
from sitewatch.imagery.stack import load_site_stack
from sitewatch.workspace import Workspace


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
