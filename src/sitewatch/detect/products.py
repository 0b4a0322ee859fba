"""The files of a change run: score and mask COGs, objects GeoJSON and run.json.

Every product of a run is written into a staging folder next to its destination and moved
into place only when all of them are complete (:func:`staged_products`): a failure at any
step, bad input included, leaves nothing half-written where the user looks. A stored run
moves them (:func:`publish_products`) before the commit that names them
(:mod:`sitewatch.files`).

``run.json`` is the lineage a product carries (architecture rule): software version,
method and parameters, thresholds used, every input file with its SHA-256, the model's
hash when the method has one, the grid, what each step did, and the summary.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sitewatch import __version__
from sitewatch.detect.pipeline import DetectionResult
from sitewatch.detect.sources import Grid
from sitewatch.files import Committed, publish, sha256_file, staged, sync_folder
from sitewatch.imagery.cog import copy_to_cog

SCORE_FILE = "change_score.tif"
MASK_FILE = "change_mask.tif"
OBJECTS_FILE = "objects.geojson"
RUN_FILE = "run.json"
PRODUCT_FILES = (SCORE_FILE, MASK_FILE, OBJECTS_FILE, RUN_FILE)


@contextmanager
def staged_products(
    destination: Path, committed: Committed | None = None
) -> Iterator[tuple[Path, Path]]:
    """(staging folder for products, scratch folder) beside ``destination``.

    The products are moved into ``destination`` (created if needed; other files there are
    left alone) at the end of the block unless the block did it already
    (:func:`publish_products`, before a commit). ``committed`` (given a folder name, whether
    a commit names it) makes ``destination`` a folder of one stored run: a failure before
    the commit removes it, and so does the next run for one killed before its commit; see
    :func:`sitewatch.files.staged`.
    """
    destination = destination.expanduser().resolve()
    with staged(destination, committed, names_unique=committed is not None) as staging:
        scratch = staging / ".work"
        scratch.mkdir()
        yield staging, scratch
        publish_products(staging, destination)


def publish_products(staging: Path, destination: Path) -> None:
    """Move the products in ``staging`` into ``destination``, durably (a no-op once done)."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in PRODUCT_FILES:
        if (staging / name).exists():
            publish(staging / name, destination / name)
    sync_folder(destination.parent)


def model_sha256(method: object) -> str | None:
    """The method's model hash: its ``model_sha256``, else the hash of its ``model_path``."""
    declared = getattr(method, "model_sha256", None)
    if declared:
        return str(declared)
    path = getattr(method, "model_path", None)
    return sha256_file(Path(path)) if path and Path(path).is_file() else None


def input_files(paths: list[Path]) -> list[dict[str, str]]:
    """Each distinct file with its SHA-256, in the order given."""
    unique = list(dict.fromkeys(path.resolve() for path in paths))
    return [{"path": str(path), "sha256": sha256_file(path)} for path in unique]


def write_products(
    folder: Path, result: DetectionResult, grid: Grid, lineage: dict[str, Any]
) -> dict[str, Any]:
    """Write the four products of ``result`` into ``folder``; returns the run record.

    The score and mask COGs are made by GDAL from the run's tiled rasters on disk
    (:func:`~sitewatch.imagery.cog.copy_to_cog`) and the objects stream from the run's
    object table feature by feature, so no product passes through memory whole.
    """
    started = time.perf_counter()
    copy_to_cog(result.score_path, folder / SCORE_FILE, overview_resampling="AVERAGE")
    copy_to_cog(result.mask_path, folder / MASK_FILE, overview_resampling="NEAREST")
    members = {} if grid.georeferenced else {"sitewatch:coordinates": "pixel (column, row)"}
    result.objects.write_geojson(folder / OBJECTS_FILE, members)
    steps = dict(result.steps)
    steps["timings_s"] = {
        **steps.get("timings_s", {}),
        "products": round(time.perf_counter() - started, 4),
    }
    run = {
        "sitewatch_version": __version__,
        "created_at": datetime.now(UTC).isoformat(),
        "method": result.method.name,
        "model_sha256": model_sha256(result.method),
        "threshold": {"value": result.threshold, "rule": result.threshold_rule},
        "min_mapping_unit_pixels": result.min_pixels,
        **lineage,
        "grid": grid.as_dict(),
        "steps": steps,
        "summary": result.summary,
        "products": {"score": SCORE_FILE, "mask": MASK_FILE, "objects": OBJECTS_FILE},
    }
    (folder / RUN_FILE).write_text(json.dumps(run, indent=2, default=str), encoding="utf-8")
    return run
