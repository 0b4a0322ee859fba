"""Which pixels can be compared: nodata and cloud masks.

Reflectance convention: this module works on top-of-atmosphere reflectance scaled 0..1
(float32, NaN = nodata). Sentinel-2 L1C files store reflectance x 10000 as uint16 with 0
for nodata; convert them with :func:`reflectance_from_l1c` first. Passing x10000 values
to the cloud test raises an error rather than silently flagging every pixel as cloud.

When a scene carries its own mask band (Sentinel-2 L2A scene classification, SCL), it is
always better than our test: use :func:`cloud_mask_from_classes`. For L1C, which has no
mask band worth the name, :func:`cloud_mask_l1c` applies a bright/cold test.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from sitewatch.analysis.arrays import as_image, as_mask, finite_pixels
from sitewatch.errors import InputError

L1C_SCALE = 10_000.0
L1C_NODATA = 0

# Sentinel-2 L2A scene classification (SCL) classes that are not a clear view of the
# ground: 0 no data, 1 saturated/defective, 3 cloud shadow, 8 cloud medium probability,
# 9 cloud high probability, 10 thin cirrus.
SCL_NOT_CLEAR = (0, 1, 3, 8, 9, 10)


def reflectance_from_l1c(digital_numbers: np.ndarray) -> np.ndarray:
    """Sentinel-2 L1C uint16 values (reflectance x 10000, 0 = nodata) as float32 0..1."""
    raw = np.asarray(digital_numbers)
    reflectance = raw.astype(np.float32) / np.float32(L1C_SCALE)
    reflectance[raw == L1C_NODATA] = np.nan
    return reflectance


def valid_mask(image: np.ndarray) -> np.ndarray:
    """Pixels with a finite value in every band."""
    return finite_pixels(as_image(image, "image"))


def _band(image: np.ndarray, band_names: Sequence[str], wanted: str) -> np.ndarray | None:
    names = [name.upper() for name in band_names]
    return image[names.index(wanted)] if wanted in names else None


def cloud_mask_l1c(
    image: np.ndarray,
    band_names: Sequence[str],
    *,
    blue_threshold: float = 0.22,
    whiteness_threshold: float = 0.25,
    cirrus_threshold: float = 0.012,
) -> np.ndarray:
    """Cloudy pixels of a Sentinel-2 L1C image by a bright/cold test (reflectance 0..1).

    Bright: opaque cloud is bright and white in the visible, so a pixel is cloud when blue
    (B02) exceeds ``blue_threshold`` and the visible bands (B02, B03, B04) are flat, i.e.
    their spread divided by their mean is below ``whiteness_threshold``: bright roofs and
    bare soil are brighter in red than in blue and fail that test. Cold: cirrus is high
    and cold and shows in the 1375 nm water-vapour band (B10), which sees nothing of the
    ground; when B10 is among ``band_names`` pixels above ``cirrus_threshold`` are cloud.
    The test also flags snow and white roofs or concrete (0.2-0.5 % of the cloud-free
    Rennes, Nantes and Paris OSCD scenes, 4 % of Cupertino): it is meant for screening
    clouded dates, not as a cloud product.
    """
    stack = as_image(image, "image")
    if len(band_names) != stack.shape[0]:
        raise InputError(
            f"{len(band_names)} band names given for {stack.shape[0]} bands", item="band_names"
        )
    visible = [_band(stack, band_names, name) for name in ("B02", "B03", "B04")]
    if any(band is None for band in visible):
        raise InputError("the cloud test needs bands B02, B03 and B04", item="band_names")
    blue, green, red = visible
    typical = np.nanmedian(blue[::4, ::4]) if np.isfinite(blue).any() else 0.0
    if typical > 2.0:
        raise InputError(
            f"blue band median {typical:g} looks like reflectance x 10000; "
            "convert with reflectance_from_l1c first",
            item="image",
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        brightness = (blue + green + red) / 3
        spread = np.maximum(np.maximum(blue, green), red) - np.minimum(np.minimum(blue, green), red)
        cloud = (blue > blue_threshold) & (spread / brightness < whiteness_threshold)
        cirrus = _band(stack, band_names, "B10")
        if cirrus is not None:
            cloud |= cirrus > cirrus_threshold
    return cloud


def cloud_mask_from_classes(
    classes: np.ndarray, not_clear: Iterable[int] = SCL_NOT_CLEAR
) -> np.ndarray:
    """Pixels of a scene's own classification band whose class is not a clear view.

    The default classes are those of Sentinel-2 L2A SCL; pass others for Fmask or QA bands.
    """
    labels = np.asarray(classes)
    if labels.ndim != 2:
        raise InputError(f"expected a (y, x) class band, got shape {labels.shape}", item="classes")
    return np.isin(labels, list(not_clear))


def clear_mask(image: np.ndarray, cloud: np.ndarray | None = None) -> np.ndarray:
    """Pixels valid in ``image`` and not in ``cloud``; an error when none is left.

    This is the one place that turns "nothing usable" into a message the user can act on,
    so the change methods downstream never run on an empty set.
    """
    stack = as_image(image, "image")
    valid = finite_pixels(stack)
    if not valid.any():
        raise InputError("image is entirely nodata", item="image")
    if cloud is None:
        return valid
    clear = valid & ~as_mask(cloud, stack.shape[1:], "cloud")
    if not clear.any():
        raise InputError("image is fully clouded: no clear valid pixel is left", item="cloud")
    return clear
