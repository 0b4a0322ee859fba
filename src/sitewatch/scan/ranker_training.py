"""Fit the scan's tile ranker on the OSCD training cities.

Run as ``python -m sitewatch.scan.ranker_training``.

Reproducible end to end, on the seven training cities only (the validation cities are
never read: not their images, not their labels):

1. The training cities' image folders are catalogued in a temporary workspace and
   :func:`sitewatch.scan.runner.prepare_scan` lays the engine's own 640 m tile grid over
   the union of their footprints (CVA, default bands, windows as in
   benchmarks/scan_ranking.py). Each tile is then read and scored exactly as the scan task
   does and its features computed (:func:`features_of`).
2. A tile's label: >= 40 labelled change pixels (10 m label grid) inside its footprint,
   the benchmark's rule; its city (for cross-validation) is the labelled city it covers most.
3. Model choice and the final fit: :mod:`sitewatch.ml.ranker_fit` (leave-one-city-out
   cross-validation over the training cities).
4. The chosen configuration is written, with its provenance and CV table, to
   ``sitewatch/models/tile_ranker.json`` and a model card.

Why the tiles are gathered here and the fitting is in :mod:`sitewatch.ml`: the training
tiles are the scan engine's own (a workspace, its catalog, the scan's plan), which needs the
database, and the training package stays free of it; the fitting needs nothing but arrays.

Deterministic: the tile order is fixed, CVA subsamples evenly, the fit is Newton's method
from zero. Single-threaded: run as a program, it sets OMP_NUM_THREADS=1 (and OpenBLAS's and
MKL's) before numpy is imported; importing the module changes no environment variable.
"""

from __future__ import annotations

import os

if __name__ == "__main__":
    for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_variable, "1")

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import shapely
from rasterio.features import geometry_mask
from shapely.geometry import mapping, shape

from sitewatch.analysis import tile_ranker
from sitewatch.imagery.ingest import add_scenes
from sitewatch.ml.oscd import TRAIN_CITIES, city_grid, oscd_root
from sitewatch.ml.ranker_fit import fit_best, model_card
from sitewatch.scan import tasks
from sitewatch.scan.plan import ScanPlan, ScanRequest
from sitewatch.scan.ranker import MODEL_FILE
from sitewatch.scan.runner import prepare_scan
from sitewatch.workspace import Workspace, init_workspace

TILE_SIZE_M = 640.0
BEFORE = "2015-01-01/2016-12-31"
AFTER = "2017-01-01/2018-12-31"
MIN_CHANGE_PX = 40
CHANGE_LABEL = 2
METHOD = "cva"


@dataclass(frozen=True)
class CityLabels:
    """One city's change labels on the 10 m grid of its ``imgs_1``."""

    name: str
    change: np.ndarray
    transform: rasterio.Affine

    @classmethod
    def load(cls, root: Path, city: str) -> CityLabels:
        with rasterio.open(city_grid(root / "images" / city)) as grid:
            transform, grid_shape = grid.transform, grid.shape
        with rasterio.open(root / "train_labels" / city / "cm" / f"{city}-cm.tif") as labels:
            change = labels.read(1) == CHANGE_LABEL
        if change.shape != grid_shape:
            raise SystemExit(f"{city}: labels {change.shape} are not on the grid {grid_shape}")
        return cls(city, change, transform)

    def inside(self, outline: shapely.Geometry) -> np.ndarray | None:
        """Label pixels whose centre is inside the lon/lat ``outline`` (None: none are)."""
        rows, cols = self.change.shape
        right, bottom = self.transform @ (cols, rows)
        if not outline.intersects(shapely.box(self.transform.c, bottom, right, self.transform.f)):
            return None
        mask = geometry_mask([outline], self.change.shape, self.transform, invert=True)
        return mask if mask.any() else None

    def count(self, outline: shapely.Geometry) -> tuple[int, int]:
        """(label pixels, change pixels) whose centre is inside the lon/lat ``outline``."""
        inside = self.inside(outline)
        if inside is None:
            return 0, 0
        return int(inside.sum()), int(np.count_nonzero(self.change & inside))


def city_dates(root: Path, city: str) -> tuple[datetime, datetime]:
    text = (root / "images" / city / "dates.txt").read_text()
    values = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return tuple(  # type: ignore[return-value]
        datetime.strptime(values[key].strip(), "%Y%m%d") for key in ("date_1", "date_2")
    )


def ingest_cities(workspace: Workspace, root: Path, cities: tuple[str, ...]) -> None:
    """Both dates of every city, each dated by its ``dates.txt`` (the file names carry
    production times, not acquisition dates)."""
    for city in cities:
        for number, when in enumerate(city_dates(root, city), start=1):
            with workspace.session() as session:
                add_scenes(
                    session,
                    [root / "images" / city / f"imgs_{number}"],
                    datetime_text=f"{when:%Y-%m-%d}T10:30:00Z",
                )


def write_aoi(root: Path, cities: tuple[str, ...], path: Path) -> Path:
    """The union of the cities' footprint GeoJSONs, as one GeoJSON file."""
    shapes = []
    for city in cities:
        collection = json.loads((root / "images" / city / f"{city}.geojson").read_text())
        shapes += [shape(feature["geometry"]) for feature in collection["features"]]
    feature = {"type": "Feature", "properties": {}, "geometry": mapping(shapely.union_all(shapes))}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


def features_of(task: tasks.TileTask, settings: tasks.ScanSettings) -> np.ndarray | None:
    """Read and score one tile as :func:`sitewatch.scan.tasks.scan_tile` does, then its
    ranker features (None: the task would skip the tile)."""
    before, after = tasks.read_pair(task, list(settings.band_names))
    try:
        found = tasks.detect_tile(task.tile, before, after, settings)
    except tasks.TileSkipped:
        return None
    return tasks.ranker_features(settings, task.tile, found)


@contextmanager
def oscd_scan(
    root: Path, cities: tuple[str, ...], **request: Any
) -> Iterator[tuple[Workspace, ScanPlan]]:
    """A temporary workspace holding ``cities``' two dates and the prepared scan of the
    union of their footprints between :data:`BEFORE` and :data:`AFTER` (``request``: any
    other :class:`ScanRequest` field); removed when the block ends."""
    with (
        tempfile.TemporaryDirectory(prefix="oscd-scan-") as folder,
        init_workspace(Path(folder) / "ws") as workspace,
    ):
        ingest_cities(workspace, root, cities)
        aoi = write_aoi(root, cities, Path(folder) / "aoi.geojson")
        request_of_all = ScanRequest(aoi=str(aoi), before=BEFORE, after=AFTER, **request)
        yield workspace, prepare_scan(workspace, request_of_all)


def training_tiles(
    root: Path, cities: tuple[str, ...] = TRAIN_CITIES
) -> Iterator[tuple[str, np.ndarray, str, int]]:
    """Every scored 640 m tile of ``cities`` that covers labels: (tile key, features,
    the city whose labels it covers most, labelled change pixels inside it)."""
    labels = [CityLabels.load(root, city) for city in cities]
    with oscd_scan(root, cities, method=METHOD, tile_size_m=TILE_SIZE_M) as (_, plan):
        for tile in sorted(plan.tiles, key=lambda item: item.key):
            outline = tile.lonlat_outline()
            task = plan.task_for(tile, outline)
            if not task.before or not task.after:
                continue
            features = features_of(task, plan.settings)
            if features is None:
                continue
            counts = [city.count(outline) for city in labels]
            covered = max(range(len(labels)), key=lambda index: counts[index][0])
            if counts[covered][0] == 0:
                continue
            yield tile.key, features, labels[covered].name, sum(c for _, c in counts)


def main() -> None:
    root = oscd_root()
    keys, rows, cities, change_px = [], [], [], []
    for key, features, city, pixels in training_tiles(root):
        keys.append(key)
        rows.append(features)
        cities.append(city)
        change_px.append(pixels)
    values = np.array(rows)
    city_of = np.array(cities)
    labels = np.array(change_px) >= MIN_CHANGE_PX
    print(f"{len(values)} training tiles, {int(labels.sum())} with change", flush=True)
    fitted, baseline, table, chosen = fit_best(values, labels, city_of)
    model = {
        "name": "tile_ranker",
        "score": "probability that a 640 m tile holds >= 40 labelled OSCD change pixels",
        "method": tile_ranker.FITTED_METHOD,
        "bands": list(tile_ranker.REQUIRED_BANDS),
        **fitted.to_dict(),
        "training": {
            "cities": list(TRAIN_CITIES),
            "tile_size_m": TILE_SIZE_M,
            "method": METHOD,
            "windows": {"before": BEFORE, "after": AFTER},
            "label_rule": f">= {MIN_CHANGE_PX} labelled change pixels (10 m) inside the tile",
            "tiles": len(values),
            "tiles_with_change": int(labels.sum()),
            "tiles_by_city": {c: int((city_of == c).sum()) for c in sorted(set(cities))},
            "selection": "leave-one-city-out over the training cities; best mean over held-out"
            " cities of mean(P@5, P@10, P@20); ties to the simpler, more regularised entry",
            "fitted": datetime.now().strftime("%Y-%m-%d"),
            "baseline_changed": baseline,
            "cross_validation": table,
            "chosen": chosen,
        },
    }
    folder = Path(str(resources.files("sitewatch") / "models"))
    for name, text in (
        (MODEL_FILE, json.dumps(model, indent=1) + "\n"),
        ("tile_ranker.md", model_card(model)),
    ):
        partial = folder / f".{name}.partial"
        partial.write_text(text)
        partial.replace(folder / name)
    print(f"\nwrote {folder / MODEL_FILE} and tile_ranker.md")


if __name__ == "__main__":
    main()
