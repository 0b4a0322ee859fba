"""Site files: GeoJSON, KML, KMZ, CSV and GeoPackage, chosen by name or file extension.

Readers return validated :class:`SiteRecord` lists and raise :class:`InputError` naming
the file and feature at the first bad one. Writers go through a temporary file beside
the target, so an export either completes or leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from sitewatch.catalog.records import SiteRecord
from sitewatch.errors import InputError
from sitewatch.files import atomic_output


@dataclass(frozen=True)
class SiteFormat:
    """How to read and write one file format, by the functions of its module.

    The module is imported on first use: GeoPackage brings in pyogrio and pandas, which
    a command that never touches a GeoPackage (``sites list``) should not pay for.
    ``dumper`` only for text formats (printed to stdout).
    """

    name: str
    extensions: tuple[str, ...]
    module: str
    reader: str = "read"
    writer: str = "write"
    dumper: str | None = "dumps"

    def read(self, path: Path) -> list[SiteRecord]:
        return getattr(import_module(self.module), self.reader)(path)

    def write(self, records: Sequence[SiteRecord], path: Path) -> None:
        getattr(import_module(self.module), self.writer)(records, path)

    @property
    def is_text(self) -> bool:
        return self.dumper is not None

    def dumps(self, records: Sequence[SiteRecord]) -> str:
        if self.dumper is None:
            raise InputError(f"{self.name} is a binary format: give an output file", item="format")
        return getattr(import_module(self.module), self.dumper)(records)


_MODULES = "sitewatch.catalog.formats."
FORMATS: dict[str, SiteFormat] = {
    f.name: f
    for f in (
        SiteFormat("geojson", (".geojson", ".json"), _MODULES + "geojson"),
        SiteFormat("kml", (".kml",), _MODULES + "kml"),
        SiteFormat("kmz", (".kmz",), _MODULES + "kml", "read_kmz", "write_kmz", None),
        SiteFormat("csv", (".csv",), _MODULES + "csv"),
        SiteFormat("gpkg", (".gpkg",), _MODULES + "gpkg", dumper=None),
    )
}


def site_format(path: str | Path | None, format: str | None = None) -> SiteFormat:
    """The format named, else the one the file extension implies."""
    if format:
        key = format.strip().lower().lstrip(".")
        if key not in FORMATS:
            raise InputError(
                f"unknown format {format!r} (known: {', '.join(FORMATS)})", item="format"
            )
        return FORMATS[key]
    suffix = Path(path).suffix.lower() if path is not None else ""
    for candidate in FORMATS.values():
        if suffix in candidate.extensions:
            return candidate
    known = ", ".join(ext for f in FORMATS.values() for ext in f.extensions)
    raise InputError(
        f"cannot tell the format from the extension {suffix or '(none)'!r}: "
        f"use one of {known} or give a format",
        source=path,
    )


def read_sites(path: str | Path, format: str | None = None) -> list[SiteRecord]:
    """All sites in a file; the whole file is validated before anything is returned."""
    return site_format(path, format).read(Path(path))


def write_sites(records: Sequence[SiteRecord], path: str | Path, format: str | None = None) -> None:
    """Write ``records`` to ``path`` atomically (temporary file, then rename)."""
    chosen = site_format(path, format)
    with atomic_output(Path(path)) as temp:
        chosen.write(records, temp)


def dumps_sites(records: Sequence[SiteRecord], format: str) -> str:
    """A text format's content, e.g. to print to stdout."""
    return site_format(None, format).dumps(records)
