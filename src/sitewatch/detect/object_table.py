"""The change objects of a run, kept on disk so that no stage holds them all.

A large scene has ~2,000 objects per Mpx (100,000 on 50 Mpx); as Python and shapely
objects plus one GeoJSON document built in memory they were most of a run's peak memory.
Here each object is written, as it is found, as the body of its GeoJSON feature (geometry
from GEOS's vectorised writer, exact round trip) to a scratch file; memory keeps only a
few numbers per object: where its text is, and what ordering and the summary need. The
products then stream from that file: ``objects.geojson`` feature by feature in the order
of :func:`sitewatch.analysis.polygonise` (decreasing max score, then pixel count), the
database rows in that same order by iteration.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape

from sitewatch.analysis.objects import ChangeObject, feature_properties


class ObjectTable:
    """Objects appended in any order, read back sorted; see the module docstring."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.write_bytes(b"")
        self._offsets = array("q")
        self._lengths = array("q")
        self._max_scores = array("d")
        self._pixel_counts = array("q")
        self.changed_pixels = 0
        self.changed_area_m2 = 0.0

    def add(self, objects: Iterable[ChangeObject]) -> None:
        items = list(objects)
        if not items:
            return
        geometries = shapely.to_geojson(np.array([item.geometry for item in items], dtype=object))
        encode = json.JSONEncoder().encode
        bodies = [
            f'"geometry": {geometry}, "properties": {encode(feature_properties(item))}}}'.encode()
            for item, geometry in zip(items, geometries, strict=True)
        ]
        lengths = [len(body) for body in bodies]
        with self.path.open("ab") as file:
            start = file.tell()
            file.write(b"".join(bodies))
        self._offsets.extend(np.cumsum([start, *lengths[:-1]]).tolist())
        self._lengths.extend(lengths)
        self._max_scores.extend(item.max_score for item in items)
        self._pixel_counts.extend(item.pixel_count for item in items)
        self.changed_pixels += sum(item.pixel_count for item in items)
        self.changed_area_m2 += sum(item.area_m2 or 0.0 for item in items)

    def __len__(self) -> int:
        return len(self._offsets)

    @property
    def max_score(self) -> float:
        return max(self._max_scores, default=0.0)

    def _order(self) -> np.ndarray:
        """Positions by decreasing max score, then pixel count; ties keep insertion order."""
        scores = np.frombuffer(self._max_scores, dtype=np.float64)
        pixels = np.frombuffer(self._pixel_counts, dtype=np.int64)
        return np.lexsort((-pixels, -scores))

    def _bodies(self) -> Iterator[bytes]:
        with self.path.open("rb") as file:
            for position in self._order():
                file.seek(self._offsets[position])
                yield file.read(self._lengths[position])

    def __iter__(self) -> Iterator[ChangeObject]:
        """The objects in order, rebuilt one at a time from their stored features."""
        for body in self._bodies():
            feature = json.loads(b"{" + body)
            yield ChangeObject(geometry=shape(feature["geometry"]), **feature["properties"])

    def write_geojson(self, path: Path, members: dict[str, Any] | None = None) -> None:
        """A FeatureCollection of the objects in order (ids from 1), written feature by
        feature; ``members`` are extra top-level members."""
        with path.open("wb") as out:
            out.write(b'{"type": "FeatureCollection"')
            for key, value in (members or {}).items():
                out.write(f", {json.dumps(key)}: {json.dumps(value)}".encode())
            out.write(b', "features": [')
            for index, body in enumerate(self._bodies(), start=1):
                separator = b", " if index > 1 else b""
                out.write(separator + f'{{"type": "Feature", "id": {index}, '.encode() + body)
            out.write(b"]}")
