"""``sitewatch sites ...`` as a user runs it: real workspace, real files."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pyogrio
import pytest
from sqlalchemy import func, select

from sitewatch.catalog.formats.kml import KML_NS
from sitewatch.db.models import Site, SiteSource
from sitewatch.workspace import open_workspace
from tests.catalog.formats.test_bad_input import BILLION_LAUGHS, XXE
from tests.cli.conftest import RunCli


def _rows(cli: RunCli) -> tuple[int, int]:
    with open_workspace(cli.root) as workspace, workspace.session() as session:  # type: ignore[attr-defined]
        return (
            session.scalar(select(func.count()).select_from(Site)) or 0,
            session.scalar(select(func.count()).select_from(SiteSource)) or 0,
        )


def _one_line_error(cli: RunCli, *args: str) -> str:
    """Run a command that must fail: non-zero, one 'error:' line, database untouched."""
    before = _rows(cli)
    result = cli(*args)
    assert result.exit_code != 0, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert _rows(cli) == before
    return lines[0]


def test_reference_import_gives_located_sourced_sites(cli: RunCli) -> None:
    result = cli("sites", "import", "--reference", "dprk")
    assert result.exit_code == 0, result.output
    assert "imported 48 sites (1 unlocated) from reference 'dprk'" in result.output
    sites = json.loads(cli("sites", "list", "--json").output)
    located = [s for s in sites if s["geometry"] is not None]
    assert len(located) >= 21
    assert all(s["sources"] and s["sources"][0]["url"].startswith("http") for s in sites)
    table = cli("sites", "list", "--category", "launch site").output
    assert "sohae-satellite-launching-station" in table and "sino-ri" not in table
    again = cli("sites", "import", "--reference", "dprk", "--on-conflict", "skip")
    assert "imported 0 sites (0 unlocated)" in again.output and "skipped 48" in again.output


def test_export_kml_is_kml_22_and_gpkg_reads_back(cli: RunCli, tmp_path: Path) -> None:
    cli("sites", "import", "--reference", "dprk")
    kml_path, gpkg_path, kmz_path = (tmp_path / f"sites.{e}" for e in ("kml", "gpkg", "kmz"))
    assert cli("sites", "export", "--format", "kml", "--out", str(kml_path)).exit_code == 0
    root = ET.parse(kml_path).getroot()
    assert root.tag == f"{{{KML_NS}}}kml"
    assert len(root.findall(f"{{{KML_NS}}}Document/{{{KML_NS}}}Placemark")) == 48
    result = cli("sites", "export", "--out", str(gpkg_path))  # format from the extension
    assert "exported 48 sites" in result.output
    info = pyogrio.read_info(gpkg_path, layer="sites")
    assert info["features"] == 48 and info["crs"] == "EPSG:4326"
    cli("sites", "export", "--out", str(kmz_path), "--site", "sino-ri", "--site", "kal-gol")
    with zipfile.ZipFile(kmz_path) as archive:
        assert archive.read("doc.kml").count(b"<Placemark>") == 2


def test_export_text_to_stdout(cli: RunCli) -> None:
    cli("sites", "import", "--reference", "dprk")
    collection = json.loads(cli("sites", "export", "--site", "sino-ri").output)
    assert collection["features"][0]["geometry"]["coordinates"] == [125.355288, 39.644929]
    kml_text = cli("sites", "export", "--format", "kml", "--site", "sino-ri").output
    assert ET.fromstring(kml_text.encode()).tag == f"{{{KML_NS}}}kml"
    line = _one_line_error(cli, "sites", "export", "--format", "gpkg")
    assert "give --out FILE" in line


def test_add_show_edit_remove(cli: RunCli) -> None:
    added = cli(
        "sites", "add", "--name", "Sino-ri", "--lat", "39.644929", "--lon", "125.355288",
        "--category", "missile operating base", "--country", "prk", "--alias", "Sinori",
        "--missile-class", "MRBM", "--uncertainty", "2000", "--source-title", "CSIS",
        "--source-url", "https://example.org/sino-ri", "--source-date", "2019-01-21",
    )  # fmt: skip
    assert added.exit_code == 0 and "added site 'sino-ri'" in added.output
    shown = json.loads(cli("sites", "show", "sino-ri", "--json").output)
    assert shown["category"] == "missile-operating-base" and shown["country"] == "PRK"
    assert shown["sources"] == [
        {"title": "CSIS", "url": "https://example.org/sino-ri", "date": "2019-01-21"}
    ]
    edited = cli("sites", "edit", "sino-ri", "--status", "active", "--source-title", "NTI")
    assert edited.exit_code == 0 and "updated site 'sino-ri': sources, status" in edited.output
    shown = json.loads(cli("sites", "show", "sino-ri", "--json").output)
    assert shown["status"] == "active" and len(shown["sources"]) == 2
    assert shown["aliases"] == ["Sinori"] and shown["uncertainty_m"] == 2000.0
    text = cli("sites", "show", "sino-ri").output
    assert "location: Point at lat 39.64493, lon 125.35529 (± 2000 m)" in text
    polygon = "POLYGON ((125.3 39.6, 125.4 39.6, 125.4 39.7, 125.3 39.6))"
    assert cli("sites", "edit", "sino-ri", "--wkt", polygon).exit_code == 0
    assert json.loads(cli("sites", "show", "sino-ri", "--json").output)["geometry"]["type"] == (
        "Polygon"
    )
    assert "removed site 'sino-ri'" in cli("sites", "remove", "sino-ri").output
    assert _rows(cli) == (0, 0)


def test_add_unlocated_site(cli: RunCli) -> None:
    assert cli("sites", "add", "--name", "Yongjo-ri").exit_code == 0
    assert "not located" in cli("sites", "list").output


def _write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


BOWTIE = json.dumps(
    {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "Bowtie"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[125, 39], [126, 40], [126, 39], [125, 40], [125, 39]]],
                },
            }
        ],
    }
)
SWAPPED = BOWTIE.replace('"Polygon"', '"Point"').replace(
    "[[[125, 39], [126, 40], [126, 39], [125, 40], [125, 39]]]", "[39.64, 125.35]"
)


@pytest.mark.parametrize(
    ("filename", "content", "expected"),
    [
        ("bomb.kml", BILLION_LAUGHS, "refused"),
        ("xxe.kml", XXE, "refused"),
        ("bowtie.geojson", BOWTIE, "[feature 1 'Bowtie']: geometry: invalid Polygon"),
        ("swapped.geojson", SWAPPED, "[feature 1 'Bowtie']: geometry: latitude/longitude look"),
        ("nocoords.csv", "name,category\nSino-ri,other\n", "no coordinate columns"),
        (
            "dates.csv",
            "name,lat,lon,source_title,source_date\nA,39,125,CSIS,yesterday\n",
            "[row 2 'A']: source date: 'yesterday' is not a date",
        ),
    ],
)
def test_bad_files_fail_in_one_line_and_write_nothing(
    cli: RunCli, tmp_path: Path, filename: str, content: str, expected: str
) -> None:
    cli("sites", "add", "--name", "Existing", "--lat", "39", "--lon", "125")
    path = _write(tmp_path / filename, content)
    line = _one_line_error(cli, "sites", "import", path)
    assert path in line and expected in line


def test_duplicate_ids_fail_and_write_nothing(cli: RunCli, tmp_path: Path) -> None:
    cli("sites", "import", "--reference", "dprk")
    line = _one_line_error(cli, "sites", "import", "--reference", "dprk")
    assert "already in the catalog; nothing imported" in line
    csv_path = _write(tmp_path / "new.csv", "name,lat,lon\nNew,39,125\nsino-ri,39.6,125.3\n")
    line = _one_line_error(cli, "sites", "import", csv_path)
    assert f"{csv_path}: site 'sino-ri' already in the catalog" in line
    twice = _write(tmp_path / "twice.csv", "name,lat,lon\nA,39,125\nA,39.1,125.1\n")
    assert "'a' appears more than once" in _one_line_error(cli, "sites", "import", twice)
    line = _one_line_error(cli, "sites", "add", "--name", "Sino-ri")
    assert "'sino-ri' already exists" in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--lat", "125.35", "--lon", "39.64"], "latitude/longitude look swapped"),
        (["--source-title", "X", "--source-date", "2019-13"], "source date: '2019-13' is not"),
        (["--category", "airbase"], "category: unknown value 'airbase'"),
        (["--lat", "39"], "give both --lat and --lon"),
        (["--wkt", "POLYGON ((0 0, 1"], "--wkt: not valid WKT"),
        (["--uncertainty", "1e400"], "uncertainty_m: inf is out of range: must be between 0"),
        (["--uncertainty", "nan"], "uncertainty_m: nan is out of range"),
        (["--uncertainty", "150000"], "uncertainty_m: 150000 is out of range"),
        (["--lat", "39", "--lon", "inf"], "coordinates must be finite numbers"),
        (["--source-title", "X", "--source-date", "0001"], "year must be between 1900 and 2100"),
    ],
)
def test_bad_add_options_fail_in_one_line(cli: RunCli, args: list[str], expected: str) -> None:
    line = _one_line_error(cli, "sites", "add", "--name", "Sino-ri", *args)
    assert "site 'Sino-ri'" in line and expected in line


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        (
            '"name": "Sino\\ud800ri"',
            "[feature 1 'Sino\\ud800ri']: name: holds a lone surrogate U+D800",
        ),
        ('"name": "Sino-ri", "uncertainty_m": 1' + "0" * 5000, "is not a number of metres"),
        ('"name": "Sino-ri", "uncertainty_m": 1e400', "inf is out of range"),
    ],
)
def test_sites_import_refuses_unstorable_values(
    cli: RunCli, tmp_path: Path, properties: str, expected: str
) -> None:
    path = _write(
        tmp_path / "bad.geojson",
        '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [125.3, 39.6]}, '
        f'"properties": {{{properties}}}}}',
    )
    assert expected in _one_line_error(cli, "sites", "import", path)
    assert json.loads(cli("sites", "list", "--json").output) == []


def test_missing_things_are_named(cli: RunCli, tmp_path: Path) -> None:
    assert "no site with id 'nowhere'" in _one_line_error(cli, "sites", "show", "nowhere")
    assert "no site with id 'nowhere'" in _one_line_error(cli, "sites", "remove", "nowhere")
    assert "nothing to change" in _one_line_error(cli, "sites", "edit", "nowhere")
    line = _one_line_error(cli, "sites", "import", str(tmp_path / "absent.kml"))
    assert "absent.kml: file not found" in line
    assert "known: dprk" in _one_line_error(cli, "sites", "import", "--reference", "iran")
    assert "FILE or --reference" in _one_line_error(cli, "sites", "import")
    line = _one_line_error(cli, "sites", "import", "--reference", "dprk", "--on-conflict", "x")
    assert "on_conflict" in line
    line = _one_line_error(cli, "sites", "export", "--out", str(tmp_path / "no" / "x.kml"))
    assert "folder does not exist" in line
    line = _one_line_error(cli, "sites", "export", "--format", "kml", "--out", str(tmp_path))
    assert "is a folder, not a file" in line
