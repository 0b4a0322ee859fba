"""Do the domain tables still say what the signed entries say?

Verdicts are computed from the ``sites`` and ``assessments`` tables, not from the ledger,
so a chain that checks out proves little if those rows can be edited beside it. Every
row must be what the newest ledger entry about it recorded: a site the content of its
newest ``site.add``/``site.edit``/``site.import`` entry (and no row after a
``site.remove``), an assessment the payload of its ``assessment`` entry, a source (its
metadata, the hashes of its text and of its claims) its ``source.add`` entry. A row no entry
vouches for, a row changed since, and a row deleted while its entry says it exists are
each reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sitewatch.catalog.sites import to_record
from sitewatch.db.models import Assessment, LedgerEntry, Site, Source
from sitewatch.evidence.canonical import canonical_json
from sitewatch.evidence.ledger import Problem, payload_value
from sitewatch.sources.payload import source_payload
from sitewatch.verify.assessments import assessment_to_dict


@dataclass(frozen=True)
class _Vouched:
    """A table whose rows ledger entries vouch for, and how to compare the two."""

    noun: str
    table: str
    kinds: tuple[str, ...]
    rows: Callable[[Session], dict[str, Any]]
    #: (kind, payload) -> the content the row must have; None when the entry removed it
    content: Callable[[str, Any], Any]
    #: rows of this table go when their site goes (ON DELETE CASCADE)
    follows_site: bool = False


def _site_content(kind: str, payload: Any) -> Any:
    if kind == "site.remove":
        return None
    if not isinstance(payload, dict):
        return payload
    return payload.get("after" if kind == "site.edit" else "site")


_SITES = _Vouched(
    noun="site",
    table="sites",
    kinds=("site.add", "site.edit", "site.import", "site.remove"),
    rows=lambda session: {
        site.id: to_record(site).as_dict() for site in session.scalars(select(Site))
    },
    content=_site_content,
)
_ASSESSMENTS = _Vouched(
    noun="assessment",
    table="assessments",
    kinds=("assessment",),
    rows=lambda session: {
        row.id: assessment_to_dict(row) for row in session.scalars(select(Assessment))
    },
    content=lambda _kind, payload: payload,
    follows_site=True,
)


_SOURCES = _Vouched(
    noun="source",
    table="sources",
    kinds=("source.add",),
    rows=lambda session: {row.id: source_payload(row) for row in session.scalars(select(Source))},
    content=lambda _kind, payload: payload,
)


def table_problems(session: Session) -> tuple[int, list[Problem]]:
    """How many rows were compared, and every disagreement between rows and entries."""
    site_rows = _SITES.rows(session)
    checked, problems = _compare(session, _SITES, site_rows, set(site_rows))
    for spec in (_ASSESSMENTS, _SOURCES):
        more_checked, more = _compare(session, spec, spec.rows(session), set(site_rows))
        checked, problems = checked + more_checked, problems + more
    return checked, problems


def _compare(
    session: Session, spec: _Vouched, rows: dict[str, Any], site_ids: set[str]
) -> tuple[int, list[Problem]]:
    latest = _latest_entries(session, spec)
    problems: list[Problem] = []
    where = f"in the {spec.table} table"
    for row_id in sorted(rows):
        if row_id not in latest:
            problems.append(
                Problem(None, f"{spec.noun} {row_id!r} {where} has no ledger entry vouching for it")
            )
            continue
        seq, content = latest[row_id]
        if content is None:
            problems.append(Problem(seq, f"removed {spec.noun} {row_id!r}, which is back {where}"))
        elif differing := _differing_fields(rows[row_id], content):
            problems.append(
                Problem(seq, f"{spec.noun} {row_id!r} {where} differs from it ({differing})")
            )
    for row_id, (seq, content) in sorted(latest.items(), key=lambda item: item[1][0]):
        gone_with_site = (
            spec.follows_site
            and isinstance(content, dict)
            and content.get("site_id") not in site_ids
        )
        if content is None or row_id in rows or gone_with_site:
            continue
        problems.append(
            Problem(seq, f"{spec.noun} {row_id!r} is missing from the {spec.table} table")
        )
    return len(rows), problems


def _latest_entries(session: Session, spec: _Vouched) -> dict[str, tuple[int, Any]]:
    """subject id -> (seq, content) of the newest entry of the spec's kinds about it."""
    latest: dict[str, tuple[int, Any]] = {}
    query = (
        select(LedgerEntry.seq, LedgerEntry.kind, LedgerEntry.subject_id, LedgerEntry.payload)
        .where(LedgerEntry.kind.in_(spec.kinds), LedgerEntry.subject_id.is_not(None))
        .order_by(LedgerEntry.seq)
    )
    for seq, kind, subject_id, payload in session.execute(query):
        latest[subject_id] = (seq, spec.content(kind, payload_value(payload)))
    return latest


def _differing_fields(row: Any, content: Any) -> str:
    """The fields where a row and its entry disagree ("" when they agree), as text."""
    if not isinstance(content, dict):
        return "the entry holds no record"
    names = sorted(set(row) | set(content))
    return ", ".join(
        name for name in names if canonical_json(row.get(name)) != canonical_json(content.get(name))
    )
