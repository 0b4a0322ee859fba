"""A scan's tile score: the number tiles are ranked by for the analyst.

A scored tile (:func:`sitewatch.scan.tasks.scan_tile`) gets one number under one of
:data:`TILE_SCORES`, chosen per scan and checked before any reading:

- ``ranker``, the probability of built-up change from a small logistic model over cheap
  tile features (:mod:`sitewatch.analysis.tile_ranker`; the default of CVA scans with bands
  B02, B03, B04, B08, the only ones it was fitted for: :func:`default_tile_score`);
- ``changed``, the share of the compared pixels inside a candidate (the default of every
  other scan);
- ``p95``, the 95th percentile of the pixel significance over the compared pixels (no
  threshold or mapping unit in between, but it saturates at the significance cap of 8: on
  OSCD a fifth of the tiles tie there, so it cannot order the top of a ranking).

The ``ranker`` tile score beat ``changed`` in leave-one-city-out cross-validation over the
OSCD training cities (benchmarks/scan_ranking.py, sitewatch/models/tile_ranker.md), before
the validation cities were scanned with it. Its features are computed by
:func:`sitewatch.scan.tasks.ranker_features`, which needs the task's types and so stays
with them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from sitewatch.analysis import tile_ranker
from sitewatch.errors import InputError
from sitewatch.scan.ranker import load_ranker

#: Tile score definitions (see the module docstring).
TILE_SCORES = ("changed", "p95", "ranker")
#: The tile score of the scans it applies to (:func:`default_tile_score`).
DEFAULT_TILE_SCORE = "ranker"
#: The tile score of the scans the ranker was not fitted for (another method or bands).
FALLBACK_TILE_SCORE = "changed"
#: The percentile of ``p95``.
TILE_SCORE_PERCENTILE = 95.0


def default_tile_score(method: str, band_names: Sequence[str]) -> str:
    """The tile score a scan uses when none is asked for: the ranker where it applies (CVA
    with its four bands), else ``changed`` (the ranker means nothing on other scores)."""
    return DEFAULT_TILE_SCORE if tile_ranker.supports(method, band_names) else FALLBACK_TILE_SCORE


def check_tile_score_name(name: str) -> None:
    """Fail when ``name`` is not one of :data:`TILE_SCORES`."""
    if name not in TILE_SCORES:
        raise InputError(
            f"unknown tile score {name!r} (known: {', '.join(TILE_SCORES)})", item="--tile-score"
        )


def check_tile_score(name: str, method: str, band_names: Sequence[str]) -> None:
    """Fail before any reading when ``name`` is unknown or cannot rank this scan."""
    check_tile_score_name(name)
    if name == "ranker" and not tile_ranker.supports(method, band_names):
        raise InputError(
            f"the ranker tile score was fitted on {tile_ranker.FITTED_METHOD} with bands "
            f"{', '.join(tile_ranker.REQUIRED_BANDS)}, not {method} with {', '.join(band_names)}: "
            f"use --tile-score {FALLBACK_TILE_SCORE} or p95",
            item="--tile-score",
        )


def tile_score(
    name: str,
    changed: np.ndarray,
    significance: np.ndarray,
    usable: np.ndarray,
    *,
    features: Callable[[], np.ndarray] | None = None,
) -> float:
    """The tile's rank value under the definition ``name`` (one of :data:`TILE_SCORES`).

    ``features`` computes the tile's :mod:`~sitewatch.analysis.tile_ranker` features; it is called
    only for ``ranker``, so the other scores cost nothing extra.
    """
    check_tile_score_name(name)
    if name == "changed":
        return float(np.count_nonzero(changed)) / int(np.count_nonzero(usable))
    if name == "p95":
        return float(np.percentile(significance[usable], TILE_SCORE_PERCENTILE))
    if features is None:
        raise InputError("the ranker tile score needs the tile's features", item="tile_score")
    return load_ranker().probability(features())
