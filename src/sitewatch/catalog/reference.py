"""Reference data shipped with sitewatch: site lists and country outlines.

Outlines are Natural Earth 4.1.0 (public domain). North Korea uses the 1:10m outline,
detailed enough that coastal sites such as Sohae fall inside it; its neighbours use
1:50m, which is enough for scan areas and map context. See ``data/SOURCES.md``.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from sitewatch.catalog.formats import geojson
from sitewatch.catalog.records import SiteRecord
from sitewatch.errors import InputError

REFERENCE_SETS = {"dprk": "dprk_sites.geojson"}
# ISO 3166 alpha-3 -> (file, feature id = ISO 3166 numeric).
OUTLINES = {
    "PRK": ("kp_10m.geojson", "408"),
    "KOR": ("kp_neighbours_50m.geojson", "410"),
    "CHN": ("kp_neighbours_50m.geojson", "156"),
    "RUS": ("kp_neighbours_50m.geojson", "643"),
    "JPN": ("kp_neighbours_50m.geojson", "392"),
}


def _data_text(name: str) -> str:
    return resources.files("sitewatch.catalog").joinpath("data").joinpath(name).read_text("utf-8")


def reference_names() -> list[str]:
    return sorted(REFERENCE_SETS)


def load_reference(name: str) -> list[SiteRecord]:
    """The sites of a shipped reference set, e.g. ``"dprk"``."""
    key = name.strip().lower()
    if key not in REFERENCE_SETS:
        raise InputError(
            f"unknown reference set {name!r} (known: {', '.join(reference_names())})",
            item="reference",
        )
    filename = REFERENCE_SETS[key]
    return geojson.loads(_data_text(filename), Path("sitewatch/catalog/data") / filename)


@cache
def country_outline(iso3: str) -> BaseGeometry:
    """A country's outline in lon/lat, from the shipped Natural Earth files."""
    code = iso3.strip().upper()
    if code not in OUTLINES:
        raise InputError(
            f"no outline shipped for {iso3!r} (known: {', '.join(sorted(OUTLINES))})",
            item="country",
        )
    filename, feature_id = OUTLINES[code]
    features = json.loads(_data_text(filename))["features"]
    return next(shape(f["geometry"]) for f in features if str(f["id"]) == feature_id)


@cache
def outline_collection() -> dict[str, object]:
    """Every shipped outline as one GeoJSON FeatureCollection (``iso3`` and ``name`` in
    each feature's properties): the base layer of the workbench's maps, which have no
    other background offline."""
    features = []
    for code, (filename, feature_id) in OUTLINES.items():
        found = next(
            f for f in json.loads(_data_text(filename))["features"] if str(f["id"]) == feature_id
        )
        properties = {"iso3": code, "name": found["properties"].get("name", code)}
        features.append(
            {"type": "Feature", "properties": properties, "geometry": found["geometry"]}
        )
    return {"type": "FeatureCollection", "features": features}
