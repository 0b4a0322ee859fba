"""SQLAlchemy 2 models: the workspace's tables.

Sites and scenes keep their geometry (EPSG:4326) plus a bounding box so that
"what covers this site" is one indexed range query on either backend.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from sitewatch.db.types import UTCDateTime, WKBGeometry, utcnow


class Base(DeclarativeBase):
    """Declarative base of every sitewatch table."""


class BBoxMixin:
    """Bounding-box columns kept in step with a geometry by :meth:`set_bbox`."""

    min_lon: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)

    def set_bbox(self, geometry: BaseGeometry | None) -> None:
        if geometry is None or geometry.is_empty:
            self.min_lon = self.min_lat = self.max_lon = self.max_lat = None
        else:
            self.min_lon, self.min_lat, self.max_lon, self.max_lat = geometry.bounds


class Site(BBoxMixin, Base):
    """A place of interest: a base, launch site, nuclear facility, test site, shipyard."""

    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    geometry: Mapped[BaseGeometry | None] = mapped_column(WKBGeometry)
    country: Mapped[str | None] = mapped_column(String(3))
    category: Mapped[str] = mapped_column(String(40), default="other")
    missile_classes: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(40), default="unknown")
    declared: Mapped[bool] = mapped_column(Boolean, default=False)
    uncertainty_m: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    sources: Mapped[list[SiteSource]] = relationship(
        back_populates="site",
        cascade="all, delete-orphan",
        order_by="SiteSource.position",
    )

    __table_args__ = (Index("ix_sites_bbox", "min_lon", "max_lon", "min_lat", "max_lat"),)


class SiteSource(Base):
    """A published source for a site: a report, article or database entry."""

    __tablename__ = "site_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(500), default="")
    url: Mapped[str] = mapped_column(String(1000), default="")
    # ISO 8601, possibly partial ("2018", "2018-12", "2018-11-12"): reports are often
    # dated only to the month.
    date: Mapped[str | None] = mapped_column(String(10))

    site: Mapped[Site] = relationship(back_populates="sources")


class Scene(BBoxMixin, Base):
    """One acquisition: a set of co-registered assets (bands) from one sensor and time."""

    __tablename__ = "scenes"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    datetime: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    footprint: Mapped[BaseGeometry] = mapped_column(WKBGeometry)
    crs: Mapped[str] = mapped_column(String(2000))
    resolution_m: Mapped[float | None] = mapped_column(Float)
    bands: Mapped[list[str]] = mapped_column(JSON, default=list)
    platform: Mapped[str | None] = mapped_column(String(100))
    instrument: Mapped[str | None] = mapped_column(String(100))
    cloud_cover: Mapped[float | None] = mapped_column(Float)
    collection: Mapped[str | None] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(20), default="file")  # file | stac
    stac_item: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    assets: Mapped[list[SceneAsset]] = relationship(
        back_populates="scene", cascade="all, delete-orphan", order_by="SceneAsset.position"
    )

    __table_args__ = (Index("ix_scenes_bbox", "min_lon", "max_lon", "min_lat", "max_lat"),)


class SceneAsset(Base):
    """A file (or remote href) of a scene, with the band(s) it holds and its hash."""

    __tablename__ = "scene_assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scene_id: Mapped[str] = mapped_column(ForeignKey("scenes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    key: Mapped[str] = mapped_column(String(100))
    href: Mapped[str] = mapped_column(String(2000))
    bands: Mapped[list[str]] = mapped_column(JSON, default=list)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    size: Mapped[int | None] = mapped_column(BigInteger)
    media_type: Mapped[str | None] = mapped_column(String(200))

    scene: Mapped[Scene] = relationship(back_populates="assets")


class DetectionRun(Base):
    """One change detection run over a site (or a pair of files): lineage and summary.

    ``products`` holds the paths of the run's files relative to the workspace folder, so
    a workspace can be moved or shared without breaking them.
    """

    __tablename__ = "detection_runs"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    site_id: Mapped[str | None] = mapped_column(
        ForeignKey("sites.id", ondelete="SET NULL"), index=True
    )
    method: Mapped[str] = mapped_column(String(100))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    before_scene_id: Mapped[str | None] = mapped_column(String(200))
    after_scene_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    lineage: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    products: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)

    objects: Mapped[list[ChangeObjectRow]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="ChangeObjectRow.position"
    )


class ChangeObjectRow(BBoxMixin, Base):
    """A changed region found by a run (geometry in EPSG:4326)."""

    __tablename__ = "change_objects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(
        ForeignKey("detection_runs.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    geometry: Mapped[BaseGeometry] = mapped_column(WKBGeometry)
    area_m2: Mapped[float | None] = mapped_column(Float)
    centroid_lon: Mapped[float | None] = mapped_column(Float)
    centroid_lat: Mapped[float | None] = mapped_column(Float)
    mean_score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    direction: Mapped[int] = mapped_column(Integer, default=0)
    pixel_count: Mapped[int] = mapped_column(Integer, default=0)

    run: Mapped[DetectionRun] = relationship(back_populates="objects")

    __table_args__ = (Index("ix_change_objects_bbox", "min_lon", "max_lon", "min_lat", "max_lat"),)


class Analyst(Base):
    """A named signer of ledger entries and assessments: the public half of an Ed25519 key.

    Private keys never enter the database; they stay in the workspace's ``keys`` folder
    (or wherever the analyst keeps them), so a shared database cannot forge anyone.
    """

    __tablename__ = "analysts"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerEntry(Base):
    """One link of the tamper-evident chain: canonical payload, file hashes, signature.

    ``seq`` is assigned as head + 1 under a write lock, so the chain has no gaps and no
    forks; no foreign keys, because evidence must outlive whatever it records.
    """

    __tablename__ = "ledger_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(50), index=True)
    site_id: Mapped[str | None] = mapped_column(String(100), index=True)
    subject_id: Mapped[str | None] = mapped_column(String(200), index=True)
    payload: Mapped[str] = mapped_column(Text)
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class Declaration(Base):
    """A state's declaration as imported: party, date, and the original document."""

    __tablename__ = "declarations"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    party: Mapped[str] = mapped_column(String(200))
    declared_on: Mapped[date] = mapped_column(Date)
    source_name: Mapped[str] = mapped_column(String(500))
    source_sha256: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list[DeclarationItem]] = relationship(
        back_populates="declaration",
        cascade="all, delete-orphan",
        order_by="DeclarationItem.position",
    )


class DeclarationItem(Base):
    """One declared facility: where, what, and the status the party claims for it."""

    __tablename__ = "declaration_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    declaration_id: Mapped[str] = mapped_column(
        ForeignKey("declarations.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(300))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    uncertainty_m: Mapped[float | None] = mapped_column(Float)
    category: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    status_date: Mapped[date | None] = mapped_column(Date)
    inventory: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    declaration: Mapped[Declaration] = relationship(back_populates="items")


class Assessment(Base):
    """An analyst's judgement of a site's status on a date, with the evidence it rests on."""

    __tablename__ = "assessments"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    observed_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[str] = mapped_column(String(10))
    analyst: Mapped[str] = mapped_column(ForeignKey("analysts.name"))
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Verification(Base):
    """The verdicts of one `verify` over a declaration, kept as they were given."""

    __tablename__ = "verifications"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    declaration_id: Mapped[str] = mapped_column(
        ForeignKey("declarations.id", ondelete="CASCADE"), index=True
    )
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    verdicts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Scan(Base):
    """A wide-area search: the area, the two date windows, the method and its progress."""

    __tablename__ = "scans"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    aoi_spec: Mapped[str] = mapped_column(String(500))
    geometry: Mapped[BaseGeometry] = mapped_column(WKBGeometry)
    before_start: Mapped[datetime] = mapped_column(UTCDateTime)
    before_end: Mapped[datetime] = mapped_column(UTCDateTime)
    after_start: Mapped[datetime] = mapped_column(UTCDateTime)
    after_end: Mapped[datetime] = mapped_column(UTCDateTime)
    method: Mapped[str] = mapped_column(String(100))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    crs: Mapped[str] = mapped_column(String(100))
    tile_size_m: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), default="running")
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tiles: Mapped[list[ScanTile]] = relationship(
        back_populates="scan", cascade="all, delete-orphan"
    )


class ScanTile(BBoxMixin, Base):
    """One tile of a scan: written once when its task finishes, so a resumed scan skips it."""

    __tablename__ = "scan_tiles"

    scan_id: Mapped[str] = mapped_column(
        ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True
    )
    tile_key: Mapped[str] = mapped_column(String(50), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    score: Mapped[float | None] = mapped_column(Float)
    like_score: Mapped[float | None] = mapped_column(Float)
    candidate_count: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The scenes that gave the tile's composites a clear pixel, per window:
    #: ``{"before": [{"scene_id": ..., "acquired": ISO}], "after": [...]}`` (migration 0007;
    #: empty for tiles stored before it).
    acquisitions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Vegetation-phase objects the tile left out of its candidates (migration 0008; 0 for
    #: tiles stored before it, and when the scan keeps them or could not test).
    vegetation_objects: Mapped[int] = mapped_column(Integer, default=0)
    #: Changed pixels of the tile's square that are open water on both dates, left out (or
    #: kept by ``--keep-water``) (migration 0009; 0 for tiles stored before it).
    water_pixels: Mapped[int] = mapped_column(Integer, default=0)

    scan: Mapped[Scan] = relationship(back_populates="tiles")


class Candidate(BBoxMixin, Base):
    """A possible undeclared site found by a scan, until an analyst promotes or dismisses it."""

    __tablename__ = "candidates"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), index=True)
    tile_key: Mapped[str] = mapped_column(String(50))
    geometry: Mapped[BaseGeometry] = mapped_column(WKBGeometry)
    centroid_lon: Mapped[float] = mapped_column(Float)
    centroid_lat: Mapped[float] = mapped_column(Float)
    area_m2: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float, index=True)
    max_score: Mapped[float] = mapped_column(Float)
    nearest_site_id: Mapped[str | None] = mapped_column(String(100))
    nearest_site_m: Mapped[float | None] = mapped_column(Float)
    known: Mapped[bool] = mapped_column(Boolean, default=False)
    chips: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="new")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    promoted_site_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The object touches pixels the scan could not compare (nodata, a footprint's edge,
    #: clouds), so its outline may be cut there (migration 0007).
    edge: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Share of the object's changed pixels whose change is vegetation-phase (NDVI of both
    #: dates, :mod:`sitewatch.analysis.vegetation`); None when the scan could not test it
    #: (no B04 or B08) or was stored before migration 0008.
    vegetation_share: Mapped[float | None] = mapped_column(Float)
    #: ``structural`` or ``vegetation`` (kept only with ``--keep-vegetation``); None when
    #: untested (migration 0008).
    change_class: Mapped[str | None] = mapped_column(String(20))

    #: The tile the candidate was found on (read only: candidates are inserted in bulk).
    tile: Mapped[ScanTile | None] = relationship(
        ScanTile,
        primaryjoin="and_(foreign(Candidate.scan_id) == ScanTile.scan_id, "
        "foreign(Candidate.tile_key) == ScanTile.tile_key)",
        viewonly=True,
    )


class User(Base):
    """A person who signs in to ``sitewatch serve``: a role and an argon2 password hash.

    ``failed_logins`` and ``locked_until`` bound password guessing (see
    :mod:`sitewatch.auth.users`). A web user is not a signer: an analyst signs the ledger
    with the key of the same name in ``analysts`` and ``keys/`` (see :mod:`sitewatch.auth`).
    """

    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebSession(Base):
    """A signed-in browser: the SHA-256 of its cookie token (never the token) and its
    CSRF token, until ``expires_at``. Removing the user removes their sessions."""

    __tablename__ = "web_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(ForeignKey("users.name", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Source(Base):
    """An article or report kept as evidence: its id is the SHA-256 of the original bytes,
    kept under ``stored_path`` (relative to the workspace); ``text`` is the main text that
    mentions' and claims' character spans point into."""

    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    publisher: Mapped[str | None] = mapped_column(String(300))
    # ISO 8601, possibly partial, as SiteSource.date: articles may be dated to the month.
    published_on: Mapped[str | None] = mapped_column(String(10))
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    url: Mapped[str | None] = mapped_column(String(2000))
    media_type: Mapped[str] = mapped_column(String(100))
    byte_size: Mapped[int] = mapped_column(BigInteger)
    stored_path: Mapped[str] = mapped_column(String(1000))
    file_name: Mapped[str] = mapped_column(String(500))
    extractor: Mapped[str] = mapped_column(String(50))
    text: Mapped[str] = mapped_column(Text)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    mentions: Mapped[list[SourceMention]] = relationship(
        back_populates="source", cascade="all, delete-orphan", order_by="SourceMention.start"
    )
    claims: Mapped[list[Claim]] = relationship(
        back_populates="source", cascade="all, delete-orphan", order_by="Claim.position"
    )


class SourceMention(Base):
    """A span of a source's text naming a site, place, date, missile, organisation or
    quantity. An ambiguous site name keeps its ``candidates`` and no ``site_id``."""

    __tablename__ = "source_mentions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(500))
    value: Mapped[str] = mapped_column(String(300))
    site_id: Mapped[str | None] = mapped_column(
        ForeignKey("sites.id", ondelete="SET NULL"), index=True
    )
    candidates: Mapped[list[str]] = mapped_column(JSON, default=list)
    ambiguous: Mapped[bool] = mapped_column(Boolean, default=False)

    source: Mapped[Source] = relationship(back_populates="mentions")


class Claim(Base):
    """A quoted or reported statement of a source: who, when, about which sites, which way."""

    __tablename__ = "claims"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str | None] = mapped_column(String(300))
    claimed_on: Mapped[str | None] = mapped_column(String(10))
    stance: Mapped[str] = mapped_column(String(30))
    quote: Mapped[str] = mapped_column(Text)
    site_ids: Mapped[list[str]] = mapped_column(JSON, default=list)

    source: Mapped[Source] = relationship(back_populates="claims")
    reviews: Mapped[list[ClaimReview]] = relationship(
        back_populates="claim", cascade="all, delete-orphan", order_by="ClaimReview.id"
    )


class ClaimReview(Base):
    """An analyst's signed review of a claim: confirmed, corrected (with the corrections)
    or rejected. The extracted claim is left as extracted; the review says what holds."""

    __tablename__ = "claim_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    analyst: Mapped[str] = mapped_column(ForeignKey("analysts.name"))
    verdict: Mapped[str] = mapped_column(String(20))
    corrections: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    claim: Mapped[Claim] = relationship(back_populates="reviews")
