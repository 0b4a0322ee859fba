"""``sitewatch timeline SITE`` on the real NDVI series: table, JSON, files, errors.

The command is run through a one-command group until cli/main.py wires it; the group is
the real :class:`SitewatchGroup`, so errors print as the shipped CLI prints them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from PIL import Image
from typer.testing import CliRunner, Result

from sitewatch.cli.common import SitewatchGroup
from sitewatch.cli.timeline import timeline
from sitewatch.workspace import ENV_WORKSPACE, init_workspace
from tests.timeline.ndvi_scenes import SITE_ID, load_ndvi_series, ndvi_workspace

app = typer.Typer(cls=SitewatchGroup, pretty_exceptions_enable=False, add_completion=False)
app.command("timeline")(timeline)


@app.callback()
def _group() -> None:
    """Keeps ``timeline`` a subcommand, as in the shipped CLI."""


@pytest.fixture(scope="module")
def ndvi_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    load_ndvi_series()
    root = tmp_path_factory.mktemp("cli-ndvi")
    with init_workspace(root / "ws") as workspace:
        ndvi_workspace(workspace, root / "files")
    yield root / "ws"


@pytest.fixture
def run(ndvi_root: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(ENV_WORKSPACE, str(ndvi_root))

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(app, ["timeline", *args])

    return invoke


def test_table_and_files(run, ndvi_root: Path) -> None:
    result = run(SITE_ID)
    assert result.exit_code == 0, result.output
    assert "2016-05-06" in result.output
    assert result.output.count("SPIKE") == 1
    assert "68 date(s), 27 unusable, 1 spike(s)" in result.output
    out = ndvi_root / "products" / "timeline" / SITE_ID
    with Image.open(out / f"{SITE_ID}_timeline.png") as image:
        assert image.format == "PNG"
    assert (out / f"{SITE_ID}_timeline.csv").read_text().count("\n") == 69


def test_json_with_dates_bands_and_out(run, tmp_path: Path) -> None:
    out = tmp_path / "tl"
    result = run(
        SITE_ID,
        "--from",
        "2016-05-01",
        "--to",
        "2016-06-30",
        "--bands",
        "NDVI",
        "--out",
        str(out),
        "--json",
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert [r["date"][:10] for r in document["records"]][:2] == ["2016-05-06", "2016-05-16"]
    assert document["lineage"]["bands"] == ["NDVI"]
    assert Path(document["files"]["png"]) == out / f"{SITE_ID}_timeline.png"
    assert Path(document["files"]["png"]).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "someday"), "--from: 'someday' is not a date"),
        (("--bands", "CLM"), "bands: only cloud mask bands"),
        (("--method", "magic"), "method: unknown activity method 'magic'"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(run, tmp_path: Path, args, message) -> None:
    out = tmp_path / "never"
    result = run(SITE_ID, "--out", str(out), *args)
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: ")
    assert message in line
    assert not out.exists()


def test_unknown_site(run) -> None:
    result = run("no-such-site")
    assert result.exit_code == 3
    assert result.output.startswith("error: no site with id 'no-such-site'")
