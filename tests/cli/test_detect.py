"""``sitewatch detect-pair``, ``detect SITE`` and ``runs`` through the CLI."""

from __future__ import annotations

import json
import resource
from pathlib import Path

import pytest

from sitewatch.catalog.records import SiteRecord
from sitewatch.catalog.sites import import_sites
from sitewatch.cli import detect as detect_cli
from sitewatch.cli.main import app
from sitewatch.db.models import ChangeObjectRow, DetectionRun
from sitewatch.demo.synthetic import write_synthetic_pair
from sitewatch.workspace import open_workspace
from tests.cli.conftest import RunCli
from tests.detect.conftest import oscd_city
from tests.imagery.ingest_helpers import write_small_tif, write_sparse_tif


@pytest.fixture(autouse=True, scope="module")
def _wired() -> None:
    """Wire the commands as cli/main.py will, until the lead adds them there."""
    names = {command.name for command in app.registered_commands}
    if "detect-pair" not in names:
        app.command("detect-pair")(detect_cli.detect_pair)
    if "detect" not in names:
        app.command("detect")(detect_cli.detect)
    if "runs" not in {group.name for group in app.registered_groups}:
        app.add_typer(detect_cli.runs_app, name="runs")


def test_detect_pair_writes_products_and_prints_a_summary(cli: RunCli, tmp_path: Path) -> None:
    city = oscd_city("rennes")
    result = cli(
        "detect-pair", str(city / "imgs_1"), str(city / "imgs_2"), "--out", str(tmp_path / "o")
    )
    assert result.exit_code == 0, result.output
    assert "change objects" in result.output and "residual shift" in result.output
    assert (tmp_path / "o" / "run.json").is_file()


def test_detect_pair_leaves_vegetation_phase_change_out_unless_kept(
    cli: RunCli, tmp_path: Path
) -> None:
    city = oscd_city("rennes")
    pair = (str(city / "imgs_1"), str(city / "imgs_2"))
    classes = {}
    for name, extra in (("default", []), ("kept", ["--keep-vegetation"])):
        result = cli("detect-pair", *pair, "--out", str(tmp_path / name), *extra)
        assert result.exit_code == 0, result.output
        verb = "kept (classed vegetation)" if extra else "left out"
        assert "vegetation-phase objects" in result.output and verb in result.output
        features = json.loads((tmp_path / name / "objects.geojson").read_text())["features"]
        classes[name] = {feature["properties"]["change_class"] for feature in features}
    assert classes == {"default": {"structural"}, "kept": {"structural", "vegetation"}}


def test_detect_pair_on_rgb_says_the_vegetation_filter_was_skipped(
    cli: RunCli, tmp_path: Path
) -> None:
    city = oscd_city("rennes")
    result = cli(
        "detect-pair",
        str(city / "imgs_1"),
        str(city / "imgs_2"),
        "--out",
        str(tmp_path / "rgb"),
        "--bands",
        "B04,B03,B02",
    )
    assert result.exit_code == 0, result.output
    assert "vegetation filter: skipped: needs bands B04 and B08" in result.output


def test_detect_pair_bad_input_is_one_line(cli: RunCli, tmp_path: Path) -> None:
    result = cli("detect-pair", str(tmp_path / "nope"), str(tmp_path), "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"error: {tmp_path / 'nope'}: does not exist"]
    result = cli("detect-pair", str(tmp_path), str(tmp_path), "--out", "o", "--method", "nosuch")
    assert result.exit_code == 2 and "unknown change method" in result.output


def test_detect_site_stores_a_run_with_objects(cli: RunCli, tmp_path: Path) -> None:
    pair = write_synthetic_pair(tmp_path / "synthetic")
    paths = [str(scene.path) for scene in pair.scenes]
    assert cli("imagery", "add", *paths).exit_code == 0
    with open_workspace(cli.root) as workspace, workspace.session() as session:  # type: ignore[attr-defined]
        import_sites(
            session, [SiteRecord(id=pair.site_id, name=pair.site_name, geometry=pair.site_geometry)]
        )

    result = cli("detect", pair.site_id, "--json")
    assert result.exit_code == 0, result.output
    run = json.loads(result.output)
    assert run["before_scene_id"] != run["after_scene_id"]
    assert run["summary"]["object_count"] >= 5
    assert Path(run["products"]["mask"]).is_file()

    with open_workspace(cli.root) as workspace, workspace.session() as session:  # type: ignore[attr-defined]
        stored = session.get(DetectionRun, run["run_id"])
        assert stored is not None and stored.site_id == pair.site_id
        assert stored.products["mask"].startswith("products/runs/")
        assert len(stored.objects) == run["summary"]["object_count"]
        assert all(isinstance(row, ChangeObjectRow) and row.area_m2 > 0 for row in stored.objects)
        assert stored.lineage["inputs"]["before"]["sources"][0]["assets"][0]["sha256"]

    listed = json.loads(cli("runs", "list", "--site", pair.site_id, "--json").output)
    assert [item["id"] for item in listed] == [run["run_id"]]
    shown = cli("runs", "show", run["run_id"])
    assert shown.exit_code == 0 and "summary.object_count" in shown.output
    missing = cli("runs", "show", "run-nope")
    assert missing.exit_code == 3 and "no detection run" in missing.output
    late = cli("detect", pair.site_id, "--before", "2030-01-01")
    assert late.exit_code == 2 and "needs two" in late.output


def test_detect_pair_refuses_a_sparse_gigapixel_raster_unread(cli: RunCli, tmp_path: Path) -> None:
    """200,000 x 200,000 px in ~2 MB of block tables: refused by name, exit 2, nothing
    written; it used to be read window by window (hours, and memory past 2.9 GB)."""
    sparse = write_sparse_tif(tmp_path / "sparse.tif", size=200_000)
    good = write_small_tif(tmp_path / "good.tif")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for pair in ((sparse, good), (good, sparse)):
        result = cli("detect-pair", *map(str, pair), "--out", str(tmp_path / "out"))
        assert result.exit_code == 2, result.output
        [line] = result.output.splitlines()
        assert line.startswith(f"error: {sparse}: declares 200000 x 200000 pixels"), line
    assert not (tmp_path / "out").exists()
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # kB
