"""Scene and site rows written straight into a workspace, so imagery tests need no ingest code.

The asset convention is the catalog's: an asset naming one band holds it in raster band 1,
an asset naming several holds them in raster bands 1..n in that order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import rasterio
from rasterio.warp import transform_bounds
from shapely.geometry import Point, box
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from sitewatch.db.models import Scene, SceneAsset, Site
from sitewatch.demo.synthetic import SyntheticScenes

OSCD_BAND = "B[0-9][0-9A]"  # glob of a band suffix in OSCD file names


def add_scene(
    session: Session,
    scene_id: str,
    acquired: datetime,
    assets: Sequence[tuple[Path, Sequence[str]]],
    *,
    resolution_m: float | None = None,
    footprint: BaseGeometry | None = None,
) -> Scene:
    """A Scene with one SceneAsset per (file, band names); footprint defaults to the first
    file's bounds in lon/lat."""
    first = assets[0][0]
    with rasterio.open(first) as dataset:
        crs = dataset.crs.to_string()
        if footprint is None:
            footprint = box(*transform_bounds(dataset.crs, "EPSG:4326", *dataset.bounds))
    band_names = [band for _, names in assets for band in names]
    scene = Scene(
        id=scene_id,
        datetime=acquired,
        footprint=footprint,
        crs=crs,
        resolution_m=resolution_m,
        bands=band_names,
        stac_item={},
    )
    scene.set_bbox(footprint)
    scene.assets = [
        SceneAsset(
            position=position,
            key=names[0] if len(names) == 1 else "data",
            href=str(Path(path).resolve()),
            bands=list(names),
        )
        for position, (path, names) in enumerate(assets)
    ]
    session.add(scene)
    return scene


def add_oscd_scene(
    session: Session, folder: Path, scene_id: str, acquired: datetime, footprint: BaseGeometry
) -> Scene:
    """An OSCD ``imgs_1``/``imgs_2`` folder (one GeoTIFF per Sentinel-2 band) as a Scene."""
    files = sorted(folder.glob(f"*_{OSCD_BAND}.tif"))
    assets = [(path, [path.stem.rsplit("_", 1)[1]]) for path in files]
    return add_scene(session, scene_id, acquired, assets, resolution_m=10.0, footprint=footprint)


def add_point_site(
    session: Session, site_id: str, lon: float, lat: float, uncertainty_m: float | None = None
) -> Site:
    site = Site(id=site_id, name=site_id, geometry=Point(lon, lat), uncertainty_m=uncertainty_m)
    site.set_bbox(site.geometry)
    session.add(site)
    return site


def add_polygon_site(session: Session, site_id: str, polygon: BaseGeometry) -> Site:
    site = Site(id=site_id, name=site_id, geometry=polygon)
    site.set_bbox(polygon)
    session.add(site)
    return site


def add_synthetic_pair(session: Session, pair: SyntheticScenes) -> Site:
    """Both scenes of a synthetic pair (one 4-band file each) and its polygon site."""
    for scene in pair.scenes:
        add_scene(
            session,
            scene.scene_id,
            scene.acquired,
            [(scene.path, pair.bands)],
            resolution_m=pair.resolution_m,
            footprint=pair.footprint,
        )
    return add_polygon_site(session, pair.site_id, pair.site_geometry)
