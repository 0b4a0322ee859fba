"""The vendored browser code is exactly what ``tools/vendor_browser_code.py`` took from
the npm registry: every file listed with its SHA-256, a licence beside each package, and
nothing in the vendor folder that the manifest does not name."""

from __future__ import annotations

import hashlib
import json
from importlib.resources import files
from pathlib import Path

VENDOR = Path(str(files("sitewatch.web") / "static" / "vendor"))


def test_every_vendored_file_matches_the_manifest() -> None:
    manifest = json.loads((VENDOR / "VENDORED.json").read_text())
    listed: dict[str, str] = {}
    for name, package in manifest.items():
        assert package["version"].count(".") == 2, f"{name}: pin an exact version"
        assert package["licence"], f"{name}: licence missing"
        assert f"{name}/LICENSE" in package["files"], f"{name}: LICENSE file not vendored"
        listed.update(package["files"])
    on_disk = {
        path.relative_to(VENDOR).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in VENDOR.rglob("*")
        if path.is_file() and path.name != "VENDORED.json"
    }
    assert on_disk == listed


def test_the_workbench_loads_no_code_from_elsewhere() -> None:
    """Templates and scripts name no remote address: everything is served by sitewatch."""
    web = Path(str(files("sitewatch.web")))
    for path in [*web.glob("templates/*.html"), *web.glob("static/js/*.js")]:
        text = path.read_text()
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, path
