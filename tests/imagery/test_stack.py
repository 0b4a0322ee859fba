"""Site stacks: grid, values, band and date selection, errors, and windowed reading."""

from __future__ import annotations

import json
import threading
import tracemalloc
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.enums import Resampling
from rasterio.transform import from_origin
from rasterio.windows import Window
from shapely import wkt
from shapely.geometry import shape

from sitewatch.db.models import Scene
from sitewatch.demo.synthetic import write_synthetic_pair
from sitewatch.errors import InputError, NotFoundError
from sitewatch.geo import WGS84, to_crs
from sitewatch.imagery.stack import gdal_path, load_site_stack, parse_bands
from sitewatch.workspace import Workspace
from tests.conftest import shared_data
from tests.imagery.scene_rows import (
    add_oscd_scene,
    add_point_site,
    add_scene,
    add_synthetic_pair,
)

PARIS_BEFORE = datetime(2016, 11, 30, 10, 50, tzinfo=UTC)
PARIS_AFTER = datetime(2017, 11, 7, 10, 52, 29, tzinfo=UTC)


@pytest.fixture
def paris(workspace: Workspace) -> tuple[Workspace, Path]:
    """A workspace with the two OSCD Paris scenes and a point site near their centre."""
    folder = shared_data("oscd", "images", "paris")
    geojson = json.loads((folder / "paris.geojson").read_text())
    footprint = shape(geojson["features"][0]["geometry"])
    with workspace.session() as session:
        add_oscd_scene(session, folder / "imgs_2", "paris-2017", PARIS_AFTER, footprint)
        add_oscd_scene(session, folder / "imgs_1", "paris-2016", PARIS_BEFORE, footprint)
        add_point_site(session, "paris-site", 2.333, 48.821, uncertainty_m=1000)
    return workspace, folder


def _pixel_lonlat(stack, row: int, col: int) -> tuple[float, float]:
    to_lonlat = Transformer.from_crs(stack.rio.crs, "EPSG:4326", always_xy=True)
    return to_lonlat.transform(float(stack.x[col]), float(stack.y[row]))


def test_paris_stack_is_one_utm_grid_in_time_order(paris: tuple[Workspace, Path]) -> None:
    workspace, _ = paris
    stack = load_site_stack(workspace, "paris-site")

    assert stack.dims == ("time", "band", "y", "x")
    assert stack.shape[:2] == (2, 13)
    assert stack.rio.crs.to_epsg() == 32631
    assert np.allclose(np.diff(stack.x), 10.0) and np.allclose(np.diff(stack.y), -10.0)
    transform = stack.rio.transform()
    assert transform.a == 10.0 and transform.c % 10 == 0 and transform.f % 10 == 0
    assert [str(t)[:10] for t in stack.time.values] == ["2016-11-30", "2017-11-07"]
    assert stack.attrs["scene_ids"] == ["paris-2016", "paris-2017"]
    assert list(stack.scene_id.values) == ["paris-2016", "paris-2017"]
    assert stack.attrs["site_id"] == "paris-site" and stack.attrs["resolution_m"] == 10.0
    assert stack.dtype == np.float32
    # A 1 km disc at 10 m: ~200 px across, all inside both footprints, so no NaN.
    assert 200 <= stack.sizes["x"] <= 202 and 200 <= stack.sizes["y"] <= 202
    assert not np.isnan(stack.values).any()
    # The grid covers the area of interest.
    aoi = to_crs(wkt.loads(stack.attrs["aoi_wkt"]), WGS84, stack.rio.crs)
    left, bottom, right, top = stack.rio.bounds()
    assert left <= aoi.bounds[0] and bottom <= aoi.bounds[1]
    assert right >= aoi.bounds[2] and top >= aoi.bounds[3]


def test_paris_values_match_a_direct_read(paris: tuple[Workspace, Path]) -> None:
    workspace, folder = paris
    nearest = load_site_stack(workspace, "paris-site", bands=["B04"], resampling=Resampling.nearest)
    bilinear = load_site_stack(workspace, "paris-site", bands=["B04"])
    (band_file,) = (folder / "imgs_1").glob("*_B04.tif")
    rng = np.random.default_rng(1)
    exact = 0
    samples = 40
    with rasterio.open(band_file) as source:
        band = source.read(1).astype(np.float32)  # a small test file: whole read is fine here
        for row, col in rng.integers(5, nearest.sizes["y"] - 5, size=(samples, 2)):
            lon, lat = _pixel_lonlat(nearest, row, col)
            src_row, src_col = source.index(lon, lat)
            around = band[src_row - 1 : src_row + 2, src_col - 1 : src_col + 2]
            value = float(nearest.values[0, 0, row, col])
            exact += value == band[src_row, src_col]
            assert value in around  # nearest picks a source pixel, at worst a neighbour
            smooth = float(bilinear.values[0, 0, row, col])
            assert around.min() - 1e-3 <= smooth <= around.max() + 1e-3
    # GDAL's warp approximates the transformation to 1/8 pixel: nearly all are exact.
    assert exact >= 0.9 * samples


def test_band_subset_and_coarser_resolution(paris: tuple[Workspace, Path]) -> None:
    workspace, _ = paris
    fine = load_site_stack(workspace, "paris-site", bands=["B08", "B04"])
    coarse = load_site_stack(workspace, "paris-site", bands=["B08", "B04"], resolution=20)

    assert list(coarse.band.values) == ["B08", "B04"]
    assert coarse.rio.transform().a == 20.0 and np.allclose(np.diff(coarse.x), 20.0)
    assert abs(coarse.sizes["x"] - fine.sizes["x"] / 2) <= 1
    assert coarse.attrs["resolution_m"] == 20.0
    # Same scene, same place: the means agree closely at both resolutions.
    assert np.allclose(coarse.mean(("y", "x")), fine.mean(("y", "x")), rtol=0.03)


def test_default_resolution_is_the_finest_chosen_band(paris: tuple[Workspace, Path]) -> None:
    workspace, _ = paris
    assert load_site_stack(workspace, "paris-site", bands=["B11", "B12"]).attrs[
        "resolution_m"
    ] == pytest.approx(20.0)
    assert load_site_stack(workspace, "paris-site", bands=["B01"]).attrs[
        "resolution_m"
    ] == pytest.approx(60.0)
    assert load_site_stack(workspace, "paris-site", bands=["B01", "B02"]).attrs[
        "resolution_m"
    ] == pytest.approx(10.0)


def test_dates_filter_inclusively(paris: tuple[Workspace, Path]) -> None:
    workspace, _ = paris
    later = load_site_stack(workspace, "paris-site", start=date(2017, 1, 1), bands=["B02"])
    assert later.attrs["scene_ids"] == ["paris-2017"]
    # A date as the end means the whole of that (UTC) day.
    first_day = load_site_stack(workspace, "paris-site", end=date(2016, 11, 30), bands=["B02"])
    assert first_day.attrs["scene_ids"] == ["paris-2016"]
    with pytest.raises(
        NotFoundError, match="no imagery covers site paris-site from 2018-01-01 00:00 UTC on"
    ):
        load_site_stack(workspace, "paris-site", start=date(2018, 1, 1))


def test_site_outside_all_scenes_is_a_clear_error(paris: tuple[Workspace, Path]) -> None:
    workspace, _ = paris
    with workspace.session() as session:
        add_point_site(session, "nowhere", 10.0, 10.0)
    with pytest.raises(NotFoundError, match="no imagery covers site nowhere"):
        load_site_stack(workspace, "nowhere")
    with pytest.raises(NotFoundError, match="no site with id 'missing'"):
        load_site_stack(workspace, "missing")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"resolution": 0}, "resolution: 0 is out of range: must be between 0.05 and"),
        ({"resolution": float("nan")}, "resolution: nan is out of range"),
        ({"buffer_m": -5}, "buffer: -5 is out of range: must be between 0 and 100,000 m"),
        ({"bands": []}, "bands: asks for no band"),
        ({"start": date(2018, 1, 1), "end": date(2017, 1, 1)}, "start 2018-01-01 is after the end"),
    ],
)
def test_bad_parameters_are_input_errors(
    paris: tuple[Workspace, Path], options: dict, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        load_site_stack(paris[0], "paris-site", **options)


def test_missing_band_names_scene_and_band(paris: tuple[Workspace, Path]) -> None:
    workspace, _ = paris
    with pytest.raises(InputError, match=r"scene paris-2016: has no band 'B99'"):
        load_site_stack(workspace, "paris-site", bands=["B02", "B99"])


def test_multiband_asset_maps_names_to_raster_bands(workspace: Workspace, tmp_path: Path) -> None:
    pair = write_synthetic_pair(tmp_path / "synthetic", size=256)
    with workspace.session() as session:
        add_synthetic_pair(session, pair)
    stack = load_site_stack(
        workspace, pair.site_id, bands=["nir", "red"], resampling=Resampling.nearest
    )
    assert stack.rio.crs.to_epsg() == 32753 and stack.attrs["resolution_m"] == 10.0
    with rasterio.open(pair.before.path) as source:
        # The synthetic grid is already a 10 m UTM grid snapped to 10 m: pixels align 1:1.
        col0, row0 = ~source.transform @ (float(stack.x[0]), float(stack.y[0]))
        window = Window(int(col0), int(row0), stack.sizes["x"], stack.sizes["y"])
        expected = source.read([4, 3], window=window).astype(np.float32)
    assert np.array_equal(stack.values[0], expected)


def test_unreadable_file_names_the_file(workspace: Workspace, tmp_path: Path) -> None:
    pair = write_synthetic_pair(tmp_path / "synthetic", size=256)
    with workspace.session() as session:
        add_synthetic_pair(session, pair)
    pair.after.path.write_bytes(b"not a tiff")
    with pytest.raises(InputError, match=rf"{pair.after.path.name}.*scene {pair.after.scene_id}"):
        load_site_stack(workspace, pair.site_id)


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("/data/a.tif", "/data/a.tif"),
        ("file:///data/my%20a.tif", "/data/my a.tif"),
        ("https://host/x/a.tif", "/vsicurl/https://host/x/a.tif"),
        ("http://host/a.tif?sig=1", "/vsicurl/http://host/a.tif?sig=1"),
        ("s3://bucket/key/a.tif", "/vsis3/bucket/key/a.tif"),
        ("gs://bucket/a.tif", "/vsigs/bucket/a.tif"),
        ("/vsizip/a.zip/b.tif", "/vsizip/a.zip/b.tif"),
    ],
)
def test_gdal_path(href: str, expected: str) -> None:
    assert gdal_path(href) == expected


def test_gdal_path_rejects_unknown_schemes() -> None:
    with pytest.raises(InputError, match="unsupported href scheme 'ftp'"):
        gdal_path("ftp://host/a.tif")


def _write_large_tiled_tiff(path: Path, size: int) -> None:
    """A ``size`` x ``size`` uint16 UTM GeoTIFF, 256-pixel tiles, noisy (barely compressible)."""
    rng = np.random.default_rng(0)
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": 1,
        "dtype": "uint16",
        "crs": "EPSG:32631",
        "transform": from_origin(440_000, 5_420_000, 10, 10),
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    strip = 1024
    with rasterio.open(path, "w", **profile) as dst:
        for row in range(0, size, strip):
            block = rng.integers(0, 10_000, size=(strip, size), dtype=np.uint16)
            dst.write(block, 1, window=Window(0, row, size, strip))


def _bytes_read_by_process() -> int | None:
    try:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def test_reads_only_the_window_of_a_large_file(workspace: Workspace, tmp_path: Path) -> None:
    size = 4096
    big = tmp_path / "big.tif"
    _write_large_tiled_tiff(big, size)
    decompressed = size * size * 2  # 32 MiB
    with workspace.session() as session:
        add_scene(session, "big", datetime(2020, 1, 1, tzinfo=UTC), [(big, ["B1"])])
        add_point_site(session, "small-site", 2.5, 48.9, uncertainty_m=300)  # inside the file

    before = _bytes_read_by_process()
    tracemalloc.start()
    try:
        stack = load_site_stack(workspace, "small-site")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    after = _bytes_read_by_process()

    assert stack.shape[:2] == (1, 1) and 60 <= stack.sizes["y"] <= 62
    assert not np.isnan(stack.values).any()
    assert peak < decompressed / 20, f"Python peak {peak} bytes for a {decompressed} byte band"
    if before is not None and after is not None:
        assert after - before < big.stat().st_size / 10, "read far more of the file than the site"


class _RangeHandler(BaseHTTPRequestHandler):
    """Serves files from ``root`` with HTTP range requests and counts the bytes sent."""

    root: Path
    bytes_sent = 0

    def do_HEAD(self) -> None:
        self._respond(body=False)

    def do_GET(self) -> None:
        self._respond(body=True)

    def _respond(self, *, body: bool) -> None:
        path = self.root / self.path.lstrip("/")
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start, end = 0, len(data) - 1
        ranged = self.headers.get("Range", "").startswith("bytes=")
        if ranged:
            first, _, last = self.headers["Range"][6:].partition("-")
            start, end = int(first), min(int(last or end), end)
        self.send_response(206 if ranged else 200)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        if ranged:
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.end_headers()
        if body:
            self.wfile.write(data[start : end + 1])
            type(self).bytes_sent += end - start + 1

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: no request log on stderr."""


def test_remote_href_is_read_by_range_requests(workspace: Workspace, tmp_path: Path) -> None:
    big = tmp_path / "remote.tif"
    _write_large_tiled_tiff(big, 4096)
    handler = type("Handler", (_RangeHandler,), {"root": tmp_path, "bytes_sent": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/remote.tif"
        with workspace.session() as session:
            scene = add_scene(session, "remote", datetime(2020, 1, 1, tzinfo=UTC), [(big, ["B1"])])
            scene.assets[0].href = url
            add_point_site(session, "small-site", 2.5, 48.9, uncertainty_m=300)
        remote = load_site_stack(workspace, "small-site")
    finally:
        server.shutdown()
        thread.join()
    with workspace.session() as session:
        session.get(Scene, "remote").assets[0].href = str(big)
    local = load_site_stack(workspace, "small-site")
    np.testing.assert_array_equal(remote.values, local.values)
    assert 0 < handler.bytes_sent < big.stat().st_size / 10


def test_band_lists_one_parser_for_every_command() -> None:
    assert parse_bands(None) is None and parse_bands([]) is None
    assert parse_bands(" B02, B03 ,,B04") == ["B02", "B03", "B04"]
    assert parse_bands(["B02,B03", "B08"]) == ["B02", "B03", "B08"]
    with pytest.raises(InputError, match=r"^--bands: names no band$"):
        parse_bands(" , ")
