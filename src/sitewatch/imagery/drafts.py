"""Scenes validated and ready to be written, whatever they came from (files or STAC).

Ingest happens in two phases so that a bad input never leaves half a batch behind: every
source is first turned into a :class:`SceneDraft` (reading files, no database), and only
when all of them are good does :func:`store_drafts` write them in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sitewatch.db.models import Scene, SceneAsset
from sitewatch.errors import ConflictError
from sitewatch.evidence import ledger
from sitewatch.evidence.files import FileRef
from sitewatch.imagery.probe import RasterProbe


@dataclass
class AssetDraft:
    """One file or remote href of a scene."""

    key: str
    href: str
    bands: list[str]
    media_type: str | None = None
    sha256: str | None = None
    size: int | None = None
    raster: RasterProbe | None = None  # set for local files probed at ingest


@dataclass
class SceneDraft:
    """A scene's catalog record before it is written."""

    id: str
    source: str  # what the user named: a path, or a STAC item's id and origin
    datetime: datetime
    footprint: BaseGeometry
    crs: str
    resolution_m: float | None
    bands: list[str]
    assets: list[AssetDraft]
    platform: str | None = None
    instrument: str | None = None
    constellation: str | None = None
    cloud_cover: float | None = None
    collection: str | None = None
    origin: Literal["file", "stac"] = "file"
    extra_properties: dict[str, Any] = field(default_factory=dict)
    stac_item: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AddOutcome:
    """What happened to one draft: ``added``, or ``present`` (same id already catalogued)."""

    scene_id: str
    status: Literal["added", "present"]
    source: str
    datetime: datetime
    bands: list[str]


def store_drafts(session: Session, drafts: list[SceneDraft]) -> list[AddOutcome]:
    """Write the drafts whose id is new; re-adding a scene is a no-op reported as present.

    Another process may catalogue the same scene between the check and the insert (two
    ``imagery add`` of one folder at once): the unique id refuses the second insert, and
    that becomes a ConflictError naming the scene; the caller's transaction then rolls
    back whole, and running the command again reports the scene as present.
    """
    ids = [draft.id for draft in drafts]
    existing = set(session.scalars(select(Scene.id).where(Scene.id.in_(ids))))
    outcomes: list[AddOutcome] = []
    for draft in drafts:
        status: Literal["added", "present"] = "present" if draft.id in existing else "added"
        if status == "added":
            _insert_scene(session, draft)
            _record_ingest(session, draft)
            existing.add(draft.id)
        outcomes.append(
            AddOutcome(draft.id, status, draft.source, draft.datetime, list(draft.bands))
        )
    session.flush()
    return outcomes


def _insert_scene(session: Session, draft: SceneDraft) -> None:
    session.add(_scene_row(draft))
    try:
        session.flush()
    except IntegrityError:
        raise ConflictError(
            f"scene {draft.id!r} ({draft.source}) was catalogued by another process meanwhile; "
            "nothing was added: run the command again"
        ) from None


def _record_ingest(session: Session, draft: SceneDraft) -> None:
    """The scene's ledger entry: its description, and its local files with their hashes.

    Remote assets are not read at ingest, so they enter the payload (href and any declared
    checksum) rather than the entry's file list.
    """
    local = [asset for asset in draft.assets if asset.sha256 and Path(asset.href).is_absolute()]
    ledger.record(
        session,
        kind="scene.ingest",
        subject_id=draft.id,
        payload={
            "scene_id": draft.id,
            "source": draft.source,
            "origin": draft.origin,
            "datetime": draft.datetime,
            "crs": draft.crs,
            "bands": draft.bands,
            "platform": draft.platform,
            "collection": draft.collection,
            "assets": [
                {"key": a.key, "href": a.href, "sha256": a.sha256, "size": a.size}
                for a in draft.assets
            ],
        },
        files=[FileRef(Path(asset.href), sha256=asset.sha256) for asset in local],
    )


def _scene_row(draft: SceneDraft) -> Scene:
    scene = Scene(
        id=draft.id,
        datetime=draft.datetime,
        footprint=draft.footprint,
        crs=draft.crs,
        resolution_m=draft.resolution_m,
        bands=list(draft.bands),
        platform=draft.platform,
        instrument=draft.instrument,
        cloud_cover=draft.cloud_cover,
        collection=draft.collection,
        origin=draft.origin,
        stac_item=draft.stac_item,
    )
    scene.set_bbox(draft.footprint)
    scene.assets = [
        SceneAsset(
            position=position,
            key=asset.key,
            href=asset.href,
            bands=list(asset.bands),
            sha256=asset.sha256,
            size=asset.size,
            media_type=asset.media_type,
        )
        for position, asset in enumerate(draft.assets)
    ]
    return scene
