"""Synthetic imagery with known truth, and real OSCD pairs, for the analysis tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from scipy import ndimage

from sitewatch.analysis.masks import reflectance_from_l1c
from tests.conftest import shared_data

OSCD_BANDS = ("B02", "B03", "B04", "B08")


def textured_image(shape: tuple[int, int, int], seed: int = 0) -> np.ndarray:
    """Smooth random texture in reflectance-like units (about 0.05..0.35), float32."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=shape)
    smooth = ndimage.gaussian_filter(noise, sigma=(0, 2, 2))
    smooth /= smooth.std()
    return (0.2 + 0.05 * smooth).astype(np.float32)


BLOCK = (slice(60, 90), slice(80, 120))


def pair_with_block(
    gain: float = 1.3, offset: float = 0.05, step: float = 0.1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Before, after = gain * before + offset + noise, with a brighter block in after."""
    before = textured_image((4, 160, 200), seed=3)
    noise = np.random.default_rng(4).normal(0, 0.003, before.shape).astype(np.float32)
    after = gain * before + offset + noise
    after[(slice(0, 3), *BLOCK)] += step
    truth = np.zeros(before.shape[1:], dtype=bool)
    truth[BLOCK] = True
    return before, after, truth


@pytest.fixture
def texture() -> np.ndarray:
    return textured_image((4, 160, 200))


def _band_file(folder: Path, band: str) -> Path:
    matches = sorted(folder.glob(f"*_{band}.tif"))
    assert matches, f"no {band} file in {folder}"
    return matches[0]


def load_oscd_pair(city: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(before, after, change) of an OSCD city whose two dates share one grid.

    Reflectance 0..1 float32 for bands B02, B03, B04, B08, and the change label as bool
    (label value 2 = change). Cities whose second date is on a different grid
    (abudhabi, hongkong, saclay_e) need resampling, which is not the job of this layer.
    """
    root = shared_data("oscd")
    stacks = []
    for folder in ("imgs_1", "imgs_2"):
        bands = []
        for band in OSCD_BANDS:
            with rasterio.open(_band_file(root / "images" / city / folder, band)) as source:
                bands.append(source.read(1))
                transform = source.transform
        stacks.append((np.stack(bands), transform))
    (first, first_transform), (second, second_transform) = stacks
    assert first_transform == second_transform and first.shape == second.shape, (
        f"{city}: the two dates are not on one grid"
    )
    with rasterio.open(root / "train_labels" / city / "cm" / f"{city}-cm.tif") as source:
        change = source.read(1) == 2
    return reflectance_from_l1c(first), reflectance_from_l1c(second), change
