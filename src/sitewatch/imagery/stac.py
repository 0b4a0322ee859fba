"""Scenes as STAC Items: built at ingest, exported as a static catalog, imported back.

Every scene keeps a STAC Item (``Scene.stac_item``) so that the catalog speaks a public
spec: odc-stac, QGIS and STAC browsers read what sitewatch exports, and sitewatch imports
what a STAC API or static catalog publishes. Imports keep remote asset hrefs as given
(``https://``, ``s3://``): turning them into GDAL paths (``/vsicurl/``) is the reader's job,
and nothing remote is downloaded or hashed here. Local files are hashed like at ingest.

Item JSON is checked for an id, a geometry and a datetime before pystac parses it, so that
a bad item is reported by its id rather than by a pystac traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import urllib.error
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pystac
import shapely
import urllib3
from affine import Affine
from pyproj import CRS
from pyproj.exceptions import CRSError
from pystac.extensions.eo import Band, EOExtension
from pystac.extensions.file import FileExtension
from pystac.extensions.grid import GridExtension
from pystac.extensions.projection import ProjectionExtension
from pystac_client import Client
from pystac_client.exceptions import APIError
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from sitewatch import limits
from sitewatch.catalog.aoi import filter_area
from sitewatch.catalog.formats.files import find_unrepresentable
from sitewatch.errors import ConflictError, InputError, NotFoundError
from sitewatch.files import existing_input, sha256_file
from sitewatch.imagery import sentinel2
from sitewatch.imagery.dates import as_utc, parse_interval
from sitewatch.imagery.drafts import AddOutcome, AssetDraft, SceneDraft, store_drafts
from sitewatch.imagery.hashing import sha256_from_multihash, sha256_multihash
from sitewatch.imagery.probe import crs_label, resolution_metres
from sitewatch.imagery.search import find_scenes

EXPORT_COLLECTION_ID = "sitewatch-scenes"
_RASTER_SUFFIXES = (".tif", ".tiff", ".jp2", ".img", ".vrt")
_NON_DATA_ROLES = frozenset({"thumbnail", "overview", "metadata", "visual-thumbnail"})
_PARENT_LINKS = frozenset({"self", "root", "parent", "collection"})
_READ_ERRORS = (
    OSError,
    ValueError,
    KeyError,
    TypeError,
    pystac.STACError,
    urllib.error.URLError,
    urllib3.exceptions.HTTPError,
    APIError,
)


# --- building items -----------------------------------------------------------------------


def item_from_draft(draft: SceneDraft) -> pystac.Item:
    """The STAC Item of a scene described from local files (eo, projection, file extensions)."""
    footprint = draft.footprint
    item = pystac.Item(
        id=draft.id,
        geometry=mapping(footprint),
        bbox=list(footprint.bounds),
        datetime=draft.datetime,
        properties=dict(draft.extra_properties),
    )
    common = item.common_metadata
    common.platform = draft.platform
    common.constellation = draft.constellation
    common.instruments = [draft.instrument] if draft.instrument else None
    if draft.resolution_m is not None:
        common.gsd = round(draft.resolution_m, 3)
    eo = EOExtension.ext(item, add_if_missing=True)
    if draft.cloud_cover is not None:
        eo.cloud_cover = draft.cloud_cover
    ProjectionExtension.add_to(item)
    FileExtension.add_to(item)
    if "grid:code" in draft.extra_properties:
        GridExtension.add_to(item)
    for asset_draft in draft.assets:
        item.add_asset(asset_draft.key, _asset(asset_draft))
    return item


def item_dict_from_draft(draft: SceneDraft) -> dict[str, Any]:
    """JSON form of :func:`item_from_draft`, as stored in ``Scene.stac_item``."""
    return item_from_draft(draft).to_dict(include_self_link=False, transform_hrefs=False)


def _asset(draft: AssetDraft) -> pystac.Asset:
    asset = pystac.Asset(
        href=draft.href, media_type=draft.media_type, roles=["data"], title=", ".join(draft.bands)
    )
    EOExtension.ext(asset).bands = [_eo_band(name) for name in draft.bands]
    raster = draft.raster
    if raster is not None:
        projection = ProjectionExtension.ext(asset)
        code = raster.crs.to_epsg()
        if code is not None:
            projection.epsg = code
        else:
            projection.wkt2 = raster.crs.to_wkt()
        projection.shape = [raster.height, raster.width]
        projection.transform = list(raster.transform)[:6]
        asset.common_metadata.gsd = round(raster.resolution_m, 3)
    if draft.sha256 is not None:
        file_info = FileExtension.ext(asset)
        file_info.checksum = sha256_multihash(draft.sha256)
        file_info.size = draft.size
    return asset


def _eo_band(name: str) -> Band:
    msi = sentinel2.MSI_BY_NAME.get(name.upper())
    if msi is not None:
        return Band.create(
            name=name,
            common_name=msi.common_name,
            center_wavelength=msi.center_wavelength,
            full_width_half_max=msi.full_width_half_max,
        )
    if name in ("red", "green", "blue"):
        return Band.create(name=name, common_name=name)
    return Band.create(name=name)


# --- export -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportResult:
    """Where the catalog was written and how many items it holds."""

    catalog_path: Path
    item_count: int


def export_stac(
    session: Session, directory: Path, *, collection_id: str = EXPORT_COLLECTION_ID
) -> ExportResult:
    """Write every scene as a self-contained static STAC Collection in ``directory``.

    Imagery is not copied: asset hrefs stay absolute paths (or the remote URLs they were
    imported with). The catalog is written to a temporary sibling folder and renamed into
    place, so an interrupted export never leaves a half-written catalog.
    """
    directory = directory.expanduser().resolve()
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ConflictError(f"{directory}: exists and is not an empty folder")
    scenes = find_scenes(session)
    if not scenes:
        raise NotFoundError("the workspace has no scenes: nothing to export")
    items = [pystac.Item.from_dict(scene.stac_item, preserve_dict=True) for scene in scenes]
    footprints = shapely.union_all([scene.footprint for scene in scenes])
    collection = pystac.Collection(
        id=collection_id,
        description="Scenes catalogued by sitewatch.",
        extent=pystac.Extent(
            pystac.SpatialExtent([list(footprints.bounds)]),
            pystac.TemporalExtent([[scenes[0].datetime, scenes[-1].datetime]]),
        ),
        license="other",
    )
    for item in items:
        item.collection_id = collection_id
        collection.add_item(item)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        collection.normalize_hrefs(str(staging))
        collection.save(pystac.CatalogType.SELF_CONTAINED, dest_href=str(staging))
        if directory.exists():
            directory.rmdir()
        os.replace(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportResult(directory / "collection.json", len(items))


# --- import -------------------------------------------------------------------------------


def add_stac(
    session: Session,
    source: str,
    *,
    bbox_text: str | None = None,
    site_id: str | None = None,
    datetime_text: str | None = None,
    collections: Sequence[str] | None = None,
    limit: int | None = None,
) -> list[AddOutcome]:
    """Import the items of a static catalog or STAC API that match the filters, as scenes."""
    start, end = parse_interval(datetime_text, "--datetime") if datetime_text else (None, None)
    if limit is not None:
        limits.ROW_LIMIT.check(limit, item="--limit")
    area = filter_area(session, site_id=site_id, bbox_text=bbox_text)
    items = read_stac_items(
        source, area=area, start=start, end=end, collections=collections, limit=limit
    )
    drafts = [draft_from_item(item, source) for item in items]
    return store_drafts(session, drafts)


def read_stac_items(
    source: str,
    *,
    area: BaseGeometry | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    collections: Sequence[str] | None = None,
    limit: int | None = None,
) -> list[pystac.Item]:
    """Matching items of a STAC API (searched server-side) or a static catalog (walked)."""
    source = _normalise_source(source)
    root = _read_json(source, source)
    if _is_item_search_api(root):
        item_dicts: Iterator[tuple[dict[str, Any], str | None]] = _search_api(
            source, area=area, start=start, end=end, collections=collections, limit=limit
        )
    else:
        item_dicts = _walk_static(root, source)
    items: list[pystac.Item] = []
    for item_dict, href in item_dicts:
        item = _parse_item(item_dict, href, source)
        if _matches(item, area=area, start=start, end=end, collections=collections):
            items.append(item)
            if limit is not None and len(items) >= limit:
                break
    return items


def draft_from_item(item: pystac.Item, source: str) -> SceneDraft:
    """A scene draft from a STAC item; local assets are hashed, remote ones are not read."""
    where = f"item {item.id}"
    stored = _stored_item_dict(item)
    unrepresentable = find_unrepresentable(stored)
    if unrepresentable is not None:
        path, problem = unrepresentable
        field = ".".join(str(part) for part in path)
        raise InputError(problem, source=source, item=f"{where}.{field}" if field else where)
    footprint = _footprint(item, source)
    acquired = item.datetime or item.common_metadata.start_datetime
    assert acquired is not None  # _parse_item rejects items without either
    assets = [
        _asset_draft(key, asset, source, where)
        for key, asset in item.assets.items()
        if _is_raster_asset(asset)
    ]
    if not assets:
        raise InputError("has no raster data asset", source=source, item=where)
    crs = _item_crs(item)
    properties = item.properties
    instruments = properties.get("instruments") or []
    cloud_cover = properties.get("eo:cloud_cover")
    return SceneDraft(
        id=item.id,
        source=f"{source} [{where}]",
        datetime=as_utc(acquired),
        footprint=footprint,
        crs=crs_label(crs) if crs is not None else "",
        resolution_m=_item_resolution(item, crs),
        bands=[band for asset in assets for band in asset.bands],
        assets=assets,
        platform=properties.get("platform"),
        instrument=str(instruments[0]) if instruments else None,
        constellation=properties.get("constellation"),
        cloud_cover=_cloud_cover(cloud_cover),
        collection=item.collection_id,
        origin="stac",
        stac_item=stored,
    )


def _normalise_source(source: str) -> str:
    if _is_remote(source):
        return source
    path = existing_input(Path(source))
    if path.is_dir():
        for name in ("catalog.json", "collection.json"):
            if (path / name).is_file():
                return str(path / name)
        raise InputError("folder has no catalog.json or collection.json", source=path)
    if not path.is_file():
        raise InputError("does not exist", source=path)
    return str(path)


def _read_json(href: str, source: str) -> dict[str, Any]:
    try:
        data = pystac.StacIO.default().read_json(href)
    except json.JSONDecodeError as error:
        raise InputError(f"not valid JSON ({error})", source=href) from None
    except RecursionError:  # pystac parses for us; deep nesting refused as parse_json does
        raise InputError("not valid JSON: nested too deeply", source=href) from None
    except _READ_ERRORS as error:
        raise InputError(f"cannot be read ({error})", source=href) from None
    if not isinstance(data, dict):
        raise InputError("is not a STAC object (JSON object expected)", source=href)
    return data


def _is_item_search_api(root: dict[str, Any]) -> bool:
    conforms = root.get("conformsTo") or []
    return any(isinstance(uri, str) and uri.rstrip("/").endswith("item-search") for uri in conforms)


def _search_api(
    url: str,
    *,
    area: BaseGeometry | None,
    start: datetime | None,
    end: datetime | None,
    collections: Sequence[str] | None,
    limit: int | None,
) -> Iterator[tuple[dict[str, Any], str | None]]:
    try:
        client = Client.open(url)
        search = client.search(
            intersects=mapping(area) if area is not None else None,
            datetime=[start, end] if start or end else None,
            collections=list(collections) if collections else None,
            max_items=limit,
        )
        for item_dict in search.items_as_dicts():
            yield item_dict, None
    except _READ_ERRORS as error:
        raise InputError(f"STAC API search failed ({error})", source=url) from None


def _walk_static(
    root: dict[str, Any], root_href: str
) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Item dicts under a static Catalog/Collection, an ItemCollection, or a lone Item."""
    kind = root.get("type")
    if kind == "Feature":
        yield root, root_href
        return
    if kind == "FeatureCollection":
        for feature in root.get("features") or []:
            yield feature, root_href
        return
    if kind not in ("Catalog", "Collection"):
        raise InputError(
            f"is not a STAC Catalog, Collection, Item or ItemCollection (type {kind!r})",
            source=root_href,
        )
    for link in root.get("links") or []:
        rel, href = link.get("rel"), link.get("href")
        if rel not in ("item", "child") or not isinstance(href, str):
            continue
        target = pystac.utils.make_absolute_href(href, root_href)
        data = _read_json(target, root_href)
        if rel == "item":
            yield data, target
        else:
            yield from _walk_static(data, target)


def _parse_item(data: dict[str, Any], href: str | None, source: str) -> pystac.Item:
    item_id = data.get("id")
    where = f"item {item_id}" if item_id else f"an item in {href or source}"
    if not item_id:
        raise InputError("has no id", source=source, item=where)
    if not data.get("geometry"):
        raise InputError("has no geometry (scenes need a footprint)", source=source, item=where)
    properties = data.get("properties") or {}
    if not properties.get("datetime") and not properties.get("start_datetime"):
        raise InputError("has no datetime", source=source, item=where)
    try:
        return pystac.Item.from_dict(data, href=href, preserve_dict=True)
    except _READ_ERRORS as error:
        raise InputError(f"is not a valid STAC item ({error})", source=source, item=where) from None


def _matches(
    item: pystac.Item,
    *,
    area: BaseGeometry | None,
    start: datetime | None,
    end: datetime | None,
    collections: Sequence[str] | None,
) -> bool:
    """Client-side filters for static catalogs (and a safety net for lax APIs)."""
    if collections and item.collection_id not in collections:
        return False
    item_start = item.datetime or item.common_metadata.start_datetime
    item_end = item.datetime or item.common_metadata.end_datetime or item_start
    if start is not None and item_end is not None and as_utc(item_end) < start:
        return False
    if end is not None and item_start is not None and as_utc(item_start) > end:
        return False
    if area is not None:
        try:
            return bool(shape(item.geometry).intersects(area))
        except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException):
            return True  # reported precisely by draft_from_item
    return True


def _footprint(item: pystac.Item, source: str) -> BaseGeometry:
    try:
        footprint = shapely.make_valid(shape(item.geometry))
    except (ValueError, TypeError, AttributeError, KeyError, shapely.errors.GEOSException) as err:
        raise InputError(
            f"has an unreadable geometry ({err})", source=source, item=f"item {item.id}"
        ) from None
    if footprint.is_empty or footprint.area <= 0:
        raise InputError(
            "has an empty or zero-area geometry", source=source, item=f"item {item.id}"
        )
    return footprint


def _is_raster_asset(asset: pystac.Asset) -> bool:
    roles = set(asset.roles or [])
    if roles & _NON_DATA_ROLES and "data" not in roles:
        return False
    if "data" in roles:
        return True
    media_type = (asset.media_type or "").lower()
    if media_type.startswith("image/"):
        return True
    return urlparse(asset.href).path.lower().endswith(_RASTER_SUFFIXES)


def _asset_draft(key: str, asset: pystac.Asset, source: str, where: str) -> AssetDraft:
    href = asset.get_absolute_href() or asset.href
    checksum = asset.extra_fields.get("file:checksum")
    declared_sha256 = sha256_from_multihash(checksum) if isinstance(checksum, str) else None
    declared_size = asset.extra_fields.get("file:size")
    draft = AssetDraft(
        key=key,
        href=href,
        bands=_asset_band_names(key, asset),
        media_type=asset.media_type,
        sha256=declared_sha256,
        size=declared_size if isinstance(declared_size, int) else None,
    )
    local = _local_path(href)
    if local is None:
        return draft
    if not local.is_file():
        raise InputError(f"asset {key}: file {local} does not exist", source=source, item=where)
    draft.href = str(local)
    draft.sha256 = sha256_file(local)
    draft.size = local.stat().st_size
    if declared_sha256 is not None and declared_sha256 != draft.sha256:
        raise InputError(
            f"asset {key}: {local} does not match its file:checksum (file changed or corrupt)",
            source=source,
            item=where,
        )
    return draft


def _asset_band_names(key: str, asset: pystac.Asset) -> list[str]:
    """Band names from ``eo:bands`` (STAC 1.0) or ``bands`` (STAC 1.1), else the asset key."""
    for field in ("eo:bands", "bands"):
        bands = asset.extra_fields.get(field)
        if isinstance(bands, list):
            names = [band.get("name") for band in bands if isinstance(band, dict)]
            if names and all(isinstance(name, str) and name for name in names):
                return names
    return [key]


def _item_crs(item: pystac.Item) -> CRS | None:
    """CRS from ``proj:code``/``proj:epsg``/``proj:wkt2`` of the item or its first asset."""
    holders = [item.properties, *(asset.extra_fields for asset in item.assets.values())]
    for holder in holders:
        for field in ("proj:code", "proj:epsg", "proj:wkt2"):
            value = holder.get(field)
            if value is None:
                continue
            try:
                return CRS.from_user_input(f"EPSG:{value}" if isinstance(value, int) else value)
            except CRSError:
                continue
    return None


def _cloud_cover(value: Any) -> float | None:
    """``eo:cloud_cover`` in percent, or None when absent or not a percentage."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return float(value) if limits.CLOUD_COVER_PERCENT.contains(value) else None


def _item_resolution(item: pystac.Item, crs: CRS | None) -> float | None:
    """``gsd`` of the item or its finest asset; else from ``proj:transform`` and the CRS."""
    gsds = [item.properties.get("gsd")]
    gsds += [asset.extra_fields.get("gsd") for asset in item.assets.values()]
    numbers = [float(value) for value in gsds if isinstance(value, int | float) and value > 0]
    if numbers:
        return min(numbers)
    if crs is None:
        return None
    for asset in item.assets.values():
        transform = asset.extra_fields.get("proj:transform")
        shape_ = asset.extra_fields.get("proj:shape")
        if isinstance(transform, list) and len(transform) >= 6 and isinstance(shape_, list):
            grid = Affine(*transform[:6])
            return resolution_metres(grid, int(shape_[1]), int(shape_[0]), crs)
    return None


def _stored_item_dict(item: pystac.Item) -> dict[str, Any]:
    """The item as JSON with absolute asset hrefs and without links into its old catalog."""
    data = item.to_dict(include_self_link=False, transform_hrefs=False)
    for key, asset in item.assets.items():
        data["assets"][key]["href"] = asset.get_absolute_href() or asset.href
    data["links"] = [
        link
        for link in data.get("links", [])
        if link.get("rel") not in _PARENT_LINKS and _is_absolute(str(link.get("href", "")))
    ]
    return data


def _is_remote(href: str) -> bool:
    return urlparse(href).scheme.lower() in ("http", "https", "s3", "gs", "az", "abfs")


def _is_absolute(href: str) -> bool:
    return _is_remote(href) or Path(href).is_absolute()


def _local_path(href: str) -> Path | None:
    """The local file an href names, or None when it is remote (never read here)."""
    parsed = urlparse(href)
    if parsed.scheme == "file":
        return Path(parsed.path)
    if parsed.scheme and len(parsed.scheme) > 1:
        return None
    return Path(href)
