"""Reports as evidence: the ledger slice a report carries, its ``report`` entry, its receipt,
and the offline check of all three (``sitewatch ledger verify-report``).

A report cannot contain its own hash, so the proof comes in three parts, made in order:

1. **The slice, inside the report.** Before rendering, :func:`build_slice` takes the
   ledger from the first entry about the report's subject up to the current head: entries
   about the subject in full (fields, hash, signature), the entries between them as stubs
   (seq, hash, previous hash: their contents belong to other subjects), the public keys of
   their authors and of the report's signer, and the head signed by that signer. The PDF
   carries it as the attachment :data:`SLICE_NAME`; the HTML shows the same entries.
2. **The ``report`` entry, after.** Once the files are written, :func:`record_report`
   appends a ``report`` entry whose payload holds each file's name, size and SHA-256 and
   the seq of the slice's head. The entry comes after the head, as it must.
3. **The receipt, beside the report.** :func:`write_receipt` writes that entry (signed,
   with its signer's public key) to ``<report>.receipt.json``, so the report's bytes can
   be checked without the workspace.

:func:`verify_report` checks, without any workspace: the attached slice is a signed chain
segment (every full entry's hash and signature, every link up to the signed head); with a
receipt, that the receipt is a valid entry signed by a key the slice names, after the head,
and that it records the file's SHA-256 (one changed byte of the PDF fails here). With the
workspace, it also checks that each slice entry is the ledger's entry at that seq and that
a ``report`` entry records the file. What stubs do not prove: the contents of the entries
about other subjects, which the report deliberately does not carry.
"""

from __future__ import annotations

import io
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pypdf import PdfReader
from pypdf.errors import PyPdfError
from sqlalchemy import select
from sqlalchemy.orm import Session

from sitewatch.db.models import Analyst, LedgerEntry
from sitewatch.errors import InputError
from sitewatch.evidence.chain import entry_problem
from sitewatch.evidence.head import check_head_document, head_document
from sitewatch.evidence.keys import fingerprint, signing_key
from sitewatch.evidence.ledger import CheckReport, Problem, entry_fields, record
from sitewatch.files import atomic_output, sha256_file
from sitewatch.workspace import Workspace, workspace_of

SLICE_FORMAT = "sitewatch-report-slice/1"
RECEIPT_FORMAT = "sitewatch-report-receipt/1"
SLICE_NAME = "sitewatch-ledger-slice.json"
RECEIPT_SUFFIX = ".receipt.json"
REPORT_KIND = "report"
_STUB_FIELDS = ("seq", "entry_hash", "prev_hash")


def build_slice(
    session: Session,
    *,
    site_ids: Collection[str] = (),
    subject_ids: Collection[str] = (),
    author: str | None,
    signed_at: datetime,
) -> dict[str, Any]:
    """The slice of the ledger a report about ``site_ids``/``subject_ids`` is built from
    (see the module docstring), its head signed by ``author`` at ``signed_at``."""
    workspace = workspace_of(session)
    head = head_document(session, workspace, author, signed_at)
    wanted = select(LedgerEntry.seq).where(
        LedgerEntry.site_id.in_(list(site_ids)) | LedgerEntry.subject_id.in_(list(subject_ids))
    )
    first = min(session.scalars(wanted), default=head["seq"])
    rows = session.scalars(
        select(LedgerEntry).where(LedgerEntry.seq >= first).order_by(LedgerEntry.seq)
    )
    entries: list[dict[str, Any]] = []
    authors = {head["signer"]}
    for entry in rows:
        if entry.seq > head["seq"]:
            break
        if entry.site_id in site_ids or entry.subject_id in subject_ids:
            entries.append(entry_fields(entry))
            authors.add(entry.author)
        else:
            entries.append({name: getattr(entry, name) for name in _STUB_FIELDS})
    keys = {
        analyst.name: {
            "public_key": bytes(analyst.public_key).hex(),
            "fingerprint": analyst.fingerprint,
        }
        for analyst in session.scalars(select(Analyst).where(Analyst.name.in_(authors)))
    }
    return {
        "format": SLICE_FORMAT,
        "site_ids": sorted(site_ids),
        "subject_ids": sorted(subject_ids),
        "entries": entries,
        "keys": keys,
        "head": head,
    }


def record_report(
    session: Session,
    *,
    report: str,
    subject_id: str,
    site_id: str | None,
    files: list[Path],
    slice_head_seq: int,
    author: str | None,
) -> LedgerEntry:
    """The ``report`` entry of finished files (their names, sizes and SHA-256)."""
    payload = {
        "report": report,
        "subject": subject_id,
        "slice_head_seq": slice_head_seq,
        "files": [
            {"name": path.name, "size": path.stat().st_size, "sha256": sha256_file(path)}
            for path in files
        ],
    }
    return record(
        session,
        kind=REPORT_KIND,
        payload=payload,
        site_id=site_id,
        subject_id=subject_id,
        author=author,
    )


def receipt_document(session: Session, entry: LedgerEntry) -> dict[str, Any]:
    """The receipt of a report entry: the entry, signed, and its signer's public key."""
    signer = session.get(Analyst, entry.author)
    assert signer is not None  # the entry was just signed by it
    return {
        "format": RECEIPT_FORMAT,
        "entry": entry_fields(entry),
        "public_key": bytes(signer.public_key).hex(),
        "fingerprint": signer.fingerprint,
    }


def write_receipt(document: dict[str, Any], report_file: Path) -> Path:
    """``<report_file>.receipt.json``, written once the entry it holds is committed."""
    path = report_file.with_name(report_file.name + RECEIPT_SUFFIX)
    with atomic_output(path) as temporary:
        temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


def signer_name(session: Session, author: str | None) -> tuple[str, str]:
    """Who signs a report (``author``, else the default signer) and their fingerprint."""
    analyst, _ = signing_key(session, workspace_of(session), author)
    return analyst.name, analyst.fingerprint


@dataclass(kw_only=True)
class ReportCheck(CheckReport):
    """What :func:`verify_report` found."""

    file: str
    sha256: str
    entries: int = 0  # full entries in the slice
    head_seq: int | None = None
    head_hash: str | None = None
    signer: str | None = None
    fingerprints: dict[str, str] = field(default_factory=dict)
    receipt: str | None = None  # the receipt checked, if any
    recorded_in: int | None = None  # the report entry's seq that records the file
    checked_against_workspace: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "file": self.file,
            "sha256": self.sha256,
            "entries": self.entries,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "signer": self.signer,
            "fingerprints": self.fingerprints,
            "receipt": self.receipt,
            "recorded_in": self.recorded_in,
            "checked_against_workspace": self.checked_against_workspace,
            **self.problem_fields(),
        }


def verify_report(
    path: Path, *, receipt: Path | None = None, workspace: Workspace | None = None
) -> ReportCheck:
    """Check a report PDF's attached slice, its receipt (``receipt``, else the one beside
    it if present) and, given ``workspace``, the ledger itself (module docstring)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the report: {exc.strerror}", source=path) from exc
    check = ReportCheck(file=str(path), sha256=sha256_file(path))
    slice_document = _attached_slice(data, check)
    if slice_document is not None:
        _check_slice(slice_document, check)
    beside = path.with_name(path.name + RECEIPT_SUFFIX)
    receipt = receipt or (beside if beside.exists() else None)
    if receipt is not None and slice_document is not None:
        _check_receipt(receipt, path.name, slice_document, check)
    if workspace is not None and slice_document is not None:
        _check_in_workspace(workspace, slice_document, path.name, check)
    return check


def _attached_slice(data: bytes, check: ReportCheck) -> dict[str, Any] | None:
    """The slice attached to the PDF ``data``, or None with a problem saying why not."""
    try:
        attached = PdfReader(io.BytesIO(data)).attachments.get(SLICE_NAME)
        if not attached:
            check.problems.append(Problem(None, f"the PDF carries no {SLICE_NAME} attachment"))
            return None
        document = json.loads(attached[0])
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        check.problems.append(Problem(None, f"the PDF or its attached slice is damaged ({exc})"))
        return None
    if not isinstance(document, dict) or document.get("format") != SLICE_FORMAT:
        check.problems.append(Problem(None, f"the attachment is not a {SLICE_FORMAT} document"))
        return None
    return document


def _keys(document: dict[str, Any], check: ReportCheck) -> dict[str, Ed25519PublicKey]:
    keys: dict[str, Ed25519PublicKey] = {}
    for name, item in (document.get("keys") or {}).items():
        try:
            key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(item["public_key"]))
        except (ValueError, TypeError, KeyError):
            check.problems.append(Problem(None, f"the slice's key of {name!r} is malformed"))
            continue
        if fingerprint(key) != item.get("fingerprint"):
            check.problems.append(Problem(None, f"{name!r}'s key does not match its fingerprint"))
            continue
        keys[name] = key
        check.fingerprints[name] = item["fingerprint"]
    return keys


def _check_slice(document: dict[str, Any], check: ReportCheck) -> None:
    """Every full entry's hash and signature, every link, and the signed head at the end."""
    keys = _keys(document, check)
    try:
        head = check_head_document(document.get("head"), SLICE_NAME)
    except InputError as exc:
        check.problems.append(Problem(None, f"the slice's head: {exc}"))
        return
    check.head_seq, check.head_hash, check.signer = head.seq, head.hash, head.signer
    entries = document.get("entries")
    if not isinstance(entries, list) or not entries:
        check.problems.append(Problem(None, "the slice holds no entries"))
        return
    previous: dict[str, Any] | None = None
    for entry in entries:
        try:
            seq = entry["seq"]
            if previous is not None and seq != previous["seq"] + 1:
                check.problems.append(Problem(seq, "does not follow the entry before it"))
            if previous is not None and entry["prev_hash"] != previous["entry_hash"]:
                check.problems.append(Problem(seq, "prev_hash does not match the entry before"))
            if "payload" in entry:  # a full entry
                signed = {**entry, "signature": bytes.fromhex(entry["signature"])}
                if problem := entry_problem(signed, keys.get(entry["author"]), expected_prev=None):
                    check.problems.append(Problem(seq, problem))
                check.entries += 1
        except (KeyError, TypeError, ValueError) as exc:
            check.problems.append(Problem(None, f"a slice entry is malformed ({exc})"))
            return
        previous = entry
    if previous is not None and (previous["seq"], previous["entry_hash"]) != (head.seq, head.hash):
        check.problems.append(Problem(previous["seq"], "the slice does not end at its signed head"))


def _check_receipt(receipt: Path, name: str, document: dict[str, Any], check: ReportCheck) -> None:
    """The receipt is a report entry signed by a key of the slice, after its head, and
    records this file's SHA-256."""
    check.receipt = str(receipt)
    try:
        content = json.loads(receipt.read_text(encoding="utf-8"))
        entry = content["entry"]
        key_item = (document.get("keys") or {}).get(entry["author"]) or {}
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(key_item["public_key"]))
        signed = {**entry, "signature": bytes.fromhex(entry["signature"])}
        payload = json.loads(entry["payload"])
        recorded = {item["name"]: item["sha256"] for item in payload["files"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        check.problems.append(Problem(None, f"the receipt {receipt} is unusable ({exc})"))
        return
    if problem := entry_problem(signed, key, expected_prev=None):
        check.problems.append(Problem(entry["seq"], f"receipt: {problem}"))
    elif entry["kind"] != REPORT_KIND or entry["seq"] <= (check.head_seq or 0):
        check.problems.append(Problem(entry["seq"], "receipt: not a report entry after the head"))
    elif check.sha256 not in recorded.values():
        check.problems.append(
            Problem(
                entry["seq"],
                f"{name} does not match the SHA-256 its report entry records for "
                f"{', '.join(sorted(recorded))}: the file was changed after it was recorded",
            )
        )
    else:
        check.recorded_in = entry["seq"]


def _check_in_workspace(
    workspace: Workspace, document: dict[str, Any], name: str, check: ReportCheck
) -> None:
    """Each slice entry is the ledger's at its seq; a report entry records the file."""
    check.checked_against_workspace = True
    with workspace.session() as session:
        stored = dict(
            session.execute(
                select(LedgerEntry.seq, LedgerEntry.entry_hash).where(
                    LedgerEntry.seq.in_([e.get("seq") for e in document.get("entries") or []])
                )
            ).all()
        )
        for entry in document.get("entries") or []:
            if stored.get(entry.get("seq")) != entry.get("entry_hash"):
                check.problems.append(
                    Problem(entry.get("seq"), "differs from the workspace ledger's entry")
                )
        reports = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == REPORT_KIND))
        for entry in reports:
            files = json.loads(entry.payload).get("files", [])
            if any(item.get("sha256") == check.sha256 for item in files):
                check.recorded_in = entry.seq
                return
    check.problems.append(Problem(None, f"no report entry of the ledger records {name}'s SHA-256"))
