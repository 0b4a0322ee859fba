"""Refresh the browser code the workbench ships, from the npm registry (never a CDN).

Run by hand when a pinned version changes (``python tools/vendor_browser_code.py``): for
each package of :data:`PINNED` it runs ``npm pack NAME@VERSION`` in a temporary folder,
checks the tarball against the registry's integrity (SHA-512) recorded here, and copies
the built files and the licence into ``src/sitewatch/web/static/vendor/NAME/``. The
manifest ``vendor/VENDORED.json`` lists version, licence, registry integrity and the
SHA-256 of every copied file; ``tests/web/test_vendored.py`` checks the files against it,
so a hand edit of vendored code fails the suite. Only the standard library and npm.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[1] / "src/sitewatch/web/static/vendor"


@dataclass(frozen=True)
class Pinned:
    """A package to vendor: exact version, registry integrity, files kept (tarball paths)."""

    name: str
    version: str
    integrity: str
    licence: str
    files: tuple[str, ...]


PINNED = (
    Pinned(
        name="leaflet",
        version="1.9.4",
        integrity="sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA==",
        licence="BSD-2-Clause",
        files=(
            "LICENSE",
            "dist/leaflet.js",
            "dist/leaflet.css",
            "dist/images/layers.png",
            "dist/images/layers-2x.png",
            "dist/images/marker-icon.png",
            "dist/images/marker-icon-2x.png",
            "dist/images/marker-shadow.png",
        ),
    ),
)


def _sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _pack(package: Pinned, into: Path) -> Path:
    """The package's tarball from the registry, checked against its pinned integrity."""
    spec = f"{package.name}@{package.version}"
    listing = subprocess.run(
        ["npm", "pack", spec, "--json", "--silent"],
        cwd=into,
        check=True,
        capture_output=True,
        text=True,
    )
    tarball = into / json.loads(listing.stdout)[0]["filename"]
    found = _sri(tarball.read_bytes())
    if found != package.integrity:
        sys.exit(f"{spec}: integrity {found} is not the pinned {package.integrity}")
    return tarball


def _copy(package: Pinned, tarball: Path) -> dict[str, str]:
    """Copy the kept files (without their ``dist/`` prefix); their SHA-256 by path."""
    target = VENDOR / package.name
    shutil.rmtree(target, ignore_errors=True)
    hashes: dict[str, str] = {}
    with tarfile.open(tarball) as archive:
        for member_path in package.files:
            data = archive.extractfile(f"package/{member_path}")
            if data is None:
                sys.exit(f"{package.name}: {member_path} is not a file in the tarball")
            content = data.read()
            relative = member_path.removeprefix("dist/")
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            (target / relative).write_bytes(content)
            hashes[f"{package.name}/{relative}"] = hashlib.sha256(content).hexdigest()
    return hashes


def main() -> None:
    manifest: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for package in PINNED:
            tarball = _pack(package, Path(scratch))
            manifest[package.name] = {
                "version": package.version,
                "licence": package.licence,
                "registry_integrity": package.integrity,
                "files": _copy(package, tarball),
            }
    (VENDOR / "VENDORED.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"vendored {', '.join(p.name + '@' + p.version for p in PINNED)} into {VENDOR}")


if __name__ == "__main__":
    main()
