"""Sources in the workspace: add (validated, kept as evidence, analysed), list, show.

``add_sources`` reads and extracts every file first, so one bad file refuses the whole
call with nothing written. Each source's original bytes go to
``products/sources/<sha256><suffix>``, staged and moved into place (flushed) before the
transaction that records the source, its mentions, its claims and a ``source.add``
ledger entry commits (:mod:`sitewatch.files`). The same bytes are refused a second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from hashlib import sha256
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from sitewatch import limits
from sitewatch.catalog.formats.files import read_bytes
from sitewatch.catalog.sites import list_sites
from sitewatch.db.models import Claim, Source, SourceMention
from sitewatch.errors import ConflictError, InputError, NotFoundError
from sitewatch.evidence import ledger
from sitewatch.evidence.files import FileRef
from sitewatch.files import publish, staged
from sitewatch.sources.analyse import analyse_text
from sitewatch.sources.claims import report_publisher
from sitewatch.sources.extract import HTML, PDF, Extracted, extract_document
from sitewatch.sources.mentions import SiteIndex
from sitewatch.sources.patterns import Found
from sitewatch.sources.payload import source_fields, source_payload
from sitewatch.text import check_text
from sitewatch.workspace import Workspace, committed_by_stem

SOURCES_FOLDER = "sources"
_SUFFIXES = {HTML: ".html", PDF: ".pdf"}


@dataclass(frozen=True)
class Incoming:
    """A document read and extracted, not yet stored."""

    name: str
    data: bytes
    extracted: Extracted
    url: str | None

    @property
    def sha256(self) -> str:
        return sha256(self.data).hexdigest()


def read_source(path: Path, url: str | None = None, published_on: date | None = None) -> Incoming:
    """Read and extract one file; InputError naming it on any problem. ``published_on``
    (the user's ``--date``) replaces the date the document gives, if any."""
    data = read_bytes(Path(path), limit=limits.SOURCE_BYTES, what="article or report")
    extracted = extract_document(data, path)
    if published_on is not None:
        extracted = replace(extracted, published_on=published_on.isoformat())
    return Incoming(Path(path).name, data, extracted, check_url(url))


def fetch_source(url: str) -> Incoming:
    """Download ``url`` (only when the user asks: ``--fetch``), within
    ``limits.FETCH_TIMEOUT_S`` and ``limits.SOURCE_BYTES``, and extract it."""
    import urllib.request  # imported on use: most adds never fetch

    url = check_url(url) or ""
    request = urllib.request.Request(url, headers={"User-Agent": "sitewatch"})
    try:
        with urllib.request.urlopen(request, timeout=limits.FETCH_TIMEOUT_S) as response:
            data = response.read(limits.SOURCE_BYTES + 1)
    except (OSError, ValueError) as error:
        raise InputError(f"cannot fetch: {error}", item=url[:200]) from None
    if len(data) > limits.SOURCE_BYTES:
        raise InputError(f"larger than {limits.SOURCE_BYTES:,} bytes: refused", item=url[:200])
    name = urlsplit(url).path.rstrip("/").rpartition("/")[2] or urlsplit(url).netloc
    return Incoming(name, data, extract_document(data, url[:200]), url)


def check_url(url: str | None) -> str | None:
    """An http(s) URL of at most 2000 characters, without controls; None stays None."""
    if url is None:
        return None
    check_text(url, "--url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2000:
        raise InputError(f"not an http(s) URL: {url[:80]!r}", item="--url")
    return url


def add_sources(workspace: Workspace, incoming: Sequence[Incoming]) -> list[dict[str, Any]]:
    """Store each document (see the module docstring); all were read before this."""
    seen: set[str] = set()
    for item in incoming:
        if item.sha256 in seen:
            raise ConflictError(f"{item.name}: the same file is given twice")
        seen.add(item.sha256)
    with workspace.session() as session:  # all refused before any is kept
        for item in incoming:
            if session.get(Source, item.sha256) is not None:
                raise ConflictError(f"{item.name}: already added as source {item.sha256[:12]}")
    added = []
    folder = workspace.products / SOURCES_FOLDER
    for item in incoming:
        with workspace.session() as session:
            if session.get(Source, item.sha256) is not None:  # added since, by another process
                raise ConflictError(f"{item.name}: already added as source {item.sha256[:12]}")
            final = folder / f"{item.sha256}{_SUFFIXES.get(item.extracted.media_type, '.txt')}"
            with staged(final, committed_by_stem(workspace, Source)) as staging:
                copy = staging / final.name
                copy.write_bytes(item.data)
                publish(copy, final)
                source = _record(session, item, final.relative_to(workspace.root))
                ledger.record(
                    session,
                    kind="source.add",
                    payload=source_payload(source),
                    files=[FileRef(final, item.sha256)],
                    subject_id=source.id,
                )
                session.commit()
                added.append(source_to_dict(source))
    return added


def site_index(session: Session) -> SiteIndex:
    """The names of the workspace's catalog sites, keyed for matching."""
    return SiteIndex((s.id, s.name, s.aliases or []) for s in list_sites(session))


def _record(session: Session, item: Incoming, stored_path: Path) -> Source:
    extracted = item.extracted
    publisher = extracted.publisher or (urlsplit(item.url).hostname if item.url else None)
    source = Source(
        id=item.sha256,
        title=(extracted.title or item.name)[:500],
        publisher=publisher[:300] if publisher else None,
        published_on=extracted.published_on,
        authors=extracted.authors,
        url=item.url,
        media_type=extracted.media_type,
        byte_size=len(item.data),
        stored_path=stored_path.as_posix(),
        file_name=item.name[:500],
        extractor=extracted.extractor,
        text=extracted.text,
    )
    analysis = analyse_text(extracted.text, site_index(session))
    for site in analysis.sites:
        source.mentions.append(
            SourceMention(
                kind="site",
                start=site.start,
                end=site.end,
                text=site.text[:500],
                value=site.site_id or "",
                site_id=site.site_id,
                candidates=list(site.candidates),
                ambiguous=site.ambiguous,
            )
        )
    for found in analysis.others:
        source.mentions.append(
            SourceMention(
                kind=found.kind,
                start=found.start,
                end=found.end,
                text=found.text[:500],
                value=found.value[:300],
                candidates=[],
                ambiguous=False,
            )
        )
    for position, claim in enumerate(analysis.claims, start=1):
        source.claims.append(
            Claim(
                id=f"{item.sha256[:12]}-{position}",
                position=position,
                start=claim.start,
                end=claim.end,
                speaker=(claim.speaker or None) and claim.speaker[:300],
                claimed_on=extracted.published_on,
                stance=claim.stance,
                quote=claim.quote,
                site_ids=claim.site_ids,
            )
        )
    session.add(source)
    session.flush()
    return source


def list_sources(session: Session) -> list[Source]:
    """Sources by publication date, then title."""
    return list(session.scalars(select(Source).order_by(Source.published_on, Source.title)))


def get_source(session: Session, source_id: str) -> Source:
    """The source whose id is or starts with ``source_id`` (at least 6 characters)."""
    if len(source_id) >= 6:
        matches = list(session.scalars(select(Source).where(Source.id.like(f"{source_id}%"))))
        if len(matches) == 1:
            return matches[0]
    raise NotFoundError(f"no source with id {source_id!r} (see 'sources list')")


def mention_to_dict(mention: SourceMention) -> dict[str, Any]:
    return {
        "kind": mention.kind,
        "start": mention.start,
        "end": mention.end,
        "text": mention.text,
        "value": mention.value,
        "site_id": mention.site_id,
        "candidates": list(mention.candidates),
        "ambiguous": mention.ambiguous,
    }


def source_to_dict(source: Source, *, with_details: bool = False) -> dict[str, Any]:
    """A source as plain data; ``with_details`` adds its mentions and claims."""
    from sitewatch.sources.review import claim_to_dict

    record: dict[str, Any] = {
        "id": source.id,
        **source_fields(source),
        "file_name": source.file_name,
        "extractor": source.extractor,
        "added_at": source.added_at.isoformat() if source.added_at else None,
        "sites": sorted({m.site_id for m in source.mentions if m.site_id}),
        "ambiguous_names": sorted({m.text for m in source.mentions if m.ambiguous}),
        "report_publisher": report_publisher(
            source.text,
            [
                Found(m.kind, m.start, m.end, m.text, m.value)
                for m in source.mentions
                if m.kind == "organisation"
            ],
        ),
        "claim_count": len(source.claims),
    }
    if with_details:
        record["mentions"] = [mention_to_dict(m) for m in source.mentions]
        record["claims"] = [claim_to_dict(c) for c in source.claims]
    return record
