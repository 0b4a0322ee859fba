"""Evidence packages: one site's ledger entries, files and keys in a zip anyone can check.

Layout of ``PKG.zip``::

    README.md       how to check the package, with sitewatch or a short Python script
    manifest.json   site, export time, chain head, the included entries' seqs, analysts
                    and their key fingerprints, the exporter, and every other member
                    with its size and SHA-256
    manifest.sig    the exporter's Ed25519 signature of manifest.json's bytes (hex)
    ledger.jsonl    the entries about the site (with its scenes' ingests and the sources
                    that name it), one JSON object per line, in chain order
    chain.jsonl     seq, entry_hash and prev_hash of every entry from the first included
                    one to the head: the skeleton that places the slice in the chain
    keys/NAME.pem   public key of every author of an included entry, and the exporter's
    files/...       every file the included entries reference: ``files/<path>`` for a path
                    inside the workspace, ``files/external/<absolute path>`` otherwise

A checker trusts a package's keys only as far as it pins them (``--trust FINGERPRINT``):
a forger can replace an entry, its author's key, the chain skeleton and the manifest
together, and only a fingerprint published elsewhere tells the keys apart. Members are
read from the package's central directory by name, so a name that appears twice is
refused: zip readers disagree on which copy they show.

Verification never extracts anything to disk: members are streamed through SHA-256, names
are checked before use, and sizes are bounded, so a hostile zip cannot write outside a
folder or fill memory.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sitewatch.db.locks import lock_ledger
from sitewatch.db.models import Analyst, LedgerEntry, SourceMention
from sitewatch.errors import InputError, NotFoundError, SitewatchError
from sitewatch.evidence.files import resolve_stored
from sitewatch.evidence.keys import public_key_pem, signing_key
from sitewatch.evidence.ledger import entry_fields, payload_value
from sitewatch.evidence.package_readme import readme
from sitewatch.files import atomic_output
from sitewatch.workspace import Workspace

FORMAT = "sitewatch-evidence/2"
OLD_FORMAT = "sitewatch-evidence/1"
MANIFEST = "manifest.json"
#: Hex Ed25519 signature of manifest.json's exact bytes by the exporter the manifest names.
#: The exporter is whoever ran the export (``--analyst``, $SITEWATCH_ANALYST or the
#: workspace key, the signer of ledger entries): the signature vouches that this package
#: is what they exported (these members, these entries, this head), not for the entries'
#: contents, which their authors signed.
MANIFEST_SIGNATURE = "manifest.sig"
CHUNK = 1 << 20  # members are streamed through SHA-256 in pieces of this size
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


def export_package(
    workspace: Workspace, site_id: str, out: Path, *, author: str | None = None
) -> ExportSummary:
    """Write the evidence package of ``site_id`` to ``out`` (atomically: temp name, rename).

    Included: every entry about the site, plus the ingest entries of the scenes those
    entries name (``*scene_id`` payload fields), so a detection run travels with the
    imagery it read. A referenced file that no longer matches its hash stops the export:
    a package must not carry evidence that fails its own check. The manifest lists every
    member with its SHA-256 and is signed by the exporter (``author``, else the default
    signer as for ledger entries): see :data:`MANIFEST_SIGNATURE`.
    """
    out = out.expanduser().resolve()
    if out.is_dir():
        raise InputError("is a folder; give the package's file name", source=out, item="--out")
    with workspace.session() as session:
        entries = _entries_for_site(session, site_id)
        if not entries:
            raise NotFoundError(f"the ledger holds no entries about site {site_id!r}")
        lock_ledger(session)  # signing_key may create the workspace key: one writer at a time
        exporter, private_key = signing_key(session, workspace, author)
        chain = session.execute(
            select(LedgerEntry.seq, LedgerEntry.entry_hash, LedgerEntry.prev_hash)
            .where(LedgerEntry.seq >= entries[0].seq)
            .order_by(LedgerEntry.seq)
        ).all()
        authors = sorted({entry.author for entry in entries})
        signers = sorted({*authors, exporter.name})
        analysts = {
            a.name: a for a in session.scalars(select(Analyst).where(Analyst.name.in_(signers)))
        }
        records = [entry_fields(entry) for entry in entries]
    missing = sorted(set(authors) - set(analysts))
    if missing:
        raise NotFoundError(f"analyst {missing[0]!r} who signed entries is not registered")
    head_seq, head_hash = chain[-1].seq, chain[-1].entry_hash
    fingerprints = {name: analysts[name].fingerprint for name in authors}
    texts = {
        "README.md": readme(site_id, fingerprints, head_seq, head_hash, exporter.name),
        "ledger.jsonl": "".join(_jsonl(records)),
        "chain.jsonl": "".join(
            json.dumps({"seq": s, "entry_hash": h, "prev_hash": p}) + "\n" for s, h, p in chain
        ),
        **{f"keys/{name}.pem": public_key_pem(analysts[name]).decode("ascii") for name in signers},
    }
    with (
        atomic_output(out, make_folder=True) as temporary,
        zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as package,
    ):
        listed: dict[str, dict[str, Any]] = {}
        for name, text in texts.items():
            data = text.encode("utf-8")
            package.writestr(name, data)
            listed[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        size = _add_files(package, workspace.root, records, listed)
        manifest = {
            "format": FORMAT,
            "site_id": site_id,
            "exported_at": datetime.now(UTC).isoformat(),
            "entries": len(records),
            "entry_seqs": [record["seq"] for record in records],
            "head_seq": head_seq,
            "head_hash": head_hash,
            "analysts": fingerprints,
            "exporter": {"name": exporter.name, "fingerprint": exporter.fingerprint},
            "members": listed,
        }
        manifest_bytes = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
        package.writestr(MANIFEST, manifest_bytes)
        package.writestr(MANIFEST_SIGNATURE, private_key.sign(manifest_bytes).hex() + "\n")
    files = sum(name.startswith("files/") for name in listed)
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
    # Articles and reports that name the site: their source.add entries carry the bytes.
    naming = select(SourceMention.source_id).where(SourceMention.site_id == site_id)
    sources = list(
        session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.kind == "source.add", LedgerEntry.subject_id.in_(naming)
            )
        )
    )
    unique = {entry.seq: entry for entry in [*about_site, *scenes, *sources]}
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
    package: zipfile.ZipFile,
    root: Path,
    records: list[dict[str, Any]],
    listed: dict[str, dict[str, Any]],
) -> int:
    """Copy each referenced file once, hashing it on the way; a changed file is an error.

    Each member goes into ``listed`` (for the manifest); returns the bytes copied.
    """
    total = 0
    for record in records:
        for item in record["files"]:
            member = member_name(item["path"])
            if member in listed:
                continue
            source = resolve_stored(root, item["path"])
            digest = hashlib.sha256()
            try:
                with source.open("rb") as reader, package.open(member, "w", force_zip64=True) as w:
                    while chunk := reader.read(CHUNK):
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
            listed[member] = {"sha256": item["sha256"], "size": item["size"]}
            total += item["size"]
    return total
