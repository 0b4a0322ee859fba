"""A forger of evidence packages who holds a private key of their own and edits anything.

Used by the package tests to show what a check catches without pinned keys (a forger
who leaves any part unsigned) and what only pinned keys catch (one who re-signs it all).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sitewatch.evidence.chain import entry_digest, sign_digest
from sitewatch.evidence.keys import fingerprint


def public_pem(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def read_members(package: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(package) as opened:
        return {info.filename: opened.read(info) for info in opened.infolist()}


def write_members(
    target: Path, members: dict[str, bytes], extra: Sequence[tuple[str, bytes]] = ()
) -> Path:
    """A zip of ``members`` in order, then ``extra`` (which may repeat a name)."""
    with zipfile.ZipFile(target, "w") as package:
        for name, data in [*members.items(), *extra]:
            package.writestr(name, data)
    return target


def rewrite_entry(
    members: dict[str, bytes], seq: int, payload: str | None, key: Ed25519PrivateKey
) -> None:
    """Change entry ``seq``'s payload (None: keep it), re-hash and re-sign it with ``key``
    under its author's name (whose public key in the package is replaced), and mend
    chain.jsonl around it."""
    entries = [json.loads(line) for line in members["ledger.jsonl"].decode().splitlines()]
    (entry,) = [item for item in entries if item["seq"] == seq]
    entry["payload"] = entry["payload"] if payload is None else payload
    entry["entry_hash"] = entry_digest(entry)
    entry["signature"] = sign_digest(key, entry["entry_hash"]).hex()
    members["ledger.jsonl"] = "".join(
        json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n" for item in entries
    ).encode()
    members[f"keys/{entry['author']}.pem"] = public_pem(key)
    chain = [json.loads(line) for line in members["chain.jsonl"].decode().splitlines()]
    for link in chain:
        if link["seq"] == seq:
            link["entry_hash"] = entry["entry_hash"]
        elif link["seq"] == seq + 1:
            link["prev_hash"] = entry["entry_hash"]
    members["chain.jsonl"] = "".join(json.dumps(link) + "\n" for link in chain).encode()


def drop_entry(members: dict[str, bytes], seq: int) -> None:
    lines = members["ledger.jsonl"].decode().splitlines(keepends=True)
    kept = [line for line in lines if json.loads(line)["seq"] != seq]
    members["ledger.jsonl"] = "".join(kept).encode()


def resign_manifest(members: dict[str, bytes], key: Ed25519PrivateKey, exporter: str) -> None:
    """What a thorough forger does last: list the members as they now are, count the
    entries, and sign the manifest with ``key`` as ``exporter`` (a name whose key in the
    package they have already replaced, so that every signature checks out)."""
    manifest = json.loads(members["manifest.json"])
    manifest["exporter"]["name"] = exporter
    members[f"keys/{exporter}.pem"] = public_pem(key)
    entries = [json.loads(line) for line in members["ledger.jsonl"].decode().splitlines()]
    manifest["entries"] = len(entries)
    manifest["entry_seqs"] = [entry["seq"] for entry in entries]
    manifest["head_hash"] = json.loads(members["chain.jsonl"].decode().splitlines()[-1])[
        "entry_hash"
    ]
    manifest["exporter"]["fingerprint"] = fingerprint(key.public_key())
    manifest["members"] = {
        name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        for name, data in members.items()
        if name not in ("manifest.json", "manifest.sig")
    }
    members["manifest.json"] = json.dumps(manifest, indent=2).encode()
    members["manifest.sig"] = key.sign(members["manifest.json"]).hex().encode()
