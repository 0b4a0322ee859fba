"""Claims of the founding article: speakers, stances, the cited report's publisher."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitewatch.catalog.reference import load_reference
from sitewatch.sources.analyse import analyse_text
from sitewatch.sources.claims import sentences, stance_of
from sitewatch.sources.mentions import SiteIndex

SEED = Path(__file__).resolve().parents[2] / ".." / "shared" / "seeds" / "000_99d986accdf5ae39.txt"
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def index() -> SiteIndex:
    return SiteIndex((r.id, r.name, r.aliases) for r in load_reference("dprk"))


def test_founding_article(index: SiteIndex) -> None:
    if not SEED.exists():
        pytest.skip("the founding article is in ../shared/seeds, absent here")
    text = SEED.read_text("utf-8")
    analysis = analyse_text(text, index)
    assert [s for s in analysis.sites if s.site_id] == []  # it names no site
    speakers = {c.speaker: c.stance for c in analysis.claims}
    assert speakers["Joseph Bermudez Jr"] == "asserts_activity"
    assert speakers["State Department"] == "calls_for_action"
    assert speakers["spokesman Kim Eui-kyeom"] == "disputes"
    assert speakers["North Korean Foreign Ministry"] == "warns"
    assert speakers["CSIS Beyond Parallel"] == "asserts_activity"
    assert {"SRBM", "ICBM"} <= {f.value for f in analysis.others if f.kind == "missile"}
    assert "16 bases" in {f.value for f in analysis.others if f.kind == "quantity"}
    for claim in analysis.claims:  # spans point into the text
        assert claim.start < claim.end and text[claim.start : claim.end].strip()


def test_a_claim_about_a_named_site_carries_it(index: SiteIndex) -> None:
    text = (DATA / "sino-ri_en.txt").read_text("utf-8")
    claims = analyse_text(text, index).claims
    assert claims and all(c.site_ids == ["sino-ri"] for c in claims)
    assert any(c.speaker and "Victor Cha" in c.speaker for c in claims)


def test_sentences_never_cut_a_quotation() -> None:
    text = "“One. Two,” he said. Next sentence."
    assert [text[a:b] for a, b in sentences(text)] == ["“One. Two,” he said.", "Next sentence."]


@pytest.mark.parametrize(
    ("sentence", "stance"),
    [
        ("Officials said the launch pad has been dismantled.", "reports_dismantlement"),
        ("The ministry denied the base exists.", "denies"),
        ("The spokesman said the report is nothing new.", "disputes"),
        ("The base is active and well maintained.", "asserts_activity"),
        ("The talks were rescheduled.", "neutral"),
    ],
)
def test_stance_cues(sentence: str, stance: str) -> None:
    assert stance_of(sentence) == stance
