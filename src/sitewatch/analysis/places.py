"""Places: scan candidates grouped into the things an analyst visits, and the place model.

A scan finds change objects tile by tile: one building site is several objects (its
parts left apart by the threshold). A tile reads a halo of context around its square and
keeps the objects centred in it, so an object crossing a tile edge is one candidate; one
reaching further than the halo beyond the edge is still cut where the halo ends
(:mod:`sitewatch.scan.grid`). An analyst visits places, not objects, so candidates closer
than :data:`PLACE_GAP_M` to each other, edge to edge on the ground, are one place
(transitively: a chain of close objects is one place); the parts of a cut object touch or
overlap, are at distance 0, and become one place with one outline.

Why 30 m: three 10 m pixels, the gaps a thresholded building site or earthwork leaves
between its parts after the scan's one-pixel clean-up. Fixed from the pixel size, not
selected on data: a selection by precision at k would reward coarser groupings for their
base rate (a bigger place holds more labelled change by being bigger).

A place's score is the probability that it holds real change, from a logistic model over
:data:`PLACE_FEATURES` (:class:`PlaceModel`; fitted by ``benchmarks/scan_places.py`` under
city-level cross-validation on OSCD, :mod:`sitewatch.ml.ranker_fit`'s Newton fit).

A place touching nodata or a footprint edge (``edge``) keeps that calibrated probability
but is listed lower (:func:`listing_score`): its chip is partly blank and its outline may
be cut, so an analyst cannot judge it as well as a whole place of the same probability.
The probability cannot say this: on OSCD the nodata is each crop's border, and objects cut
there hold change as often as whole ones (the fitted ``edge`` weight is positive), so the
order rule is set by hand (:data:`EDGE_ODDS_FACTOR`) and its cost in precision at k is
measured beside the calibrated order by ``benchmarks/scan_places.py``.

Pure: outlines in a metric CRS and numbers in, labels and arrays out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from sitewatch.errors import InputError

#: Candidates closer than this (metres, edge to edge) are one place (see the docstring).
PLACE_GAP_M = 30.0
#: The place model's inputs, in the order of :func:`place_features` columns.
PLACE_FEATURES = (
    "log_area",  # log10 of the members' summed area, m2
    "max_score",  # the best member's peak significance (capped at 8 by the scan)
    "mean_score",  # the members' mean significance, weighted by area
    "log_members",  # natural log of the member count
    "edge",  # 1 when a member touches pixels the scan could not compare
    "vegetation_share",  # the members' area-weighted share of vegetation-phase change
)
#: A place touching nodata is listed as if its odds of holding change were this times its
#: modelled odds (the module docstring says why the model cannot set it).
EDGE_ODDS_FACTOR = 0.5


def group_places(outlines: np.ndarray, gap_m: float = PLACE_GAP_M) -> np.ndarray:
    """The place of each outline (metric CRS): 0..places-1, numbered in order of each
    place's first outline, so the same input always gives the same numbers."""
    count = len(outlines)
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    if gap_m < 0 or not math.isfinite(gap_m):
        raise InputError(f"must be a finite distance >= 0, got {gap_m}", item="gap_m")
    tree = shapely.STRtree(outlines)
    first, second = tree.query(outlines, predicate="dwithin", distance=gap_m)
    graph = coo_matrix((np.ones(len(first), dtype=bool), (first, second)), shape=(count, count))
    _, components = connected_components(graph, directed=False)
    # Renumber by first appearance (scipy numbers components by its own traversal).
    _, first_seen, inverse = np.unique(components, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first_seen))
    return order[inverse].astype(np.int64)


def place_features(
    places: np.ndarray,
    area_m2: np.ndarray,
    score: np.ndarray,
    max_score: np.ndarray,
    edge: np.ndarray,
    vegetation_share: np.ndarray,
) -> np.ndarray:
    """(places, :data:`PLACE_FEATURES`) from the members' numbers and their place labels.

    A member whose vegetation share was not measured (NaN: the scan had no red or near
    infrared band) counts as structural, 0: no evidence of a vegetation phase, and the
    model ranks such places on the other features alone.
    """
    count = int(places.max()) + 1 if len(places) else 0
    area = np.bincount(places, weights=area_m2, minlength=count)
    members = np.bincount(places, minlength=count)
    peak = np.full(count, -np.inf)
    np.maximum.at(peak, places, max_score)
    touching = np.zeros(count)
    np.maximum.at(touching, places, np.asarray(edge, float))
    weighted = np.bincount(places, weights=score * area_m2, minlength=count)
    mean = np.divide(weighted, area, out=np.zeros(count), where=area > 0)
    vegetated = np.nan_to_num(np.asarray(vegetation_share, float), nan=0.0)
    vegetated_area = np.bincount(places, weights=vegetated * area_m2, minlength=count)
    vegetation = np.divide(vegetated_area, area, out=np.zeros(count), where=area > 0)
    return np.column_stack(
        [
            np.log10(np.maximum(area, 1.0)),
            peak,
            mean,
            np.log(np.maximum(members, 1)),
            touching,
            vegetation,
        ]
    )


def listing_score(probability: np.ndarray, edge: np.ndarray) -> np.ndarray:
    """The number places are listed by: the probability, with a place touching nodata
    listed as if its odds were :data:`EDGE_ODDS_FACTOR` times lower (module docstring).
    Monotone in the probability within each kind, so whole places keep their order."""
    probability = np.asarray(probability, float)
    lowered = EDGE_ODDS_FACTOR * probability
    return np.where(np.asarray(edge, bool), lowered / (lowered + 1.0 - probability), probability)


@dataclass(frozen=True)
class PlaceModel:
    """A logistic model over :data:`PLACE_FEATURES`: standardisation (``mean``, ``sd``),
    ``coefficients`` in feature order, ``intercept``."""

    mean: np.ndarray
    sd: np.ndarray
    coefficients: np.ndarray
    intercept: float

    def probability(self, features: np.ndarray) -> np.ndarray:
        """Each place's modelled probability of holding real change."""
        logit = (np.asarray(features, float) - self.mean) / self.sd @ self.coefficients
        return 1.0 / (1.0 + np.exp(-(logit + self.intercept)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(PLACE_FEATURES),
            "standardisation": {"mean": self.mean.tolist(), "sd": self.sd.tolist()},
            "coefficients": self.coefficients.tolist(),
            "intercept": self.intercept,
        }

    @classmethod
    def from_dict(cls, model: dict[str, Any]) -> PlaceModel:
        if tuple(model.get("features", ())) != PLACE_FEATURES:
            raise InputError(
                f"model features {model.get('features')} are not {list(PLACE_FEATURES)}",
                item="features",
            )
        return cls(
            np.asarray(model["standardisation"]["mean"], float),
            np.asarray(model["standardisation"]["sd"], float),
            np.asarray(model["coefficients"], float),
            float(model["intercept"]),
        )
