"""``sitewatch imagery``: add, list, show, export-stac, add-stac through the CLI."""

from __future__ import annotations

import json
import resource
from pathlib import Path

import pytest
from rasterio.transform import from_origin
from shapely.geometry import Point
from sqlalchemy import func, select
from typer.testing import CliRunner

from sitewatch.cli.main import app
from sitewatch.db.models import Scene, Site
from sitewatch.workspace import open_workspace
from tests.cli.conftest import RunCli
from tests.imagery.ingest_helpers import (
    oscd_band,
    oscd_scene,
    truncated_copy,
    write_small_tif,
    write_sparse_tif,
)


def _scene_count(cli: RunCli) -> int:
    with open_workspace(cli.root) as workspace, workspace.session() as session:  # type: ignore[attr-defined]
        return session.scalar(select(func.count()).select_from(Scene)) or 0


def _add_site_around_paris(cli: RunCli) -> None:
    with open_workspace(cli.root) as workspace, workspace.session() as session:  # type: ignore[attr-defined]
        site = Site(id="paris-14e", name="Paris 14e", geometry=Point(2.33, 48.82))
        site.set_bbox(site.geometry)
        session.add(site)


def _one_error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("error:"), output
    return lines[0]


def test_add_then_list_by_site(cli: RunCli) -> None:
    added = cli(
        "imagery", "add", str(oscd_scene("paris", 2)), str(oscd_scene("paris", 1)), "--json"
    )
    assert added.exit_code == 0, added.output
    assert [entry["status"] for entry in json.loads(added.output)] == ["added", "added"]

    again = cli("imagery", "add", str(oscd_scene("paris", 1)))
    assert again.exit_code == 0 and "already present" in again.output
    assert _scene_count(cli) == 2

    _add_site_around_paris(cli)
    listed = cli("imagery", "list", "--site", "paris-14e", "--json")
    assert listed.exit_code == 0, listed.output
    scenes = json.loads(listed.output)
    assert [scene["datetime"][:10] for scene in scenes] == ["2016-11-30", "2017-11-07"]
    assert all(len(scene["bands"]) == 13 for scene in scenes)
    assert all(9.5 < scene["resolution_m"] < 11.5 for scene in scenes)

    table = cli("imagery", "list", "--site", "paris-14e")
    assert scenes[0]["id"] in table.output and "sentinel-2a" in table.output
    shown = cli("imagery", "show", scenes[0]["id"])
    assert shown.exit_code == 0 and "B8A" in shown.output and "EPSG:4326" in shown.output


def test_list_errors_are_one_line(cli: RunCli) -> None:
    assert "--from" in _one_error_line(cli("imagery", "list", "--from", "soon").output)
    missing = cli("imagery", "list", "--site", "atlantis")
    assert missing.exit_code != 0 and "atlantis" in _one_error_line(missing.output)
    assert "scene-x" in _one_error_line(cli("imagery", "show", "scene-x").output)


def _truncated(tmp_path: Path) -> Path:
    return truncated_copy(oscd_band("paris", 1, "B03"), tmp_path / "cut_20161130_B03.tif")


def _garbage(tmp_path: Path) -> Path:
    path = tmp_path / "junk.tif"
    path.write_bytes(b"GIF89a" + bytes(500))
    return path


def _no_crs(tmp_path: Path) -> Path:
    return write_small_tif(tmp_path / "nocrs_20200101.tif", crs=None)


def _empty_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "empty_scene"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("make_bad", [_truncated, _garbage, _no_crs, _empty_folder])
def test_bad_inputs_fail_cleanly_and_write_nothing(cli: RunCli, tmp_path: Path, make_bad) -> None:
    bad = make_bad(tmp_path)
    result = cli("imagery", "add", str(oscd_scene("paris", 1)), str(bad))
    assert result.exit_code != 0
    assert bad.name in _one_error_line(result.output)
    assert _scene_count(cli) == 0


def test_list_by_site_across_the_antimeridian(cli: RunCli, tmp_path: Path) -> None:
    """A site from 179.9 to -179.9 degrees (Taveuni, Fiji) is a small area, not a band
    around the world: neither Europe's scene nor Zambia's, on the same latitude, is listed
    for it; the scene straddling 180 degrees is, and its footprint is no band either
    (a site in Zambia lists only Zambia's scene)."""
    # 10 km of UTM 60S across lon 180 at lat -16.8 (x 819,789 m there).
    fiji = write_small_tif(
        tmp_path / "fiji_20200101.tif",
        crs="EPSG:32760",
        transform=from_origin(815_000, 8_145_000, 100, 100),
        size=100,
    )
    zambia = write_small_tif(
        tmp_path / "zambia_20200101.tif",
        crs="EPSG:32735",
        transform=from_origin(495_000, 8_145_000, 100, 100),
        size=100,
    )
    paris = write_small_tif(tmp_path / "paris_20200101.tif")
    added = json.loads(cli("imagery", "add", str(fiji), str(zambia), str(paris), "--json").output)
    scene_of = {Path(outcome["source"]).stem: outcome["id"] for outcome in added}
    taveuni = "POLYGON ((179.9 -16.9, -179.9 -16.9, -179.9 -16.7, 179.9 -16.7, 179.9 -16.9))"
    for args in (
        ["--name", "Taveuni", "--wkt", taveuni],
        ["--name", "Taveuni east", "--lat", "-16.8", "--lon", "-179.995", "--uncertainty", "3000"],
        ["--name", "Zambia", "--lat", "-16.8", "--lon", "26.95", "--uncertainty", "3000"],
    ):
        assert cli("sites", "add", *args).exit_code == 0
    for site, expected in (
        ("taveuni", "fiji_20200101"),
        ("taveuni-east", "fiji_20200101"),
        ("zambia", "zambia_20200101"),
    ):
        result = cli("imagery", "list", "--site", site, "--json")
        assert result.exit_code == 0, result.output
        assert [scene["id"] for scene in json.loads(result.output)] == [scene_of[expected]], site


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


@pytest.mark.parametrize(
    ("size", "count", "words"),
    [
        (200_000, 1, "declares 200000 x 200000 pixels (40.0 Gpx); sitewatch reads rasters of"),
        (40_000, 4, "declares 11.9 GiB of pixels (40000 x 40000 x 4 bands) in 0.1 MB of file"),
    ],
)
def test_a_sparse_raster_of_absurd_size_is_refused_unread(
    cli: RunCli, tmp_path: Path, size: int, count: int, words: str
) -> None:
    """Block tables claiming gigapixels are refused by name before any pixel is read."""
    sparse = write_sparse_tif(tmp_path / f"sparse_20200101_{size}.tif", size=size, count=count)
    assert sparse.stat().st_size < 4 * 2**20
    good = write_small_tif(tmp_path / "good_20200101.tif")
    before = _peak_rss_mb()
    result = cli("imagery", "add", str(good), str(sparse))
    assert result.exit_code == 2
    line = _one_error_line(result.output)
    assert line.startswith(f"error: {sparse}: ") and words in line, line
    assert _scene_count(cli) == 0
    assert _peak_rss_mb() - before < 200


def test_bad_datetime_option(cli: RunCli, tmp_path: Path) -> None:
    undated = write_small_tif(tmp_path / "undated.tif")
    hint = _one_error_line(cli("imagery", "add", str(undated)).output)
    assert "undated.tif" in hint and "--datetime" in hint
    bad = cli("imagery", "add", str(undated), "--datetime", "2020-14-01")
    assert "--datetime" in _one_error_line(bad.output)
    good = cli("imagery", "add", str(undated), "--datetime", "2020-04-01", "--platform", "test-sat")
    assert good.exit_code == 0, good.output
    assert _scene_count(cli) == 1


def test_export_then_add_stac_into_another_workspace(cli: RunCli, tmp_path: Path) -> None:
    assert cli("imagery", "add", str(oscd_scene("paris", 1))).exit_code == 0
    exported = cli("imagery", "export-stac", str(tmp_path / "stac"))
    assert exported.exit_code == 0 and "wrote 1 items" in exported.output
    runner = CliRunner()
    other = tmp_path / "other-ws"
    assert runner.invoke(app, ["init", str(other)]).exit_code == 0
    imported = runner.invoke(
        app, ["--workspace", str(other), "imagery", "add-stac", str(tmp_path / "stac"), "--json"]
    )
    assert imported.exit_code == 0, imported.output
    (entry,) = json.loads(imported.output)
    original = json.loads(cli("imagery", "list", "--json").output)[0]
    assert entry["id"] == original["id"] and entry["datetime"] == original["datetime"]
    bad = runner.invoke(
        app, ["--workspace", str(other), "imagery", "add-stac", str(tmp_path / "none.json")]
    )
    assert "none.json" in _one_error_line(bad.output)
