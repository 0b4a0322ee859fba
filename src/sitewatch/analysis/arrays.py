"""Input checks shared by every analysis function.

Convention for the whole package: an image is a float32 array shaped ``(band, y, x)`` with
NaN marking nodata; a mask is a bool array shaped ``(y, x)``. Callers hand arrays over from
many readers, so each public function validates its inputs here and raises
:class:`~sitewatch.errors.InputError` with a message naming the argument, instead of
letting numpy fail later with a broadcasting error nobody can act on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sitewatch.errors import InputError


def as_image(array: np.ndarray, name: str) -> np.ndarray:
    """``array`` as a float32 ``(band, y, x)`` image; a 2-D array is taken as one band.

    No copy is made when the input already is float32 (the fast path for large scenes).
    """
    image = np.asarray(array)
    if image.ndim == 2:
        image = image[np.newaxis]
    if image.ndim != 3:
        raise InputError(
            f"expected an image shaped (band, y, x) or (y, x), got {image.ndim} dimensions",
            item=name,
        )
    if 0 in image.shape:
        raise InputError(f"image is empty (shape {image.shape})", item=name)
    if not np.issubdtype(image.dtype, np.number) or np.issubdtype(image.dtype, np.complexfloating):
        raise InputError(f"expected real numbers, got dtype {image.dtype}", item=name)
    return image.astype(np.float32, copy=False)


def as_mask(array: np.ndarray, shape: tuple[int, int], name: str) -> np.ndarray:
    """``array`` as a bool ``(y, x)`` mask that must match ``shape``."""
    mask = np.asarray(array)
    if mask.shape != shape:
        raise InputError(f"mask shape {mask.shape} differs from image shape {shape}", item=name)
    return mask.astype(bool, copy=False)


def image_pair(before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two images with the same band count and grid (they must already be on one grid)."""
    first = as_image(before, "before")
    second = as_image(after, "after")
    if first.shape != second.shape:
        raise InputError(
            f"before {first.shape} and after {second.shape} differ in shape "
            "(band, y, x); crop or resample them onto one grid first",
            item="after",
        )
    return first, second


def finite_pixels(image: np.ndarray) -> np.ndarray:
    """Pixels whose every band holds a finite value.

    Band by band rather than ``isfinite(image).all(axis=0)``: the reduction across the
    band axis walks memory with a large stride and was the slowest step of a change run.
    """
    finite = np.isfinite(image[0])
    for band in image[1:]:
        finite &= np.isfinite(band)
    return finite


def joint_valid(
    before: np.ndarray, after: np.ndarray, valid: np.ndarray | None = None
) -> np.ndarray:
    """Pixels usable on both dates (finite in all bands, inside ``valid``); never empty."""
    usable = finite_pixels(before) & finite_pixels(after)
    if valid is not None:
        usable &= as_mask(valid, before.shape[1:], "valid")
    if not usable.any():
        raise InputError(
            "no pixel is valid on both dates (all nodata, clouded or masked out)", item="valid"
        )
    return usable


def subsample_indices(mask: np.ndarray, limit: int) -> np.ndarray:
    """Flat indices of at most ``limit`` pixels of ``mask``, evenly spread, deterministic.

    Statistics estimated on an even subsample of a few hundred thousand pixels are as good
    as on the full scene for the handful of parameters we fit, and keep the iterative part
    of an algorithm independent of scene size.
    """
    flat_mask = mask.ravel()
    step = flat_mask.size // limit
    if step > 1:
        # A regular grid of candidates, of which the valid ones are kept, avoids listing
        # every valid pixel of a large scene; it falls back to the exact selection below
        # when more than half of the candidates are masked out.
        candidates = np.arange(0, flat_mask.size, step, dtype=np.int64)
        kept = candidates[flat_mask[candidates]]
        if kept.size >= limit // 2:
            return kept[:limit]
    flat = np.flatnonzero(flat_mask)
    if flat.size <= limit:
        return flat
    picks = np.linspace(0, flat.size - 1, limit).round().astype(np.int64)
    return flat[picks]


def sample_pixels(image: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """The (band, n) float64 values of a (band, y, x) image at flat pixel indices."""
    return image.reshape(image.shape[0], -1)[:, sample].astype(np.float64)


def band_pair(band_names: Sequence[str], first: str, second: str) -> tuple[int, int] | None:
    """Positions of two bands named ``first`` and ``second`` in ``band_names`` (any case),
    or None when either is missing: the bands a two-band index (NDVI, NDWI) needs."""
    names = [name.upper() for name in band_names]
    if first in names and second in names:
        return names.index(first), names.index(second)
    return None


def pixel_index(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The per-pixel :func:`normalised_difference` of two bands of reflectance (any common
    scale) as float32, NaN where it is undefined: NDVI and NDWI for a per-pixel test."""
    return normalised_difference(
        np.asarray(first, dtype=np.float32), np.asarray(second, dtype=np.float32), np.nan
    )


def normalised_difference(first: np.ndarray, second: np.ndarray, fill: float) -> np.ndarray:
    """``(first - second) / (first + second)``, the form of NDVI and NDWI, with ``fill``
    where the sum is not positive (or NaN): callers differ in what no index should be (0 for
    a tile mean, NaN for a per-pixel test)."""
    total = first + second
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (first - second) / total
    ratio[~(total > 0)] = fill
    return ratio
