"""Add scenes from local files: a multi-band raster, or a folder of per-band files.

Ingest is two-phase (see :mod:`sitewatch.imagery.drafts`): every PATH of a command is
probed and described first, then hashed, and only then written, all in the caller's
transaction. The probe reads headers and one block per band, never whole bands, so that
describing a 1 GB scene costs milliseconds; hashing is the only full read.

Acquisition time comes from, in order: ``--datetime`` when the user gives it (an explicit
statement beats a guess), acquisition tags (GDAL's IMAGERY domain, ``ACQUISITIONDATETIME``),
``TIFFTAG_DATETIME``, a date in the file name, a date in the folder name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import shapely
from pystac import MediaType
from shapely.geometry import box
from sqlalchemy.orm import Session

from sitewatch import limits
from sitewatch.errors import InputError
from sitewatch.files import existing_input, sha256_file
from sitewatch.imagery import sentinel2
from sitewatch.imagery.dates import datetime_from_name, parse_datetime_option, parse_timestamp
from sitewatch.imagery.drafts import AddOutcome, AssetDraft, SceneDraft, store_drafts
from sitewatch.imagery.hashing import content_id
from sitewatch.imagery.probe import RasterProbe, crs_label, probe_raster
from sitewatch.imagery.stac import item_dict_from_draft
from sitewatch.text import check_text

# Files a scene folder may hold; anything else there (dates.txt, .aux.xml) is not a band.
RASTER_SUFFIXES = frozenset({".tif", ".tiff", ".jp2", ".img", ".vrt"})
SINGLE_FILE_ASSET_KEY = "data"

_DATETIME_TAGS = (
    "ACQUISITIONDATETIME",
    "ACQUISITION_DATETIME",
    "DATETIME_ACQUIRED",
    "datetime",
    "TIFFTAG_DATETIME",
)
_CLOUD_TAGS = ("CLOUDCOVER", "CLOUD_COVER", "CLOUDY_PIXEL_PERCENTAGE", "eo:cloud_cover")
_PLATFORM_TAGS = ("SATELLITEID", "PLATFORM", "platform")
_INSTRUMENT_TAGS = ("INSTRUMENT", "SENSOR", "instrument")
_COLOUR_BANDS = frozenset({"red", "green", "blue", "alpha"})


def add_scenes(
    session: Session,
    paths: Sequence[Path],
    *,
    datetime_text: str | None = None,
    platform: str | None = None,
) -> list[AddOutcome]:
    """Catalogue each PATH as one scene; nothing is written unless every PATH is good."""
    acquired = parse_datetime_option(datetime_text, "--datetime") if datetime_text else None
    if platform is not None:
        check_text(platform, "--platform")
    described = [describe_scene(path, acquired=acquired, platform=platform) for path in paths]
    return store_drafts(session, [hash_scene(draft) for draft in described])


def inspect_scene(
    path: Path, *, acquired: datetime | None = None, platform: str | None = None
) -> SceneDraft:
    """The complete draft of the scene at ``path`` (described and hashed), not yet stored."""
    return hash_scene(describe_scene(path, acquired=acquired, platform=platform))


def describe_scene(
    path: Path, *, acquired: datetime | None = None, platform: str | None = None
) -> SceneDraft:
    """Metadata of the scene at ``path`` from headers only; its id is set by :func:`hash_scene`."""
    path = existing_input(path)
    in_folder = path.is_dir()
    probes = [probe_raster(file) for file in _scene_files(path)]
    _check_bands_align(probes, path)
    assets = _assets(probes, in_folder=in_folder, scene_path=path)
    platform = platform or _first_tag(probes, _PLATFORM_TAGS) or _platform_from_names(probes)
    platform = platform.lower() if platform else None
    is_sentinel2 = bool(platform and platform.startswith(sentinel2.CONSTELLATION))
    instrument = _first_tag(probes, _INSTRUMENT_TAGS)
    return SceneDraft(
        id="",
        source=str(path),
        datetime=acquired or _acquisition_time(probes, path),
        footprint=shapely.union_all([probe.footprint for probe in probes]),
        crs=crs_label(probes[0].crs),
        resolution_m=_resolution_m(probes, assets, is_sentinel2=is_sentinel2),
        bands=[band for asset in assets for band in asset.bands],
        assets=assets,
        platform=platform,
        instrument=instrument.lower()
        if instrument
        else (sentinel2.INSTRUMENT if is_sentinel2 else None),
        constellation=sentinel2.CONSTELLATION if is_sentinel2 else None,
        cloud_cover=_cloud_cover(probes),
        origin="file",
        extra_properties=_tile_property(probes),
    )


def hash_scene(draft: SceneDraft) -> SceneDraft:
    """Hash every file, derive the content id and build the STAC item of a described scene."""
    for asset in draft.assets:
        file = Path(asset.href)
        asset.sha256 = sha256_file(file)
        asset.size = file.stat().st_size
    draft.id = content_id(asset.sha256 for asset in draft.assets if asset.sha256)
    draft.stac_item = item_dict_from_draft(draft)
    return draft


def _scene_files(path: Path) -> list[Path]:
    if not path.is_dir():
        return [path]
    files = sorted(
        child
        for child in path.iterdir()
        if child.is_file()
        and child.suffix.lower() in RASTER_SUFFIXES
        and not child.name.startswith(".")
    )
    if not files:
        suffixes = ", ".join(sorted(RASTER_SUFFIXES))
        raise InputError(f"folder holds no raster files ({suffixes})", source=path)
    return files


def _check_bands_align(probes: list[RasterProbe], scene_path: Path) -> None:
    """All files of one scene must share a CRS and overlap: else they are not one scene."""
    first = probes[0]
    common = box(*first.native_bounds)
    for probe in probes[1:]:
        if not probe.crs.equals(first.crs, ignore_axis_order=True):
            raise InputError(
                f"{probe.path.name} is in {crs_label(probe.crs)[:60]} but {first.path.name} is in "
                f"{crs_label(first.crs)[:60]}: the files of one scene must share a CRS",
                source=scene_path,
            )
        common = common.intersection(box(*probe.native_bounds))
        if common.area <= 0:
            raise InputError(
                f"{probe.path.name} does not overlap the other files: they are not one scene",
                source=scene_path,
            )


def _assets(probes: list[RasterProbe], *, in_folder: bool, scene_path: Path) -> list[AssetDraft]:
    assets = []
    for probe in probes:
        bands = band_names(probe.path, probe.descriptions, probe.colour_names, in_folder=in_folder)
        if not in_folder:
            key = SINGLE_FILE_ASSET_KEY
        else:
            key = bands[0] if len(bands) == 1 else probe.path.stem
        assets.append(
            AssetDraft(
                key=key,
                href=str(probe.path),
                bands=bands,
                media_type=_media_type(probe),
                raster=probe,
            )
        )
    assets.sort(key=lambda asset: sentinel2.band_sort_key(asset.bands[0]))
    holder: dict[str, str] = {}
    for asset in assets:
        for band in asset.bands:
            if band in holder:
                raise InputError(
                    f"{Path(holder[band]).name} and {Path(asset.href).name} both hold band "
                    f"{band}: one folder must hold one scene",
                    source=scene_path,
                )
            holder[band] = asset.href
    return assets


def band_names(
    path: Path,
    descriptions: Sequence[str | None],
    colour_names: Sequence[str],
    *,
    in_folder: bool,
) -> list[str]:
    """Band names of a raster file: Sentinel-2 suffix, else descriptions, colour, b1..bn.

    A single-band file inside a folder without any of those is named by its file stem:
    in a folder of ``red.tif``, ``nir.tif`` the name is the only label the user gave.
    Ingest and detection both name bands here, so a band is called the same everywhere.
    """
    count = len(descriptions)
    if count == 1:
        msi_band = sentinel2.band_from_name(path.stem)
        if msi_band:
            return [msi_band]
        if in_folder:
            return [descriptions[0] or path.stem]
    names = [
        description or (colour if colour in _COLOUR_BANDS else f"b{index}")
        for index, (description, colour) in enumerate(
            zip(descriptions, colour_names, strict=True), start=1
        )
    ]
    if len(set(names)) != len(names):
        return [f"b{index}" for index in range(1, count + 1)]
    return names


def _resolution_m(
    probes: list[RasterProbe], assets: list[AssetDraft], *, is_sentinel2: bool
) -> float:
    """The scene's finest ground sample distance, in metres.

    A Sentinel-2 band re-gridded to lon/lat measures ~10.5 m at mid latitudes; the sensor's
    nominal 10 m is what an analyst expects and what site stacks should snap their grid to,
    so MSI bands report their nominal GSD. Other rasters report their measured pixel size.
    """
    band_names = [band for asset in assets for band in asset.bands]
    if is_sentinel2 and band_names and all(band in sentinel2.MSI_BY_NAME for band in band_names):
        return min(sentinel2.MSI_BY_NAME[band].gsd_m for band in band_names)
    return min(probe.resolution_m for probe in probes)


def _media_type(probe: RasterProbe) -> str | None:
    if probe.driver == "GTiff":
        return MediaType.COG if probe.is_cog else MediaType.GEOTIFF
    if probe.driver.startswith("JP2"):
        return MediaType.JPEG2000
    return None


def _acquisition_time(probes: list[RasterProbe], scene_path: Path) -> datetime:
    found: dict[datetime, Path] = {}
    for probe in probes:
        moment = _time_from_tags(probe) or datetime_from_name(probe.path.name)
        if moment is not None:
            found.setdefault(moment, probe.path)
    if len(found) > 1:
        (first, first_file), (second, second_file) = sorted(found.items())[:2]
        raise InputError(
            f"files disagree on the acquisition time: {first_file.name} says "
            f"{first.isoformat()}, {second_file.name} says {second.isoformat()}",
            source=scene_path,
        )
    if found:
        return next(iter(found))
    from_folder = datetime_from_name(scene_path.name) if scene_path.is_dir() else None
    if from_folder is not None:
        return from_folder
    raise InputError(
        "no acquisition time in its tags or file name: pass --datetime, e.g. "
        "--datetime 2016-11-30T10:52:00Z",
        source=scene_path,
    )


def _time_from_tags(probe: RasterProbe) -> datetime | None:
    for tag in _DATETIME_TAGS:
        value = probe.tags.get(tag)
        moment = parse_timestamp(value) if value else None
        if moment is not None:
            return moment
    return None


def _first_tag(probes: list[RasterProbe], tags: Sequence[str]) -> str | None:
    for probe in probes:
        for tag in tags:
            value = probe.tags.get(tag, "").strip()
            if value:
                return value
    return None


def _platform_from_names(probes: list[RasterProbe]) -> str | None:
    for probe in probes:
        platform = sentinel2.platform_from_name(probe.path.stem)
        if platform:
            return platform
    return None


def _cloud_cover(probes: list[RasterProbe]) -> float | None:
    """Cloud cover in percent from tags; vendors write -999 or similar when unknown."""
    value = _first_tag(probes, _CLOUD_TAGS)
    try:
        percent = float(value) if value is not None else None
    except ValueError:
        return None
    return percent if percent is not None and limits.CLOUD_COVER_PERCENT.contains(percent) else None


def _tile_property(probes: list[RasterProbe]) -> dict[str, str]:
    tile = sentinel2.mgrs_tile_from_name(probes[0].path.stem)
    return {"grid:code": f"MGRS-{tile}"} if tile else {}
