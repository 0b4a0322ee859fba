"""What a ``source.add`` ledger entry vouches for, in one place for the writer (the store)
and the auditor (``evidence.tables``, run by ``ledger verify``).

Besides the metadata, the entry holds the SHA-256 of the extracted text, which every
mention's and claim's span points into, and of the claims as extracted, so editing the
text or a claim's speaker, stance or quote in the database is found by ``ledger verify``.
Mentions are not hashed: removing a site sets their ``site_id`` to NULL, a legitimate
change no entry records. Analysts' reviews are entries of their own (``claim.review``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from sitewatch.db.models import Claim, Source
from sitewatch.evidence.canonical import canonical_json


def claim_fields(claim: Claim) -> dict[str, Any]:
    """A claim as extracted: what the entry hashes and every listing shows first."""
    return {
        "id": claim.id,
        "start": claim.start,
        "end": claim.end,
        "speaker": claim.speaker,
        "claimed_on": claim.claimed_on,
        "stance": claim.stance,
        "quote": claim.quote,
        "site_ids": list(claim.site_ids),
    }


def source_fields(source: Source) -> dict[str, Any]:
    """A source's metadata: what the entry records and every listing shows first."""
    return {
        "title": source.title,
        "publisher": source.publisher,
        "published_on": source.published_on,
        "authors": list(source.authors),
        "url": source.url,
        "media_type": source.media_type,
        "bytes": source.byte_size,
        "stored_path": source.stored_path,
    }


def source_payload(source: Source) -> dict[str, Any]:
    """The content of ``source`` that its ``source.add`` entry records."""
    claims = [claim_fields(claim) for claim in source.claims]
    return {
        "source_id": source.id,
        **source_fields(source),
        "text_sha256": hashlib.sha256(source.text.encode("utf-8")).hexdigest(),
        "claims": len(claims),
        "claims_sha256": hashlib.sha256(canonical_json(claims).encode("utf-8")).hexdigest(),
    }
