"""What an attacker or bad luck throws at the command line: one line, the right exit code.

Races between processes, a full disk, a file where a folder is expected, and the hostile
inputs tried by hand (empty, binary, unreadable, directory, huge line) all end in one
``error:`` line naming the file or item, never a traceback, and nothing half-written.
"""

from __future__ import annotations

import errno
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sitewatch.cli.main import app
from sitewatch.db.models import Scene
from sitewatch.demo.synthetic import write_synthetic_pair
from sitewatch.imagery import drafts
from sitewatch.imagery.drafts import SceneDraft, store_drafts
from sitewatch.workspace import open_workspace
from tests.cli.conftest import RunCli
from tests.imagery.ingest_helpers import write_small_tif
from tests.imagery.scene_rows import add_synthetic_pair


def _error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    return lines[0]


def test_the_same_scene_added_by_another_process_meanwhile_is_a_conflict(
    cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between this command's "is it new?" and its insert, another process commits it."""
    scene = write_small_tif(tmp_path / "S2A_20200401_scene.tif", tags={"PLATFORM": "s2a"})
    real_scene_row = drafts._scene_row
    raced: list[str] = []

    def other_process_first(draft: SceneDraft) -> Scene:
        if not raced:  # the other writer: its own connection, committed before we insert
            raced.append(draft.id)
            with open_workspace(cli.root) as workspace, workspace.session() as session:  # type: ignore[attr-defined]
                store_drafts(session, [draft])
        return real_scene_row(draft)

    monkeypatch.setattr(drafts, "_scene_row", other_process_first)
    result = cli("imagery", "add", str(scene), "--datetime", "2020-04-01")
    assert result.exit_code == 4, result.output
    line = _error_line(result.output)
    assert f"scene {raced[0]!r}" in line and str(scene) in line and "another process" in line
    listed = json.loads(cli("imagery", "list", "--json").output)
    assert [s["id"] for s in listed] == raced  # the other process's scene, once
    entries = json.loads(cli("ledger", "list", "--json").output)
    assert [e["kind"] for e in entries] == ["scene.ingest"]
    monkeypatch.undo()
    again = cli("imagery", "add", str(scene), "--datetime", "2020-04-01", "--json")
    assert again.exit_code == 0 and json.loads(again.output)[0]["status"] == "present"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs: a real disk that fills up (needs root and a kernel that allows it)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip() or 'refused'}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


def _fill(disk: Path) -> Path:
    """Fill ``disk`` to the last block; the file to delete to free it again."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out:
        try:
            while out.write(b"\0" * 4096):
                pass
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


@pytest.mark.parametrize("suffix", ["kml", "kmz", "geojson", "csv", "gpkg"])
def test_export_to_a_full_disk_is_exit_7_and_leaves_no_file(
    cli: RunCli, small_disk: Path, suffix: str
) -> None:
    assert cli("sites", "import", "--reference", "dprk").exit_code == 0
    _fill(small_disk)
    out = small_disk / f"sites.{suffix}"
    result = cli("sites", "export", "--out", str(out))
    assert result.exit_code == 7, result.output
    line = _error_line(result.output)
    assert line.startswith(f"error: {out}: ")
    assert "no space left on the device" in line or "is the disk full?" in line
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]  # no temporary left


def test_a_full_disk_under_the_database_is_exit_7_and_commits_nothing(small_disk: Path) -> None:
    runner = CliRunner()
    root = small_disk / "ws"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    run = [
        "--workspace", str(root), "sites", "add", "--name", "Before", "--lat", "1", "--lon", "1",
    ]  # fmt: skip
    assert runner.invoke(app, run).exit_code == 0
    filler = _fill(small_disk)
    importing = ["--workspace", str(root), "sites", "import", "--reference", "dprk"]
    result = runner.invoke(app, importing)
    assert result.exit_code == 7, result.output
    line = _error_line(result.output)
    assert line.startswith("error: database: ") and "nothing of this command was committed" in line
    filler.unlink()
    listed = runner.invoke(app, ["--workspace", str(root), "sites", "list", "--json"])
    assert [site["id"] for site in json.loads(listed.output)] == ["before"]
    verified = runner.invoke(app, ["--workspace", str(root), "ledger", "verify"])
    assert verified.exit_code == 0 and "1 entries" in verified.output, verified.output


def test_detect_pair_and_chips_refuse_a_file_as_out_folder_before_any_work(
    cli: RunCli, tmp_path: Path
) -> None:
    pair = write_synthetic_pair(tmp_path / "synthetic", size=256)
    with open_workspace(cli.root) as workspace, workspace.session() as session:  # type: ignore[attr-defined]
        add_synthetic_pair(session, pair)
    before, after = (str(scene.path) for scene in pair.scenes)
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    for out, problem in ((a_file, "is a file, not a folder"), (a_file / "sub", "is not a folder")):
        for args in (("detect-pair", before, after), ("chips", pair.site_id)):
            result = cli(*args, "--out", str(out))
            assert result.exit_code == 2, (args, result.output)
            line = _error_line(result.output)
            assert line.startswith(f"error: {out} [--out]: ") and problem in line, line
    assert a_file.read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cli-ws", "notes.txt", "synthetic"]


DEEP_JSON = "[" * 100_000 + "]" * 100_000
DUPLICATE_KEYS = (  # one parser reads the first "type", another the last
    '{"type": "FeatureCollection", "features": [], "type": "Feature"}'
)
HOSTILE_FILES = [
    # (command, file name, content, what the one line says)
    ("sites import", "deep.geojson", DEEP_JSON, "nested too deeply"),
    ("imagery add-stac", "deep.json", DEEP_JSON, "nested too deeply"),
    ("declare import", "deep.json", DEEP_JSON, "nested too deeply"),
    ("sites import", "dup-keys.geojson", DUPLICATE_KEYS, "appears twice"),
    ("sites import", "empty.geojson", "", "not valid JSON"),
    ("sites import", "empty.kml", "", "not well-formed XML"),
    ("sites import", "empty.gpkg", "", "not a readable GeoPackage"),
    ("sites import", "empty.csv", "", "no coordinate columns"),
    ("declare import", "empty.csv", "", "missing column(s) party, date"),
    ("imagery add", "empty.tif", "", "not a readable raster"),
    ("sites import", "latin1.csv", b"name,lat,lon\n\xe9,1,1\n", "not UTF-8 text"),
    ("declare import", "latin1.csv", b"party,date\n\xe9,2023\n", "not UTF-8 text"),
    ("sites import", "huge.csv", "name,lat,lon\n" + "A" * 1_000_000 + ",1,1\n", "field larger"),
    ("sites import", "not.kmz", "not a zip", "kmz"),
]


@pytest.mark.parametrize(
    ("command", "name", "content", "message"),
    HOSTILE_FILES,
    ids=[f"{command.split()[0]}-{name}" for command, name, _, _ in HOSTILE_FILES],
)
def test_hostile_files_are_one_line_exit_2_naming_the_file(
    cli: RunCli, tmp_path: Path, command: str, name: str, content: str | bytes, message: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    result = cli(*command.split(), str(path))
    assert result.exit_code == 2, result.output
    line = _error_line(result.output)
    assert str(path) in line and message in line, line
    for listed in ("sites", "imagery", "declare", "ledger"):
        assert json.loads(cli(listed, "list", "--json").output) == []


@pytest.mark.parametrize("command", ["sites import", "declare import", "imagery add"])
def test_a_folder_where_a_file_is_expected_is_one_line(
    cli: RunCli, tmp_path: Path, command: str
) -> None:
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    result = cli(*command.split(), str(folder))
    assert result.exit_code == 2, result.output
    assert str(folder.name) in _error_line(result.output)


def _not_sqlite(root: Path) -> None:
    (root / "sitewatch.db").write_bytes(b"this is not a database" * 100)


def _folder_for_database(root: Path) -> None:
    (root / "sitewatch.db").unlink()
    (root / "sitewatch.db").mkdir()


def _folder_for_config(root: Path) -> None:
    (root / "sitewatch.toml").unlink()
    (root / "sitewatch.toml").mkdir()


@pytest.mark.parametrize(
    ("damage", "named", "message"),
    [
        (_not_sqlite, "sitewatch.db", "file is not a database"),
        (_folder_for_database, "sitewatch.db", "unable to open database file"),
        (_folder_for_config, "sitewatch.toml", "is a folder, not the workspace's config file"),
    ],
)
def test_a_damaged_workspace_is_one_line_exit_1(
    cli: RunCli, damage: Callable[[Path], None], named: str, message: str
) -> None:
    root: Path = cli.root  # type: ignore[attr-defined]
    damage(root)
    result = cli("sites", "list")
    assert result.exit_code == 1, result.output
    line = _error_line(result.output)
    assert str(root / named) in line and message in line, line


def test_a_file_given_as_the_workspace_is_one_line_exit_1(tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    result = CliRunner().invoke(app, ["--workspace", str(a_file), "sites", "list"])
    assert result.exit_code == 1, result.output
    expected = f"error: {a_file}: not a sitewatch workspace (not a folder)"
    assert _error_line(result.output) == expected


@pytest.mark.parametrize(
    "command",
    ["imagery add", "imagery add-stac", "detect-pair {loop}", "sites import", "declare import"],
)
def test_a_loop_of_symbolic_links_is_one_line_exit_2(
    cli: RunCli, tmp_path: Path, command: str
) -> None:
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    args = [part.format(loop=loop) for part in command.split()]
    extra = ["--out", str(tmp_path / "out")] if args[0] == "detect-pair" else []
    result = cli(*args, str(loop), *extra)
    assert result.exit_code == 2, result.output
    assert str(loop) in _error_line(result.output)
    assert not (tmp_path / "out").exists()
