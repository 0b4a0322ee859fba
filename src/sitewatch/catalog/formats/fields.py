"""The attribute table shared by every file format.

GeoJSON properties, KML ExtendedData, CSV columns and GeoPackage fields all carry the
same names. Formats without lists (KML, CSV, GeoPackage) join list fields with ``;``
and hold sources as JSON text; the reader accepts either shape, plus the simple
``source_title``/``source_url``/``source_date`` columns a person typing a spreadsheet
would use.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shapely.geometry.base import BaseGeometry

from sitewatch.catalog.records import SiteRecord, SourceRecord
from sitewatch.errors import InputError

FIELDS = (
    "id",
    "name",
    "aliases",
    "category",
    "country",
    "missile_classes",
    "status",
    "declared",
    "uncertainty_m",
    "notes",
    "sources",
)
LIST_FIELDS = ("aliases", "missile_classes")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0", ""}


def sources_json(record: SiteRecord) -> str:
    """Sources as compact JSON text, for formats whose fields are strings."""
    return json.dumps(
        [{"title": s.title, "url": s.url, "date": s.date} for s in record.sources],
        ensure_ascii=False,
    )


def flat_properties(record: SiteRecord) -> dict[str, str]:
    """Every field as text: lists joined with ';', sources as JSON, empty for missing."""
    return {
        "id": record.id,
        "name": record.name,
        "aliases": ";".join(record.aliases),
        "category": record.category,
        "country": record.country or "",
        "missile_classes": ";".join(record.missile_classes),
        "status": record.status,
        "declared": "true" if record.declared else "false",
        "uncertainty_m": "" if record.uncertainty_m is None else repr(record.uncertainty_m),
        "notes": record.notes,
        "sources": sources_json(record),
    }


def record_from_properties(
    properties: Mapping[str, Any], geometry: BaseGeometry | None
) -> SiteRecord:
    """A record from attributes in any of the shapes above; keys are case-insensitive."""
    props = {str(key).strip().lower(): value for key, value in properties.items()}
    return SiteRecord(
        id=_text(props.get("id")),
        name=_text(props.get("name")),
        aliases=_list(props.get("aliases")),
        geometry=geometry,
        country=_text(props.get("country")) or None,
        category=_text(props.get("category")) or "other",
        missile_classes=_list(props.get("missile_classes")),
        status=_text(props.get("status")) or "unknown",
        declared=_bool(props.get("declared")),
        uncertainty_m=props.get("uncertainty_m"),
        notes=_text(props.get("notes")),
        sources=_sources(props),
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [part for part in str(value).split(";") if part.strip()]


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InputError(f"{value!r} is not true or false", item="declared")


def _sources(props: Mapping[str, Any]) -> list[SourceRecord]:
    raw = props.get("sources")
    if isinstance(raw, str) and raw.strip():
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as error:
            raise InputError(f"not valid JSON ({error.msg})", item="sources") from None
    sources: list[SourceRecord] = []
    if raw:
        if not isinstance(raw, list) or not all(isinstance(s, Mapping) for s in raw):
            raise InputError("must be a list of {title, url, date} objects", item="sources")
        for entry in raw:
            sources.append(
                SourceRecord(
                    title=_text(entry.get("title")),
                    url=_text(entry.get("url")),
                    date=_text(entry.get("date")) or None,
                )
            )
    simple = [_text(props.get(f"source_{part}")) for part in ("title", "url", "date")]
    if simple[0] or simple[1]:
        sources.append(SourceRecord(title=simple[0], url=simple[1], date=simple[2] or None))
    return sources
