"""The ledger: append a signed entry in the caller's transaction; verify the whole chain.

Every change that matters (an ingest, a detection run, a catalog edit, an assessment ...)
calls :func:`record` inside the same transaction as the change, so the change and its
evidence are committed together or not at all. See :mod:`sitewatch.evidence.chain` for
what is hashed and signed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

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
from sitewatch.workspace import Workspace


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


def workspace_of(session: Session) -> Workspace:
    """The workspace a session belongs to (set by :meth:`Workspace.session`)."""
    workspace = session.info.get("workspace")
    if not isinstance(workspace, Workspace):
        raise RuntimeError("ledger.record needs a session from Workspace.session()")
    return workspace


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
    session: Session, *, site_id: str | None = None, limit: int | None = None
) -> list[LedgerEntry]:
    """Entries in chain order, optionally only those about one site."""
    query = select(LedgerEntry).order_by(LedgerEntry.seq)
    if site_id is not None:
        query = query.where(LedgerEntry.site_id == site_id)
    if limit is not None:
        query = query.limit(limits.ROW_LIMIT.check(limit, item="--limit"))
    return list(session.scalars(query))


@dataclass
class Problem:
    """One thing wrong with the ledger, attached to the entry where it shows."""

    seq: int
    message: str

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.message}"


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
    head_hash: str = GENESIS_HASH
    files_checked: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head_hash": self.head_hash,
            "files_checked": self.files_checked,
            **self.problem_fields(),
        }


def verify_ledger(workspace: Workspace, *, check_files: bool = True) -> LedgerReport:
    """Re-check the whole chain: seq continuity, links, hashes, signatures and files.

    Every problem is collected (in chain order), so ``problems[0]`` names the first bad
    entry. The head hash is reported so that it can be published and compared later:
    whoever can rewrite the database *and* holds a signer's key could rebuild the chain
    from some entry on, and only a head hash kept elsewhere reveals that.
    """
    report = LedgerReport()
    with workspace.session() as session:
        keys = {
            analyst.name: public_key_of(analyst) for analyst in session.scalars(select(Analyst))
        }
        previous_hash, expected_seq = GENESIS_HASH, 1
        hashes: dict[Path, str] = {}
        for entry in _stream(session):
            if entry.seq != expected_seq:  # seq is the primary key: only gaps are possible
                gap = (
                    f"entry {expected_seq} is"
                    if entry.seq == expected_seq + 1
                    else f"entries {expected_seq} to {entry.seq - 1} are"
                )
                report.problems.append(Problem(entry.seq, f"{gap} missing before it"))
            for message in _entry_problems(entry, keys, previous_hash):
                report.problems.append(Problem(entry.seq, message))
            if check_files and files_well_formed(entry.files):
                for item in entry.files:
                    report.files_checked += 1
                    path = resolve_stored(workspace.root, item["path"])
                    if bad := file_problem(path, item, hashes):
                        report.problems.append(Problem(entry.seq, bad))
            report.entries += 1
            previous_hash, expected_seq = entry.entry_hash, entry.seq + 1
        report.head_hash = previous_hash
    return report


def _entry_problems(
    entry: LedgerEntry, keys: Mapping[str, Ed25519PublicKey], previous_hash: str
) -> list[str]:
    """The entry's own problems; a row edited into nonsense (NULLs, odd JSON) is one too."""
    if not files_well_formed(entry.files):
        return ["files record is malformed"]
    try:
        fields = {**entry_fields(entry), "signature": bytes(entry.signature)}
        problem = entry_problem(fields, keys.get(entry.author), expected_prev=previous_hash)
    except (TypeError, ValueError, AttributeError) as exc:
        return [f"is malformed ({exc})"]
    return [problem] if problem else []


def _stream(session: Session) -> Iterator[LedgerEntry]:
    """Entries in seq order, fetched in batches so a long ledger never fills memory."""
    query = select(LedgerEntry).order_by(LedgerEntry.seq).execution_options(yield_per=500)
    for entry in session.scalars(query):
        yield entry
        session.expunge(entry)


def head_seq(session: Session) -> int:
    """The number of the newest entry (0 for an empty ledger)."""
    return session.scalar(select(func.max(LedgerEntry.seq))) or 0


def _unique_files(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per path, sorted: the order callers list files in carries no meaning."""
    return sorted({item["path"]: item for item in records}.values(), key=lambda item: item["path"])
