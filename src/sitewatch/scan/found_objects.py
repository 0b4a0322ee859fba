"""A tile's change objects as the client stores them: columns of numbers and WKB.

What :func:`sitewatch.scan.tasks.scan_tile` sends back for its candidates, and what
:mod:`sitewatch.scan.store` inserts column by column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely

from sitewatch import analysis
from sitewatch.analysis.vegetation import STRUCTURAL, VEGETATION

#: A found object's lon/lat bounds, in :func:`shapely.bounds` order.
BOUND_COLUMNS = ("min_lon", "min_lat", "max_lon", "max_lat")
#: The numbers of a found object, in the order of :attr:`FoundObjects.values` columns.
OBJECT_COLUMNS = (
    "area_m2",
    "centroid_lon",
    "centroid_lat",
    "score",
    "max_score",
    "direction",
    "pixel_count",
    "edge",
    #: Share of the object's changed pixels whose change is vegetation-phase (NaN: untested).
    "vegetation_share",
    #: The object's change class as a number (:data:`CLASS_CODES`; NaN: untested).
    "change_class",
    *BOUND_COLUMNS,
)
#: The number standing for each change class in :data:`OBJECT_COLUMNS` (a float column).
CLASS_CODES = {STRUCTURAL: 0.0, VEGETATION: 1.0}


@dataclass(frozen=True)
class FoundObjects:
    """A tile's change objects in lon/lat, column by column, as the client stores them.

    Columns, not one object per candidate: a tile of dense change holds a hundred or more,
    and the client, which shares the cores with the workers, spent a noticeable part of its
    CPU unpickling them one by one (benchmarks/scan_throughput.py). ``values`` holds
    :data:`OBJECT_COLUMNS` per object.
    """

    geometry_wkb: tuple[bytes, ...] = ()
    values: np.ndarray = field(default_factory=lambda: np.zeros((0, len(OBJECT_COLUMNS))))

    def __len__(self) -> int:
        return len(self.geometry_wkb)

    def column(self, name: str) -> np.ndarray:
        return self.values[:, OBJECT_COLUMNS.index(name)]

    def change_classes(self) -> list[str | None]:
        """Each object's change class (None: no vegetation-phase test was made)."""
        names = {code: name for name, code in CLASS_CODES.items()}
        return [names.get(code) for code in self.column("change_class").tolist()]

    @classmethod
    def of(cls, objects: Sequence[analysis.ChangeObject]) -> FoundObjects:
        """The columns of ``objects`` (a missing ground area or centroid becomes 0); the
        lon/lat bounds are measured here so the client never parses the WKB to index it."""
        numbers = np.array(
            [
                (
                    item.area_m2 or 0.0,
                    item.centroid_lon or 0.0,
                    item.centroid_lat or 0.0,
                    item.mean_score,
                    item.max_score,
                    item.direction,
                    item.pixel_count,
                    item.edge,
                    math.nan if item.vegetation_share is None else item.vegetation_share,
                    CLASS_CODES.get(item.change_class, math.nan),
                )
                for item in objects
            ],
            dtype=np.float64,
        ).reshape(len(objects), len(OBJECT_COLUMNS) - len(BOUND_COLUMNS))
        geometries = np.array([item.geometry for item in objects], dtype=object)
        return cls(
            tuple(shapely.to_wkb(geometries).tolist()),
            np.hstack(
                [numbers, shapely.bounds(geometries).reshape(len(objects), len(BOUND_COLUMNS))]
            ),
        )
