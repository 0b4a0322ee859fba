"""Appearance features: what an image looks like, and how much it resembles exemplars.

An analyst who knows what a base looks like (from sites already in the catalog) but not
where the others are wants tiles ranked by resemblance. We describe a tile, and an
exemplar's site stack, by a short vector of robust spectral and texture statistics and rank
tiles by their distance to the nearest exemplar.

Why these features:

- **Spectral shape, not brightness.** Per pixel, each band's log value minus the mean log
  over bands. A constant gain (sun angle, haze-free atmosphere, L1C x10000 vs 0..1
  reflectance, a vendor's radiometric scaling) cancels, so an exemplar read from one
  product and a tile from another compare. Per band we keep the median (what the surface
  is: concrete, soil, vegetation, water) and the interquartile range (how mixed it is).
- **Texture of log brightness.** Gradient magnitude (median, 90th percentile), local
  standard deviation in a 5 x 5 window (median, 90th percentile), the median absolute
  difference between pixels 1, 2, 4 and 8 px apart (a grey-level co-occurrence "contrast"
  at four distances: a cheap variogram that tells a dense built grid from a field of the
  same colour) and the share of pixels on a strong edge. Logs again make these gain-free;
  all are orientation-free, because a base is not built facing north.
- **Medians and quantiles** so that a few clouds, shadows or saturated roofs do not move
  the description.

Texture is measured in pixels, so tiles and exemplars must share a pixel size (the scan
reads its exemplars at its own resolution: :func:`sitewatch.scan.like.exemplar_features`).
Features are dimensionless (a unit is a factor of e), which makes unit spreads a fair
default; a scan that has many tiles should fit a :class:`FeatureScale` on them so each
feature counts by how much it varies in that area.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from sitewatch.errors import InputError

LAGS_PX = (1, 2, 4, 8)
LOCAL_WINDOW_PX = 5
STRONG_EDGE = 0.25  # log brightness step per pixel (a 28 % change): a built edge, not noise
# Below this share of valid pixels a tile (or exemplar date) is not described at all:
# statistics of a sliver would look like anything.
MIN_VALID_SHARE = 0.25
TEXTURE_FEATURES = 4 + len(LAGS_PX) + 1


def appearance_feature_names(band_names: Sequence[str]) -> list[str]:
    """Names of the entries of :func:`appearance_features`, in order (for reports and debugging)."""
    bands = list(band_names)
    return [
        *(f"shape_median_{band}" for band in bands),
        *(f"shape_iqr_{band}" for band in bands),
        "gradient_median",
        "gradient_p90",
        "local_std_median",
        "local_std_p90",
        *(f"contrast_lag{lag}" for lag in LAGS_PX),
        "strong_edge_share",
    ]


def appearance_features(stack: np.ndarray, band_names: Sequence[str]) -> np.ndarray:
    """Robust spectral and texture features of one (bands, rows, cols) image.

    NaN pixels are ignored. Returns a float64 vector laid out as
    :func:`appearance_feature_names`; all NaN when fewer than :data:`MIN_VALID_SHARE` of the
    pixels are valid in every band.
    """
    values = np.asarray(stack, dtype=np.float64)
    if values.ndim != 3 or values.shape[0] != len(band_names):
        raise InputError(
            f"expects (bands, rows, cols) with {len(band_names)} bands, got {values.shape}",
            item="tile features",
        )
    if min(values.shape[1:]) <= max(LAGS_PX):
        raise InputError(
            f"a tile of {values.shape[1]} x {values.shape[2]} px is too small for texture "
            f"(needs more than {max(LAGS_PX)} px a side)",
            item="tile features",
        )
    empty = np.full(len(appearance_feature_names(band_names)), np.nan)
    valid = np.all(np.isfinite(values), axis=0) & np.all(values > 0, axis=0)
    if valid.mean() < MIN_VALID_SHARE:
        return empty
    logs = np.log(np.where(valid, values, 1.0))
    brightness = logs.mean(axis=0)
    shape = logs - brightness
    low, median, high = np.percentile(shape[:, valid], (25, 50, 75), axis=1)
    return np.concatenate([median, high - low, _texture(brightness, valid)])


def _texture(brightness: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Gain-free, orientation-free texture statistics of a log-brightness image."""
    filled = np.where(valid, brightness, np.median(brightness[valid]))
    gradient = np.hypot(ndimage.sobel(filled, axis=0), ndimage.sobel(filled, axis=1)) / 8.0
    inner = ndimage.binary_erosion(valid, iterations=1, border_value=0)
    if not inner.any():
        inner = valid
    mean = ndimage.uniform_filter(filled, LOCAL_WINDOW_PX)
    mean_square = ndimage.uniform_filter(filled * filled, LOCAL_WINDOW_PX)
    local_std = np.sqrt(np.clip(mean_square - mean * mean, 0.0, None))
    contrasts = [_lag_contrast(brightness, valid, lag) for lag in LAGS_PX]
    return np.array(
        [
            *np.percentile(gradient[inner], (50, 90)),
            *np.percentile(local_std[inner], (50, 90)),
            *contrasts,
            float(np.mean(gradient[inner] > STRONG_EDGE)),
        ]
    )


def _lag_contrast(brightness: np.ndarray, valid: np.ndarray, lag: int) -> float:
    """Median |difference| of valid pixel pairs ``lag`` apart, along rows and columns."""
    across = np.abs(brightness[:, lag:] - brightness[:, :-lag])[valid[:, lag:] & valid[:, :-lag]]
    down = np.abs(brightness[lag:] - brightness[:-lag])[valid[lag:] & valid[:-lag]]
    pairs = np.concatenate([across, down])
    return float(np.median(pairs)) if pairs.size else math.nan


@dataclass(frozen=True)
class FeatureScale:
    """Per-feature centre and spread used to standardise features before comparing them."""

    centre: np.ndarray
    spread: np.ndarray

    @classmethod
    def fit(cls, features: np.ndarray) -> FeatureScale:
        """Median and scaled MAD of each feature over (tiles, features) rows, NaN rows ignored.

        A spread is floored at 1 % of the largest one so a feature that is constant over the
        area cannot dominate the distance through a near-zero divisor.
        """
        rows = np.asarray(features, dtype=np.float64)
        rows = rows[np.all(np.isfinite(rows), axis=1)]
        if rows.shape[0] < 2:
            raise InputError("needs at least two described tiles to fit", item="feature scale")
        centre = np.median(rows, axis=0)
        spread = 1.4826 * np.median(np.abs(rows - centre), axis=0)
        floor = max(float(spread.max()) * 0.01, 1e-9)
        return cls(centre, np.maximum(spread, floor))

    @classmethod
    def unit(cls, size: int) -> FeatureScale:
        return cls(np.zeros(size), np.ones(size))


def similarity(
    tile_feats: np.ndarray, exemplar_feats: np.ndarray, scale: FeatureScale | None = None
) -> float:
    """How much a tile looks like the nearest exemplar: 1 / (1 + RMS standardised distance).

    1 means identical features, 0.5 an average distance of one spread per feature. Taking
    the nearest exemplar (not the mean) lets exemplars of different kinds (a base in forest,
    one on bare hills) each pull in their own look-alikes. NaN when the tile has no features.
    """
    tile = np.asarray(tile_feats, dtype=np.float64)
    exemplars = np.atleast_2d(np.asarray(exemplar_feats, dtype=np.float64))
    if exemplars.shape[1] != tile.shape[0]:
        raise InputError(
            f"tile has {tile.shape[0]} features but the exemplars have {exemplars.shape[1]} "
            "(read them with the same bands)",
            item="similarity",
        )
    exemplars = exemplars[np.all(np.isfinite(exemplars), axis=1)]
    if exemplars.shape[0] == 0:
        raise InputError("no exemplar has usable imagery", item="similarity")
    if not np.all(np.isfinite(tile)):
        return math.nan
    scale = scale or FeatureScale.unit(tile.shape[0])
    standard_tile = (tile - scale.centre) / scale.spread
    standard_exemplars = (exemplars - scale.centre) / scale.spread
    rms = np.sqrt(np.mean((standard_exemplars - standard_tile) ** 2, axis=1))
    return float(1.0 / (1.0 + rms.min()))
