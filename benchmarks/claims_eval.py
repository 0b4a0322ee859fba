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
  stance).

Run: .venv/bin/python benchmarks/claims_eval.py   (a second)
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import UTC, datetime
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


def main() -> None:
    report = evaluate()
    print("| measure | value | target |")
    print("|---|---|---|")
    rows = (
        ("site mentions precision", report["site_mentions"]["precision"], ">= 0.9"),
        ("site mentions recall", report["site_mentions"]["recall"], ">= 0.8"),
        ("speaker precision", report["speakers"]["precision"], ">= 0.8"),
        ("speaker recall", report["speakers"]["recall"], ""),
        ("claims found (recall)", report["claims_found"]["recall"], ""),
        ("stance accuracy", report["stance"]["accuracy"], ""),
        ("stance floor (most common)", report["stance"]["floor_most_common"], ""),
    )
    for name, value, target in rows:
        print(f"| {name} | {value} | {target} |")
    save_results(
        RESULTS, {"measured_at": datetime.now(UTC).isoformat(), "machine": machine(), **report}
    )


if __name__ == "__main__":
    main()
