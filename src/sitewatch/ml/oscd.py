"""OSCD (Onera Satellite Change Detection) cities as arrays on one 10 m grid, no torch.

Layout: ``images/<city>/imgs_1|imgs_2/*_<band>.tif`` (one GeoTIFF per band, native
resolution, L1C reflectance x 10000) and ``train_labels/<city>/cm/<city>-cm.tif``
(1 = no change, 2 = change, on the 10 m grid of ``imgs_1``). Each band of both dates is
warped onto the grid of the first date's B02: this aligns ``imgs_2`` where it is a few
pixels smaller (by geotransform, not by array shape) and upsamples the 20 m bands
bilinearly in the same step.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.errors import RasterioError
from rasterio.vrt import WarpedVRT

from sitewatch.analysis.masks import reflectance_from_l1c
from sitewatch.errors import InputError

TRAIN_CITIES = ("abudhabi", "beihai", "bercy", "cupertino", "hongkong", "nantes", "paris")
VALIDATION_CITIES = ("pisa", "rennes", "saclay_e")
#: Every OSCD city with labels, by name. The validation cities above were looked at too
#: often to choose anything on; choices are now made by city-level cross-validation.
LABELLED_CITIES = tuple(sorted(TRAIN_CITIES + VALIDATION_CITIES))
#: The cross-validation folds (issue 15), fixed before any run: the labelled cities sorted
#: by name, fold i holds the i-th and the (i+5)-th. A city is scored only by a model fitted
#: on the other four folds.
CV_FOLDS = tuple((LABELLED_CITIES[index], LABELLED_CITIES[index + 5]) for index in range(5))


def fold_cities(fold: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(training cities, scored cities) of cross-validation fold ``fold`` (1-based, as the
    benchmarks' docstrings number them)."""
    if not 1 <= fold <= len(CV_FOLDS):
        raise InputError(f"must be 1..{len(CV_FOLDS)}", item="fold")
    scored = CV_FOLDS[fold - 1]
    return tuple(city for city in LABELLED_CITIES if city not in scored), scored


#: Where the OSCD folder is looked for when none is given ($SITEWATCH_OSCD overrides).
DEFAULT_ROOT = Path("..") / "shared" / "data" / "oscd"


def oscd_root(root: str | Path | None = None) -> Path:
    """The OSCD folder: ``root``, else $SITEWATCH_OSCD, else ../shared/data/oscd."""
    path = Path(root or os.environ.get("SITEWATCH_OSCD") or DEFAULT_ROOT)
    if not (path / "images").is_dir():
        raise InputError("not an OSCD folder (no images/ inside)", source=path)
    return path


def _band_file(folder: Path, band: str) -> Path:
    matches = sorted(folder.glob(f"*_{band}.tif"))
    if len(matches) != 1:
        raise InputError(f"expected one file for band {band}, found {len(matches)}", source=folder)
    return matches[0]


def _read_on_grid(path: Path, reference: rasterio.DatasetReader) -> np.ndarray:
    try:
        with (
            rasterio.open(path) as source,
            WarpedVRT(
                source,
                crs=reference.crs,
                transform=reference.transform,
                width=reference.width,
                height=reference.height,
                resampling=Resampling.bilinear,
                src_nodata=0,
                nodata=0,
            ) as warped,
        ):
            return warped.read(1)
    except RasterioError as error:
        raise InputError(f"cannot read band: {error}", source=path) from None


def city_grid(city_dir: Path) -> Path:
    """The file whose 10 m grid a city's bands are read on: its first date's B02."""
    return _band_file(city_dir / "imgs_1", "B02")


def load_date(city_dir: Path, date: str, bands: Sequence[str], grid: Path) -> np.ndarray:
    """One date's bands as float32 reflectance (band, y, x) on the grid of ``grid``."""
    with rasterio.open(grid) as reference:
        stack = [_read_on_grid(_band_file(city_dir / date, band), reference) for band in bands]
    return reflectance_from_l1c(np.stack(stack))


def load_city(
    city: str, bands: Sequence[str], root: str | Path | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(before, after, label)`` of an OSCD city on the 10 m grid of its first date.

    Images are float32 reflectance 0..1 shaped (band, y, x), NaN for nodata; ``label`` is
    bool (y, x), True = change, or None for the cities without labels.
    """
    base = oscd_root(root)
    city_dir = base / "images" / city
    if not city_dir.is_dir():
        raise InputError(f"no OSCD city {city!r}", source=base / "images")
    grid = city_grid(city_dir)
    before = load_date(city_dir, "imgs_1", bands, grid)
    after = load_date(city_dir, "imgs_2", bands, grid)
    label_path = base / "train_labels" / city / "cm" / f"{city}-cm.tif"
    if not label_path.exists():
        return before, after, None
    with rasterio.open(label_path) as source:
        codes = source.read(1)
    if codes.shape != before.shape[1:]:
        raise InputError(
            f"label shape {codes.shape} differs from the image grid {before.shape[1:]}",
            source=label_path,
        )
    return before, after, codes == 2
