"""GeoPackage: layer ``sites`` in EPSG:4326, written and read with pyogrio (GDAL).

Geometries go through WKB, so coordinates are exact and QGIS opens the file as is.
Lists are ``;``-joined text and sources a JSON text column, as in the other flat
formats; ``declared`` is a boolean and ``uncertainty_m`` a real. A layer in another
CRS is reprojected to lon/lat on reading.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.raw
import shapely
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.errors import GEOSException

from sitewatch.catalog.formats.fields import FIELDS, flat_properties, record_from_properties
from sitewatch.catalog.records import SiteRecord, located
from sitewatch.errors import EnvironmentProblem, InputError
from sitewatch.geo import WGS84, to_crs

LAYER = "sites"


def _geometry_type(records: Sequence[SiteRecord]) -> str:
    """The layer's declared type: exact when all sites agree, else generic ("Unknown")."""
    kinds = {r.geometry.geom_type for r in records if r.geometry is not None}
    return kinds.pop() if len(kinds) == 1 else "Unknown"


def write(records: Sequence[SiteRecord], path: Path) -> None:
    rows = [flat_properties(r) for r in records]
    columns: list[np.ndarray[Any, Any]] = []
    for name in FIELDS:
        if name == "declared":
            columns.append(np.array([r.declared for r in records], dtype=bool))
        elif name == "uncertainty_m":
            values = [np.nan if r.uncertainty_m is None else r.uncertainty_m for r in records]
            columns.append(np.array(values, dtype=np.float64))
        else:
            columns.append(np.array([row[name] or None for row in rows], dtype=object))
    geometry = np.array(
        [None if r.geometry is None else shapely.to_wkb(r.geometry) for r in records],
        dtype=object,
    )
    try:
        pyogrio.raw.write(
            str(path),
            geometry,
            columns,
            list(FIELDS),
            layer=LAYER,
            driver="GPKG",
            geometry_type=_geometry_type(records),
            crs="EPSG:4326",
        )
    except (DataSourceError, DataLayerError, FieldError, GeometryError) as error:
        # GDAL's SQLite reports a full disk as whatever statement failed next ("no such
        # table: gpkg_contents"), never as ENOSPC; what is written here was validated, so a
        # refusal is the machine's (space, permissions), not the data's.
        reason = str(error).rsplit("failed: ", 1)[-1][:200] or type(error).__name__
        raise EnvironmentProblem(
            f"GDAL could not write the GeoPackage ({reason}); is the disk full?"
        ) from None


def read(path: Path) -> list[SiteRecord]:
    if not path.is_file():
        raise InputError("file not found", source=path)
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(str(path))]
        if not layers:
            raise InputError("the GeoPackage has no layers", source=path)
        layer = LAYER if LAYER in layers else layers[0]
        meta, _, geometries, values = pyogrio.raw.read(str(path), layer=layer)
    except (DataSourceError, DataLayerError) as error:
        raise InputError(f"not a readable GeoPackage: {error}", source=path) from None
    transform = _to_lon_lat(meta.get("crs"), path)
    names = [str(name) for name in meta["fields"]]
    records = []
    for index in range(len(geometries)):
        properties = {name: _plain(values[i][index]) for i, name in enumerate(names)}
        label = f"layer {layer} feature {index + 1}"
        with located(path, label + (f" {properties['name']!r}" if properties.get("name") else "")):
            geometry = _geometry(geometries[index])
            if geometry is not None and transform is not None:
                geometry = to_crs(geometry, transform, WGS84)
            records.append(record_from_properties(properties, geometry))
    return records


def _to_lon_lat(crs_text: str | None, path: Path) -> CRS | None:
    """The layer's CRS if it must be transformed to lon/lat, else None."""
    if not crs_text:
        return None
    try:
        crs = CRS.from_user_input(crs_text)
    except CRSError:
        raise InputError(f"unknown coordinate reference system {crs_text!r}", source=path) from None
    return None if crs.equals(WGS84, ignore_axis_order=True) else crs


def _geometry(wkb: Any) -> shapely.Geometry | None:
    if wkb is None:
        return None
    try:
        return shapely.from_wkb(bytes(wkb))
    except (GEOSException, ValueError) as error:
        raise InputError(f"unreadable geometry ({error})", item="geometry") from None


def _plain(value: Any) -> Any:
    """numpy scalars and NaN to Python values and None."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value
