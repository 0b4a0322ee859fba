"""The reports' tests: the demo workspace built once, a dossier of its site written once."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sitewatch.detect.runs import list_runs
from sitewatch.reports.render import ReportFiles
from sitewatch.reports.site import report_site
from sitewatch.verify.store import list_declarations
from sitewatch.workspace import open_workspace

#: The date the test reports state: fixed, so that two builds can be compared byte by byte.
REPORT_DATE = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts" / "reports"


@dataclass(frozen=True)
class DemoIds:
    """The demo's site (the one with a detection run) and its sample declaration."""

    site_id: str
    declaration_id: str


@dataclass
class Dossier:
    demo: DemoIds
    root: Path  # the workspace (a copy of the demo's)
    files: ReportFiles


def demo_ids(root: Path) -> DemoIds:
    with open_workspace(root) as workspace, workspace.session() as session:
        return DemoIds(list_runs(session)[0].site_id, list_declarations(session)[0].id)


@pytest.fixture
def demo_copy(demo_workspace_root: Path, tmp_path: Path) -> Path:
    """A copy of the session's demo workspace that a test may write to."""
    root = tmp_path / "ws"
    shutil.copytree(demo_workspace_root, root)
    return root


@pytest.fixture(scope="module")
def dossier(demo_workspace_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Dossier:
    """The demo site's dossier, HTML and PDF, in a copy of the demo workspace."""
    root = tmp_path_factory.mktemp("dossier") / "ws"
    shutil.copytree(demo_workspace_root, root)
    ids = demo_ids(root)
    with open_workspace(root) as workspace:
        files = report_site(workspace, ids.site_id, pdf=True, now=REPORT_DATE)
    return Dossier(ids, root, files)


def pdf_text(path: Path, page: int | None = None) -> str:
    """The PDF's text (of one ``page``, from 1) as poppler's pdftotext reads it (skips when
    poppler is absent)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (Debian package poppler-utils)")
    pages = ["-f", str(page), "-l", str(page)] if page else []
    done = subprocess.run(
        ["pdftotext", "-layout", *pages, str(path), "-"], capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")


def pdf_pages_as_png(path: Path, folder: Path, resolution: int = 60) -> list[Path]:
    """The PDF's pages as PNG files (pdftoppm), in page order."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm is not installed (Debian package poppler-utils)")
    shutil.rmtree(folder, ignore_errors=True)  # pages of an earlier, longer PDF
    folder.mkdir(parents=True)
    subprocess.run(
        ["pdftoppm", "-r", str(resolution), "-png", str(path), str(folder / "page")], check=True
    )
    return sorted(folder.glob("page-*.png"), key=lambda path: int(path.stem.split("-")[-1]))
