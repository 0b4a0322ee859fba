"""Precision and recall of site mentions, speaker attribution and claim stance.

On the labelled excerpts in ``tests/sources/data`` (real reporting on the Sakkanmol,
Sino-ri and Sangnam-ni reports, English and Korean, plus the founding article from
``../shared/seeds`` when present and a homonym check). Measured:

- site mentions, per document and distinct site: a predicted resolved site is right when
  the labels name it; an ambiguous name counts as no prediction (listed, not matched);
- speakers: a gold claim is found when a predicted claim's span holds its anchor; the
  predicted speaker is right when it contains one of the accepted names. Precision over
  predicted claims that name a speaker (claims found where the labels have none count
  against it), recall over gold claims;
- stance: accuracy over the gold claims found, against a floor (always the most common
  stance);
- extraction of the main text from HTML: each excerpt is wrapped in a page with the
  boilerplate of a news site (menu, cookie banner, related links, share buttons, comments,
  footer; the template is ours, the text real) and read by trafilatura (what ``sources
  add`` uses) and by a baseline that keeps all visible text of the body (html.parser).
  Word-level precision and recall against the excerpt.

The rules were written on the founding article and the first six excerpts; the three
Sohae/Tongchang-ri excerpts were added afterwards and measured before the rules saw them
(speakers 7/7 right, stance 0/7: no cue for "dismantling", "torn down", 재건), then the
cues were extended. So the stance figure is a development figure, not a held-out one.

Run: .venv/bin/python benchmarks/claims_eval.py   (a second)
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from measure import machine, save_results
from sitewatch.catalog.reference import load_reference
from sitewatch.sources.analyse import analyse_text
from sitewatch.sources.mentions import SiteIndex

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "sources" / "data"
RESULTS = ROOT / "benchmarks" / "results" / "claims_eval.json"


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


def evaluate() -> dict[str, Any]:
    labels = json.loads((DATA / "labels.json").read_text("utf-8"))
    index = SiteIndex((r.id, r.name, r.aliases) for r in load_reference("dprk"))
    site_tp = site_fp = site_fn = 0
    speaker_right = speaker_predicted = speaker_gold = 0
    stance_right = stance_found = 0
    stances: Counter[str] = Counter()
    documents = []
    for document in labels["documents"]:
        path = (
            (ROOT.parent / document["file"]) if document.get("shared") else DATA / document["file"]
        )
        if not path.exists():
            print(f"skipped {document['file']}: not here", file=sys.stderr)
            continue
        text = path.read_text("utf-8")
        analysis = analyse_text(text, index)
        predicted_sites = {s.site_id for s in analysis.sites if s.site_id}
        gold_sites = set(document["sites"])
        site_tp += len(predicted_sites & gold_sites)
        site_fp += len(predicted_sites - gold_sites)
        site_fn += len(gold_sites - predicted_sites)
        matched: set[int] = set()
        errors = []
        for gold in document["claims"]:
            speaker_gold += 1
            stances[gold["stance"]] += 1
            at = text.find(gold["anchor"])
            found = [i for i, c in enumerate(analysis.claims) if at >= 0 and c.start <= at < c.end]
            if not found:
                errors.append({"anchor": gold["anchor"], "error": "claim not found"})
                continue
            claim = analysis.claims[found[0]]
            matched.add(found[0])
            stance_found += 1
            stance_right += claim.stance == gold["stance"]
            right = claim.speaker is not None and any(
                name.lower() in claim.speaker.lower() for name in gold["speakers"]
            )
            if claim.speaker is not None:
                speaker_predicted += 1
                speaker_right += right
            if not right or claim.stance != gold["stance"]:
                errors.append(
                    {
                        "anchor": gold["anchor"],
                        "speaker": claim.speaker,
                        "stance": claim.stance,
                        "gold_stance": gold["stance"],
                    }
                )
        extra = [c for i, c in enumerate(analysis.claims) if i not in matched and c.speaker]
        speaker_predicted += len(extra)
        documents.append(
            {
                "file": document["file"],
                "language": document["language"],
                "sites_predicted": sorted(predicted_sites),
                "sites_gold": sorted(gold_sites),
                "ambiguous_listed": sorted({s.text for s in analysis.sites if s.ambiguous}),
                "claims_predicted": len(analysis.claims),
                "claims_gold": len(document["claims"]),
                "unlabelled_claims_with_speaker": [c.speaker for c in extra],
                "errors": errors,
            }
        )
    floor = stances.most_common(1)[0][1] if stances else 0
    return {
        "site_mentions": {
            "precision": _ratio(site_tp, site_tp + site_fp),
            "recall": _ratio(site_tp, site_tp + site_fn),
            "tp": site_tp,
            "fp": site_fp,
            "fn": site_fn,
        },
        "speakers": {
            "precision": _ratio(speaker_right, speaker_predicted),
            "recall": _ratio(speaker_right, speaker_gold),
            "right": speaker_right,
            "predicted": speaker_predicted,
            "gold": speaker_gold,
        },
        "stance": {
            "accuracy": _ratio(stance_right, stance_found),
            "found": stance_found,
            "floor_most_common": _ratio(floor, sum(stances.values())),
            "gold_distribution": dict(stances),
        },
        "claims_found": {"recall": _ratio(stance_found, speaker_gold)},
        "documents": documents,
    }


_PAGE = """<!doctype html><html><head><title>{title}</title>
<meta property="og:site_name" content="Example News"></head><body>
<div class="cookie">We use cookies to improve your experience. Accept all cookies</div>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/politics">Politics</a></li><li><a href="/sport">Sport</a></li></ul></nav>
<div class="share">Share on Facebook Share on Twitter Email this story</div>
<article><h1>{title}</h1>{paragraphs}</article>
<aside><h3>Related stories</h3><ul><li><a href="/a">Stocks rally as markets reopen</a></li>
<li><a href="/b">Weather: storm expected this weekend</a></li>
<li><a href="/c">Ten recipes for a quick dinner</a></li></ul></aside>
<section class="comments"><h3>Comments</h3><p>Great article, thanks for sharing!</p>
<p>I disagree with the premise of this piece entirely.</p></section>
<footer>Copyright Example News. All rights reserved. Privacy policy Terms of use Contact us
</footer></body></html>"""


class _VisibleText(HTMLParser):
    """The baseline: every text node of the page outside script and style."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self._skip += tag in ("script", "style", "title")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style", "title")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _baseline(page: str) -> str:
    parser = _VisibleText()
    parser.feed(page)
    return " ".join(parser.parts)


def _words_pr(extracted: str, truth: str) -> tuple[int, int, int]:
    got, want = Counter(extracted.split()), Counter(truth.split())
    right = sum((got & want).values())
    return right, sum(got.values()), sum(want.values())


def evaluate_extraction() -> dict[str, Any]:
    from sitewatch.sources.extract import extract_document

    totals = {"trafilatura": [0, 0, 0], "baseline_visible_text": [0, 0, 0]}
    for path in sorted(DATA.glob("*.txt")):
        lines = [line for line in path.read_text("utf-8").splitlines() if line.strip()]
        paragraphs = "".join(f"<p>{line}</p>" for line in lines)
        page = _PAGE.format(title=path.stem, paragraphs=paragraphs)
        truth = " ".join(lines)
        for name, text in (
            ("trafilatura", extract_document(page.encode(), path.name).text),
            ("baseline_visible_text", _baseline(page)),
        ):
            for i, value in enumerate(_words_pr(text.replace(path.stem, " "), truth)):
                totals[name][i] += value
    return {
        name: {"precision": _ratio(right, got), "recall": _ratio(right, want)}
        for name, (right, got, want) in totals.items()
    }


def main() -> None:
    report = evaluate()
    report["extraction"] = evaluate_extraction()
    rows = (
        ("site mentions precision", report["site_mentions"]["precision"], ">= 0.9"),
        ("site mentions recall", report["site_mentions"]["recall"], ">= 0.8"),
        ("speaker precision", report["speakers"]["precision"], ">= 0.8"),
        ("speaker recall", report["speakers"]["recall"], ""),
        ("claims found (recall)", report["claims_found"]["recall"], ""),
        ("stance accuracy", report["stance"]["accuracy"], ""),
        ("stance floor (most common)", report["stance"]["floor_most_common"], ""),
    )
    extraction = report["extraction"]
    rows += tuple(
        (f"HTML main text {measure}, {name}", extraction[name][measure], "")
        for name in extraction
        for measure in ("precision", "recall")
    )
    table = ["| measure | value | target |", "|---|---|---|"]
    table += [f"| {name} | {value} | {target} |" for name, value, target in rows]
    RESULTS.with_suffix(".md").write_text("\n".join(table) + "\n")
    print("\n".join(table[2:]))
    save_results(
        RESULTS, {"measured_at": datetime.now(UTC).isoformat(), "machine": machine(), **report}
    )


if __name__ == "__main__":
    main()
