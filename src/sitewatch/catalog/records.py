"""Site records: the validated, database-free form of a catalog entry.

Every way into the catalog (CLI options, GeoJSON, KML, CSV, GeoPackage, reference data)
builds a :class:`SiteRecord`, so the rules live in one place and a bad value is rejected
before anything is written. Validation errors are :class:`InputError` whose ``item`` is
the field at fault; file readers re-raise them with the file and the feature named.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from sitewatch import limits
from sitewatch.errors import InputError
from sitewatch.text import check_text

CATEGORIES = (
    "missile-operating-base",
    "launch-site",
    "nuclear-facility",
    "test-site",
    "shipyard",
    "other",
)
# What is known about a site's state; "unknown" is the honest default for public reports.
STATUSES = ("unknown", "active", "under-construction", "inactive", "closed", "dismantled")
GEOMETRY_TYPES = ("Point", "Polygon", "MultiPolygon")

# Column sizes of the database (PostgreSQL enforces them; say so before it does).
MAX_ID, MAX_NAME, MAX_SOURCE_TITLE, MAX_SOURCE_URL = 100, 300, 500, 1000

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ISO3 = re.compile(r"^[A-Z]{3}$")
_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def slugify(text: str) -> str:
    """A catalog id from a name: ``"Sino-ri Missile Base"`` -> ``"sino-ri-missile-base"``.

    Accents are folded to ASCII; characters with no ASCII form (e.g. Hangul) are dropped,
    so a name written only in such a script gives no slug and needs an explicit id.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    """``value`` spelt as in ``allowed``: case, spaces and underscores are forgiven."""
    normalised = re.sub(r"[\s_]+", "-", value.strip().lower())
    if normalised not in allowed:
        raise InputError(
            f"unknown value {value!r} (expected one of: {', '.join(allowed)})", item=what
        )
    return normalised


def normalise_category(value: str) -> str:
    """``"Missile operating base"`` -> ``"missile-operating-base"``; unknown -> InputError."""
    return _choice(value, CATEGORIES, "category")


def normalise_status(value: str) -> str:
    """``"Under construction"`` -> ``"under-construction"``; unknown -> InputError."""
    return _choice(value, STATUSES, "status")


def parse_partial_date(value: str | None) -> str | None:
    """An ISO date that may be partial (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``), checked.

    Reports are often dated only to the year or month; inventing a day would claim a
    precision the source does not have, so the given precision is kept.
    """
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    match = _PARTIAL_DATE.match(text)
    try:
        if not match:
            raise ValueError
        year, month, day = match.groups()
        date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise InputError(f"{text!r} is not a date (expected YYYY, YYYY-MM or YYYY-MM-DD)") from None
    if not limits.RECORD_YEARS.contains(int(year)):
        raise InputError(f"{text!r}: the year must be {limits.RECORD_YEARS.describe()}")
    return text


def _coordinates_problem(geometry: BaseGeometry) -> str | None:
    """Why the coordinates cannot be lon/lat degrees, or None if they can."""
    coords = shapely.get_coordinates(geometry)
    if not math.isfinite(float(coords.sum())):
        return "coordinates must be finite numbers"
    lons, lats = coords[:, 0], coords[:, 1]
    max_lat, max_lon = limits.LATITUDE.high, limits.LONGITUDE.high
    lat_ok = (abs(lats) <= max_lat).all()
    lon_ok = (abs(lons) <= max_lon).all()
    if lat_ok and lon_ok:
        return None
    if (abs(lons) <= max_lat).all() and (abs(lats) <= max_lon).all():
        lon, lat = next((float(x), float(y)) for x, y in coords[:, :2] if abs(y) > max_lat)
        return (
            f"latitude/longitude look swapped: latitude {lat:g} is out of range, "
            f"but lon {lat:g}, lat {lon:g} would fit"
        )
    if not lat_ok:
        bad = next(float(lat) for lat in lats if abs(lat) > max_lat)
        return f"latitude {bad:g} is out of range: must be {limits.LATITUDE.describe()}"
    bad = next(float(lon) for lon in lons if abs(lon) > max_lon)
    return f"longitude {bad:g} is out of range: must be {limits.LONGITUDE.describe()}"


def validate_geometry(geometry: BaseGeometry | None) -> BaseGeometry | None:
    """A site geometry in lon/lat: a point, polygon or multipolygon, valid, 2-D.

    Heights (KML altitudes) are dropped: sites are footprints on the ground. An empty
    geometry means "not located" and becomes None.
    """
    if geometry is None or geometry.is_empty:
        return None
    if geometry.geom_type not in GEOMETRY_TYPES:
        raise InputError(
            f"{geometry.geom_type} is not a site geometry (use {', '.join(GEOMETRY_TYPES)})",
            item="geometry",
        )
    problem = _coordinates_problem(geometry)
    if problem:
        raise InputError(problem, item="geometry")
    if not geometry.is_valid:
        raise InputError(
            f"invalid {geometry.geom_type}: {shapely.is_valid_reason(geometry)}", item="geometry"
        )
    return shapely.force_2d(geometry)


@dataclass(frozen=True)
class SourceRecord:
    """A published source: report, article or database entry; ``date`` is ISO, maybe partial."""

    title: str = ""
    url: str = ""
    date: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "title", (self.title or "").strip())
        object.__setattr__(self, "url", (self.url or "").strip())
        if not self.title and not self.url:
            raise InputError("a source needs a title or a URL", item="source")
        check_text(self.title, "source title")
        check_text(self.url, "source url")
        _check_length(self.title, MAX_SOURCE_TITLE, "source title")
        _check_length(self.url, MAX_SOURCE_URL, "source url")
        try:
            object.__setattr__(self, "date", parse_partial_date(self.date))
        except InputError as error:
            raise InputError(str(error), item="source date") from None


@dataclass(kw_only=True)
class SiteRecord:
    """One catalog entry, validated and normalised on construction.

    ``id`` defaults to a slug of ``name``. ``geometry`` is lon/lat (EPSG:4326) or None for
    a site whose location is not publicly known. ``uncertainty_m`` is how far the true
    site may be from the given geometry, in metres.
    """

    name: str
    id: str = ""
    aliases: list[str] = field(default_factory=list)
    geometry: BaseGeometry | None = None
    country: str | None = None
    category: str = "other"
    missile_classes: list[str] = field(default_factory=list)
    status: str = "unknown"
    declared: bool = False
    uncertainty_m: float | None = None
    notes: str = ""
    sources: list[SourceRecord] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: geometry as a GeoJSON mapping, sources as dicts."""
        data = asdict(self)
        data["geometry"] = None if self.geometry is None else mapping(self.geometry)
        return data

    def __post_init__(self) -> None:
        self.name = (self.name or "").strip()
        if not self.name:
            raise InputError("a site needs a name", item="name")
        _check_length(check_text(self.name, "name"), MAX_NAME, "name")
        self.id = check_text((self.id or "").strip(), "id") or slugify(self.name)
        _check_length(self.id, MAX_ID, "id")
        if not _SLUG.match(self.id):
            raise InputError(
                f"{self.id!r} is not a valid id (lowercase letters, digits and single hyphens)"
                if self.id
                else f"no id can be made from the name {self.name!r}; give an id",
                item="id",
            )
        self.aliases = _clean_list(self.aliases, "aliases")
        self.missile_classes = _clean_list(self.missile_classes, "missile_classes")
        self.geometry = validate_geometry(self.geometry)
        self.country = _country(self.country)
        self.category = normalise_category(self.category or "other")
        self.status = normalise_status(self.status or "unknown")
        self.declared = bool(self.declared)
        self.uncertainty_m = _uncertainty(self.uncertainty_m)
        self.notes = check_text((self.notes or "").strip(), "notes", multiline=True)
        if not all(isinstance(source, SourceRecord) for source in self.sources):
            raise InputError("sources must be SourceRecord values", item="sources")
        self.sources = list(self.sources)

    @property
    def lon_lat(self) -> tuple[float, float] | None:
        """A representative lon/lat: the point itself, or a point inside a polygon."""
        if self.geometry is None:
            return None
        inside = self.geometry if self.geometry.geom_type == "Point" else self.geometry.centroid
        if not self.geometry.covers(inside):
            inside = self.geometry.representative_point()
        return float(inside.x), float(inside.y)


def _check_length(text: str, limit: int, name: str) -> None:
    if len(text) > limit:
        raise InputError(f"is {len(text)} characters long; at most {limit} fit", item=name)


def _clean_list(values: Any, name: str) -> list[str]:
    """Stripped, de-duplicated strings; ';' is refused because flat formats use it to join."""
    if isinstance(values, str):
        raise InputError("must be a list of strings, not one string", item=name)
    cleaned: list[str] = []
    for value in values or []:
        text = check_text(str(value).strip(), name)
        if ";" in text:
            raise InputError(f"{text!r} contains ';', which separates list entries", item=name)
        if text and text not in cleaned:
            cleaned.append(text)
    return cleaned


def _country(value: str | None) -> str | None:
    if value is None or not str(value).strip():
        return None
    code = str(value).strip().upper()
    if not _ISO3.match(code):
        raise InputError(f"{value!r} is not an ISO 3166 alpha-3 code (e.g. PRK)", item="country")
    return code


def _uncertainty(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        metres = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{value!r} is not a number of metres", item="uncertainty_m") from None
    return limits.UNCERTAINTY_M.check(metres, item="uncertainty_m")


@contextmanager
def located(source: str | Path | None, item: str) -> Iterator[None]:
    """Re-raise a field error with the file and feature it came from, as one line."""
    try:
        yield
    except InputError as error:
        if error.source is not None:
            raise
        raise InputError(str(error), source=source, item=item) from None
