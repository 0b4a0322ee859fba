"""The tile ranker: a small logistic model over cheap, construction-aware change features.

Why: the scan's first tile score, ``changed`` (share of the compared pixels inside a
change object), ranks any strong spectral change first: water glint, harvested fields,
seasonal vegetation. An analyst looking for new construction wants built-up change first,
and OSCD labels exactly that (urban change yes, farm and seasonal change no). This score
keeps ``changed`` as one input and adds a few numbers that tell those apart, all computed
from arrays the tile task already holds, all ratios or shares (so neither the tile size
nor the reflectance scale, 0..1 or x 10000, changes them):

- ``log_changed``: log10 of the changed share (+1e-3): today's score, compressed.
- ``sig_mean``: mean pixel significance, ``-log10(1 - score)``, over the compared pixels.
- ``bright_ratio_changed``: log of mean visible brightness after / before on changed pixels.
- ``ndvi_drop_changed``: mean NDVI before minus after on changed pixels.
- ``ndvi_after_changed``: mean NDVI after on changed pixels (low: built-up or bare).
- ``gain_share_changed``: share of changed pixels the method calls a gain (brighter).
- ``ndvi_after_tile``: mean NDVI after over the tile (how green the surroundings are).
- ``log_lowveg_changed``: log10 share of the tile changed AND not vegetation after
  (NDVI < 0.3).
- ``log_construct_changed``: the same, also a gain: changed to bright, non-vegetated.
- ``log_mean_object_area``: log10(1 + mean change-object area in 100 m2 units): sites are
  compact blobs, noise is speckle.
- ``edge_ratio``: log of the mean absolute neighbour difference of visible brightness
  after / before (new structure adds edges).
- ``water_after``: share of the tile that is open water after (NDWI > 0): water surfaces
  give strong but meaningless change.

Features that average over changed pixels are 0 on a tile without change; its
``log_changed`` of -3 already ranks it low. The model is fitted on OSCD training cities
with CVA significance (:mod:`sitewatch.scan.ranker_training`, :mod:`sitewatch.ml.ranker_fit`);
it needs the bands B02, B03, B04 and B08 and means nothing for another method's scores
(:func:`supports`).

Arrays in, numbers out: the scan's tile score ``ranker`` (:mod:`sitewatch.scan.tile_scores`)
computes :func:`change_features` of each scored tile and asks the shipped model, which
:func:`sitewatch.scan.ranker.load_ranker` reads from the package.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sitewatch.analysis.arrays import normalised_difference
from sitewatch.errors import InputError

FEATURE_NAMES = (
    "log_changed",
    "sig_mean",
    "bright_ratio_changed",
    "ndvi_drop_changed",
    "ndvi_after_changed",
    "gain_share_changed",
    "ndvi_after_tile",
    "log_lowveg_changed",
    "log_construct_changed",
    "log_mean_object_area",
    "edge_ratio",
    "water_after",
)
#: Bands the features read: blue, green, red (visible brightness), NIR (NDVI, NDWI).
REQUIRED_BANDS = ("B02", "B03", "B04", "B08")
#: The only method whose significance the model was fitted on.
FITTED_METHOD = "cva"
#: NDVI below this after the change: not vegetation (built-up, bare soil, water).
VEGETATION_NDVI = 0.3
#: Added to shares before log10, so an empty share is -3, not minus infinity.
SHARE_FLOOR = 1e-3
#: Object areas are counted in this unit (one 10 m pixel), so the feature reads as pixels.
AREA_UNIT_M2 = 100.0


def supports(method: str, band_names: Sequence[str]) -> bool:
    """True when the ranker applies: CVA scores and every band its features read."""
    return method == FITTED_METHOD and set(REQUIRED_BANDS) <= set(band_names)


def _log_share(count: int, total: int) -> float:
    return math.log10(count / total + SHARE_FLOOR)


def _edge_ratio(before: np.ndarray, after: np.ndarray, usable: np.ndarray) -> float:
    """log(after / before) of the summed absolute differences between 4-neighbours that
    are both usable: a gradient magnitude cheaper than central differences (the pair count
    cancels in the ratio)."""
    both = np.where(usable, np.stack([before, after]), np.float32(0))
    vertical = usable[1:] & usable[:-1]
    horizontal = usable[:, 1:] & usable[:, :-1]
    edges = (np.abs(both[:, 1:] - both[:, :-1]) * vertical).sum(axis=(1, 2), dtype=np.float64)
    edges += (np.abs(both[:, :, 1:] - both[:, :, :-1]) * horizontal).sum(
        axis=(1, 2), dtype=np.float64
    )
    return math.log(edges[1] / edges[0]) if edges[0] > 0 < edges[1] else 0.0


def change_features(
    before: np.ndarray,
    after: np.ndarray,
    band_names: Sequence[str],
    usable: np.ndarray,
    significance: np.ndarray,
    changed: np.ndarray,
    direction: np.ndarray,
    object_count: int,
    resolution_m: float,
) -> np.ndarray:
    """The :data:`FEATURE_NAMES` of one scored tile, float64 (features,).

    ``before``/``after``: (band, y, x) composites with ``band_names``; ``usable``: pixels
    compared (finite on both dates, at least one); ``significance``: the pixel
    significance; ``changed``: the change-object mask; ``direction``: +1 gain, -1 loss;
    ``object_count``: the number of change objects (8-connected regions of ``changed``).
    """
    index = {name: band_names.index(name) for name in REQUIRED_BANDS if name in band_names}
    if len(index) < len(REQUIRED_BANDS):
        raise InputError(f"the tile ranker needs bands {', '.join(REQUIRED_BANDS)}", item="bands")
    compared = int(np.count_nonzero(usable))
    if compared == 0:
        raise InputError("the tile has no compared pixels", item="usable")
    blue, green, red, nir = (index[name] for name in REQUIRED_BANDS)
    mask = changed & usable
    count = int(np.count_nonzero(mask))
    visible_before = (before[blue] + before[green] + before[red]) / 3
    visible_after = (after[blue] + after[green] + after[red]) / 3
    ndvi_before = normalised_difference(before[nir], before[red], 0.0)
    ndvi_after = normalised_difference(after[nir], after[red], 0.0)
    ndwi_after = normalised_difference(after[green], after[nir], 0.0)
    not_vegetation = mask & (ndvi_after < VEGETATION_NDVI)
    if count:
        brightness_before = float(visible_before[mask].mean())
        bright_ratio = (
            math.log(float(visible_after[mask].mean()) / brightness_before)
            if brightness_before > 0
            else 0.0
        )
        ndvi_after_changed = float(ndvi_after[mask].mean())
        ndvi_drop = float(ndvi_before[mask].mean()) - ndvi_after_changed
        gain_share = float(np.count_nonzero(direction[mask] > 0)) / count
        pixel_area = resolution_m * resolution_m
        mean_area = count * pixel_area / max(object_count, 1) / AREA_UNIT_M2
        mean_object = math.log10(1 + mean_area)
    else:
        bright_ratio = ndvi_after_changed = ndvi_drop = gain_share = mean_object = 0.0
    return np.array(
        [
            _log_share(count, compared),
            float(significance[usable].mean()),
            bright_ratio,
            ndvi_drop,
            ndvi_after_changed,
            gain_share,
            float(ndvi_after[usable].mean()),
            _log_share(int(np.count_nonzero(not_vegetation)), compared),
            _log_share(int(np.count_nonzero(not_vegetation & (direction > 0))), compared),
            mean_object,
            _edge_ratio(visible_before, visible_after, usable),
            float(np.count_nonzero(usable & (ndwi_after > 0))) / compared,
        ],
        dtype=np.float64,
    )


@dataclass(frozen=True)
class TileRanker:
    """A fitted logistic model over some of :data:`FEATURE_NAMES`: standardisation
    (``mean``, ``sd``), ``coefficients`` in the order of ``features``, ``intercept``."""

    features: tuple[str, ...]
    mean: np.ndarray
    sd: np.ndarray
    coefficients: np.ndarray
    intercept: float

    @property
    def columns(self) -> list[int]:
        """Where the model's features sit in a :func:`change_features` vector."""
        return [FEATURE_NAMES.index(name) for name in self.features]

    def logit(self, features: np.ndarray) -> np.ndarray:
        """The linear predictor of full (FEATURE_NAMES,) or (tiles, FEATURE_NAMES) vectors."""
        chosen = np.asarray(features, float)[..., self.columns]
        return (chosen - self.mean) / self.sd @ self.coefficients + self.intercept

    def probability(self, features: np.ndarray) -> float:
        """The tile's modelled probability of holding labelled change (the tile score)."""
        return float(1.0 / (1.0 + math.exp(-float(self.logit(features)))))

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "standardisation": {"mean": self.mean.tolist(), "sd": self.sd.tolist()},
            "coefficients": self.coefficients.tolist(),
            "intercept": self.intercept,
        }

    @classmethod
    def from_dict(cls, model: dict[str, Any]) -> TileRanker:
        features = tuple(model["features"])
        unknown = [name for name in features if name not in FEATURE_NAMES]
        if unknown:
            raise InputError(
                f"model features {unknown} are not computed by this code", item="features"
            )
        return cls(
            features,
            np.asarray(model["standardisation"]["mean"], float),
            np.asarray(model["standardisation"]["sd"], float),
            np.asarray(model["coefficients"], float),
            float(model["intercept"]),
        )
