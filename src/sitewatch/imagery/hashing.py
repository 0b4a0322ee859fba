"""Imagery's hash vocabulary: SHA-256 as STAC's multihash, and content ids of scenes.

File hashes themselves are :func:`sitewatch.files.sha256_file`. Hashes make ingest
idempotent (a scene's id derives from its files' hashes) and let later evidence packages
prove which bytes an analysis read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

# Multihash prefix of SHA2-256 (code 0x12, 32-byte digest), as the STAC file extension wants.
_SHA256_MULTIHASH = "1220"


def sha256_multihash(hex_digest: str) -> str:
    """``file:checksum`` value for a SHA-256 hex digest."""
    return _SHA256_MULTIHASH + hex_digest


def sha256_from_multihash(value: str) -> str | None:
    """The SHA-256 hex digest in a ``file:checksum``, or None if it uses another hash."""
    value = value.lower()
    if value.startswith(_SHA256_MULTIHASH) and len(value) == len(_SHA256_MULTIHASH) + 64:
        return value[len(_SHA256_MULTIHASH) :]
    return None


def content_id(hex_digests: Iterable[str], prefix: str = "scene-") -> str:
    """A stable id for a set of files: the same bytes give the same id, whatever their paths."""
    combined = hashlib.sha256("\n".join(sorted(hex_digests)).encode("ascii")).hexdigest()
    return prefix + combined[:16]
