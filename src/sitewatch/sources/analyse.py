"""A text's mentions and claims in one pass: the part of ``sources add`` that needs no
database, shared by the store and the evaluation benchmark."""

from __future__ import annotations

from dataclasses import dataclass

from sitewatch.sources.claims import ExtractedClaim, find_claims
from sitewatch.sources.mentions import SiteIndex, SiteMention, find_sites
from sitewatch.sources.patterns import (
    Found,
    find_dates,
    find_missiles,
    find_organisations,
    find_quantities,
)


@dataclass(frozen=True)
class Analysis:
    """Everything found in one text."""

    sites: list[SiteMention]
    others: list[Found]
    claims: list[ExtractedClaim]


def analyse_text(text: str, index: SiteIndex) -> Analysis:
    """Site mentions, the other mentions (dates, missiles, organisations, quantities) and
    claims of ``text``."""
    sites = find_sites(text, index)
    organisations = find_organisations(text)
    others = sorted(
        [*find_dates(text), *find_missiles(text), *organisations, *find_quantities(text)],
        key=lambda found: found.start,
    )
    resolved = [s.as_found() for s in sites if not s.ambiguous]
    return Analysis(sites, others, find_claims(text, resolved, organisations))
