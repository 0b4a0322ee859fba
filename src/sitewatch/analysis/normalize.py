"""Relative radiometric normalisation of one date onto another.

Between two acquisitions the same ground differs in recorded brightness (sun angle,
atmosphere, sensor): CVA and thresholds on differences would read that as change. We map
the ``target`` image onto the ``reference`` radiometry band by band with a linear
function fitted only on pixels that did not change. IR-MAD picks those pixels without
any prior (its no-change probability is invariant to the very gains and offsets we want
to remove; Canty & Nielsen 2008 keep pixels with a probability above 0.95), and the line
is fitted by orthogonal (total least squares) regression because both dates are noisy:
ordinary least squares of reference on target would bias the gain towards zero.

When too few no-change pixels are found (very small or almost entirely changed areas),
quantile (histogram) matching is the fallback: it needs no invariant pixels, but it
also matches away genuine scene-wide change, so the result says which method was used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from sitewatch.analysis.arrays import (
    finite_pixels,
    image_pair,
    joint_valid,
    sample_pixels,
    subsample_indices,
)
from sitewatch.analysis.irmad import SAMPLE_SIZE, fit_irmad

MIN_NO_CHANGE_PIXELS = 100
_QUANTILES = 1024


@dataclass(frozen=True)
class Normalisation:
    """A normalised image and how it was obtained.

    ``gains`` and ``offsets`` (one per band) give ``normalised = gain * target + offset``
    for the regression method; they are NaN for histogram matching, which is not linear.
    """

    image: np.ndarray
    method: Literal["irmad-orthogonal", "histogram"]
    gains: np.ndarray
    offsets: np.ndarray
    no_change_pixels: int


def orthogonal_regression(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Gain and offset of ``y = gain * x + offset`` minimising perpendicular distances."""
    mean_x, mean_y = x.mean(), y.mean()
    var_x, var_y = x.var(), y.var()
    covariance = np.mean((x - mean_x) * (y - mean_y))
    if covariance == 0:
        gain = float(np.sqrt(var_y / var_x)) if var_x > 0 else 1.0
    else:
        gain = float(
            (var_y - var_x + np.sqrt((var_y - var_x) ** 2 + 4 * covariance**2)) / (2 * covariance)
        )
    return gain, float(mean_y - gain * mean_x)


def histogram_match(
    reference: np.ndarray, target: np.ndarray, valid: np.ndarray | None = None
) -> np.ndarray:
    """``target`` with each band's value distribution mapped onto ``reference``'s.

    Quantiles are computed over pixels valid on both dates; NaN stays NaN.
    """
    reference, target = image_pair(reference, target)
    usable = joint_valid(reference, target, valid)
    levels = np.linspace(0, 1, _QUANTILES)
    matched = np.empty_like(target)
    for band, (ref_band, target_band) in enumerate(zip(reference, target, strict=True)):
        source = np.quantile(target_band[usable], levels)
        goal = np.quantile(ref_band[usable], levels)
        matched[band] = np.interp(target_band, source, goal)
    matched[:, ~finite_pixels(target)] = np.nan
    return matched


def normalise(
    reference: np.ndarray,
    target: np.ndarray,
    valid: np.ndarray | None = None,
    *,
    no_change_probability: float = 0.95,
    min_pixels: int = MIN_NO_CHANGE_PIXELS,
    sample_size: int = SAMPLE_SIZE,
) -> Normalisation:
    """``target`` mapped onto ``reference`` radiometry (see module docstring)."""
    reference, target = image_pair(reference, target)
    usable = joint_valid(reference, target, valid)
    bands = reference.shape[0]
    sample = subsample_indices(usable, sample_size)
    ref_values = sample_pixels(reference, sample)
    target_values = sample_pixels(target, sample)
    stable = np.zeros(sample.size, dtype=bool)
    if sample.size > 2 * bands and (ref_values.std(axis=1) > 0).all():
        fit = fit_irmad(target_values, ref_values)
        stable = fit.no_change > no_change_probability
    if stable.sum() < min_pixels:
        unknown = np.full(bands, np.nan)
        return Normalisation(
            histogram_match(reference, target, usable), "histogram", unknown, unknown, 0
        )
    gains = np.empty(bands)
    offsets = np.empty(bands)
    for band in range(bands):
        gains[band], offsets[band] = orthogonal_regression(
            target_values[band, stable], ref_values[band, stable]
        )
    image = target * gains.astype(np.float32)[:, None, None]
    image += offsets.astype(np.float32)[:, None, None]
    return Normalisation(image, "irmad-orthogonal", gains, offsets, int(stable.sum()))
