"""The ledger: append a signed entry in the caller's transaction; verify the whole chain.

Every change that matters (an ingest, a detection run, a catalog edit, an assessment ...)
calls :func:`record` inside the same transaction as the change, so the change and its
evidence are committed together or not at all. See :mod:`sitewatch.evidence.chain` for
what is hashed and signed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, func, select, type_coerce
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from sitewatch import limits
from sitewatch.db.locks import lock_ledger
from sitewatch.db.models import Analyst, LedgerEntry
from sitewatch.evidence.canonical import canonical_json, iso_utc
from sitewatch.evidence.chain import GENESIS_HASH, entry_digest, entry_problem, sign_digest
from sitewatch.evidence.files import (
    FileRef,
    file_problem,
    file_record,
    files_well_formed,
    resolve_stored,
)
from sitewatch.evidence.keys import public_key_of, signing_key
from sitewatch.workspace import Workspace, workspace_of

if TYPE_CHECKING:  # imported on use: see sitewatch.evidence.keys
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def record(
    session: Session,
    *,
    kind: str,
    payload: Mapping[str, Any],
    files: Sequence[Path | FileRef] = (),
    site_id: str | None = None,
    subject_id: str | None = None,
    author: str | None = None,
) -> LedgerEntry:
    """Append one signed entry inside the caller's open transaction and return it.

    The caller's commit commits the change and its entry together; a rollback loses both.
    Files are hashed before the append lock is taken, so a large scene does not hold up
    other writers. ``author`` None signs with the default signer (see
    :func:`sitewatch.evidence.keys.signing_key`).
    """
    workspace = workspace_of(session)
    payload_text = canonical_json(payload)
    file_records = _unique_files(file_record(workspace.root, item) for item in files)
    lock_ledger(session)
    analyst, private_key = signing_key(session, workspace, author)
    head = session.execute(
        select(LedgerEntry.seq, LedgerEntry.entry_hash).order_by(LedgerEntry.seq.desc()).limit(1)
    ).first()
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "seq": head.seq + 1 if head else 1,
        "kind": kind,
        "site_id": site_id,
        "subject_id": subject_id,
        "payload": payload_text,
        "files": file_records,
        "author": analyst.name,
        "created_at": iso_utc(now),
        "prev_hash": head.entry_hash if head else GENESIS_HASH,
    }
    digest = entry_digest(fields)
    entry = LedgerEntry(
        **{**fields, "created_at": now},
        entry_hash=digest,
        signature=sign_digest(private_key, digest),
    )
    session.add(entry)
    session.flush()
    return entry


def entry_fields(entry: LedgerEntry) -> dict[str, Any]:
    """An entry as a flat JSON-ready record: the form hashed, exported and checked."""
    return {
        "seq": entry.seq,
        "kind": entry.kind,
        "site_id": entry.site_id,
        "subject_id": entry.subject_id,
        "payload": entry.payload,
        "files": [dict(item) for item in entry.files or []],
        "author": entry.author,
        "created_at": iso_utc(entry.created_at),
        "prev_hash": entry.prev_hash,
        "entry_hash": entry.entry_hash,
        "signature": bytes(entry.signature).hex(),
    }


def list_entries(
    session: Session,
    *,
    site_id: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[LedgerEntry]:
    """Entries in chain order, optionally only those about one site, optionally a page."""
    query = select(LedgerEntry).order_by(LedgerEntry.seq)
    if site_id is not None:
        query = query.where(LedgerEntry.site_id == site_id)
    if limit is not None:
        query = query.limit(limits.ROW_LIMIT.check(limit, item="--limit"))
    if offset:
        query = query.offset(limits.ROW_OFFSET.check(offset, item="offset"))
    return list(session.scalars(query))


def entry_summary(entry: LedgerEntry) -> dict[str, Any]:
    """What a listing shows of an entry: its place, kind, subject, author, hash, payload."""
    return {
        "seq": entry.seq,
        "created_at": entry.created_at.isoformat(),
        "kind": entry.kind,
        "site_id": entry.site_id,
        "subject_id": entry.subject_id,
        "author": entry.author,
        "files": len(entry.files or []),
        "prev_hash": entry.prev_hash,
        "entry_hash": entry.entry_hash,
        "payload": payload_value(entry.payload),
    }


def payload_value(payload: Any) -> Any:
    """A stored payload as JSON data; text that does not parse (an edited row) as itself,
    so that listing a damaged ledger shows the damage instead of failing on it."""
    try:
        return json.loads(payload)
    except (TypeError, ValueError):
        return payload


@dataclass
class Problem:
    """One thing wrong with the evidence, attached to the entry where it shows.

    ``seq`` is None for what belongs to no single entry (a missing table, a package
    member that appears twice).
    """

    seq: int | None
    message: str

    def __str__(self) -> str:
        return self.message if self.seq is None else f"entry {self.seq}: {self.message}"


@dataclass(kw_only=True)
class CheckReport:
    """What a check of entries found, in chain order: ``problems[0]`` is the first bad one.

    Shared by the workspace ledger's and an evidence package's checks, so both report
    (and serialise) failures the same way.
    """

    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem_fields(self) -> dict[str, Any]:
        return {
            "first_bad_entry": self.problems[0].seq if self.problems else None,
            "problems": [{"seq": p.seq, "message": p.message} for p in self.problems],
        }


@dataclass(kw_only=True)
class LedgerReport(CheckReport):
    """The outcome of :func:`verify_ledger`."""

    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    files_checked: int = 0
    rows_checked: int = 0  # domain table rows compared with their entries
    expected_head: dict[str, Any] | None = None  # the published head checked against
    readable: bool = True  # False when the database could not be read to the end

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "files_checked": self.files_checked,
            "rows_checked": self.rows_checked,
            "expected_head": self.expected_head,
            **self.problem_fields(),
        }


def verify_ledger(workspace: Workspace, *, check_files: bool = True) -> LedgerReport:
    """Re-check the whole chain: seq continuity, links, hashes, signatures and files.

    Every problem is collected (in chain order), so ``problems[0]`` names the first bad
    entry. Rows are read raw, column by column, so that a row edited into nonsense (bad
    JSON, NULLs, wrong types) is a problem of that entry rather than a crash, and a
    database that cannot be read (no ledger table, a damaged file) is a problem too. The
    head is reported so that it can be published and compared later: whoever can rewrite
    the database *and* holds a signer's key could rebuild the chain from some entry on,
    and only a head kept elsewhere reveals that (see :mod:`sitewatch.evidence.head`).
    """
    report = LedgerReport()
    try:
        with workspace.session() as session:
            _check_chain(session, workspace.root, report, check_files=check_files)
    except DatabaseError as exc:
        report.problems.append(_unreadable(exc, report))
        report.readable = False
    return report


def _check_chain(session: Session, root: Path, report: LedgerReport, *, check_files: bool) -> None:
    keys = {analyst.name: public_key_of(analyst) for analyst in session.scalars(select(Analyst))}
    previous_hash, expected_seq = GENESIS_HASH, 1
    hashes: dict[Path, str] = {}
    for row in session.execute(_RAW_ENTRIES):
        seq = row.seq
        if seq != expected_seq:  # seq is the primary key: only gaps are possible
            gap = (
                f"entry {expected_seq} is"
                if seq == expected_seq + 1
                else f"entries {expected_seq} to {seq - 1} are"
            )
            report.problems.append(Problem(seq, f"{gap} missing before it"))
        fields, problem = _checked_fields(row, keys, previous_hash)
        if problem:
            report.problems.append(Problem(seq, problem))
        if check_files and fields is not None:
            for item in fields["files"]:
                report.files_checked += 1
                if bad := file_problem(resolve_stored(root, item["path"]), item, hashes):
                    report.problems.append(Problem(seq, bad))
        report.entries += 1
        previous_hash, expected_seq = row.entry_hash, seq + 1
        report.head_seq, report.head_hash = seq, previous_hash


#: Every ledger column as the driver returns it, untouched by the ORM's types (which
#: raise on a malformed value and would end the whole check at that row).
_TABLE = LedgerEntry.__table__
_RAW_ENTRIES = (
    select(*(type_coerce(column, NullType()).label(column.name) for column in _TABLE.columns))
    .order_by(_TABLE.c.seq)
    .execution_options(yield_per=500)
)


def _checked_fields(
    row: Row[Any], keys: Mapping[str, Ed25519PublicKey], previous_hash: str
) -> tuple[dict[str, Any] | None, str | None]:
    """The row as chain fields (None when malformed) and what is wrong with it (or None)."""
    try:
        fields = raw_entry_fields(row)
    except (TypeError, ValueError) as exc:
        return None, f"is malformed ({exc})"
    problem = entry_problem(
        {**fields, "signature": bytes.fromhex(fields["signature"])},
        keys.get(fields["author"]),
        expected_prev=previous_hash,
    )
    return fields, problem


def raw_entry_fields(row: Row[Any]) -> dict[str, Any]:
    """A raw ``ledger_entries`` row as :func:`entry_fields` gives an entry, or ValueError /
    TypeError naming the column that does not hold what an entry holds."""
    files = json.loads(row.files) if isinstance(row.files, str) else row.files
    if not files_well_formed(files):
        raise ValueError("files record is malformed")
    for name in ("kind", "payload", "author", "prev_hash", "entry_hash"):
        if not isinstance(getattr(row, name), str):
            raise TypeError(f"{name} is {type(getattr(row, name)).__name__}, not text")
    if not isinstance(row.signature, bytes | memoryview):
        raise TypeError(f"signature is {type(row.signature).__name__}, not bytes")
    created = row.created_at
    if isinstance(created, str):
        created = datetime.fromisoformat(created)
    if not isinstance(created, datetime):
        raise TypeError(f"created_at is {type(created).__name__}, not a time")
    return {
        "seq": row.seq,
        "kind": row.kind,
        "site_id": row.site_id,
        "subject_id": row.subject_id,
        "payload": row.payload,
        "files": files,
        "author": row.author,
        "created_at": iso_utc(created.replace(tzinfo=created.tzinfo or UTC)),
        "prev_hash": row.prev_hash,
        "entry_hash": row.entry_hash,
        "signature": bytes(row.signature).hex(),
    }


def _unreadable(exc: DatabaseError, report: LedgerReport) -> Problem:
    """A database that cannot be read any further, as a problem at the entry it stopped."""
    reason = str(exc.orig)
    if "no such table" in reason:
        return Problem(None, f"the database holds no ledger ({reason})")
    return Problem(
        report.head_seq + 1 if report.entries else None,
        f"cannot be read: the database file is damaged or truncated ({reason})",
    )


def head_seq(session: Session) -> int:
    """The number of the newest entry (0 for an empty ledger)."""
    return session.scalar(select(func.max(LedgerEntry.seq))) or 0


def _unique_files(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per path, sorted: the order callers list files in carries no meaning."""
    return sorted({item["path"]: item for item in records}.values(), key=lambda item: item["path"])
