"""``sitewatch demo``: every stage that exists, end to end, through the service functions.

The demo is the first thing a new user runs, offline, on a fresh machine. No real
multi-date imagery can ship with the package, so by default it generates a clearly
labelled synthetic scene pair with known truth at a fictional site; ``--real PATH``
runs the same steps on real imagery (an OSCD city folder, the OSCD root, or a folder
of scenes). It is re-runnable: a second run reuses the workspace and adds nothing twice.
"""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
import shapely
from rasterio.enums import Resampling
from rasterio.warp import reproject
from sqlalchemy.orm import Session

from sitewatch.analysis.metrics import confusion
from sitewatch.catalog.aoi import site_area_of_interest
from sitewatch.catalog.formats import write_sites
from sitewatch.catalog.records import SiteRecord, SourceRecord, slugify
from sitewatch.catalog.reference import load_reference
from sitewatch.catalog.sites import get_site, import_sites, list_sites, to_record
from sitewatch.db.models import Scene
from sitewatch.demo.declaration import COUNTRY, depot_site, write_sample_declaration
from sitewatch.demo.scan import run_demo_scan
from sitewatch.demo.synthetic import write_synthetic_pair
from sitewatch.detect.site import detect_site
from sitewatch.errors import InputError
from sitewatch.imagery.chips import write_site_chips
from sitewatch.imagery.drafts import AddOutcome
from sitewatch.imagery.ingest import RASTER_SUFFIXES, add_scenes
from sitewatch.imagery.search import find_scenes
from sitewatch.imagery.stac import export_stac
from sitewatch.imagery.stack import load_site_stack
from sitewatch.verify.service import verify_declaration
from sitewatch.verify.store import find_by_hash, import_declaration
from sitewatch.workspace import Workspace, init_workspace

Report = Callable[[str, str], None]
DEFAULT_OSCD_CITY = "paris"
EXPORT_FORMATS = ("geojson", "kml", "gpkg")


@dataclass
class DemoResult:
    """What the demo made and where, for the closing summary."""

    workspace: Path
    site_id: str = ""
    scene_ids: list[str] = field(default_factory=list)
    stack_shape: tuple[int, ...] = ()
    stack_crs: str = ""
    outputs: dict[str, Path] = field(default_factory=dict)
    run_id: str = ""
    detection: dict[str, object] = field(default_factory=dict)  # summary + accuracy
    declaration_id: str = ""
    verdicts: list[dict[str, object]] = field(default_factory=list)
    scan_id: str = ""


@dataclass(frozen=True)
class DemoImagery:
    """The scenes the demo ingests and the site they show.

    ``site`` is None for real imagery: its site is the area all its scenes cover, known
    only once they are catalogued.
    """

    scene_paths: list[Path]
    label: str
    site: SiteRecord | None = None
    site_id: str = ""
    # Known change (GeoTIFF) and the value that means change in it; None when unknown.
    truth: Path | None = None
    truth_change_value: int = 1
    # Grid of a truth file without georeferencing (OSCD labels lie on imgs_1's 10 m grid).
    truth_grid_file: Path | None = None
    # More fictional sites and a sample declaration of them (synthetic imagery only).
    extra_sites: tuple[SiteRecord, ...] = ()
    declaration: Path | None = None


def run_demo(directory: Path, real: Path | None = None, report: Report | None = None) -> DemoResult:
    """Build (or reuse) a workspace in ``directory`` and run every stage on demo imagery."""
    say = report or (lambda _step, _detail: None)
    workspace = init_workspace(directory, name="sitewatch demo")
    result = DemoResult(workspace=workspace.root)
    with workspace:
        say("workspace", f"{workspace.root} ({workspace.database_url})")
        _import_reference(workspace, say)
        imagery = _synthetic_imagery(workspace, say) if real is None else _real_imagery(real)
        say("imagery", imagery.label)
        with workspace.session() as session:
            outcomes = add_scenes(session, imagery.scene_paths)
            site = imagery.site or _site_over_scenes(session, imagery, outcomes)
            import_sites(session, [site, *imagery.extra_sites], on_conflict="update")
        result.site_id = site.id
        for outcome in outcomes:
            say(
                "imagery add",
                f"{outcome.scene_id} {outcome.datetime:%Y-%m-%d} {outcome.status} "
                f"({len(outcome.bands)} bands) from {outcome.source}",
            )
        _list_scenes(workspace, result, say)
        _load_stack(workspace, result, say)
        _detect(workspace, result, imagery, say)
        _verify(workspace, result, imagery, say)
        result.scan_id = run_demo_scan(workspace, result.site_id, say).scan_id
        _write_chips(workspace, result, say)
        _export(workspace, result, say)
    return result


def _import_reference(workspace: Workspace, say: Report) -> None:
    records = load_reference("dprk")
    with workspace.session() as session:
        imported = import_sites(session, records, on_conflict="skip", source="reference dprk")
        total = len(list_sites(session, country="PRK"))
    located = sum(1 for record in records if record.geometry is not None)
    say(
        "sites import",
        f"reference dprk: {len(imported.added)} new, {len(imported.skipped)} already present; "
        f"{total} DPRK sites in the catalog ({located} located)",
    )


def _synthetic_imagery(workspace: Workspace, say: Report) -> DemoImagery:
    folder = workspace.root / "synthetic"
    pair = write_synthetic_pair(folder)
    say(
        "synthetic",
        f"SYNTHETIC pair at fictional site '{pair.site_name}': {pair.n_new} new and "
        f"{pair.n_demolished} demolished structures (truth: {pair.truth_path})",
    )
    site = SiteRecord(
        id=pair.site_id,
        name=pair.site_name,
        geometry=pair.site_geometry,
        category="test-site",
        country=COUNTRY,
        notes="SYNTHETIC: a fictional site generated by 'sitewatch demo' with known truth.",
        sources=[SourceRecord(title="sitewatch synthetic demo scene", url="", date=None)],
    )
    paths = [scene.path for scene in pair.scenes]
    depot = depot_site(pair)
    return DemoImagery(
        site=site,
        extra_sites=(depot,),
        declaration=write_sample_declaration(folder, pair, depot),
        scene_paths=paths,
        label=f"synthetic scenes in {folder}",
        truth=pair.truth_path,
    )


def _real_imagery(path: Path) -> DemoImagery:
    """Scenes from real imagery: an OSCD city folder, the OSCD root, or a folder of scenes."""
    path = path.expanduser().resolve()
    if (path / "images" / DEFAULT_OSCD_CITY).is_dir():
        path = path / "images" / DEFAULT_OSCD_CITY
    if (path / "imgs_1").is_dir() and (path / "imgs_2").is_dir():
        scene_paths = [path / "imgs_1", path / "imgs_2"]
    elif path.is_dir():
        scene_paths = sorted(
            child
            for child in path.iterdir()
            if child.is_dir() or child.suffix.lower() in RASTER_SUFFIXES
        )
    else:
        raise InputError("is not a folder of scenes", source=path)
    if len(scene_paths) < 2:
        raise InputError("holds fewer than two scenes; the demo compares dates", source=path)
    site_id = "real-" + "-".join(part for part in slugify(path.name).split("-") if part)
    labels = path.parent.parent / "train_labels" / path.name / "cm" / f"{path.name}-cm.tif"
    grid_files = sorted((path / "imgs_1").glob("*_B02.tif")) if labels.is_file() else []
    return DemoImagery(
        scene_paths=scene_paths,
        label=f"real scenes in {path}",
        site_id=site_id,
        truth=labels if grid_files else None,
        truth_change_value=2,  # OSCD label tifs: 1 = no change, 2 = change
        truth_grid_file=grid_files[0] if grid_files else None,
    )


def _site_over_scenes(
    session: Session, imagery: DemoImagery, outcomes: list[AddOutcome]
) -> SiteRecord:
    """A demo site over the area that every ingested scene covers."""
    footprints = [session.get_one(Scene, outcome.scene_id).footprint for outcome in outcomes]
    common = shapely.intersection_all(footprints)
    if common.is_empty or common.geom_type not in ("Polygon", "MultiPolygon"):
        raise InputError("its scenes do not overlap, so no dates can be compared", item="--real")
    return SiteRecord(
        id=imagery.site_id,
        name=f"{imagery.site_id} (real imagery)",
        geometry=common,
        category="other",
        notes=f"Demo site over the area covered by {imagery.label}.",
    )


def _list_scenes(workspace: Workspace, result: DemoResult, say: Report) -> None:
    with workspace.session() as session:
        scenes = find_scenes(session, site_area_of_interest(get_site(session, result.site_id)))
        result.scene_ids = [scene.id for scene in scenes]
        dates = ", ".join(f"{scene.datetime:%Y-%m-%d}" for scene in scenes)
    say("imagery list", f"{len(scenes)} scenes cover {result.site_id}: {dates}")


def _load_stack(workspace: Workspace, result: DemoResult, say: Report) -> None:
    stack = load_site_stack(workspace, result.site_id)
    result.stack_shape = tuple(int(n) for n in stack.shape)
    result.stack_crs = str(stack.rio.crs)
    say(
        "site stack",
        f"(time, band, y, x) = {result.stack_shape} on {result.stack_crs} at "
        f"{stack.attrs['resolution_m']:g} m, read by windows",
    )


def _detect(workspace: Workspace, result: DemoResult, imagery: DemoImagery, say: Report) -> None:
    """Change between the first and last date, through the service of ``sitewatch detect``."""
    run = detect_site(workspace, result.site_id)
    result.run_id = run.run_id
    result.outputs["change run"] = run.products["run"].parent
    result.detection = dict(run.summary)
    summary = run.summary
    say(
        "detect",
        f"run {run.run_id}: {summary['object_count']} objects, "
        f"{(summary['changed_area_m2'] or 0) / 1e4:.2f} ha changed, "
        f"residual shift {summary['residual_shift_m']} m",
    )
    if imagery.truth is None:
        return
    with rasterio.open(run.products["mask"]) as mask_file:
        mask = mask_file.read(1)
        truth = _truth_on_grid(imagery, mask_file)
    counts = confusion(mask == 1, truth, ignore=mask == 255)
    result.detection["accuracy"] = counts.as_dict()
    say(
        "accuracy",
        f"change class against the reference labels: precision {counts.precision:.2f}, "
        f"recall {counts.recall:.2f}, F1 {counts.f1:.2f}, IoU {counts.iou:.2f}",
    )


def _verify(workspace: Workspace, result: DemoResult, imagery: DemoImagery, say: Report) -> None:
    """Import the sample declaration (once) and verify it: the table of verdicts."""
    if imagery.declaration is None:
        say("verify", "skipped: the sample declaration is of the synthetic sites only")
        return
    digest = hashlib.sha256(imagery.declaration.read_bytes()).hexdigest()
    with workspace.session() as session:
        existing = find_by_hash(session, digest)
        declaration_id = existing.id if existing else ""
    if not declaration_id:
        declaration_id = import_declaration(workspace, imagery.declaration).id
    with workspace.session() as session:
        outcome = verify_declaration(session, declaration_id)
    result.declaration_id = declaration_id
    result.verdicts = [verdict.as_dict() for verdict in outcome.verdicts]
    say("declare", f"{declaration_id}: sample declaration from {imagery.declaration}")
    tally = Counter(verdict.verdict for verdict in outcome.verdicts)
    say("verify", ", ".join(f"{count} {name}" for name, count in sorted(tally.items())))


def _truth_on_grid(imagery: DemoImagery, grid: rasterio.DatasetReader) -> np.ndarray:
    """The truth as bool change on the run's grid (nearest neighbour: labels are classes)."""
    assert imagery.truth is not None
    target = np.zeros(grid.shape, dtype=np.uint8)
    with rasterio.open(imagery.truth) as source:
        labels = source.read(1)
        crs, transform = source.crs, source.transform
    if imagery.truth_grid_file is not None:
        with rasterio.open(imagery.truth_grid_file) as reference:
            crs, transform = reference.crs, reference.transform
    reproject(
        labels,
        target,
        src_crs=crs,
        src_transform=transform,
        dst_crs=grid.crs,
        dst_transform=grid.transform,
        resampling=Resampling.nearest,
    )
    return target == imagery.truth_change_value


def _write_chips(workspace: Workspace, result: DemoResult, say: Report) -> None:
    out = workspace.products / "chips" / result.site_id
    chips = write_site_chips(workspace, result.site_id, out)
    result.outputs["chips"] = out
    say("chips", f"{len(chips)} dates: quicklook PNG + COG each in {out}")


def _export(workspace: Workspace, result: DemoResult, say: Report) -> None:
    exports = workspace.products / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    with workspace.session() as session:
        records = [to_record(site) for site in list_sites(session)]
        for fmt in EXPORT_FORMATS:
            target = exports / f"sites.{fmt}"
            write_sites(records, target, fmt)
            result.outputs[f"sites ({fmt})"] = target
        stac_dir = workspace.products / "stac"
        if stac_dir.exists():
            shutil.rmtree(stac_dir)
        export_stac(session, stac_dir)
    result.outputs["stac catalog"] = stac_dir
    say("export", f"{len(records)} sites as {', '.join(EXPORT_FORMATS)}; STAC in {stac_dir}")
