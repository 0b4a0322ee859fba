"""The import contract (pyproject.toml ``[tool.importlinter]``) holds, and would catch a break.

``make lint`` runs ``lint-imports`` in CI; these tests show the contract is not one that
cannot fail: the same checker on a copy of the package with one forbidden import added.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports with the project's contracts over the package found in ``tree/src``."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _copy_of_the_package(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "src" / "sitewatch", tree / "src" / "sitewatch")
    return tree


def test_the_layers_hold() -> None:
    done = _lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("module", "forbidden_import", "contract"),
    [
        ("analysis/masks.py", "import sitewatch.db.models", "pure layers"),
        ("verify/rules.py", "import sitewatch.cli.common", "nothing imports it"),
        ("evidence/chain.py", "import sitewatch.imagery.hashing", "sit below imagery"),
        ("text.py", "import sitewatch.catalog.records", "the bottom layer"),
        ("verify/store.py", "import sitewatch.web.app", "the web is a top layer"),
        ("auth/users.py", "import fastapi", "services hold no web framework"),
        ("web/app.py", "import sitewatch.cli.common", "nothing imports it"),
        ("demo/runner.py", "import sitewatch.reports.site", "reports are a top layer"),
    ],
)
def test_a_forbidden_import_breaks_the_contract(
    tmp_path: Path, module: str, forbidden_import: str, contract: str
) -> None:
    tree = _copy_of_the_package(tmp_path)
    source = tree / "src" / "sitewatch" / module
    source.write_text(source.read_text() + f"\n{forbidden_import}  # noqa\n")
    done = _lint(tree)
    assert done.returncode != 0
    assert contract in done.stdout and "BROKEN" in done.stdout, done.stdout
