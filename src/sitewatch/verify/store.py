"""Declarations in the workspace: import (validated, copied, recorded), list, show.

An import keeps three things in step: the rows (the declaration and its items), a copy
of the file exactly as read under ``products/declarations/<id><suffix>`` (so the ledger
entry's file hash can be checked offline even after the original is gone) and a
``declaration.import`` ledger entry. The file is validated completely first; the copy is
staged beside its final name and moved into place (flushed to disk) before the rows and
the entry commit, and removed if they do not (:mod:`sitewatch.files`). A copy left by an
import killed before its commit is named by nothing; the next import given the same id
replaces it.

Ids are ``<party slug>-<date>-<n>``, ``n`` counting imports of that party and date, so
they read well and stay stable. The same file (same SHA-256) is refused a second time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sitewatch.catalog.formats.files import read_bytes
from sitewatch.catalog.records import slugify
from sitewatch.db.models import Declaration, DeclarationItem
from sitewatch.errors import ConflictError, NotFoundError
from sitewatch.evidence import ledger
from sitewatch.evidence.files import FileRef
from sitewatch.files import publish, staged
from sitewatch.verify.formats import ParsedDeclaration, parse_declaration_bytes
from sitewatch.workspace import Workspace, committed_by_stem

DECLARATIONS_FOLDER = "declarations"
MAX_SLUG = 60


def import_declaration(workspace: Workspace, path: Path) -> Declaration:
    """Validate ``path`` and store it as a new declaration (see the module docstring)."""
    path = Path(path)
    data = read_bytes(path)
    parsed = parse_declaration_bytes(data, path)
    folder = workspace.products / DECLARATIONS_FOLDER
    with workspace.session() as session:
        declaration = _add(session, parsed, path)
        final = folder / f"{declaration.id}{path.suffix.lower() or '.json'}"
        with staged(final, committed_by_stem(workspace, Declaration)) as staging:
            copy = staging / final.name
            copy.write_bytes(data)
            publish(copy, final)
            ledger.record(
                session,
                kind="declaration.import",
                payload=_ledger_payload(declaration),
                files=[FileRef(final, parsed.sha256)],
                subject_id=declaration.id,
            )
            session.commit()  # inside the staging block: a failed commit removes the copy
    return declaration


def _add(session: Session, parsed: ParsedDeclaration, path: Path) -> Declaration:
    existing = session.scalar(
        select(Declaration.id).where(Declaration.source_sha256 == parsed.sha256)
    )
    if existing is not None:
        raise ConflictError(f"{path}: this file was already imported as declaration {existing!r}")
    declaration = Declaration(
        id=_new_id(session, parsed),
        party=parsed.party,
        declared_on=parsed.declared_on,
        source_name=parsed.source_name,
        source_sha256=parsed.sha256,
        document=parsed.document,
    )
    for item in parsed.items:
        declaration.items.append(
            DeclarationItem(
                position=item.index,
                name=item.name,
                lat=item.lat,
                lon=item.lon,
                uncertainty_m=item.uncertainty_m,
                category=item.category,
                status=item.status,
                status_date=item.status_date,
                inventory=item.inventory,
                extra=item.extra,
            )
        )
    session.add(declaration)
    session.flush()
    return declaration


def _new_id(session: Session, parsed: ParsedDeclaration) -> str:
    stem = f"{slugify(parsed.party)[:MAX_SLUG].strip('-') or 'party'}-{parsed.declared_on}"
    taken = session.scalar(
        select(func.count()).select_from(Declaration).where(Declaration.id.like(f"{stem}-%"))
    )
    number = int(taken or 0) + 1
    while session.get(Declaration, f"{stem}-{number}") is not None:
        number += 1
    return f"{stem}-{number}"


def _ledger_payload(declaration: Declaration) -> dict[str, Any]:
    return {
        "declaration_id": declaration.id,
        "party": declaration.party,
        "date": declaration.declared_on.isoformat(),
        "source_name": declaration.source_name,
        "source_sha256": declaration.source_sha256,
        "items": len(declaration.items),
    }


def list_declarations(session: Session) -> list[Declaration]:
    """Declarations by date, then id."""
    return list(
        session.scalars(select(Declaration).order_by(Declaration.declared_on, Declaration.id))
    )


def get_declaration(session: Session, declaration_id: str) -> Declaration:
    """The declaration ``declaration_id``; NotFoundError naming the known ones."""
    declaration = session.get(Declaration, declaration_id)
    if declaration is None:
        known = [d.id for d in list_declarations(session)]
        hint = f" (known: {', '.join(known)})" if known else " (none imported yet)"
        raise NotFoundError(f"no declaration with id {declaration_id!r}{hint}")
    return declaration


def find_by_hash(session: Session, sha256: str) -> Declaration | None:
    """The declaration imported from a file with this SHA-256, if any."""
    return session.scalar(select(Declaration).where(Declaration.source_sha256 == sha256))


def item_to_dict(item: DeclarationItem) -> dict[str, Any]:
    """An item as plain data, with the same keys as the declaration format."""
    record: dict[str, Any] = {
        "index": item.position,
        "name": item.name,
        "lat": item.lat,
        "lon": item.lon,
        "uncertainty_m": item.uncertainty_m,
        "category": item.category,
        "status": item.status,
        "status_date": item.status_date.isoformat() if item.status_date else None,
        "inventory": item.inventory,
    }
    if item.extra:
        record["extra"] = item.extra
    return record


def declaration_to_dict(declaration: Declaration, *, with_items: bool = True) -> dict[str, Any]:
    """A declaration as plain data for JSON output."""
    record: dict[str, Any] = {
        "id": declaration.id,
        "party": declaration.party,
        "date": declaration.declared_on.isoformat(),
        "country": declaration.document.get("country"),
        "source_name": declaration.source_name,
        "source_sha256": declaration.source_sha256,
        "imported_at": declaration.imported_at.isoformat(),
        "item_count": len(declaration.items),
    }
    if with_items:
        record["items"] = [item_to_dict(item) for item in declaration.items]
    return record
