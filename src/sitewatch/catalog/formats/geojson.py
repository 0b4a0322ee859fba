"""GeoJSON (RFC 7946): a FeatureCollection, one Feature per site.

Properties hold every field natively (lists as arrays, sources as objects); an
unlocated site is a Feature with ``"geometry": null``. Coordinates are written with
Python's shortest round-trip float text, so nothing is lost and nothing is padded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shapely.errors import GEOSException
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from sitewatch.catalog.formats.fields import record_from_properties
from sitewatch.catalog.formats.files import decode_text, parse_json, read_bytes
from sitewatch.catalog.records import SiteRecord, located
from sitewatch.errors import InputError


def feature(record: SiteRecord) -> dict[str, Any]:
    """The GeoJSON Feature of one site."""
    properties = record.as_dict()
    geometry = properties.pop("geometry")
    return {"type": "Feature", "id": record.id, "geometry": geometry, "properties": properties}


def dumps(records: Sequence[SiteRecord]) -> str:
    """A FeatureCollection with one feature per line: compact, and diffs show whole sites."""
    lines = [json.dumps(feature(r), ensure_ascii=False) for r in records]
    body = ",\n".join(lines)
    return '{"type": "FeatureCollection", "features": [\n' + body + ("\n" if lines else "") + "]}\n"


def write(records: Sequence[SiteRecord], path: Path) -> None:
    path.write_text(dumps(records), encoding="utf-8")


def read(path: Path) -> list[SiteRecord]:
    return loads(decode_text(read_bytes(path), path), path)


def loads(text: str, source: str | Path) -> list[SiteRecord]:
    """Sites from GeoJSON text; ``source`` names the file in error messages."""
    data = parse_json(text, source)
    features = _features(data, source)
    records = []
    for number, entry in enumerate(features, start=1):
        item = _feature_label(number, entry)
        with located(source, item):
            if not isinstance(entry, dict) or entry.get("type") != "Feature":
                raise InputError("not a GeoJSON Feature")
            properties = entry.get("properties") or {}
            if not isinstance(properties, dict):
                raise InputError("properties must be an object")
            if "id" not in properties and isinstance(entry.get("id"), str):
                properties = {**properties, "id": entry["id"]}
            records.append(record_from_properties(properties, _geometry(entry.get("geometry"))))
    return records


def _features(data: Any, source: str | Path) -> list[Any]:
    kind = data.get("type") if isinstance(data, dict) else None
    if kind == "FeatureCollection" and isinstance(data.get("features"), list):
        return list(data["features"])
    if kind == "Feature":
        return [data]
    raise InputError("not a GeoJSON FeatureCollection or Feature", source=source)


def _feature_label(number: int, entry: Any) -> str:
    """'feature 3 "Sino-ri"': the position (from 1) and, when there is one, the name."""
    properties = entry.get("properties") if isinstance(entry, dict) else None
    name = properties.get("name") if isinstance(properties, dict) else None
    return f"feature {number}" + (f" {str(name)!r}" if name else "")


def _geometry(data: Any) -> BaseGeometry | None:
    if data is None:
        return None
    try:
        return shape(data)
    except (GEOSException, ValueError, TypeError, KeyError, IndexError, AttributeError) as err:
        raise InputError(f"not a GeoJSON geometry ({err})", item="geometry") from None
