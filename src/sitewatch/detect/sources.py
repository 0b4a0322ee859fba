"""Two dates on one grid, read window by window: the input side of a change run.

The grid is BEFORE's: its finest band's CRS, transform and size. BEFORE is never
resampled on that band, so the products compare pixel for pixel with labels drawn on
BEFORE. Every other band (BEFORE's coarser bands, every AFTER band) is warped onto it by a
GDAL warped VRT with that grid, bilinear; GDAL reads only the source blocks each window
needs, so memory stays at one window whatever the scene size. Warping by geotransform
(not cropping by array shape) is what keeps OSCD abudhabi, hongkong and saclay_e aligned:
their second date has slightly larger pixels over the same extent, and a crop by shape
is off by up to ~8 px at the far edge. A different CRS is handled by the same warp.

Nodata becomes NaN: the file's nodata, 0 in integer Sentinel-2 band files that declare
none (the L1C convention), and whatever lies outside AFTER's footprint.

Residual misregistration is corrected in the same warp: reading AFTER onto BEFORE's grid
translated by the measured shift is one exact bilinear resampling, identical for every
tile. When an AFTER band is already on the grid (the usual case: same CRS, transform and
size) that translation is done here in numpy instead (:func:`shifted_window`): GDAL's
warper read such a band at about 4 Mpx/s on one core and was most of a run's time; the
four-neighbour blend in numpy is over 20 times faster and the same bilinear resampling.

Non-georeferenced pairs (PNG, JPEG, BMP of research datasets) are read pixel for pixel
instead; they must have equal sizes and are not shift-corrected.
"""

from __future__ import annotations

import math
import warnings
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS
from rasterio.crs import CRS as RasterioCRS
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window
from shapely.geometry import box

from sitewatch.analysis.coregister import Shift, correct_shift
from sitewatch.errors import InputError
from sitewatch.files import existing_input
from sitewatch.geo import WGS84, to_crs
from sitewatch.imagery import sentinel2
from sitewatch.imagery.cog import COG_BLOCK_SIZE
from sitewatch.imagery.ingest import RASTER_SUFFIXES, band_names
from sitewatch.imagery.probe import (
    check_declared_size,
    gdal_reason,
    probe_raster,
    resolution_metres,
)

#: Raster files research change datasets ship without georeferencing.
PIXEL_SPACE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp"})


@dataclass(frozen=True)
class Grid:
    """The output grid; ``crs`` and ``transform`` are None in pixel space."""

    width: int
    height: int
    crs: CRS | None = None
    transform: Affine | None = None
    pixel_size_m: float | None = None

    @property
    def georeferenced(self) -> bool:
        return self.crs is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "height": self.height,
            "crs": self.crs.to_string() if self.crs is not None else None,
            "transform": list(self.transform)[:6] if self.transform is not None else None,
            "pixel_size_m": self.pixel_size_m,
        }


def open_tiled(
    path: Path, grid: Grid, dtype: str, nodata: float | None
) -> rasterio.io.DatasetWriter:
    """A one-band tiled, uncompressed GeoTIFF on ``grid``, open for writing by windows.

    The scratch form of a run's rasters: written tile by tile, read back by strips and
    turned into a COG by GDAL (:func:`sitewatch.imagery.cog.copy_to_cog`). Uncompressed
    because it is rewritten once and read once: speed matters, size does not.
    """
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": 1,
        "dtype": dtype,
        "nodata": nodata,
        "tiled": True,
        "blockxsize": COG_BLOCK_SIZE,
        "blockysize": COG_BLOCK_SIZE,
        "BIGTIFF": "IF_SAFER",
    }
    if grid.georeferenced:
        assert grid.crs is not None
        profile.update(crs=RasterioCRS.from_wkt(grid.crs.to_wkt()), transform=grid.transform)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        return rasterio.open(path, "w", **profile)


class PairSource(Protocol):
    """Two co-gridded dates, read by windows as float32 (band, y, x) with NaN nodata."""

    grid: Grid
    band_names: list[str]
    #: Factor to top-of-atmosphere reflectance 0..1 (1e-4 for Sentinel-2 integers), or
    #: None when the values are not known to be reflectance (no cloud test then).
    reflectance_scale: float | None

    def read(self, rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray]:
        """BEFORE and AFTER over the given rows and columns of the grid."""
        ...

    def correct(self, shift: Shift) -> bool:
        """Read AFTER moved back by ``shift`` from now on; False if not supported."""
        ...


def index_test_skipped_because(source: PairSource, missing_bands: str | None) -> str | None:
    """Why a test on a spectral index (NDVI, NDWI) of ``source`` cannot be made, or None:
    the bands it needs are missing (``missing_bands``, the index module's reason), or they
    are not known to be Sentinel-2 reflectance (the indices' thresholds are physical)."""
    if missing_bands is None and source.reflectance_scale is None:
        return "the bands are not known to be Sentinel-2 reflectance"
    return missing_bands


@dataclass
class ArrayPair:
    """A pair already in memory on one grid (a site stack's two dates)."""

    before: np.ndarray
    after: np.ndarray
    grid: Grid
    band_names: list[str]
    reflectance_scale: float | None = None

    def read(self, rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray]:
        return self.before[:, rows, cols], self.after[:, rows, cols]

    def correct(self, shift: Shift) -> bool:
        self.after = correct_shift(self.after, shift)
        return True


@dataclass(frozen=True)
class BandFile:
    """One band of a scene: the file and its 1-based band number."""

    path: Path
    index: int
    name: str


def scene_bands(path: Path) -> dict[str, BandFile]:
    """Bands of a scene given as one file or a folder of per-band files, by name."""
    path = existing_input(path)
    if path.is_dir():
        files = sorted(
            child
            for child in path.iterdir()
            if child.is_file()
            and child.suffix.lower() in RASTER_SUFFIXES | PIXEL_SPACE_SUFFIXES
            and not child.name.startswith(".")
        )
        if not files:
            raise InputError("folder holds no raster files", source=path)
    else:
        files = [path]
    bands: dict[str, BandFile] = {}
    for file in files:
        with _open(file) as dataset:
            names = band_names(
                file,
                dataset.descriptions,
                [colour.name for colour in dataset.colorinterp],
                in_folder=path.is_dir(),
            )
        for index, name in enumerate(names, start=1):
            if name in bands:
                raise InputError(
                    f"{bands[name].path.name} and {file.name} both hold band {name}",
                    source=path,
                )
            bands[name] = BandFile(file, index, name)
    return bands


def _open(file: Path) -> rasterio.DatasetReader:
    try:
        with warnings.catch_warnings():
            # Pixel-space inputs are announced once by the caller, not per file by GDAL.
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            dataset = rasterio.open(file)
    except RasterioError as error:
        raise InputError(f"not a readable raster ({gdal_reason(error)})", source=file) from None
    try:
        check_declared_size(dataset, file)
    except InputError:
        dataset.close()
        raise
    return dataset


def _is_georeferenced(dataset: rasterio.DatasetReader) -> bool:
    return dataset.crs is not None and not dataset.transform.is_identity


def _source_nodata(dataset: rasterio.DatasetReader, band: BandFile) -> float | None:
    if dataset.nodata is not None:
        return float(dataset.nodata)
    integer = np.issubdtype(np.dtype(dataset.dtypes[band.index - 1]), np.integer)
    return 0.0 if integer and sentinel2.band_from_name(band.name) else None


# What a window read needs per band: the dataset or VRT, the band, the value to mask and
# the sub-pixel shift to apply in numpy (None: read as is).
_Reader = tuple[rasterio.io.DatasetReaderBase, BandFile, float | None, Shift | None]


@dataclass
class FilePair:
    """BEFORE and AFTER band files, read onto BEFORE's grid (see the module docstring)."""

    before_path: Path
    after_path: Path
    before_bands: list[BandFile]
    after_bands: list[BandFile]
    grid: Grid = field(init=False)
    band_names: list[str] = field(init=False)
    reflectance_scale: float | None = field(init=False)
    _stack: ExitStack = field(init=False, repr=False)
    _datasets: dict[Path, rasterio.DatasetReader] = field(init=False, repr=False)
    _before: list[_Reader] = field(init=False, repr=False)
    _after: list[_Reader] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._stack = ExitStack()
        self.band_names = [band.name for band in self.before_bands]
        try:
            self._setup()
        except BaseException:
            self._stack.close()
            raise

    def _setup(self) -> None:
        datasets = self._datasets = {
            band.path: self._stack.enter_context(_open(band.path))
            for band in [*self.before_bands, *self.after_bands]
        }
        before_geo = {_is_georeferenced(datasets[band.path]) for band in self.before_bands}
        after_geo = {_is_georeferenced(datasets[band.path]) for band in self.after_bands}
        if len(before_geo | after_geo) > 1:
            raise InputError(
                f"one scene is georeferenced and the other (or a band) is not: {self.before_path} "
                f"vs {self.after_path}",
                item="after",
            )
        integer = all(
            np.issubdtype(np.dtype(datasets[b.path].dtypes[b.index - 1]), np.integer)
            for b in self.before_bands
        )
        self.reflectance_scale = sentinel2.reflectance_scale_for(self.band_names, integer)
        if before_geo == {True}:
            self._setup_georeferenced(datasets)
        else:
            self._setup_pixel_space(datasets)

    def _setup_pixel_space(self, datasets: dict[Path, rasterio.DatasetReader]) -> None:
        first = datasets[self.before_bands[0].path]
        self.grid = Grid(width=first.width, height=first.height)
        for band in [*self.before_bands, *self.after_bands]:
            dataset = datasets[band.path]
            if (dataset.height, dataset.width) != (first.height, first.width):
                raise InputError(
                    f"is {dataset.width} x {dataset.height} px but {first.name} is "
                    f"{first.width} x {first.height} px: pixel-space pairs must have equal sizes",
                    source=band.path,
                )
        self._before = [
            (datasets[b.path], b, _source_nodata(datasets[b.path], b), None)
            for b in self.before_bands
        ]
        self._after = [
            (datasets[b.path], b, _source_nodata(datasets[b.path], b), None)
            for b in self.after_bands
        ]

    def _setup_georeferenced(self, datasets: dict[Path, rasterio.DatasetReader]) -> None:
        probes = {path: probe_raster(path) for path in datasets}
        finest = min(
            self.before_bands,
            key=lambda band: abs(datasets[band.path].transform.determinant),
        )
        reference = datasets[finest.path]
        crs = probes[finest.path].crs
        self.grid = Grid(
            width=reference.width,
            height=reference.height,
            crs=crs,
            transform=reference.transform,
            pixel_size_m=resolution_metres(
                reference.transform, reference.width, reference.height, crs
            ),
        )
        extent = to_crs(box(*reference.bounds), crs, WGS84)
        for band in self.after_bands:
            if not probes[band.path].footprint.intersects(extent):
                raise InputError(
                    f"does not overlap {self.before_path} (BEFORE): nothing to compare",
                    source=band.path,
                )
        self._before = [self._reader(datasets[b.path], b, None) for b in self.before_bands]
        self._after = [self._reader(datasets[b.path], b, None) for b in self.after_bands]

    def _reader(
        self, dataset: rasterio.DatasetReader, band: BandFile, shift: Shift | None
    ) -> _Reader:
        """The dataset itself when it is on the grid (shifted in numpy when ``shift`` is
        given), else a warped VRT onto the grid translated by ``shift``."""
        nodata = _source_nodata(dataset, band)
        grid = self.grid
        transform = grid.transform
        assert transform is not None and grid.crs is not None
        on_grid = (
            (dataset.width, dataset.height) == (grid.width, grid.height)
            and dataset.transform.almost_equals(transform)
            and CRS.from_wkt(dataset.crs.to_wkt()).equals(grid.crs)
        )
        if on_grid:
            return dataset, band, nodata, shift
        if shift is not None:
            # Content of AFTER at grid pixel (y, x) sits at (y + dy, x + dx): read there.
            transform = transform @ Affine.translation(shift.dx, shift.dy)
        vrt = WarpedVRT(
            dataset,
            crs=grid.crs.to_wkt(),
            transform=transform,
            width=grid.width,
            height=grid.height,
            resampling=Resampling.bilinear,
            src_nodata=nodata,
            nodata=np.nan,
            dtype="float32",
        )
        return self._stack.enter_context(vrt), band, None, None

    def correct(self, shift: Shift) -> bool:
        if not self.grid.georeferenced:
            return False
        self._after = [self._reader(self._datasets[b.path], b, shift) for b in self.after_bands]
        return True

    def read(self, rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray]:
        # Slices past the grid's edge stop at it, as numpy slicing does.
        rows = slice(*rows.indices(self.grid.height)[:2])
        cols = slice(*cols.indices(self.grid.width)[:2])
        window = Window.from_slices(rows, cols)
        return self._read(self._before, window), self._read(self._after, window)

    @staticmethod
    def _read(readers: list[_Reader], window: Window) -> np.ndarray:
        # GDAL writes each band into its plane of the result: no stacking copy.
        image = np.empty((len(readers), int(window.height), int(window.width)), np.float32)
        for plane, (dataset, band, nodata, shift) in zip(image, readers, strict=True):
            try:
                if shift is None:
                    _read_band(dataset, band.index, window, nodata, plane)
                else:
                    plane[...] = shifted_window(dataset, band.index, window, nodata, shift)
            except RasterioError as error:
                raise InputError(
                    f"cannot read band {band.name} ({gdal_reason(error)})", source=band.path
                ) from None
        return image

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> FilePair:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_band(
    dataset: rasterio.io.DatasetReaderBase,
    index: int,
    window: Window,
    nodata: float | None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Band ``index`` over ``window`` as float32 (into ``out`` when given), nodata NaN."""
    values = dataset.read(index, window=window, out_dtype="float32", out=out)
    if nodata is not None:
        values[values == nodata] = np.nan
    return values


def shifted_window(
    dataset: rasterio.io.DatasetReaderBase,
    index: int,
    window: Window,
    nodata: float | None,
    shift: Shift,
) -> np.ndarray:
    """Band ``index`` over ``window`` of the grid, sampled ``shift`` away, bilinear.

    Grid pixel (y, x) takes the value at (y + dy, x + dx) of ``dataset`` (which lies on the
    grid), as the warped read does: the window is read one pixel larger, outside the
    raster filled with NaN, and each pixel is the weighted mean of its four neighbours.
    Like GDAL's bilinear warp, a pixel is NaN when the source pixel its sample point
    falls in is nodata or off the raster; otherwise nodata or off-raster neighbours are
    left out and the weights of the others renormalised.
    """
    rows, cols = int(window.height), int(window.width)
    top = int(window.row_off) + math.floor(shift.dy)
    left = int(window.col_off) + math.floor(shift.dx)
    source = np.full((rows + 1, cols + 1), np.nan, dtype=np.float32)
    inside_top, inside_left = max(top, 0), max(left, 0)
    inside_bottom = min(top + rows + 1, dataset.height)
    inside_right = min(left + cols + 1, dataset.width)
    if inside_bottom > inside_top and inside_right > inside_left:
        part = Window(
            inside_left, inside_top, inside_right - inside_left, inside_bottom - inside_top
        )
        source[inside_top - top : inside_bottom - top, inside_left - left : inside_right - left] = (
            _read_band(dataset, index, part, nodata)
        )
    valid = np.isfinite(source)
    weight_y = np.float32(shift.dy - math.floor(shift.dy))
    weight_x = np.float32(shift.dx - math.floor(shift.dx))
    if valid.all():
        return _blend(source, weight_y, weight_x)
    total = _blend(np.where(valid, source, np.float32(0)), weight_y, weight_x)
    weights = _blend(valid.astype(np.float32), weight_y, weight_x)
    with np.errstate(invalid="ignore", divide="ignore"):
        total /= weights
    first_y, first_x = int(weight_y >= 0.5), int(weight_x >= 0.5)  # the nearest neighbour
    total[~valid[first_y : first_y + rows, first_x : first_x + cols]] = np.nan
    return total


def _blend(source: np.ndarray, weight_y: np.float32, weight_x: np.float32) -> np.ndarray:
    """Bilinear blend of a (rows + 1, cols + 1) block into (rows, cols): x, then y."""
    blended = source[:, :-1] * (1 - weight_x)
    blended += source[:, 1:] * weight_x
    result = blended[:-1] * (1 - weight_y)
    result += blended[1:] * weight_y
    return result
