"""CSV: one row per site, for spreadsheets and hand-made lists.

Location: ``lat`` and ``lon`` columns (also spelt latitude/y and lng/long/longitude/x)
for points, or a ``wkt`` column (also geometry/geom) for any site geometry; empty
cells mean "not located". We write points as lat/lon and polygons as WKT.
List fields (aliases, missile_classes) are ``;``-separated. Sources are a ``sources``
column of JSON (``[{"title", "url", "date"}]``); a hand-made file may instead use
``source_title``, ``source_url`` and ``source_date`` columns for one source per site.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import shapely
from shapely.errors import GEOSException
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from sitewatch.catalog.formats.fields import FIELDS, flat_properties, record_from_properties
from sitewatch.catalog.formats.files import decode_text, read_bytes
from sitewatch.catalog.records import SiteRecord, located
from sitewatch.errors import InputError

LAT_NAMES = ("lat", "latitude", "y")
LON_NAMES = ("lon", "lng", "long", "longitude", "x")
WKT_NAMES = ("wkt", "geometry", "geom")
# The record's fields, with the location columns before the long free-text ones.
_LOCATION_BEFORE = FIELDS.index("notes")
COLUMNS = (*FIELDS[:_LOCATION_BEFORE], "lat", "lon", "wkt", *FIELDS[_LOCATION_BEFORE:])


def dumps(records: Sequence[SiteRecord]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        row = flat_properties(record)
        geometry = record.geometry
        if isinstance(geometry, Point):
            row.update(lat=repr(geometry.y), lon=repr(geometry.x), wkt="")
        else:
            wkt = "" if geometry is None else shapely.to_wkt(geometry, rounding_precision=-1)
            row.update(lat="", lon="", wkt=wkt)
        writer.writerow(row)
    return buffer.getvalue()


def write(records: Sequence[SiteRecord], path: Path) -> None:
    path.write_text(dumps(records), encoding="utf-8", newline="")


def read(path: Path) -> list[SiteRecord]:
    return loads(decode_text(read_bytes(path), path), path)


def _pick(header: list[str], names: tuple[str, ...]) -> str | None:
    return next((name for name in names if name in header), None)


def loads(text: str, source: str | Path) -> list[SiteRecord]:
    """Sites from CSV text; ``source`` names the file in error messages."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip().lower() for column in next(reader, [])]
        lat_col, lon_col = _pick(header, LAT_NAMES), _pick(header, LON_NAMES)
        wkt_col = _pick(header, WKT_NAMES)
        if not (lat_col and lon_col) and not wkt_col:
            raise InputError(
                "no coordinate columns: expected lat and lon (or latitude/y and "
                f"lng/longitude/x) or wkt; the header is: {', '.join(header) or '(empty)'}",
                source=source,
            )
        records = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            values = dict(zip(header, (cell.strip() for cell in row), strict=False))
            item = f"row {reader.line_num}" + (f" {values['name']!r}" if values.get("name") else "")
            with located(source, item):
                if len(row) > len(header):
                    raise InputError(f"{len(row)} cells but the header has {len(header)} columns")
                geometry = _geometry(values, lat_col, lon_col, wkt_col)
                records.append(record_from_properties(values, geometry))
    except csv.Error as error:
        raise InputError(f"not readable CSV: {error}", source=source) from None
    return records


def _geometry(
    values: dict[str, str], lat_col: str | None, lon_col: str | None, wkt_col: str | None
) -> BaseGeometry | None:
    wkt = values.get(wkt_col, "") if wkt_col else ""
    if wkt:
        try:
            return shapely.from_wkt(wkt)
        except (GEOSException, ValueError) as error:
            raise InputError(f"not valid WKT ({error})", item=wkt_col) from None
    lat = values.get(lat_col, "") if lat_col else ""
    lon = values.get(lon_col, "") if lon_col else ""
    if not lat and not lon:
        return None
    if not lat or not lon:
        raise InputError(
            "give both latitude and longitude, or neither", item=f"{lat_col}/{lon_col}"
        )
    numbers = []
    for column, text in ((lon_col, lon), (lat_col, lat)):
        try:
            numbers.append(float(text))
        except ValueError:
            raise InputError(f"{text!r} is not a number in degrees", item=column) from None
    return Point(*numbers)
