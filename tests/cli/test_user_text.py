"""User text is printed as text: names that look like terminal markup or hold control codes.

Every command that prints something a user (or an imported file) supplied is run over a
workspace holding ``[/bold] x`` and ``[link=http://e]hidden[/link]``: both must appear
as typed (a markup console crashed on the first and hid the second). Rows the input
checks would now refuse (control characters, bidi overrides) are written straight into
the database, as an older version could have stored them, and must come out escaped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from shapely.geometry import Point

from sitewatch.db.models import Analyst, Scene, Site
from sitewatch.evidence import ledger
from sitewatch.evidence.keys import create_key
from sitewatch.workspace import open_workspace
from tests.cli.conftest import RunCli
from tests.imagery.ingest_helpers import write_small_tif
from tests.scan.candidate_rows import add_candidate, add_scan
from tests.verify.rows import declaration_file

BOLD = "[/bold] x"
LINK = "[link=http://e]hidden[/link]"
MARKUP = (BOLD, LINK)


def _add_sites(cli: RunCli) -> None:
    for site_id, name, lon in (("bold-site", BOLD, 10.0), ("link-site", LINK, 10.5)):
        added = cli(
            "sites", "add", "--id", site_id, "--name", name, "--lat", "10", "--lon", str(lon),
            "--country", "PRK", "--category", "other", "--alias", name,
            "--source-title", name, "--source-date", "2024", "--notes", name,
        )  # fmt: skip
        assert added.exit_code == 0, added.output
        assert name in added.output


def _assert_literal(output: str) -> None:
    for text in MARKUP:
        assert text in output, output


def test_sites_add_list_and_show_print_markup_as_typed(cli: RunCli) -> None:
    _add_sites(cli)
    listed = cli("sites", "list")
    assert listed.exit_code == 0, listed.output
    _assert_literal(listed.output)
    for site_id, text in (("bold-site", BOLD), ("link-site", LINK)):
        shown = cli("sites", "show", site_id)
        assert shown.exit_code == 0, shown.output
        assert f"name: {text}" in shown.output and f"source: {text} (2024)" in shown.output
        assert f"aliases: {text}" in shown.output and f"notes: {text}" in shown.output
    removed = cli("sites", "remove", "bold-site")
    assert removed.exit_code == 0 and BOLD in removed.output


def test_declare_show_verify_and_assessments_print_markup_as_typed(
    cli: RunCli, tmp_path: Path
) -> None:
    _add_sites(cli)
    items = [
        {"name": text, "lat": 10.0, "lon": lon, "category": "other", "status": "operational"}
        for text, lon in ((BOLD, 10.0), (LINK, 10.5))
    ]
    path = declaration_file(tmp_path, items, party=BOLD)
    imported = cli("declare", "import", str(path))
    assert imported.exit_code == 0, imported.output
    [declaration] = json.loads(cli("declare", "list", "--json").output)
    listed = cli("declare", "list")
    assert listed.exit_code == 0 and BOLD in listed.output
    shown = cli("declare", "show", declaration["id"])
    assert shown.exit_code == 0, shown.output
    _assert_literal(shown.output)
    verified = cli("verify", declaration["id"])
    assert verified.exit_code in (0, 5), verified.output
    _assert_literal(verified.output)

    with open_workspace(cli.root) as workspace:  # type: ignore[attr-defined]
        create_key(workspace, "alice")
    for text in MARKUP:
        assessed = cli(
            "assess", "bold-site", "--date", "2024-01-01", "--status", "active",
            "--confidence", "low", "--analyst", "alice", "--note", text,
        )  # fmt: skip
        assert assessed.exit_code == 0, assessed.output
    assessments = cli("assessments", "bold-site")
    assert assessments.exit_code == 0, assessments.output
    _assert_literal(assessments.output)


def test_candidates_list_and_show_print_markup_as_typed(cli: RunCli) -> None:
    with open_workspace(cli.root) as workspace, workspace.session() as session:  # type: ignore[attr-defined]
        add_scan(session)
        session.flush()
        add_candidate(session, BOLD, score=9.0)
        add_candidate(session, LINK, score=8.0, lon=125.15)
        add_candidate(session, "c-plain", score=7.0, lon=125.05)
    listed = cli("candidates", "list")
    assert listed.exit_code == 0, listed.output
    _assert_literal(listed.output)
    dismissed = cli("candidates", "dismiss", "c-plain", "--reason", LINK)
    assert dismissed.exit_code == 0 and LINK in dismissed.output
    for candidate_id in MARKUP:
        shown = cli("candidates", "show", candidate_id)
        assert shown.exit_code == 0, shown.output
        assert f"id: {candidate_id}" in shown.output
    assert f"status_reason: {LINK}" in cli("candidates", "show", "c-plain").output


def test_ledger_keys_and_imagery_lists_print_markup_as_typed(cli: RunCli) -> None:
    with open_workspace(cli.root) as workspace, workspace.session() as session:  # type: ignore[attr-defined]
        for text in MARKUP:
            ledger.record(session, kind="note", payload={}, subject_id=text)
            session.add(Analyst(name=text, public_key=b"\0" * 32, fingerprint=f"fp {text}"))
            scene = Scene(
                id=f"scene {text}",
                datetime=datetime(2024, 1, 1, tzinfo=UTC),
                footprint=Point(10, 10).buffer(0.1),
                crs="EPSG:4326",
                platform=text,
                stac_item={},
            )
            scene.set_bbox(scene.footprint)
            session.add(scene)
    for command in (("ledger", "list"), ("keys", "list"), ("imagery", "list")):
        result = cli(*command)
        assert result.exit_code == 0, (command, result.output)
        _assert_literal(result.output)


@pytest.mark.parametrize(
    "name, shown",
    [
        ("red \x1b[31mALERT\x1b[0m", "red \\x1b[31mALERT\\x1b[0m"),
        ("nul\x00here", "nul\\x00here"),
        ("csi\x9b2J", "csi\\x9b2J"),
        ("abc\u202edcba", "abc\\u202edcba"),
        ("bell\x07", "bell\\x07"),
    ],
)
def test_control_characters_already_stored_are_printed_escaped(
    cli: RunCli, name: str, shown: str
) -> None:
    """A row an older version accepted must not drive the analyst's terminal."""
    with open_workspace(cli.root) as workspace, workspace.session() as session:  # type: ignore[attr-defined]
        site = Site(id="old-site", name=name, aliases=[name], notes=name, geometry=Point(1, 2))
        site.set_bbox(site.geometry)
        session.add(site)
    for command in (("sites", "list"), ("sites", "show", "old-site")):
        result = cli(*command)
        assert result.exit_code == 0, result.output
        assert shown in result.output, result.output
        assert not any(c in result.output for c in "\x1b\x00\x9b\u202e\x07"), repr(result.output)
    as_json = cli("sites", "show", "old-site", "--json")
    assert not any(c in as_json.output for c in "\x1b\x00\x9b\u202e\x07"), repr(as_json.output)
    assert json.loads(as_json.output)["name"] == shown  # read as its visible escape


def test_json_output_escapes_what_a_terminal_would_act_on(cli: RunCli) -> None:
    """JSON need not escape C1 codes or bidi overrides; print_json does, losslessly."""
    reason = "csi\x9b2J rlo\u202e end"
    with open_workspace(cli.root) as workspace, workspace.session() as session:  # type: ignore[attr-defined]
        add_scan(session)
        session.flush()
        add_candidate(session, "c-old", score=1.0).status_reason = reason
    shown = cli("candidates", "show", "c-old", "--json")
    assert shown.exit_code == 0, shown.output
    assert "\x9b" not in shown.output and "\u202e" not in shown.output
    assert "\\u009b" in shown.output and "\\u202e" in shown.output
    assert json.loads(shown.output)["status_reason"] == reason


def _ledger_size(cli: RunCli) -> int:
    return len(json.loads(cli("ledger", "list", "--json").output))


HOSTILE = [
    ("ESC", "\x1b[8m", "U+001B"),
    ("RLO", "\u202e", "U+202E"),
    ("LRI", "\u2066", "U+2066"),
    ("zero-width space", "\u200b", "U+200B"),
    ("C1 CSI", "\x9b", "U+009B"),
    ("line separator", "\u2028", "U+2028"),
]


@pytest.mark.parametrize(("label", "char", "code"), HOSTILE, ids=[h[0] for h in HOSTILE])
@pytest.mark.parametrize(
    ("option", "field"),
    [
        ("--name", "name"),
        ("--alias", "aliases"),
        ("--missile-class", "missile_classes"),
        ("--source-title", "source title"),
        ("--source-url", "source url"),
        ("--notes", "notes"),
        ("--id", "id"),
    ],
)
def test_sites_add_refuses_control_and_invisible_characters(
    cli: RunCli, option: str, field: str, label: str, char: str, code: str
) -> None:
    args = {"--name": "Base", "--source-title": "t", option: f"a{char}b"}
    flat = [part for key, value in args.items() for part in (key, value)]
    result = cli("sites", "add", "--lat", "10", "--lon", "10", *flat)
    assert result.exit_code == 2, result.output
    assert f"{field}: holds the invisible or control character {code}" in result.output
    assert "\n" not in result.output.strip() and char not in result.output
    assert json.loads(cli("sites", "list", "--json").output) == []
    assert _ledger_size(cli) == 0


def test_free_text_may_hold_tabs_and_line_breaks(cli: RunCli) -> None:
    notes = "seen twice:\r\n\tonce in May"
    added = cli("sites", "add", "--name", "Base", "--lat", "1", "--lon", "1", "--notes", notes)
    assert added.exit_code == 0, added.output
    assert json.loads(cli("sites", "show", "base", "--json").output)["notes"] == notes


def _gpkg(path: Path, name: str) -> None:
    import numpy as np
    import pyogrio.raw
    import shapely

    pyogrio.raw.write(
        str(path),
        np.array([shapely.to_wkb(Point(10, 10)), shapely.to_wkb(Point(11, 11))], dtype=object),
        [np.array(["Fine", name], dtype=object)],
        ["name"],
        layer="sites",
        driver="GPKG",
        geometry_type="Point",
        crs="EPSG:4326",
    )


def _geojson_text(name: str) -> str:
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [10, 10]},
         "properties": {"name": n}}
        for n in ("Fine", name)
    ]  # fmt: skip
    return json.dumps({"type": "FeatureCollection", "features": features})


def _kml_text(name: str) -> str:
    placemarks = "".join(
        f"<Placemark><name>{n}</name><Point><coordinates>10,10</coordinates></Point></Placemark>"
        for n in ("Fine", name)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">'
        f"<Document>{placemarks}</Document></kml>"
    )


def _write_geojson(path: Path, name: str) -> None:
    path.write_text(_geojson_text(name))


def _write_kml(path: Path, name: str) -> None:
    path.write_text(_kml_text(name))


def _write_csv(path: Path, name: str) -> None:
    path.write_text(f"name,lat,lon\nFine,10,10\n{name},11,11\n")


@pytest.mark.parametrize(
    ("filename", "write", "char", "item"),
    [
        ("nul.geojson", _write_geojson, "\x00", "[feature 2 "),
        ("esc.geojson", _write_geojson, "\x1b", "[feature 2 "),
        ("rlo.kml", _write_kml, "\u202e", "[placemark 2 "),
        ("nul.csv", _write_csv, "\x00", "[row 3 "),
        ("lri.gpkg", _gpkg, "\u2066", "[layer sites feature 2 "),
    ],
)
def test_imported_files_with_hostile_names_are_refused_whole(
    cli: RunCli,
    tmp_path: Path,
    filename: str,
    write: Callable[[Path, str], None],
    char: str,
    item: str,
) -> None:
    path = tmp_path / filename
    write(path, f"Evil{char}name")
    result = cli("sites", "import", str(path))
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert "\n" not in line and char not in line, repr(line)
    assert line.startswith(f"error: {path} {item}"), line
    assert f"name: holds the invisible or control character U+{ord(char):04X}" in line
    assert json.loads(cli("sites", "list", "--json").output) == []
    assert _ledger_size(cli) == 0


def test_declarations_assessments_and_triage_refuse_hostile_text(
    cli: RunCli, tmp_path: Path
) -> None:
    _add_sites(cli)
    item = {"name": "Evil\u202ename", "lat": 10.0, "lon": 10.0, "category": "other",
            "status": "operational"}  # fmt: skip
    path = declaration_file(tmp_path, [item])
    refused = cli("declare", "import", str(path))
    assert refused.exit_code == 2 and str(path) in refused.output, refused.output
    assert "[items[0].name]: holds the invisible or control character U+202E" in refused.output

    with open_workspace(cli.root) as workspace, workspace.session() as session:  # type: ignore[attr-defined]
        create_key(workspace, "alice")
        add_scan(session)
        session.flush()
        add_candidate(session, "c-1", score=1.0)
    before = _ledger_size(cli)
    assessed = cli(
        "assess", "bold-site", "--date", "2024-01-01", "--status", "active",
        "--confidence", "low", "--analyst", "alice", "--note", "seen \x1b[2J",
    )  # fmt: skip
    assert assessed.exit_code == 2 and "--note: holds" in assessed.output, assessed.output
    dismissed = cli("candidates", "dismiss", "c-1", "--reason", "cloud\u2067")
    assert dismissed.exit_code == 2 and "--reason: holds" in dismissed.output, dismissed.output
    promoted = cli("candidates", "promote", "c-1", "--id", "new-base", "--name", "New\x1bbase")
    assert promoted.exit_code == 2 and "name: holds" in promoted.output, promoted.output
    assert _ledger_size(cli) == before
    assert json.loads(cli("candidates", "show", "c-1", "--json").output)["status"] == "new"


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x0c", "\ufffe", "\u202e", "\x9b"])
def test_exports_of_a_catalog_stored_by_an_older_version_stay_valid(
    cli: RunCli, tmp_path: Path, char: str
) -> None:
    """KML cannot hold NUL or ESC at all: such stored names are exported as their escape."""
    import defusedxml.ElementTree
    import pyogrio

    with open_workspace(cli.root) as workspace, workspace.session() as session:  # type: ignore[attr-defined]
        site = Site(id="old", name=f"old{char}name", aliases=[f"a{char}"], geometry=Point(1, 2))
        site.notes = f"line{char}\nnext"
        site.set_bbox(site.geometry)
        session.add(site)
    for fmt in ("kml", "geojson", "gpkg", "csv", "kmz"):
        out = tmp_path / f"sites.{fmt}"
        exported = cli("sites", "export", "--out", str(out))
        assert exported.exit_code == 0, exported.output
    root = defusedxml.ElementTree.parse(tmp_path / "sites.kml").getroot()
    names = [e.text for e in root.iter("{http://www.opengis.net/kml/2.2}name")]
    assert any(n and n.startswith("old") and char not in n for n in names), names
    features = json.loads((tmp_path / "sites.geojson").read_text())["features"]
    assert char not in json.dumps(features, ensure_ascii=False)
    assert pyogrio.read_info(tmp_path / "sites.gpkg", layer="sites")["features"] == 1
    reimport = cli("sites", "import", str(tmp_path / "sites.geojson"), "--on-conflict", "update")
    assert reimport.exit_code == 0, reimport.output


def test_imagery_add_refuses_a_hostile_platform(cli: RunCli, tmp_path: Path) -> None:
    scene = write_small_tif(tmp_path / "scene.tif")
    hostile = "s2\x1b]0;x"  # an OSC sequence: sets the terminal's title
    result = cli("imagery", "add", str(scene), "--datetime", "2020-04-01", "--platform", hostile)
    assert result.exit_code == 2 and "--platform: holds" in result.output, result.output
    assert json.loads(cli("imagery", "list", "--json").output) == []
