"""Catalog services: add, find, list, edit, remove and import sites in a Session.

These functions never commit: the caller's unit of work (``Workspace.session()``) does,
so a failure anywhere in an import leaves the database as it was. Records are validated
when built, before any row is touched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from sitewatch import limits
from sitewatch.catalog.records import (
    SiteRecord,
    SourceRecord,
    normalise_category,
    slugify,
)
from sitewatch.db.models import Site, SiteSource
from sitewatch.errors import ConflictError, InputError, NotFoundError
from sitewatch.evidence import ledger
from sitewatch.files import sha256_file
from sitewatch.text import FREE_TEXT_LAYOUT, escape_unsafe

OnConflict = Literal["error", "skip", "update"]
ON_CONFLICT: tuple[OnConflict, ...] = ("error", "skip", "update")
EDITABLE = tuple(f.name for f in dataclasses.fields(SiteRecord) if f.name != "id")


def to_record(site: Site) -> SiteRecord:
    """The site as a record (what the file formats read and write).

    Text an older version stored with control or invisible characters, which the record
    now refuses, is read as its visible escape (:func:`escape_unsafe`): such a site can
    still be listed, exported as valid KML and edited, and never hands the character on.
    """
    return SiteRecord(
        id=site.id,
        name=escape_unsafe(site.name),
        aliases=[escape_unsafe(alias) for alias in site.aliases or []],
        geometry=site.geometry,
        country=site.country,
        category=site.category,
        missile_classes=[escape_unsafe(c) for c in site.missile_classes or []],
        status=site.status,
        declared=site.declared,
        uncertainty_m=site.uncertainty_m,
        notes=escape_unsafe(site.notes or "", keep=FREE_TEXT_LAYOUT),
        sources=[
            SourceRecord(escape_unsafe(s.title), escape_unsafe(s.url), s.date) for s in site.sources
        ],
    )


def from_record(record: SiteRecord, site: Site | None = None) -> Site:
    """``site`` (or a new Site) holding every field of ``record``, bbox included."""
    site = site if site is not None else Site(id=record.id)
    site.name = record.name
    site.aliases = list(record.aliases)
    site.geometry = record.geometry
    site.set_bbox(record.geometry)
    site.country = record.country
    site.category = record.category
    site.missile_classes = list(record.missile_classes)
    site.status = record.status
    site.declared = record.declared
    site.uncertainty_m = record.uncertainty_m
    site.notes = record.notes
    site.sources = [
        SiteSource(position=i, title=s.title, url=s.url, date=s.date)
        for i, s in enumerate(record.sources)
    ]
    return site


def add_site(session: Session, record: SiteRecord, *, author: str | None = None) -> Site:
    """Add a new site; an id already in the catalog is a ConflictError. ``author`` signs
    the ledger entry (None: the workspace's default signer)."""
    if session.get(Site, record.id) is not None:
        raise ConflictError(f"site {record.id!r} already exists (use 'sites edit' to change it)")
    site = from_record(record)
    session.add(site)
    _flush(session, f"site {record.id!r} was added by someone else meanwhile; try again")
    _record_change(session, "site.add", record.id, {"site": record.as_dict()}, author=author)
    return site


def _record_change(
    session: Session,
    kind: str,
    site_id: str,
    payload: dict[str, Any],
    *,
    author: str | None = None,
) -> None:
    """The catalog change's ledger entry, in the same transaction as the change."""
    ledger.record(
        session, kind=kind, payload=payload, site_id=site_id, subject_id=site_id, author=author
    )


def _flush(session: Session, conflict: str) -> None:
    """Flush; another process inserting the same id between check and write is a conflict."""
    try:
        session.flush()
    except IntegrityError:
        raise ConflictError(conflict) from None


def get_site(session: Session, site_id: str) -> Site:
    """The site with this id; NotFoundError suggests ids whose name or alias matches."""
    site = session.get(Site, site_id)
    if site is None:
        raise NotFoundError(f"no site with id {site_id!r}{_suggestion(session, site_id)}")
    return site


def _suggestion(session: Session, text: str) -> str:
    """' (did you mean ...?)' for a name, alias or slug the user may have typed instead."""
    wanted = {text.casefold(), slugify(text)}
    matches = [
        site.id
        for site in session.scalars(select(Site).order_by(Site.id))
        if wanted & {site.id, site.name.casefold(), *(a.casefold() for a in site.aliases or [])}
    ]
    return f" (did you mean {', '.join(repr(m) for m in matches)}?)" if matches else ""


def list_sites(
    session: Session,
    category: str | None = None,
    country: str | None = None,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> list[Site]:
    """Sites ordered by id, optionally of one category and/or country (ISO3), optionally
    one page of them (``limit`` rows after ``offset``, both bounded by :mod:`limits`).
    Their sources come in one more query, not one per site (a listing shows them all)."""
    query = _filtered(
        select(Site).options(selectinload(Site.sources)).order_by(Site.id), category, country
    )
    if limit is not None:
        query = query.limit(limits.ROW_LIMIT.check(limit, item="limit"))
    if offset:
        query = query.offset(limits.ROW_OFFSET.check(offset, item="offset"))
    return list(session.scalars(query))


def count_sites(session: Session, category: str | None = None, country: str | None = None) -> int:
    """How many sites :func:`list_sites` would list without a page."""
    query = _filtered(select(func.count()).select_from(Site), category, country)
    return int(session.scalar(query) or 0)


def sites_in_bbox(session: Session, bbox: tuple[float, float, float, float]) -> list[Site]:
    """Located sites whose bounds meet the lon/lat box ``bbox`` (W, S, E, N, as
    :func:`catalog.aoi.parse_bbox` gives it), ordered by id: the map's viewport, read
    on the indexed bbox columns. A catalog holds hundreds of sites, so no page."""
    west, south, east, north = bbox
    query = (
        select(Site)
        .where(Site.max_lon >= west, Site.min_lon <= east)
        .where(Site.max_lat >= south, Site.min_lat <= north)
        .order_by(Site.id)
    )
    return list(session.scalars(query))


def site_marker_to_dict(site: Site) -> dict[str, Any]:
    """What a map marker needs of a located site: its point (inside a polygon site),
    name, kind and radius; text as :func:`to_record` shows it (no sources read)."""
    point = site.geometry.representative_point()
    return {
        "id": site.id,
        "name": escape_unsafe(site.name),
        "category": site.category,
        "status": site.status,
        "declared": site.declared,
        "uncertainty_m": site.uncertainty_m,
        "lon": round(point.x, 6),
        "lat": round(point.y, 6),
    }


def _filtered(query: Select[Any], category: str | None, country: str | None) -> Select[Any]:
    if category:
        query = query.where(Site.category == normalise_category(category))
    if country:
        query = query.where(Site.country == country.strip().upper())
    return query


def edit_site(session: Session, site_id: str, **changes: Any) -> Site:
    """Change the given fields of a site; the result is validated as a whole record."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InputError(
            f"cannot edit {', '.join(unknown)} (editable: {', '.join(EDITABLE)})", item="edit"
        )
    site = get_site(session, site_id)
    before = to_record(site)
    record = dataclasses.replace(before, **changes)
    from_record(record, site)
    session.flush()
    _record_change(
        session,
        "site.edit",
        site_id,
        {"before": before.as_dict(), "after": record.as_dict()},
    )
    return site


def remove_site(session: Session, site_id: str) -> SiteRecord:
    """Delete a site and its sources; returns what was removed."""
    site = get_site(session, site_id)
    record = to_record(site)
    session.delete(site)
    session.flush()
    _record_change(session, "site.remove", site_id, {"site": record.as_dict()})
    return record


@dataclass
class ImportResult:
    """Ids added, updated and skipped by :func:`import_sites`."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    unlocated: list[str] = field(default_factory=list)

    @property
    def written(self) -> int:
        return len(self.added) + len(self.updated)


def import_sites(
    session: Session,
    records: Sequence[SiteRecord],
    on_conflict: OnConflict = "error",
    source: str | Path | None = None,
) -> ImportResult:
    """Add many sites at once: every conflict is checked before any row is written.

    ``on_conflict`` says what to do with an id already in the catalog: ``error`` (nothing
    is imported), ``skip`` (keep the catalog's site) or ``update`` (replace it with the
    imported record). An id given twice in ``records`` is always an error.
    """
    if on_conflict not in ON_CONFLICT:
        raise InputError(
            f"unknown value {on_conflict!r} (use {', '.join(ON_CONFLICT)})", item="on_conflict"
        )
    prefix = f"{source}: " if source is not None else ""
    _refuse_repeated_ids(records, prefix)
    existing = _existing(session, (r.id for r in records))
    if on_conflict == "error" and existing:
        ids = ", ".join(repr(i) for i in sorted(existing)[:5])
        if len(existing) > 5:
            ids += f" and {len(existing) - 5} more"
        noun = "site" if len(existing) == 1 else "sites"
        raise ConflictError(
            f"{prefix}{noun} {ids} already in the catalog; nothing imported "
            "(use --on-conflict skip or update)"
        )
    result = ImportResult()
    for record in records:
        site = existing.get(record.id)
        if site is not None and on_conflict == "skip":
            result.skipped.append(record.id)
            continue
        if site is None:
            session.add(from_record(record))
            result.added.append(record.id)
        else:
            from_record(record, site)
            result.updated.append(record.id)
        if record.geometry is None:
            result.unlocated.append(record.id)
    _flush(session, f"{prefix}sites were added by someone else meanwhile; nothing imported")
    actions = {**dict.fromkeys(result.added, "added"), **dict.fromkeys(result.updated, "updated")}
    origin = _import_origin(source)
    for record in records:
        if record.id in actions:
            payload = {"action": actions[record.id], "site": record.as_dict(), **origin}
            _record_change(session, "site.import", record.id, payload)
    return result


def _import_origin(source: str | Path | None) -> dict[str, Any]:
    """Where an import came from: the file's name and SHA-256 (the file may not be kept)."""
    if source is None:
        return {"source": None}
    path = Path(source)
    return {"source": str(source), "source_sha256": sha256_file(path) if path.is_file() else None}


def _refuse_repeated_ids(records: Iterable[SiteRecord], prefix: str) -> None:
    seen: set[str] = set()
    for record in records:
        if record.id in seen:
            raise ConflictError(f"{prefix}site id {record.id!r} appears more than once")
        seen.add(record.id)


def _existing(session: Session, ids: Iterable[str]) -> dict[str, Site]:
    wanted = list(ids)
    found: dict[str, Site] = {}
    for start in range(0, len(wanted), 500):  # stay under SQL parameter limits
        chunk = wanted[start : start + 500]
        found.update((s.id, s) for s in session.scalars(select(Site).where(Site.id.in_(chunk))))
    return found
