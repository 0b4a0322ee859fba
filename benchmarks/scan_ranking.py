"""Ranking quality of a wide-area scan on OSCD, through the scan engine as a user gets it.

A scan cuts an area into tiles, scores each and hands the analyst the best-ranked tiles
first. What matters is precision at k: of the first k tiles looked at, how many hold real
change. Acceptance (issue #5): P@10 >= 0.7 on the OSCD validation cities treated as one AOI.

How the scan is run (everything a user would do, in a temporary workspace):

- every labelled city's ``imgs_1`` and ``imgs_2`` folder is ingested with
  :func:`sitewatch.imagery.ingest.add_scenes`, dated by its ``dates.txt``;
- the AOI is the union of the cities' footprint GeoJSONs (training cities for the
  selection, validation cities for the result), written to a file and given to the scan;
- the windows are BEFORE 2015-01-01/2016-12-31 and AFTER 2017-01-01/2018-12-31: every
  city's first date falls in the first and its second date in the second (checked);
- :func:`sitewatch.scan.runner.prepare_scan` / :func:`run_scan` on an in-process Dask
  client (one thread: the machine is shared); scans draw no chips (since the third
  version the engine draws them only when a candidate is opened);
- the ranking is the scanned (``done``) ``ScanTile`` rows by their stored ``score``,
  highest first, ties by tile key. Skipped and empty tiles have no score and are not ranked.

Protocol, fixed before any validation number of this version was looked at:

- A tile "contains change" when >= 40 labelled change pixels (label value 2, 10 m grid of
  ``imgs_1``) fall inside its footprint (0.4 ha: a large building or a cleared block), the
  rule of the earlier version, kept. The tile square (UTM) is taken to lon/lat and
  rasterised onto each city's label grid (``rasterio.features.geometry_mask``); change
  pixels are counted inside it.
- Tile size: 640 m (64 px at 10 m), fixed, not selected. It is the grain the issue asks
  for (a few hundred tiles over the three validation cities) and precision at k is not
  comparable across tile sizes: the share of tiles with change grows with the tile (0.13
  at 32 px against 0.35 at 64 px on the training cities in the earlier version), so a
  selection by P@k would reward big tiles for their base rate, not for a better ranking.
- Candidates: every engine configuration that differs only in how the tile is ranked:
  method irmad | cva | siamese (the engine's per-tile fit; siamese at its model card's
  threshold) x tile score ``changed`` (share of compared pixels inside a candidate: the
  engine's default so far) | ``p95`` (95th percentile of the pixel significance).
- Criterion: the mean of P@5, P@10 and P@20, ties to the earlier entry in the order
  irmad/changed, irmad/p95, cva/changed, cva/p95, siamese/changed, siamese/p95 (the
  engine's existing default first, then the cheaper methods).
- Selection, on the seven training cities only:
  1. unsupervised (irmad, cva): the best on all training-city tiles;
  2. siamese: the best on the held-out tiles only. Its weights were trained on the top
     80 % rows of each training city (``sitewatch.ml.training.HOLDOUT_FRACTION``); a tile
     is held out when every label pixel it covers lies in the bottom 20 % rows, so the
     weights never saw its labels;
  3. the two winners are compared on the same held-out tiles; the siamese one replaces the
     unsupervised one only if strictly better there.
  The winner becomes the engine's default (method and tile score); the validation scan is
  then run ONCE, with the engine defaults (only AOI, windows and tile size given).
- Floors: the base rate (share of ranked tiles with change: a random ranking's expected
  precision at any k) and the mean and spread of 1000 random rankings.
- No iteration on validation: if the target is missed, the number is reported as it is.

Amendment (made after the first full run, from the training cities' data, and recorded as
such): the ``p95`` tile score of the statistical methods saturates at the significance
cap (8, i.e. a chi-square CDF of 1 - 1e-8): 196 of the 902 training tiles (irmad) and 91
of the 368 validation tiles tie at the top, so their order, and P@k, came from the tile
keys (zone, column, row), not from the score. The first run picked irmad/p95 that way and
then scored P@10 1.00 on validation, which is an artifact of the key order. Precision at
k is now the expectation over every order of tied tiles (a tie group straddling rank k
contributes its share of changed tiles), for the selection and for the report; with it
the same three steps pick cva/changed on the training cities (irmad/p95 falls to 0.49),
which became the engine's default, and the validation scan was run once more with the
defaults. The first choice's validation numbers (key order and tie-aware) are kept in the
output, labelled as such. Nothing else changed: candidates, criterion, steps, tile size
and the change rule are as above.

Amendment 2 (third version; made before this version's validation scan, from training
cities only, and recorded as such). Why: cva/changed missed the target on validation
(P@5/10/20 0.60/0.40/0.35, base rate 0.24). Validation has now been looked at twice (the
first run's irmad/p95 and the amended cva/changed), so the number this version reports is
the third look at the same three cities and is less independent than a first one would
be; it is reported as such, and nothing from those two looks beyond the headline
precision was used (no validation image, label, feature or tile was read for this version).
What changed: one more candidate, ``cva/ranker``, the tile score
:mod:`sitewatch.analysis.tile_ranker` (a logistic model over twelve cheap tile features: changed
share, significance, NDVI/brightness/edge change of the changed pixels, greenness and
water of the tile, object size). It is fitted on the seven training cities
(``python -m sitewatch.scan.ranker_training``: the engine's 640 m tiles of the training AOI,
the change rule above), its feature set and L2 strength chosen by leave-one-city-out
cross-validation over those cities (criterion: mean over held-out cities of
mean(P@5, P@10, P@20); every configuration tried is in the model file and its card).
Because it is fitted on the training cities, its scan of them is in sample and is not
used to select it; the selection gains a step 4:

  4. if steps 1-3 chose cva/changed, cva/ranker replaces it when its leave-one-city-out
     criterion (the model file's chosen configuration) is strictly above that of
     ``changed`` in the same folds (also in the model file).

Result on the training cities (out of fold): 0.600 against 0.471 per held-out city;
pooled out-of-fold P@5/10/20 0.80/0.70/0.70 against 0.60/0.70/0.60. Its scan is the
engine default for CVA (:func:`sitewatch.scan.tile_scores.default_tile_score`; other methods
keep ``changed``). ``--train-only`` runs everything up to and including the selection
and stops before any validation city is ingested or scanned. Nothing else changed.

Amendment 3 (fourth version; made before this version's validation scan, from training
and unlabelled cities only, and recorded as such). Why: the L1C cloud test, which decides
the pixels a composite drops, flagged 15.1 % of the training cities' labelled change
pixels (new bright roofs and concrete) against 3.4 % of the others, so the change a scan
ranks by was partly invisible to it. The test now keeps only large bright groups with a
thick core, widened by their soft edge (:func:`sitewatch.analysis.masks.cloud_mask_l1c`;
parameters chosen on the 7 training and 14 unlabelled cities against s2cloudless,
``benchmarks/cloud_mask.py``: change pixels flagged 2.0 %, the one clouded OSCD date's
cumuli 97 %). The ranker was refitted by the same ``ranker_training`` on the new composites
(same candidates and criterion; chosen: all features, L2 0.001, per held-out city 0.640
against 0.536 for ``changed``; pooled out of fold P@5/10/20 0.80/0.70/0.70). This is the
fourth look at the three validation cities; nothing from the earlier looks beyond their
headline precision was used, and no validation image or label was read to make these
changes. Candidates, criterion, steps, tile size and the change rule are as above.

Also reported, labelled as superseded: the earlier pre-registered rule (64 px label-grid
tiles, siamese scored on the whole city with sitewatch.analysis, share of pixels above the
model card's threshold), re-run with the current weights. Its training-city selection was
in-sample for the siamese model, which is why it was replaced.

Caveat known when this protocol was written: the earlier version printed the validation
precision of every configuration of ITS scoring (whole-city fits, label-grid tiles), so
those numbers were public; this protocol fixes the choice by the training-only rule above
so that knowledge cannot steer it.

Run: .venv/bin/python benchmarks/scan_ranking.py [WORKSPACE] [--train-only]   (about 15-25
minutes on one core). With a WORKSPACE folder the scans are kept there and a second run
resumes them (the engine finds a finished scan by its id), which is how the defaults are
set from the training selection without scanning the training cities twice; without one a
temporary workspace is used. ``--train-only`` ingests and scans the training cities only.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from datetime import datetime  # noqa: E402
from importlib import resources  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from sqlalchemy import select  # noqa: E402

from measure import save_results  # noqa: E402
from ranking_measures import (  # noqa: E402
    KS,
    RankedTile,
    floors,
    held_out,
    precision,
    precision_by_key,
    top_ties,
)
from sitewatch.analysis.siamese import S2_10_BANDS, SiameseChange  # noqa: E402
from sitewatch.db.models import ScanTile  # noqa: E402
from sitewatch.ml.oscd import TRAIN_CITIES, VALIDATION_CITIES, load_city  # noqa: E402
from sitewatch.ml.training import HOLDOUT_FRACTION  # noqa: E402
from sitewatch.scan import tile_scores  # noqa: E402
from sitewatch.scan.plan import ScanRequest  # noqa: E402
from sitewatch.scan.ranker_training import (  # noqa: E402
    # The ranker was fitted under the same rules: one definition of tiles, windows, label.
    AFTER,
    BEFORE,
    MIN_CHANGE_PX,
    TILE_SIZE_M,
    CityLabels,
    city_dates,
    ingest_cities,
    write_aoi,
)
from sitewatch.scan.runner import prepare_scan, run_scan  # noqa: E402
from sitewatch.workspace import Workspace, init_workspace, open_workspace  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "oscd"
RESULTS = ROOT / "benchmarks" / "results" / "scan_ranking.json"
TRAIN_ONLY_RESULTS = ROOT / "benchmarks" / "results" / "scan_ranking_train_only.json"
UNSUPERVISED = ("irmad", "cva")
LEARNED = ("siamese",)
#: Candidate configurations in tie-break order (see the protocol).
CONFIGURATIONS = (
    ("irmad", "changed"),
    ("irmad", "p95"),
    ("cva", "changed"),
    ("cva", "p95"),
    ("siamese", "changed"),
    ("siamese", "p95"),
    ("cva", "ranker"),
)
#: Tile scores fitted on the training cities: their training scans are in sample, so
#: they are selected by their leave-one-city-out numbers (step 4), not by those scans.
FITTED = (("cva", "ranker"),)
SUPERSEDED_TILE_PX = 64


# ---------------------------------------------------------------- the workspace


def check_windows(cities: tuple[str, ...]) -> None:
    """Every city's first date in BEFORE and second in AFTER, or the scan would mix them."""
    windows = [tuple(datetime.fromisoformat(day) for day in w.split("/")) for w in (BEFORE, AFTER)]
    for city in cities:
        for when, (start, end) in zip(city_dates(DATA, city), windows, strict=True):
            if not start <= when <= end:
                raise SystemExit(
                    f"{city}: {when:%Y-%m-%d} is outside {start:%Y-%m-%d}/{end:%Y-%m-%d}"
                )


def holdout_from_row(city: CityLabels) -> int:
    """The first row of the city's held-out bottom rows (never seen by the siamese weights)."""
    rows = city.change.shape[0]
    return rows - round(rows * HOLDOUT_FRACTION)


# ---------------------------------------------------------------- scanning and ranking


def scan_and_rank(
    workspace: Workspace, client, aoi: Path, labels: list[CityLabels], **options
) -> tuple[list[RankedTile], dict[str, object]]:
    """Run one scan (engine defaults unless ``options`` say otherwise) and rank its tiles."""
    request = ScanRequest(
        aoi=str(aoi), before=BEFORE, after=AFTER, tile_size_m=TILE_SIZE_M, **options
    )
    started = time.perf_counter()
    plan = prepare_scan(workspace, request)
    outcome = run_scan(workspace, plan, client)
    seconds = time.perf_counter() - started
    tiles = {tile.key: tile for tile in plan.tiles}
    with workspace.session() as session:
        rows = session.execute(
            select(ScanTile.tile_key, ScanTile.score).where(
                ScanTile.scan_id == plan.scan_id, ScanTile.status == "done"
            )
        ).all()
    ranked = []
    for key, score in rows:
        change_px, held_out, covered = 0, True, False
        outline = tiles[key].lonlat_outline()
        for city in labels:
            inside = city.inside(outline)
            if inside is None:
                continue
            covered = True
            change_px += int(np.count_nonzero(city.change & inside))
            held_out &= bool(inside[: holdout_from_row(city)].sum() == 0)
        ranked.append(RankedTile(key, float(score), change_px, held_out and covered))
    ranked.sort(key=lambda tile: (-tile.score, tile.key))
    info = {
        "scan": plan.scan_id,
        "method": request.method,
        "tile_score": plan.settings.tile_score,
        "threshold": plan.settings.threshold,
        "bands": list(plan.settings.band_names),
        "tiles_by_status": outcome.summary["tiles_by_status"],
        "seconds": round(seconds, 1),
    }
    return ranked, info


def choose_configuration(
    train: dict[tuple[str, str], list[RankedTile]],
    measure: Callable[[list[RankedTile]], dict[str, float]] = precision,
) -> tuple[tuple[str, str], dict]:
    """The protocol's three steps, on training-city rankings only."""

    def mean_precision(ranked: list[RankedTile]) -> float:
        return float(np.mean(list(measure(ranked).values())))

    def best(configs: list[tuple[str, str]], subset) -> tuple[str, str]:
        return max(
            configs,
            key=lambda config: (mean_precision(subset(train[config])), -configs.index(config)),
        )

    unsupervised = [c for c in CONFIGURATIONS if c[0] in UNSUPERVISED and c not in FITTED]
    learned = [c for c in CONFIGURATIONS if c[0] in LEARNED]
    step1 = best(unsupervised, lambda ranked: ranked)
    step2 = best(learned, held_out)
    u_score, s_score = (
        mean_precision(held_out(train[step1])),
        mean_precision(held_out(train[step2])),
    )
    chosen = step2 if s_score > u_score else step1
    steps = {
        "1_unsupervised_on_all_training_tiles": "/".join(step1),
        "2_siamese_on_held_out_tiles": "/".join(step2),
        "3_held_out_mean_precision": {"/".join(step1): u_score, "/".join(step2): s_score},
        "chosen": "/".join(chosen),
    }
    return chosen, steps


def ranker_cross_validation() -> dict[str, object]:
    """The shipped ranker's leave-one-city-out numbers and its ``changed`` baseline, as
    ``python -m sitewatch.scan.ranker_training`` computed them on the training cities."""
    model = json.loads((resources.files("sitewatch") / "models" / "tile_ranker.json").read_text())
    training = model["training"]
    keep = ("per_city_criterion", "pooled_criterion", "pooled")
    return {
        "cities": training["cities"],
        "fitted": training["fitted"],
        "chosen": {
            "features": training["chosen"]["features"],
            "l2": training["chosen"]["l2"],
            **{key: training["chosen"][key] for key in keep},
        },
        "changed": {key: training["baseline_changed"][key] for key in keep},
    }


def ranker_step(chosen: tuple[str, str], cv: dict) -> tuple[tuple[str, str], dict]:
    """Step 4: cva/ranker replaces cva/changed when its out-of-fold criterion is higher."""
    ranker_score = cv["chosen"]["per_city_criterion"]
    changed_score = cv["changed"]["per_city_criterion"]
    replaced = chosen == ("cva", "changed") and ranker_score > changed_score
    step = {
        "4_ranker_leave_one_city_out": {"cva/ranker": ranker_score, "cva/changed": changed_score},
        "chosen": "cva/ranker" if replaced else "/".join(chosen),
    }
    return (("cva", "ranker") if replaced else chosen), step


# ---------------------------------------------------------------- the superseded rule


def superseded_rule(cities: tuple[str, ...]) -> dict[str, object]:
    """The earlier rule: label-grid 64 px tiles, whole-city siamese, share above threshold."""
    siamese = SiameseChange(S2_10_BANDS, threads=1)
    tiles: list[RankedTile] = []
    size = SUPERSEDED_TILE_PX
    for city in cities:
        before, after, label = load_city(city, S2_10_BANDS, DATA)
        result = siamese.score(before, after)
        label = np.asarray(label, bool)
        rows, cols = label.shape
        for row in range(0, rows - size + 1, size):
            for col in range(0, cols - size + 1, size):
                window = (slice(row, row + size), slice(col, col + size))
                valid = result.valid[window]
                if valid.mean() < 0.5:
                    continue
                share = float(np.mean(result.score[window][valid] >= siamese.threshold))
                tiles.append(
                    RankedTile(f"{city}_{row}_{col}", share, int(label[window].sum()), False)
                )
    tiles.sort(key=lambda tile: (-tile.score, tile.key))
    return {"precision": precision(tiles), **floors(tiles)}


# ---------------------------------------------------------------- main


def report_line(name: str, values: dict[str, float], extra: str = "") -> str:
    return f"  {name:<28}" + "".join(f"{values[f'p@{k}']:8.2f}" for k in KS) + extra


def print_training(
    train: dict[tuple[str, str], list[RankedTile]], chosen: tuple[str, str], ranker_cv: dict
) -> tuple[dict, dict]:
    """The training-city table (and its floors); fitted scores marked as in sample."""
    print("\ntraining cities (640 m tiles), all tiles | held-out tiles (bottom 20 % rows)")
    all_floor, held_floor = floors(train[chosen]), floors(held_out(train[chosen]))
    for (method, score), ranked in train.items():
        mark = " <- chosen" if (method, score) == chosen else ""
        sample = " (in sample: fitted on these cities)" if (method, score) in FITTED else ""
        print(
            report_line(f"{method}/{score}", precision(ranked), " |")
            + "".join(f"{v:8.2f}" for v in precision(held_out(ranked)).values())
            + mark
            + sample
        )
    for name, floor in (("all", all_floor), ("held out", held_floor)):
        print(
            f"  {name}: {floor['tiles']} tiles, {floor['tiles_with_change']} with change, "
            f"base rate {floor['base_rate']:.2f}"
        )
    print("leave one training city out (ranker_fit), criterion per city | pooled P@5 P@10 P@20")
    for name, row in (("cva/ranker", ranker_cv["chosen"]), ("cva/changed", ranker_cv["changed"])):
        print(
            f"  {name:<28}{row['per_city_criterion']:8.3f} |"
            + "".join(f"{v:8.2f}" for v in row["pooled"].values())
        )
    return all_floor, held_floor


def training_report(
    train: dict[tuple[str, str], list[RankedTile]],
    steps: dict,
    ranker_cv: dict,
    runs: dict,
    floors_: dict,
) -> dict:
    """The part of a report both modes share: the rules, the selection and every training
    configuration's precision (and, by tile key, the first run's measure)."""
    return {
        "windows": {"before": BEFORE, "after": AFTER},
        "tile_size_m": TILE_SIZE_M,
        "tile_contains_change": f">= {MIN_CHANGE_PX} labelled change pixels (10 m)",
        "precision": "expected P@k over every order of tied tile scores",
        "selection": steps,
        "ranker_cross_validation": ranker_cv,
        "train": {
            "/".join(config): {
                "in_sample": config in FITTED,
                "all": precision(ranked),
                "held_out": precision(held_out(ranked)),
                "ties_by_key": {
                    "all": precision_by_key(ranked),
                    "held_out": precision_by_key(held_out(ranked)),
                },
                "tiles_tied_at_top": top_ties(ranked),
                "run": runs["/".join(config)],
            }
            for config, ranked in train.items()
        },
        "train_floors": floors_,
    }


def report_training(
    train: dict[tuple[str, str], list[RankedTile]],
    chosen: tuple[str, str],
    steps: dict,
    ranker_cv: dict,
    runs: dict,
    started: float,
) -> None:
    """``--train-only``: the training table and selection, written apart from the full
    result so that it never stands in for a validation run."""
    all_floor, held_floor = print_training(train, chosen, ranker_cv)
    report = {
        "benchmark": "scan_ranking --train-only (no validation city read)",
        "cities": {"train": list(TRAIN_CITIES)},
        **training_report(
            train, steps, ranker_cv, runs, {"all": all_floor, "held_out": held_floor}
        ),
        "seconds": round(time.perf_counter() - started, 1),
    }
    save_results(TRAIN_ONLY_RESULTS, report)


def main() -> None:
    started = time.perf_counter()
    from distributed import Client

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", nargs="?", help="folder that keeps the scans (resume)")
    parser.add_argument(
        "--train-only",
        action="store_true",
        help="stop after the training-city selection: no validation city is read",
    )
    arguments = parser.parse_args()
    cities = TRAIN_CITIES if arguments.train_only else TRAIN_CITIES + VALIDATION_CITIES
    check_windows(cities)
    default_method = ScanRequest.__dataclass_fields__["method"].default
    with ExitStack() as stack:
        folder = Path(
            arguments.workspace
            or stack.enter_context(tempfile.TemporaryDirectory(prefix="scan-ranking-"))
        )
        if (folder / "ws").exists():
            workspace = stack.enter_context(open_workspace(folder / "ws"))
        else:
            folder.mkdir(parents=True, exist_ok=True)
            workspace = stack.enter_context(init_workspace(folder / "ws"))
        ingest_cities(workspace, DATA, cities)  # a scene already in the catalog is left as it is
        client = stack.enter_context(
            Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None)
        )
        train_aoi = write_aoi(DATA, TRAIN_CITIES, Path(folder) / "train.geojson")
        train_labels = [CityLabels.load(DATA, city) for city in TRAIN_CITIES]
        train: dict[tuple[str, str], list[RankedTile]] = {}
        runs = {}
        for method, score in CONFIGURATIONS:
            ranked, info = scan_and_rank(
                workspace, client, train_aoi, train_labels, method=method, tile_score=score
            )
            train[(method, score)] = ranked
            runs["/".join((method, score))] = info
            print(f"train {method}/{score}: {len(ranked)} tiles in {info['seconds']} s", flush=True)
        first, first_steps = choose_configuration(train, precision_by_key)
        chosen, steps = choose_configuration(train)
        ranker_cv = ranker_cross_validation()
        chosen, step4 = ranker_step(chosen, ranker_cv)
        steps.update(step4)
        print(f"chosen on the training cities: {'/'.join(chosen)}", flush=True)
        if arguments.train_only:
            report_training(train, chosen, steps, ranker_cv, runs, started)
            return
        engine_defaults = (
            default_method,
            tile_scores.default_tile_score(default_method, runs["/".join(chosen)]["bands"]),
        )
        if chosen != engine_defaults:
            print(
                f"the engine's defaults are {'/'.join(engine_defaults)}: make "
                f"{'/'.join(chosen)} the default, then run again (validation not scanned)"
            )
            sys.exit(1)
        validation_aoi = write_aoi(DATA, VALIDATION_CITIES, Path(folder) / "validation.geojson")
        validation_labels = [CityLabels.load(DATA, city) for city in VALIDATION_CITIES]
        validation, validation_run = scan_and_rank(
            workspace, client, validation_aoi, validation_labels
        )
        if (validation_run["method"], validation_run["tile_score"]) != chosen:
            raise SystemExit(
                f"the default scan ran {validation_run['method']}/{validation_run['tile_score']}"
                f", not {'/'.join(chosen)}: fix the engine's defaults (results not shown)"
            )
        first_validation, first_run = scan_and_rank(
            workspace,
            client,
            validation_aoi,
            validation_labels,
            method=first[0],
            tile_score=first[1],
        )
    superseded = superseded_rule(VALIDATION_CITIES)

    all_floor, held_floor = print_training(train, chosen, ranker_cv)
    valid_floor = floors(validation)
    print(
        f"\nVALIDATION pisa+rennes+saclay_e as one AOI: {valid_floor['tiles']} tiles, "
        f"{valid_floor['tiles_with_change']} with change, base rate {valid_floor['base_rate']:.2f}"
    )
    print(report_line(f"engine default {'/'.join(chosen)}", precision(validation)))
    print(
        report_line(f"first choice {'/'.join(first)}", precision(first_validation))
        + f"   ({top_ties(first_validation)} tiles tie at the top; by key: "
        + " ".join(f"{v:.2f}" for v in precision_by_key(first_validation).values())
        + ")"
    )
    random = valid_floor["random"]
    print(
        f"  {'random (mean±sd)':<28}"
        + "".join(f"{random[f'p@{k}']['mean']:5.2f}±{random[f'p@{k}']['sd']:.2f}" for k in KS)
    )
    print(
        report_line(
            "superseded rule (siamese)",
            superseded["precision"],
            f"   (label-grid tiles, base rate {superseded['base_rate']:.2f})",
        )
    )
    p10 = precision(validation)["p@10"]
    print(f"\ntarget P@10 >= 0.7: {'MET' if p10 >= 0.7 else 'NOT met'} ({p10:.2f})")

    report = {
        "benchmark": "scan_ranking",
        "through": "sitewatch.scan.runner (prepare_scan/run_scan, in-process Dask client)",
        "area": "OSCD validation cities pooled as one AOI (union of footprints)",
        "cities": {"train": list(TRAIN_CITIES), "validation": list(VALIDATION_CITIES)},
        **training_report(
            train, steps, ranker_cv, runs, {"all": all_floor, "held_out": held_floor}
        ),
        "first_selection_ties_by_key": first_steps,
        "validation": {"precision": precision(validation), **valid_floor, "run": validation_run},
        "validation_first_choice": {
            "note": "the first run's choice (ties broken by tile key); invalid, see docstring",
            "precision": precision(first_validation),
            "precision_ties_by_key": precision_by_key(first_validation),
            "tiles_tied_at_top": top_ties(first_validation),
            "run": first_run,
        },
        "target_p@10": 0.7,
        "target_met": bool(p10 >= 0.7),
        "superseded_rule": {
            "rule": "64 px label-grid tiles, whole-city siamese s2-10, share >= card threshold",
            "why_superseded": "chosen on training cities the siamese weights were trained on",
            "validation": superseded,
        },
        "seconds": round(time.perf_counter() - started, 1),
    }
    save_results(RESULTS, report)


if __name__ == "__main__":
    main()
