"""The reports' tests: the demo workspace built once, a dossier of its site written once."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sitewatch.demo.runner import DemoResult, run_demo
from sitewatch.reports.render import ReportFiles
from sitewatch.reports.site import report_site
from sitewatch.workspace import open_workspace

#: The date the test reports state: fixed, so that two builds can be compared byte by byte.
REPORT_DATE = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts" / "reports"


@dataclass
class Dossier:
    demo: DemoResult
    root: Path  # the workspace (a copy of the demo's)
    files: ReportFiles


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    """``sitewatch demo`` once per session (about 8 s)."""
    return run_demo(tmp_path_factory.mktemp("reports-demo") / "ws")


@pytest.fixture
def demo_copy(demo_workspace: DemoResult, tmp_path: Path) -> Path:
    """A copy of the demo workspace that a test may write to."""
    root = tmp_path / "ws"
    shutil.copytree(demo_workspace.workspace, root)
    return root


@pytest.fixture(scope="module")
def dossier(demo_workspace: DemoResult, tmp_path_factory: pytest.TempPathFactory) -> Dossier:
    """The demo site's dossier, HTML and PDF, in a copy of the demo workspace."""
    root = tmp_path_factory.mktemp("dossier") / "ws"
    shutil.copytree(demo_workspace.workspace, root)
    with open_workspace(root) as workspace:
        files = report_site(workspace, demo_workspace.site_id, pdf=True, now=REPORT_DATE)
    return Dossier(demo_workspace, root, files)


def pdf_text(path: Path) -> str:
    """The PDF's text as poppler's pdftotext reads it (skips when poppler is absent)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (Debian package poppler-utils)")
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def pdf_pages_as_png(path: Path, folder: Path, resolution: int = 60) -> list[Path]:
    """The PDF's pages as PNG files (pdftoppm), in page order."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm is not installed (Debian package poppler-utils)")
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-r", str(resolution), "-png", str(path), str(folder / "page")], check=True
    )
    return sorted(folder.glob("page-*.png"))
