"""Published ledger heads: what proves later that no entry was cut off the end.

A chain proves that no entry was changed or dropped *between* two entries, but not that
none was dropped from the end: a ledger cut after entry 40 is a perfectly good chain of
40 entries. The remedy is to publish the head (its seq and hash) somewhere the workspace's
owner cannot edit (a report, a message, a notary) and to verify against it later.

``sitewatch ledger head --out head.json`` writes a *signed* head::

    {"format": "sitewatch-ledger-head/1", "seq": 42, "hash": "...",
     "signed_at": "...", "signer": "workspace", "fingerprint": "...",
     "public_key": "<raw Ed25519 key, hex>", "signature": "<hex>"}

The signature is Ed25519 over the canonical JSON of every other field, by the default
signer ($SITEWATCH_ANALYST or the workspace key), so the file cannot be edited unnoticed
and it says whose key vouched for it. ``ledger verify --expect-head`` takes that file (or a
bare 64-digit hash) and reports, by seq, an entry the ledger no longer holds or holds
with another hash.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from sitewatch.catalog.formats.files import decode_text, read_bytes
from sitewatch.db.locks import lock_ledger
from sitewatch.db.models import Analyst, LedgerEntry
from sitewatch.errors import InputError, NotFoundError
from sitewatch.evidence.canonical import canonical_bytes, iso_utc
from sitewatch.evidence.keys import fingerprint, raw_public_bytes, signing_key
from sitewatch.evidence.ledger import LedgerReport, Problem
from sitewatch.files import atomic_output
from sitewatch.workspace import Workspace

HEAD_FORMAT = "sitewatch-ledger-head/1"
_HASH = re.compile(r"[0-9a-f]{64}")
_SIGNATURE = re.compile(r"[0-9a-f]{128}")
_SIGNED_FIELDS = ("format", "seq", "hash", "signed_at", "signer", "fingerprint", "public_key")


def sign_head(workspace: Workspace, author: str | None = None) -> dict[str, Any]:
    """The ledger's current head, signed by ``author`` (default signer when None).

    Takes the append lock, as an append does, so the head cannot move while it is read
    and the workspace key is created at most once.
    """
    with workspace.session() as session:
        return head_document(session, workspace, author, datetime.now(UTC))


def head_document(
    session: Session, workspace: Workspace, author: str | None, signed_at: datetime
) -> dict[str, Any]:
    """:func:`sign_head` inside the caller's transaction, dated ``signed_at`` (a report
    states its own date, so that the same inputs give the same bytes)."""
    lock_ledger(session)
    head = session.execute(
        select(LedgerEntry.seq, LedgerEntry.entry_hash).order_by(LedgerEntry.seq.desc())
    ).first()
    if head is None:
        raise NotFoundError("the ledger is empty: there is no head to publish")
    analyst, private_key = signing_key(session, workspace, author)
    document: dict[str, Any] = {
        "format": HEAD_FORMAT,
        "seq": head.seq,
        "hash": head.entry_hash,
        "signed_at": iso_utc(signed_at),
        "signer": analyst.name,
        "fingerprint": analyst.fingerprint,
        "public_key": raw_public_bytes(private_key.public_key()).hex(),
    }
    document["signature"] = private_key.sign(canonical_bytes(document)).hex()
    return document


def write_head(document: dict[str, Any], out: Path) -> Path:
    """Write a signed head as JSON, all or nothing; a folder given as ``out`` is refused."""
    out = out.expanduser().resolve()
    if out.is_dir():
        raise InputError("is a folder; give the head file's name", source=out, item="--out")
    with atomic_output(out) as temporary:
        temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return out


@dataclass(frozen=True)
class ExpectedHead:
    """The head a ledger must still contain: a hash, and its seq and signer when signed."""

    hash: str
    seq: int | None = None
    source: str = "--expect-head"
    signer: str | None = None
    fingerprint: str | None = None


def read_expected_head(value: str) -> ExpectedHead:
    """``--expect-head``: a 64-digit hex hash, or a signed head file whose signature holds.

    A file that is not a signed head, or whose signature does not match its contents, is
    an InputError naming the file and field: there is nothing to compare against.
    """
    if _HASH.fullmatch(value.strip().lower()):
        return ExpectedHead(hash=value.strip().lower())
    path = Path(value)
    text = decode_text(read_bytes(path), path)
    try:
        document = json.loads(text)
    except ValueError:
        raise InputError("not a signed ledger head (not JSON)", source=path) from None
    return check_head_document(document, path)


def check_head_document(document: Any, path: Path | str) -> ExpectedHead:
    """A signed head (as :func:`sign_head` makes it) whose fields and signature hold, or an
    InputError naming ``path`` and the field: used for head files and for the head a
    report carries."""
    if not isinstance(document, dict) or document.get("format") != HEAD_FORMAT:
        raise InputError(f"not a {HEAD_FORMAT} file", source=path, item="format")
    _check_head_fields(document, path)
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(document["public_key"]))
    if fingerprint(key) != document["fingerprint"]:
        raise InputError("is not the fingerprint of public_key", source=path, item="fingerprint")
    unsigned = {name: document[name] for name in _SIGNED_FIELDS}
    try:
        key.verify(bytes.fromhex(document["signature"]), canonical_bytes(unsigned))
    except InvalidSignature:
        raise InputError(
            f"is not {document['signer']!r}'s signature of this head: the file was edited",
            source=path,
            item="signature",
        ) from None
    return ExpectedHead(
        hash=document["hash"],
        seq=document["seq"],
        source=str(path),
        signer=document["signer"],
        fingerprint=document["fingerprint"],
    )


_FIELD_RULES = {
    "seq": (lambda value: isinstance(value, int) and value >= 1, "a positive whole number"),
    "hash": (lambda value: bool(_HASH.fullmatch(str(value))), "64 hex digits"),
    "fingerprint": (lambda value: bool(_HASH.fullmatch(str(value))), "64 hex digits"),
    "public_key": (lambda value: bool(_HASH.fullmatch(str(value))), "a raw key in hex"),
    "signature": (lambda value: bool(_SIGNATURE.fullmatch(str(value))), "128 hex digits"),
    "signer": (lambda value: isinstance(value, str), "text"),
    "signed_at": (lambda value: isinstance(value, str), "text"),
}


def _check_head_fields(document: dict[str, Any], path: Path | str) -> None:
    """Every field present with the form it must have, or InputError naming the field."""
    for name, (valid, form) in _FIELD_RULES.items():
        if not valid(document.get(name)):
            raise InputError(f"must be {form}", source=path, item=name)


def check_expected_head(workspace: Workspace, expected: ExpectedHead, report: LedgerReport) -> None:
    """Add a problem to ``report`` unless the ledger still holds ``expected`` at its seq.

    Entries after it are fine (the ledger grew since it was published). The head file's
    signer must be the key this workspace registers under that name, if it registers one.
    """
    with workspace.session() as session:
        problem = _head_problem(session, expected, report)
    if problem is not None:
        report.problems.append(problem)


def _head_problem(session: Session, expected: ExpectedHead, report: LedgerReport) -> Problem | None:
    where = expected.source
    if expected.seq is None:
        found = session.scalar(
            select(LedgerEntry.seq).where(LedgerEntry.entry_hash == expected.hash)
        )
        if found is None:
            return Problem(
                None,
                f"no entry has the expected head hash {expected.hash} ({where}): the ledger "
                f"was cut off or rewritten (it ends at entry {report.head_seq})",
            )
        return None
    if expected.seq > report.head_seq:
        return Problem(
            expected.seq,
            f"is missing: the ledger ends at entry {report.head_seq}, but the published head "
            f"({where}) is entry {expected.seq}; the entries after {report.head_seq} were cut off",
        )
    stored = session.scalar(select(LedgerEntry.entry_hash).where(LedgerEntry.seq == expected.seq))
    if stored != expected.hash:
        return Problem(
            expected.seq,
            f"is not the published head ({where} records hash {expected.hash}): "
            "the ledger was rewritten from here or before",
        )
    registered = session.get(Analyst, expected.signer) if expected.signer else None
    if registered is not None and registered.fingerprint != expected.fingerprint:
        return Problem(
            None,
            f"{where} is signed by key {expected.fingerprint}, not by the key of "
            f"{expected.signer!r} registered in this workspace ({registered.fingerprint})",
        )
    return None
