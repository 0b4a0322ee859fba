"""From a change-score map to a clean binary change mask.

Three ways to pick the threshold: a fixed value (with the chi-square scores of
:mod:`sitewatch.analysis.scores`, ``t`` means a false-alarm rate of ``1 - t`` over
unchanged ground, so 0.999 and above are sensible), Otsu (maximises the variance between
the two classes of the histogram), or Kittler-Illingworth (minimum error for two
Gaussian classes of different spread, better than Otsu when one class is small, as
change usually is). Both automatic methods need a bimodal histogram; on chi-square scores
the change mode is squeezed against 1, so apply them to :func:`significance` instead.

Then morphology removes what no analyst would call an object: opening deletes specks and
thin lines, closing fills pinholes, and the minimum mapping unit drops connected regions
smaller than a given area.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from sitewatch.errors import InputError

EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


def _histogram(
    values: np.ndarray, valid: np.ndarray | None, bins: int
) -> tuple[np.ndarray, np.ndarray]:
    data = np.asarray(values, dtype=np.float64)
    if valid is not None:
        if np.shape(valid) != data.shape:
            raise InputError(
                f"mask shape {np.shape(valid)} differs from {data.shape}", item="valid"
            )
        data = data[np.asarray(valid, dtype=bool)]
    data = data[np.isfinite(data)]
    if data.size == 0:
        raise InputError("no valid value to choose a threshold from", item="score")
    if data.min() == data.max():
        raise InputError("all values are equal: there is nothing to separate", item="score")
    counts, edges = np.histogram(data, bins=bins)
    return counts.astype(np.float64), (edges[:-1] + edges[1:]) / 2


def otsu(values: np.ndarray, valid: np.ndarray | None = None, *, bins: int = 256) -> float:
    """Otsu's threshold: maximal between-class variance of the histogram."""
    counts, centres = _histogram(values, valid, bins)
    weight_low = np.cumsum(counts)
    weight_high = weight_low[-1] - weight_low
    sum_low = np.cumsum(counts * centres)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_low = sum_low / weight_low
        mean_high = (sum_low[-1] - sum_low) / weight_high
        between = weight_low * weight_high * (mean_low - mean_high) ** 2
    best = int(np.nanargmax(between[:-1]))
    return float((centres[best] + centres[best + 1]) / 2)


def kittler_illingworth(
    values: np.ndarray, valid: np.ndarray | None = None, *, bins: int = 256
) -> float:
    """Kittler-Illingworth minimum-error threshold (two Gaussian classes)."""
    counts, centres = _histogram(values, valid, bins)
    total = counts.sum()
    weight_low = np.cumsum(counts)
    weight_high = total - weight_low
    first_low = np.cumsum(counts * centres)
    second_low = np.cumsum(counts * centres**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_low = first_low / weight_low
        mean_high = (first_low[-1] - first_low) / weight_high
        var_low = second_low / weight_low - mean_low**2
        var_high = (second_low[-1] - second_low) / weight_high - mean_high**2
        p_low, p_high = weight_low / total, weight_high / total
        criterion = (
            p_low * np.log(var_low)
            + p_high * np.log(var_high)
            - 2 * (p_low * np.log(p_low) + p_high * np.log(p_high))
        )
    usable = (var_low > 0) & (var_high > 0)
    if not usable.any():
        raise InputError("the values do not form two classes", item="score")
    criterion[~usable] = np.inf
    best = int(np.argmin(criterion[:-1]))
    return float((centres[best] + centres[best + 1]) / 2)


def significance(score: np.ndarray, *, ceiling: float = 8.0) -> np.ndarray:
    """``-log10(1 - score)``, capped at ``ceiling``: chi-square scores spread out for
    histogram thresholds (0.99 -> 2, 0.9999 -> 4)."""
    spare = np.maximum(1.0 - np.asarray(score, dtype=np.float64), 10.0**-ceiling)
    return (-np.log10(spare)).astype(np.float32)


def threshold_value(
    values: np.ndarray, method: str | float, valid: np.ndarray | None = None
) -> float:
    """The threshold of ``method``: "otsu", "kittler-illingworth" or a fixed number."""
    if isinstance(method, int | float) and not isinstance(method, bool):
        return float(method)
    if method == "otsu":
        return otsu(values, valid)
    if method == "kittler-illingworth":
        return kittler_illingworth(values, valid)
    raise InputError(
        f"unknown threshold {method!r}; use 'otsu', 'kittler-illingworth' or a number",
        item="threshold",
    )


def _disk(radius: int) -> np.ndarray:
    span = np.arange(-radius, radius + 1)
    return span[:, None] ** 2 + span[None, :] ** 2 <= radius**2


def clean(mask: np.ndarray, *, opening: int = 1, closing: int = 1) -> np.ndarray:
    """Opening then closing with disks of the given radii in pixels (0 skips a step)."""
    result = np.asarray(mask, dtype=bool)
    if result.ndim != 2:
        raise InputError(f"expected a (y, x) mask, got shape {result.shape}", item="mask")
    if opening > 0:
        result = ndimage.binary_opening(result, structure=_disk(opening))
    if closing > 0:
        # Pad so closing does not erode objects touching the border.
        padded = np.pad(result, closing, mode="edge")
        closed = ndimage.binary_closing(padded, structure=_disk(closing))
        result = closed[closing:-closing, closing:-closing]
    return result


def pixels_for_area(area_m2: float, pixel_size_m: float | tuple[float, float]) -> int:
    """Minimum mapping unit in whole pixels for an area on the ground (rounded up)."""
    size_y, size_x = (
        (pixel_size_m, pixel_size_m) if np.isscalar(pixel_size_m) else tuple(pixel_size_m)
    )
    return math.ceil(area_m2 / abs(float(size_y) * float(size_x)) - 1e-9)


def remove_small_objects(mask: np.ndarray, min_pixels: int) -> np.ndarray:
    """``mask`` without 8-connected regions of fewer than ``min_pixels`` pixels."""
    labels, count = ndimage.label(np.asarray(mask, dtype=bool), structure=EIGHT_CONNECTED)
    if count == 0 or min_pixels <= 1:
        return labels > 0
    sizes = np.bincount(labels.ravel())
    keep = sizes >= min_pixels
    keep[0] = False
    return keep[labels]
