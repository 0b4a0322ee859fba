"""The hash chain's rules, free of any database: used by ``ledger verify`` and, unchanged,
by ``verify-package`` on a machine without a workspace.

An entry is a flat record. Its hash is the SHA-256 of the canonical JSON of every field
except ``entry_hash`` and ``signature``; ``payload`` enters as its canonical *text* (a
string), so a single changed byte of the stored payload changes the hash even where the
JSON value would parse the same. The signature is Ed25519 over the 32 raw bytes of that
hash. The first entry's ``prev_hash`` is :data:`GENESIS_HASH`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sitewatch.evidence.canonical import canonical_bytes

if TYPE_CHECKING:  # imported on use: see sitewatch.evidence.keys
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

GENESIS_HASH = "0" * 64
HASHED_FIELDS = (
    "seq",
    "kind",
    "site_id",
    "subject_id",
    "payload",
    "files",
    "author",
    "created_at",
    "prev_hash",
)


def entry_digest(entry: Mapping[str, Any]) -> str:
    """Hex SHA-256 of an entry's hashed fields (see the module docstring)."""
    return hashlib.sha256(
        canonical_bytes({name: entry[name] for name in HASHED_FIELDS})
    ).hexdigest()


def sign_digest(private_key: Ed25519PrivateKey, digest: str) -> bytes:
    """The author's Ed25519 signature of an entry hash."""
    return private_key.sign(bytes.fromhex(digest))


def signature_valid(public_key: Ed25519PublicKey, digest: str, signature: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s signature of the entry hash ``digest``."""
    from cryptography.exceptions import InvalidSignature

    try:
        public_key.verify(signature, bytes.fromhex(digest))
    except (InvalidSignature, ValueError):
        return False
    return True


def entry_problem(
    entry: Mapping[str, Any], public_key: Ed25519PublicKey | None, *, expected_prev: str | None
) -> str | None:
    """What is wrong with one entry on its own (files aside), or None.

    ``expected_prev`` is the previous entry's stored hash, or None when the previous entry
    is not at hand (a package's slice), in which case the link is not checked here.
    """
    if expected_prev is not None and entry["prev_hash"] != expected_prev:
        return "prev_hash does not match the hash of the entry before it"
    if entry_digest(entry) != entry["entry_hash"]:
        return (
            "recorded contents (payload, files, kind, site, author or time) do not match its hash"
        )
    if public_key is None:
        return f"author {entry['author']!r} has no public key"
    if not signature_valid(public_key, entry["entry_hash"], entry["signature"]):
        return f"signature is not {entry['author']!r}'s signature of the entry hash"
    return None
