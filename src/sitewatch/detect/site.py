"""``sitewatch detect SITE``: change between two dates of a site, stored as a run.

Which dates: the site's first and last scenes within ``[before, after]`` (both optional
and inclusive; a date means the whole UTC day). So ``--before`` and ``--after`` bound the
search rather than name scenes exactly: with neither, the run compares the oldest and the
newest scene over the site.

Both dates are read with :func:`~sitewatch.imagery.stack.load_site_stack` onto the site
grid of the BEFORE scene (the AFTER read is forced to its resolution). Products go to
``products/runs/<run id>/`` (score and mask COGs with overviews, objects GeoJSON,
run.json). They are moved there and flushed to disk before the transaction that stores
the run, its objects and its ledger entry commits, so a committed run always has its
files; a failure before the commit removes them, and a run killed before its commit
leaves a folder no entry names, which the next run removes
(:func:`~sitewatch.detect.products.staged_products`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from pyproj import CRS
from sqlalchemy.orm import Session

from sitewatch.analysis.methods import check_change_method, default_bands
from sitewatch.catalog.aoi import site_area_of_interest
from sitewatch.catalog.sites import get_site
from sitewatch.db.models import DetectionRun, Scene
from sitewatch.detect.pipeline import DetectionOptions, run_detection
from sitewatch.detect.products import (
    MASK_FILE,
    OBJECTS_FILE,
    PRODUCT_FILES,
    RUN_FILE,
    SCORE_FILE,
    publish_products,
    staged_products,
    write_products,
)
from sitewatch.detect.runs import store_run
from sitewatch.detect.sources import ArrayPair, Grid
from sitewatch.errors import InputError
from sitewatch.evidence import ledger
from sitewatch.imagery import sentinel2
from sitewatch.imagery.dates import day_bound
from sitewatch.imagery.search import find_scenes
from sitewatch.imagery.stack import load_site_stack
from sitewatch.workspace import Workspace

RUNS_FOLDER = "runs"


@dataclass(frozen=True)
class SiteRun:
    """A stored run: its id, the two scenes, summary and product paths (absolute)."""

    run_id: str
    site_id: str
    before_scene_id: str
    after_scene_id: str
    summary: dict[str, Any]
    products: dict[str, Any]


def _pick_scenes(
    workspace: Workspace, site_id: str, before: date | None, after: date | None
) -> tuple[Scene, Scene, list[str]]:
    with workspace.session() as session:
        site = get_site(session, site_id)
        start = day_bound(before, end_of_day=False)
        end = day_bound(after, end_of_day=True)
        scenes = find_scenes(session, site_area_of_interest(site), start, end)
        if len(scenes) < 2:
            raise InputError(
                f"{len(scenes)} scene(s) cover the site in the chosen period; a change run "
                "needs two: add imagery or widen --before/--after",
                item=f"site {site_id}",
            )
        first, last = scenes[0], scenes[-1]
        common = [band for band in first.bands if band in set(last.bands)]
        return first, last, common


def _slice(stack: xr.DataArray, scene_id: str) -> np.ndarray:
    index = list(stack.coords["scene_id"].values).index(scene_id)
    return np.asarray(stack.isel(time=index).values, dtype=np.float32)


def _run_id(site_id: str, first: Scene, last: Scene, now: datetime) -> str:
    digest = hashlib.sha256(f"{site_id}|{first.id}|{last.id}|{now.isoformat()}".encode())
    return f"run-{now:%Y%m%dT%H%M%S}-{digest.hexdigest()[:8]}"


def _record_run(session: Session, run: DetectionRun, destination: Path) -> None:
    """The run's ledger entry, signed in the run's transaction, naming its products in
    place (they are moved there before the commit)."""
    ledger.record(
        session,
        kind="detection.run",
        site_id=run.site_id,
        subject_id=run.id,
        payload={
            "run_id": run.id,
            "method": run.method,
            "before_scene_id": run.before_scene_id,
            "after_scene_id": run.after_scene_id,
            "parameters": run.parameters,
            "summary": run.summary,
            "lineage": run.lineage,
            "products": run.products,
        },
        files=[destination / name for name in PRODUCT_FILES if (destination / name).is_file()],
    )


def _stored_run(workspace: Workspace) -> Callable[[str], bool]:
    """Whether a run of this id is committed (its products folder is named by it)."""

    def stored(run_id: str) -> bool:
        with workspace.session() as session:
            return session.get(DetectionRun, run_id) is not None

    return stored


def detect_site(
    workspace: Workspace,
    site_id: str,
    *,
    before: date | None = None,
    after: date | None = None,
    options: DetectionOptions | None = None,
    bands: Sequence[str] | None = None,
) -> SiteRun:
    """Detect change at ``site_id`` between two of its scenes (see the module docstring)."""
    options = options or DetectionOptions()
    check_change_method(options.method)
    if before and after and before > after:
        raise InputError(f"--before {before} is after --after {after}", item="dates")
    first, last, common = _pick_scenes(workspace, site_id, before, after)
    chosen = list(bands) if bands else default_bands(common, options.method)
    first_stack = load_site_stack(workspace, site_id, first.datetime, first.datetime, bands=chosen)
    resolution = float(first_stack.attrs["resolution_m"])
    last_stack = load_site_stack(
        workspace, site_id, last.datetime, last.datetime, bands=chosen, resolution=resolution
    )
    before_image = _slice(first_stack, first.id)
    blue = before_image[chosen.index("B02")] if "B02" in chosen else before_image[0]
    looks_integer = bool(np.isfinite(blue).any() and np.nanmedian(blue) > 2.0)
    grid = Grid(
        width=first_stack.sizes["x"],
        height=first_stack.sizes["y"],
        crs=CRS.from_user_input(first_stack.rio.crs.to_wkt()),
        transform=first_stack.rio.transform(),
        pixel_size_m=resolution,
    )
    source = ArrayPair(
        before_image,
        _slice(last_stack, last.id),
        grid,
        chosen,
        sentinel2.reflectance_scale_for(chosen, looks_integer),
    )
    now = datetime.now(UTC)
    run_id = _run_id(site_id, first, last, now)
    relative = f"{workspace.products.name}/{RUNS_FOLDER}/{run_id}"
    destination = workspace.root / relative
    with staged_products(destination, _stored_run(workspace)) as (staging, scratch):
        result = run_detection(
            source, options, scratch, before_name=f"scene {first.id}", after_name=f"scene {last.id}"
        )
        lineage = {
            "kind": "detect",
            "run_id": run_id,
            "site_id": site_id,
            "parameters": {**options.as_dict(), "bands": chosen},
            "inputs": {
                "before": {
                    "scene_id": first.id,
                    "datetime": first.datetime.isoformat(),
                    "sources": first_stack.attrs["sources"],
                },
                "after": {
                    "scene_id": last.id,
                    "datetime": last.datetime.isoformat(),
                    "sources": last_stack.attrs["sources"],
                },
            },
        }
        run = write_products(staging, result, grid, lineage)
        products = {
            key: f"{relative}/{name}"
            for key, name in (
                ("score", SCORE_FILE),
                ("mask", MASK_FILE),
                ("objects", OBJECTS_FILE),
                ("run", RUN_FILE),
            )
        }
        publish_products(staging, destination)
        with workspace.session() as session:
            stored = store_run(
                session,
                DetectionRun(
                    id=run_id,
                    site_id=site_id,
                    method=result.method.name,
                    parameters=run["parameters"],
                    before_scene_id=first.id,
                    after_scene_id=last.id,
                    created_at=now,
                    summary=result.summary,
                    lineage={
                        k: run[k]
                        for k in (
                            "sitewatch_version",
                            "model_sha256",
                            "threshold",
                            "inputs",
                            "steps",
                            "grid",
                        )
                    },
                    products=products,
                ),
                result.objects,
            )
            _record_run(session, stored, destination)
    return SiteRun(
        run_id=run_id,
        site_id=site_id,
        before_scene_id=first.id,
        after_scene_id=last.id,
        summary=result.summary,
        products={key: workspace.root / path for key, path in products.items()},
    )
