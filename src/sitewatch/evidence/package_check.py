"""Checking an evidence package offline, without a workspace: what a sceptic runs.

The package's layout and why each check exists are in :mod:`sitewatch.evidence.package`
(which writes packages). Every member is read from the zip's central directory by name and
streamed through SHA-256; nothing is extracted to disk, names are checked before use and
sizes are bounded, so a hostile zip can neither write outside a folder nor fill memory.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from sitewatch.errors import InputError, VerificationFailed
from sitewatch.evidence.chain import HASHED_FIELDS, entry_problem
from sitewatch.evidence.files import files_well_formed
from sitewatch.evidence.keys import fingerprint
from sitewatch.evidence.ledger import CheckReport, Problem
from sitewatch.evidence.package import (
    CHUNK,
    FORMAT,
    MANIFEST,
    MANIFEST_SIGNATURE,
    MAX_MEMBERS,
    MAX_RATIO,
    MAX_TEXT_BYTES,
    OLD_FORMAT,
    RATIO_FLOOR,
    member_name,
)


@dataclass(kw_only=True)
class PackageReport(CheckReport):
    """The outcome of :func:`verify_package`.

    ``keys_pinned`` is True only when the checker named the keys it trusts and every key
    the package relies on is one of them; otherwise the package's own keys vouch for it,
    which a forger can replace wholesale (``untrusted_keys`` lists them).
    """

    site_id: str | None = None
    entries: int = 0
    files_checked: int = 0
    head_seq: int | None = None
    head_hash: str | None = None
    analysts: dict[str, str] = field(default_factory=dict)
    exporter: dict[str, str] | None = None
    keys_pinned: bool = False
    untrusted_keys: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "site_id": self.site_id,
            "entries": self.entries,
            "files_checked": self.files_checked,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "analysts": self.analysts,
            "exporter": self.exporter,
            "keys_pinned": self.keys_pinned,
            "untrusted_keys": self.untrusted_keys,
            **self.problem_fields(),
        }


def verify_package(path: Path, *, trusted: Collection[str] = ()) -> PackageReport:
    """Check a package offline: members, signed manifest, entries, files, chain, keys.

    Needs no workspace and no database. ``trusted`` holds the key fingerprints the
    checker trusts (published by the analysts); any key the package relies on outside
    them is a problem. With none given the package is checked against its own keys only
    and the report says so (``keys_pinned`` False). What a check proves and what it
    cannot is written in the package's README (see :func:`readme`).
    """
    pins = {_fingerprint_option(value) for value in trusted}
    try:
        package = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(f"not a readable evidence package ({exc})", source=path) from None
    with package:
        reader = _Reader(package, _checked_members(package, path), path)
        report = PackageReport()
        if reader.duplicates:
            report.problems.extend(
                Problem(None, f"member {name} appears {count} times: a zip reader may show any")
                for name, count in reader.duplicates.items()
            )
            return report
        manifest_bytes = reader.data(MANIFEST)
        manifest = _read_manifest(manifest_bytes, path)
        report.site_id, report.exporter = manifest["site_id"], manifest["exporter"]
        report.head_seq, report.head_hash = manifest["head_seq"], manifest["head_hash"]
        _check_listing(reader, manifest, report)
        _check_manifest_signature(reader, manifest_bytes, manifest, report)
        authors = _check_entries(reader, manifest, report)
        _check_pins(report, pins, authors)
    # Entries first, in chain order, so the first line names the entry when one is at fault.
    report.problems.sort(key=lambda problem: (problem.seq is None, problem.seq or 0))
    return report


def _fingerprint_option(value: str) -> str:
    fingerprint_hex = value.strip().lower()
    if len(fingerprint_hex) != 64 or any(c not in "0123456789abcdef" for c in fingerprint_hex):
        raise InputError(f"{value!r} is not a key fingerprint (64 hex digits)", item="--trust")
    return fingerprint_hex


class _Reader:
    """A package's members, read with bounds and hashed at most once each."""

    def __init__(self, package: zipfile.ZipFile, infos: list[zipfile.ZipInfo], path: Path) -> None:
        self.package, self.path = package, path
        self.members = {info.filename: info for info in infos}
        counts = Counter(info.filename for info in infos)
        self.duplicates = {name: count for name, count in counts.items() if count > 1}
        self._digests: dict[str, str | None] = {}
        self.keys: dict[str, Ed25519PublicKey | None] = {}

    def data(self, name: str) -> bytes:
        """A small member's bytes; InputError when it is missing, too large or unreadable."""
        info = self.members.get(name)
        if info is None:
            raise InputError(f"not an evidence package: {name} is missing", source=self.path)
        if info.file_size > MAX_TEXT_BYTES:
            raise InputError(f"{name} is {info.file_size} bytes, too large", source=self.path)
        try:
            return self.package.read(info)
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(f"{name} cannot be read ({exc})", source=self.path) from None

    def text(self, name: str) -> str:
        try:
            return self.data(name).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{name} is not UTF-8 ({exc})", source=self.path) from None

    def digest(self, name: str) -> str | None:
        """SHA-256 of a member, streamed; None when the member cannot be decompressed."""
        if name not in self._digests:
            info, digest = self.members[name], hashlib.sha256()
            try:
                with self.package.open(info) as stream:
                    while chunk := stream.read(CHUNK):
                        digest.update(chunk)
                self._digests[name] = digest.hexdigest()
            except (zipfile.BadZipFile, OSError):
                self._digests[name] = None
        return self._digests[name]

    def public_key(self, author: str) -> Ed25519PublicKey | None:
        """``keys/AUTHOR.pem``, or None when the package carries no key of that name."""
        if author not in self.keys:
            self.keys[author] = _load_public_key(self, f"keys/{author}.pem")
        return self.keys[author]


def _load_public_key(reader: _Reader, name: str) -> Ed25519PublicKey | None:
    if name not in reader.members:
        return None
    try:
        key = load_pem_public_key(reader.text(name).encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise InputError(f"not a public key ({exc})", source=reader.path, item=name) from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError("not an Ed25519 public key", source=reader.path, item=name)
    return key


def _check_listing(reader: _Reader, manifest: dict[str, Any], report: PackageReport) -> None:
    """Exactly the members the manifest lists, each with the size and SHA-256 it lists."""
    listed: dict[str, dict[str, Any]] = manifest["members"]
    present = set(reader.members) - {MANIFEST, MANIFEST_SIGNATURE}
    for name in sorted(present - set(listed)):
        report.problems.append(Problem(None, f"member {name} is not listed in the manifest"))
    for name in sorted(set(listed) - present):
        report.problems.append(Problem(None, f"member {name} listed in the manifest is missing"))
    for name in sorted(present & set(listed)):
        expected = listed[name]
        if reader.members[name].file_size != expected["size"] or (
            reader.digest(name) != expected["sha256"]
        ):
            report.problems.append(
                Problem(None, f"member {name} is not the one the manifest lists (SHA-256 differs)")
            )


def _check_manifest_signature(
    reader: _Reader, manifest_bytes: bytes, manifest: dict[str, Any], report: PackageReport
) -> None:
    """manifest.json signed by the exporter it names, with the key it names."""
    name, expected = manifest["exporter"]["name"], manifest["exporter"]["fingerprint"]
    key = reader.public_key(name)
    if key is None or fingerprint(key) != expected:
        report.problems.append(
            Problem(None, f"manifest.json: keys/{name}.pem is not the exporter's key it names")
        )
        return
    try:
        signature = bytes.fromhex(reader.text(MANIFEST_SIGNATURE).strip())
        key.verify(signature, manifest_bytes)
    except (InputError, ValueError, InvalidSignature):
        report.problems.append(
            Problem(
                None, f"manifest.json is not signed by its exporter {name!r} ({MANIFEST_SIGNATURE})"
            )
        )


def _check_entries(
    reader: _Reader, manifest: dict[str, Any], report: PackageReport
) -> dict[int, str]:
    """Each entry on its own, in its chain position, with its files; returns seq -> author."""
    chain = _read_chain(reader, report)
    authors: dict[int, str] = {}
    last_seq = 0
    for line_number, line in enumerate(reader.text("ledger.jsonl").splitlines(), start=1):
        try:
            entry = _parse_entry(line)
        except ValueError as exc:  # a damaged or forged line: named, and the rest still checked
            report.problems.append(Problem(None, f"ledger.jsonl line {line_number}: {exc}"))
            continue
        seq, author = entry["seq"], entry["author"]
        report.entries += 1
        if seq <= last_seq:
            report.problems.append(Problem(seq, "is repeated or out of order in ledger.jsonl"))
        authors[seq], last_seq = author, max(seq, last_seq)
        key = reader.public_key(author)
        if key is not None:
            report.analysts[author] = fingerprint(key)
        problem = entry_problem(entry, key, expected_prev=None)
        if problem is None and chain.get(seq) != (entry["entry_hash"], entry["prev_hash"]):
            problem = "is not the entry chain.jsonl holds at its seq"
        if problem:
            report.problems.append(Problem(seq, problem))
        for item in entry["files"]:
            report.files_checked += 1
            if bad := _member_problem(reader, item):
                report.problems.append(Problem(seq, bad))
    _check_positions(manifest, report, authors, chain)
    return authors


def _check_positions(
    manifest: dict[str, Any],
    report: PackageReport,
    authors: dict[int, str],
    chain: dict[int, tuple[str, str]],
) -> None:
    """The entries the manifest lists are the ones present, and the chain spans them."""
    if report.entries != manifest["entries"]:
        report.problems.append(
            Problem(
                None,
                f"ledger.jsonl holds {report.entries} entries, the manifest lists "
                f"{manifest['entries']}",
            )
        )
    listed = set(manifest["entry_seqs"])
    for seq in sorted(listed - set(authors)):
        report.problems.append(Problem(seq, "is in the manifest but missing from ledger.jsonl"))
    for seq in sorted(set(authors) - listed):
        report.problems.append(Problem(seq, "is in ledger.jsonl but not listed in the manifest"))
    if chain and authors and min(chain) != min(authors):
        report.problems.append(
            Problem(min(chain), "chain.jsonl does not start at the first included entry")
        )
    last = max(chain, default=None)
    if last is not None and (last, chain[last][0]) != (manifest["head_seq"], manifest["head_hash"]):
        report.problems.append(Problem(last, "chain.jsonl does not end at the manifest's head"))


def _check_pins(report: PackageReport, pins: set[str], authors: dict[int, str]) -> None:
    """Every key the package relies on (authors', exporter's) among the trusted ones."""
    used = dict(report.analysts)
    exporter = report.exporter or {}
    if exporter:
        used[exporter["name"]] = exporter["fingerprint"]
    report.untrusted_keys = {name: value for name, value in used.items() if value not in pins}
    report.keys_pinned = bool(pins) and not report.untrusted_keys
    if not pins:
        return
    for seq, author in authors.items():
        if author in report.untrusted_keys:
            report.problems.append(
                Problem(
                    seq,
                    f"is signed with {author!r}'s key {report.untrusted_keys[author]}, "
                    "which is not a trusted key (--trust)",
                )
            )
    name = exporter.get("name")
    if name in report.untrusted_keys and exporter["fingerprint"] == report.untrusted_keys[name]:
        report.problems.append(
            Problem(
                None,
                f"manifest.json is signed with exporter {name!r}'s key {exporter['fingerprint']}, "
                "which is not a trusted key (--trust)",
            )
        )


def _checked_members(package: zipfile.ZipFile, path: Path) -> list[zipfile.ZipInfo]:
    """Member names and sizes checked before anything is read: one line naming the culprit."""
    infos = package.infolist()
    if len(infos) > MAX_MEMBERS:
        raise InputError(f"holds {len(infos)} members (at most {MAX_MEMBERS})", source=path)
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
    return infos


_MANIFEST_FIELDS: dict[str, Callable[[Any], bool]] = {
    "site_id": lambda value: isinstance(value, str),
    "entries": lambda value: isinstance(value, int),
    "entry_seqs": lambda value: (
        isinstance(value, list) and all(isinstance(seq, int) for seq in value)
    ),
    "head_seq": lambda value: isinstance(value, int),
    "head_hash": lambda value: isinstance(value, str),
    "exporter": lambda value: (
        isinstance(value, dict)
        and isinstance(value.get("name"), str)
        and isinstance(value.get("fingerprint"), str)
    ),
    "members": lambda value: (
        isinstance(value, dict)
        and all(
            isinstance(item, dict)
            and isinstance(item.get("sha256"), str)
            and isinstance(item.get("size"), int)
            for item in value.values()
        )
    ),
}


def _read_manifest(data: bytes, path: Path) -> dict[str, Any]:
    """The manifest's fields, each of the form checked below, or a one-line error."""
    try:
        manifest = json.loads(data)
    except ValueError:
        manifest = None
    if isinstance(manifest, dict) and manifest.get("format") == OLD_FORMAT:
        raise InputError(
            f"a {OLD_FORMAT} package has no signed manifest and cannot be checked for "
            "removed or added members: export it again with this sitewatch",
            source=path,
        )
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(f"manifest.json does not describe a {FORMAT} package", source=path)
    for name, valid in _MANIFEST_FIELDS.items():
        if not valid(manifest.get(name)):
            raise VerificationFailed(f"{path} [manifest.json {name}]: missing or malformed")
    return manifest


def _read_chain(reader: _Reader, report: PackageReport) -> dict[int, tuple[str, str]]:
    """chain.jsonl as seq -> (entry_hash, prev_hash); a broken link is a problem at its seq."""
    chain: dict[int, tuple[str, str]] = {}
    previous: tuple[int, str] | None = None
    for number, line in enumerate(reader.text("chain.jsonl").splitlines(), start=1):
        try:
            row = json.loads(line)
            seq, entry_hash, prev_hash = (
                int(row["seq"]),
                str(row["entry_hash"]),
                str(row["prev_hash"]),
            )
        except (ValueError, TypeError, KeyError):
            raise InputError(
                "not a chain record", source=reader.path, item=f"chain.jsonl line {number}"
            ) from None
        if previous is not None and (seq != previous[0] + 1 or prev_hash != previous[1]):
            report.problems.append(
                Problem(seq, "does not follow the entry before it in chain.jsonl")
            )
        chain[seq] = (entry_hash, prev_hash)
        previous = (seq, entry_hash)
    return chain


def _parse_entry(line: str) -> dict[str, Any]:
    """A ledger.jsonl line as an entry, or ValueError saying why it is not one."""
    try:
        entry = json.loads(line)
        if not isinstance(entry, dict):
            raise ValueError("a JSON object is expected")
        missing = [
            name for name in (*HASHED_FIELDS, "entry_hash", "signature") if name not in entry
        ]
        if missing:
            raise ValueError(f"lacks {', '.join(missing)}")
        entry["signature"] = bytes.fromhex(entry["signature"])
        if not isinstance(entry["seq"], int) or not isinstance(entry["author"], str):
            raise ValueError("seq must be a number and author a name")
        if not files_well_formed(entry["files"]):
            raise ValueError("files must be a list of path, sha256 and size")
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a ledger entry ({exc})") from None
    return entry


def _member_problem(reader: _Reader, item: dict[str, Any]) -> str | None:
    """A referenced file against its entry's record (hashed once, shared with the listing)."""
    info = reader.members.get(member_name(item["path"]))
    if info is None:
        return f"file {item['path']} is missing from the package"
    if info.file_size != item["size"]:
        return f"file {item['path']} has {info.file_size} bytes, {item['size']} were recorded"
    digest = reader.digest(info.filename)
    if digest is None:
        return f"file {item['path']} is corrupt in the package"
    if digest != item["sha256"]:
        return f"file {item['path']} does not match its recorded SHA-256"
    return None
