"""Evidence packages: one site's ledger entries, files and keys in a zip anyone can check.

Layout of ``PKG.zip``::

    README.md       how to check the package, with sitewatch or a short Python script
    manifest.json   site, export time, chain head, analysts and their key fingerprints
    ledger.jsonl    the entries about the site, one JSON object per line, in chain order
    chain.jsonl     seq, entry_hash and prev_hash of every entry from the first included
                    one to the head: the skeleton that places the slice in the chain
    keys/NAME.pem   public key of every author of an included entry
    files/...       every file the included entries reference: ``files/<path>`` for a path
                    inside the workspace, ``files/external/<absolute path>`` otherwise

Verification never extracts anything to disk: members are streamed through SHA-256, names
are checked before use, and sizes are bounded, so a hostile zip cannot write outside a
folder or fill memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from sqlalchemy import select
from sqlalchemy.orm import Session

from sitewatch.db.models import Analyst, LedgerEntry
from sitewatch.errors import InputError, NotFoundError, SitewatchError
from sitewatch.evidence.chain import HASHED_FIELDS, entry_problem
from sitewatch.evidence.files import files_well_formed, resolve_stored
from sitewatch.evidence.keys import fingerprint, public_key_pem
from sitewatch.evidence.ledger import CheckReport, Problem, entry_fields, payload_value
from sitewatch.evidence.package_readme import readme
from sitewatch.workspace import Workspace

FORMAT = "sitewatch-evidence/1"
_CHUNK = 1 << 20
# Guards for packages from elsewhere: generous for real evidence, fatal for zip bombs.
MAX_MEMBERS = 200_000
MAX_TEXT_BYTES = 1 << 30  # ledger.jsonl, chain.jsonl, manifest.json, keys
MAX_RATIO = 200  # uncompressed / compressed, for members above RATIO_FLOOR
RATIO_FLOOR = 16 << 20


def member_name(recorded_path: str) -> str:
    """Where a recorded file sits in a package (see the module docstring)."""
    if recorded_path.startswith("/"):
        return "files/external" + recorded_path
    return "files/" + recorded_path


@dataclass
class ExportSummary:
    """What :func:`export_package` wrote."""

    path: Path
    site_id: str
    entries: int
    files: int
    bytes_of_files: int
    head_seq: int
    head_hash: str
    analysts: dict[str, str]  # name -> fingerprint


def export_package(workspace: Workspace, site_id: str, out: Path) -> ExportSummary:
    """Write the evidence package of ``site_id`` to ``out`` (atomically: temp name, rename).

    Included: every entry about the site, plus the ingest entries of the scenes those
    entries name (``*scene_id`` payload fields), so a detection run travels with the
    imagery it read. A referenced file that no longer matches its hash stops the export:
    a package must not carry evidence that fails its own check.
    """
    out = out.expanduser().resolve()
    if out.is_dir():
        raise InputError("is a folder; give the package's file name", source=out, item="--out")
    with workspace.session() as session:
        entries = _entries_for_site(session, site_id)
        if not entries:
            raise NotFoundError(f"the ledger holds no entries about site {site_id!r}")
        chain = session.execute(
            select(LedgerEntry.seq, LedgerEntry.entry_hash, LedgerEntry.prev_hash)
            .where(LedgerEntry.seq >= entries[0].seq)
            .order_by(LedgerEntry.seq)
        ).all()
        authors = sorted({entry.author for entry in entries})
        analysts = {
            a.name: a for a in session.scalars(select(Analyst).where(Analyst.name.in_(authors)))
        }
        records = [entry_fields(entry) for entry in entries]
    missing = sorted(set(authors) - set(analysts))
    if missing:
        raise NotFoundError(f"analyst {missing[0]!r} who signed entries is not registered")
    head_seq, head_hash = chain[-1].seq, chain[-1].entry_hash
    fingerprints = {name: analysts[name].fingerprint for name in authors}
    manifest = {
        "format": FORMAT,
        "site_id": site_id,
        "exported_at": datetime.now(UTC).isoformat(),
        "entries": len(records),
        "head_seq": head_seq,
        "head_hash": head_hash,
        "analysts": fingerprints,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(descriptor)
    try:
        with zipfile.ZipFile(temp_name, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as package:
            package.writestr("README.md", readme(site_id, fingerprints, head_seq, head_hash))
            package.writestr("manifest.json", json.dumps(manifest, indent=2) + "\n")
            package.writestr("ledger.jsonl", "".join(_jsonl(records)))
            package.writestr(
                "chain.jsonl",
                "".join(
                    json.dumps({"seq": s, "entry_hash": h, "prev_hash": p}) + "\n"
                    for s, h, p in chain
                ),
            )
            for name in authors:
                package.writestr(f"keys/{name}.pem", public_key_pem(analysts[name]))
            files, size = _add_files(package, workspace.root, records)
        os.replace(temp_name, out)
    finally:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
    return ExportSummary(out, site_id, len(records), files, size, head_seq, head_hash, fingerprints)


def _entries_for_site(session: Session, site_id: str) -> list[LedgerEntry]:
    about_site = list(
        session.scalars(
            select(LedgerEntry).where(LedgerEntry.site_id == site_id).order_by(LedgerEntry.seq)
        )
    )
    scene_ids = {
        scene for entry in about_site for scene in _scene_ids(payload_value(entry.payload))
    }
    scenes = list(
        session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.kind == "scene.ingest", LedgerEntry.subject_id.in_(scene_ids)
            )
        )
    )
    unique = {entry.seq: entry for entry in [*about_site, *scenes]}
    return [unique[seq] for seq in sorted(unique)]


def _scene_ids(payload: Any) -> Iterator[str]:
    """Scene ids named by a payload's top-level ``*scene_id`` / ``*scene_ids`` fields."""
    if not isinstance(payload, dict):
        return
    for key, value in payload.items():
        if key.endswith("scene_id") and isinstance(value, str):
            yield value
        elif key.endswith("scene_ids") and isinstance(value, list):
            yield from (item for item in value if isinstance(item, str))


def _jsonl(records: list[dict[str, Any]]) -> Iterator[str]:
    for record in records:
        yield json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"


def _add_files(
    package: zipfile.ZipFile, root: Path, records: list[dict[str, Any]]
) -> tuple[int, int]:
    """Copy each referenced file once, hashing it on the way; a changed file is an error."""
    done: set[str] = set()
    total = 0
    for record in records:
        for item in record["files"]:
            member = member_name(item["path"])
            if member in done:
                continue
            source = resolve_stored(root, item["path"])
            digest = hashlib.sha256()
            try:
                with source.open("rb") as reader, package.open(member, "w", force_zip64=True) as w:
                    while chunk := reader.read(_CHUNK):
                        digest.update(chunk)
                        w.write(chunk)
            except OSError as exc:
                raise SitewatchError(
                    f"cannot export: entry {record['seq']}: file {item['path']} cannot be read "
                    f"({exc.strerror}); run 'sitewatch ledger verify'"
                ) from exc
            if digest.hexdigest() != item["sha256"]:
                raise SitewatchError(
                    f"cannot export: entry {record['seq']}: file {item['path']} does not match "
                    "its recorded SHA-256; run 'sitewatch ledger verify'"
                )
            done.add(member)
            total += item["size"]
    return len(done), total


@dataclass(kw_only=True)
class PackageReport(CheckReport):
    """The outcome of :func:`verify_package`."""

    site_id: str | None = None
    entries: int = 0
    files_checked: int = 0
    head_seq: int | None = None
    head_hash: str | None = None
    analysts: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "site_id": self.site_id,
            "entries": self.entries,
            "files_checked": self.files_checked,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "analysts": self.analysts,
            **self.problem_fields(),
        }


def verify_package(path: Path) -> PackageReport:
    """Check a package offline: entry hashes, signatures, files, and the slice's chain.

    Needs no workspace and no database. What it proves and what it cannot is written in
    the package's README (see :func:`readme`).
    """
    try:
        package = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(f"not a readable evidence package ({exc})", source=path) from None
    with package:
        members = _checked_members(package, path)
        manifest = _read_manifest(package, members, path)
        report = PackageReport(
            site_id=manifest.get("site_id"),
            head_seq=manifest.get("head_seq"),
            head_hash=manifest.get("head_hash"),
        )
        chain = _read_chain(package, members, path, report)
        keys: dict[str, Ed25519PublicKey | None] = {}
        for line_number, line in enumerate(
            _read_text(package, members, "ledger.jsonl", path).splitlines(), start=1
        ):
            entry = _parse_entry(line, line_number, path)
            report.entries += 1
            author = entry["author"]
            if author not in keys:
                keys[author] = _public_key(package, members, author, path, report)
            problem = entry_problem(entry, keys[author], expected_prev=None)
            link = chain.get(entry["seq"])
            if problem is None and link != (entry["entry_hash"], entry["prev_hash"]):
                problem = "is not the entry chain.jsonl holds at its seq"
            if problem:
                report.problems.append(Problem(entry["seq"], problem))
            for item in entry["files"]:
                report.files_checked += 1
                if bad := _member_problem(package, members, item):
                    report.problems.append(Problem(entry["seq"], bad))
    report.problems.sort(key=lambda problem: problem.seq)
    return report


def _checked_members(package: zipfile.ZipFile, path: Path) -> dict[str, zipfile.ZipInfo]:
    """Member names and sizes checked before anything is read: one line naming the culprit."""
    infos = package.infolist()
    if len(infos) > MAX_MEMBERS:
        raise InputError(f"holds {len(infos)} members (at most {MAX_MEMBERS})", source=path)
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        parts = PurePosixPath(name).parts
        if name.startswith("/") or "\\" in name or ".." in parts or ":" in name.split("/")[0]:
            raise InputError(
                f"unsafe member name {name!r} (absolute or leaving the package)", source=path
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR and ratio > MAX_RATIO:
            raise InputError(
                f"member {name!r} expands {ratio:.0f} times to {info.file_size} bytes "
                "(a zip bomb?)",
                source=path,
            )
        members[name] = info
    return members


def _read_manifest(
    package: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], path: Path
) -> dict[str, Any]:
    try:
        manifest = json.loads(_read_text(package, members, "manifest.json", path))
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(f"manifest.json does not describe a {FORMAT} package", source=path)
    return manifest


def _read_text(
    package: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], name: str, path: Path
) -> str:
    info = members.get(name)
    if info is None:
        raise InputError(f"not an evidence package: {name} is missing", source=path)
    if info.file_size > MAX_TEXT_BYTES:
        raise InputError(f"{name} is {info.file_size} bytes, too large", source=path)
    try:
        return package.read(info).decode("utf-8")
    except (zipfile.BadZipFile, UnicodeDecodeError, OSError) as exc:
        raise InputError(f"{name} cannot be read ({exc})", source=path) from None


def _read_chain(
    package: zipfile.ZipFile,
    members: dict[str, zipfile.ZipInfo],
    path: Path,
    report: PackageReport,
) -> dict[int, tuple[str, str]]:
    """chain.jsonl as seq -> (entry_hash, prev_hash); a broken link is a problem at its seq."""
    chain: dict[int, tuple[str, str]] = {}
    previous: tuple[int, str] | None = None
    for number, line in enumerate(
        _read_text(package, members, "chain.jsonl", path).splitlines(), start=1
    ):
        try:
            row = json.loads(line)
            seq, entry_hash, prev_hash = (
                int(row["seq"]),
                str(row["entry_hash"]),
                str(row["prev_hash"]),
            )
        except (ValueError, TypeError, KeyError):
            raise InputError(
                "not a chain record", source=path, item=f"chain.jsonl line {number}"
            ) from None
        if previous is not None and (seq != previous[0] + 1 or prev_hash != previous[1]):
            report.problems.append(
                Problem(seq, "does not follow the entry before it in chain.jsonl")
            )
        chain[seq] = (entry_hash, prev_hash)
        previous = (seq, entry_hash)
    if previous is not None and report.head_hash is not None and previous[1] != report.head_hash:
        report.problems.append(
            Problem(previous[0], "chain.jsonl does not end at the manifest's head")
        )
    return chain


def _parse_entry(line: str, line_number: int, path: Path) -> dict[str, Any]:
    where = f"ledger.jsonl line {line_number}"
    try:
        entry = json.loads(line)
        if not isinstance(entry, dict):
            raise ValueError("a JSON object is expected")
        missing = [
            name for name in (*HASHED_FIELDS, "entry_hash", "signature") if name not in entry
        ]
        if missing:
            raise InputError(f"lacks {', '.join(missing)}", source=path, item=where)
        entry["signature"] = bytes.fromhex(entry["signature"])
        if not isinstance(entry["seq"], int) or not isinstance(entry["author"], str):
            raise ValueError("seq must be a number and author a name")
        if not files_well_formed(entry["files"]):
            raise ValueError("files must be a list of path, sha256 and size")
    except (ValueError, TypeError, AttributeError) as exc:
        raise InputError(f"not a ledger entry ({exc})", source=path, item=where) from None
    return entry


def _public_key(
    package: zipfile.ZipFile,
    members: dict[str, zipfile.ZipInfo],
    author: str,
    path: Path,
    report: PackageReport,
) -> Ed25519PublicKey | None:
    name = f"keys/{author}.pem"
    if name not in members:
        return None
    try:
        key = load_pem_public_key(_read_text(package, members, name, path).encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise InputError(f"not a public key ({exc})", source=path, item=name) from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError("not an Ed25519 public key", source=path, item=name)
    report.analysts[author] = fingerprint(key)
    return key


def _member_problem(
    package: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], item: dict[str, Any]
) -> str | None:
    """Stream a packaged file through SHA-256, reading no more than its recorded size + 1."""
    info = members.get(member_name(item["path"]))
    if info is None:
        return f"file {item['path']} is missing from the package"
    if info.file_size != item["size"]:
        return f"file {item['path']} has {info.file_size} bytes, {item['size']} were recorded"
    digest, budget = hashlib.sha256(), item["size"] + 1
    try:
        with package.open(info) as reader:
            while budget > 0 and (chunk := reader.read(min(_CHUNK, budget))):
                digest.update(chunk)
                budget -= len(chunk)
    except (zipfile.BadZipFile, OSError) as exc:
        return f"file {item['path']} is corrupt in the package ({exc})"
    if digest.hexdigest() != item["sha256"]:
        return f"file {item['path']} does not match its recorded SHA-256"
    return None
