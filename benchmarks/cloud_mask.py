"""Cloud test for L1C: what it masks of new roofs and concrete, and of real clouds.

The L1C cloud test decides which pixels the change detectors never compare and which
pixels the scan's composites drop, so it has two ways to fail: masking bright new
roofs and concrete (the change analysts look for) and missing clouds. Both are measured
here on the OSCD cities we may use: the 7 training cities (change labels) and the 14
unlabelled ones, both dates each. The validation cities (pisa, rennes, saclay_e) are
never listed, opened or computed on.

Columns:
- ``previous``: the per-pixel bright/white test of the previous version (restated
  below as the baseline), ``current``: :func:`sitewatch.analysis.masks.cloud_mask_l1c`,
  both on B02, B03, B04, B08 and B10 as the change detector reads them.
- ``s2cloudless``: the peer, a published pixel classifier (LightGBM on 10 bands) run
  in its own environment by ``benchmarks/cloud_peer_s2cloudless.py`` when
  ``--peer-python`` is given; its cloud mask is its probability averaged over a disk of
  22 px above 0.4 (its own post-processing at the radius its authors give for 10 m,
  without the dilation). It is also the reference for cloud recall. Absent without the
  option (the recall columns are then absent too).

Per scene: share of valid pixels flagged, share of the peer's cloud pixels flagged
(recall), share of flagged pixels the peer calls clear. Per training city: share of
labelled change and no-change pixels flagged on either date. Cost: ms per megapixel
over every 512 x 512 window of every scene (the scan's tile), best of three passes.

Run (about 8 minutes with the peer, seconds without):
    .venv/bin/python benchmarks/cloud_mask.py --peer-python /work/cloud-venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from scipy import ndimage

from measure import machine, save_results
from sitewatch.analysis.masks import cloud_mask_l1c
from sitewatch.ml.oscd import (
    TRAIN_CITIES,
    VALIDATION_CITIES,
    city_grid,
    load_city,
    load_date,
    oscd_root,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "cloud_mask.json"
PEER_SCRIPT = ROOT / "benchmarks" / "cloud_peer_s2cloudless.py"
BANDS = ("B02", "B03", "B04", "B08", "B10")
DATES = ("imgs_1", "imgs_2")
#: The bands of s2cloudless's model, in its order.
PEER_BANDS = ("B01", "B02", "B04", "B05", "B08", "B8A", "B09", "B10", "B11", "B12")
PEER_RADIUS, PEER_THRESHOLD = 22, 0.4
WINDOW = 512

CloudTest = Callable[[np.ndarray, Sequence[str]], np.ndarray]


def previous_pixel_test(image: np.ndarray, band_names: Sequence[str]) -> np.ndarray:
    """The baseline: the previous version's test, pixel by pixel (B02/B03/B04, B10)."""
    blue, green, red, cirrus = (image[band_names.index(name)] for name in (*BANDS[:3], "B10"))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (blue + green + red) / 3
        spread = np.maximum(np.maximum(blue, green), red) - np.minimum(np.minimum(blue, green), red)
        return ((blue > 0.22) & (spread / mean < 0.25)) | (cirrus > 0.012)


TESTS: dict[str, CloudTest] = {"previous": previous_pixel_test, "current": cloud_mask_l1c}


def usable_cities(root: Path) -> list[str]:
    """Training and unlabelled cities: every image folder but the validation cities."""
    names = sorted(path.name for path in (root / "images").iterdir() if path.is_dir())
    return [name for name in names if name not in VALIDATION_CITIES]


def peer_masks(python: Path, root: Path, cities: list[str]) -> tuple[dict, dict]:
    """s2cloudless cloud masks per ``city:date`` and its timing, from its own environment.

    The ten bands its model wants are read here, by :func:`sitewatch.ml.oscd.load_date`
    (the grid and warping of every other column), and handed over as uint16 arrays."""
    with tempfile.TemporaryDirectory(prefix="sitewatch-cloudpeer-") as tmp:
        scenes = {f"{city}:{date}": f"{city}_{date}" for city in cities for date in DATES}
        for scene, stem in scenes.items():
            city, date = scene.split(":")
            city_dir = root / "images" / city
            reflectance = load_date(city_dir, date, PEER_BANDS, city_grid(city_dir))
            raw = np.round(np.nan_to_num(reflectance, nan=0.0) * 10_000).astype(np.uint16)
            np.save(Path(tmp) / f"{stem}.npy", raw)
        command = [str(python), str(PEER_SCRIPT), "--in", tmp, "--out", tmp + "/peer"]
        subprocess.run(
            [*command, *scenes.values()], check=True, cwd=ROOT, stdout=subprocess.DEVNULL
        )
        rows, cols = np.ogrid[-PEER_RADIUS : PEER_RADIUS + 1, -PEER_RADIUS : PEER_RADIUS + 1]
        disk = (rows**2 + cols**2 <= PEER_RADIUS**2).astype(np.float32)
        disk /= disk.sum()
        masks = {}
        for scene, stem in scenes.items():
            stored = np.load(Path(tmp) / "peer" / f"{stem}.npy")
            probability = np.where(stored == 255, 0, stored / 250).astype(np.float32)
            averaged = ndimage.convolve(probability, disk, mode="reflect")
            masks[scene] = averaged > PEER_THRESHOLD
        timing = json.loads((Path(tmp) / "peer" / "timing.json").read_text())
    return masks, timing


def cost_ms_per_megapixel(test: CloudTest, images: list[np.ndarray]) -> float:
    """Best of three passes over every 512 x 512 window of ``images``."""
    windows = [
        np.ascontiguousarray(image[:, top : top + WINDOW, left : left + WINDOW])
        for image in images
        for top in range(0, image.shape[1], WINDOW)
        for left in range(0, image.shape[2], WINDOW)
    ]
    megapixels = sum(window[0].size for window in windows) / 1e6
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for window in windows:
            test(window, BANDS)
        best = min(best, time.perf_counter() - start)
    return 1000 * best / megapixels


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-python", type=Path, help="python of the s2cloudless venv")
    parser.add_argument("--oscd", type=Path, help="OSCD folder (default ../shared/data/oscd)")
    options = parser.parse_args()
    root = oscd_root(options.oscd)
    cities = usable_cities(root)
    peer, peer_timing = ({}, None)
    if options.peer_python is not None:
        peer, peer_timing = peer_masks(options.peer_python, root, cities)
    names = [*TESTS, *(["s2cloudless"] if peer else [])]

    scenes: dict[str, dict] = {}
    labelled: dict[str, dict] = {}
    totals = {
        name: dict.fromkeys(("flagged", "valid", "hit", "change", "nochange"), 0) for name in names
    }
    totals_ref = {"peer": 0, "change": 0, "nochange": 0}
    images = []
    for city in cities:
        before, after, label = load_city(city, BANDS, root)
        union = {name: np.zeros(before.shape[1:], bool) for name in names}
        for date, image in zip(DATES, (before, after), strict=True):
            images.append(image)
            valid = np.isfinite(image).all(axis=0)
            reference = peer.get(f"{city}:{date}")
            row: dict[str, float | int | None] = {"valid_pixels": int(valid.sum())}
            if reference is not None:
                reference = reference & valid
                row["peer_cloud_pixels"] = int(reference.sum())
                totals_ref["peer"] += int(reference.sum())
            for name in names:
                flagged = (
                    reference if name == "s2cloudless" else TESTS[name](image, BANDS)
                ) & valid
                union[name] |= flagged
                totals[name]["flagged"] += int(flagged.sum())
                totals[name]["valid"] += int(valid.sum())
                row[f"{name}_flagged"] = share(int(flagged.sum()), int(valid.sum()))
                if reference is not None:
                    hit = int((flagged & reference).sum())
                    totals[name]["hit"] += hit
                    row[f"{name}_cloud_recall"] = share(hit, int(reference.sum()))
                    row[f"{name}_flagged_peer_clear"] = share(
                        int(flagged.sum()) - hit, int(flagged.sum())
                    )
            scenes[f"{city}:{date}"] = row
        if label is not None and city in TRAIN_CITIES:
            change, nochange = int(label.sum()), int((~label).sum())
            totals_ref["change"] += change
            totals_ref["nochange"] += nochange
            labelled[city] = {}
            for name in names:
                on_change = int((union[name] & label).sum())
                on_nochange = int((union[name] & ~label).sum())
                totals[name]["change"] += on_change
                totals[name]["nochange"] += on_nochange
                labelled[city][f"{name}_change_flagged"] = share(on_change, change)
                labelled[city][f"{name}_nochange_flagged"] = share(on_nochange, nochange)

    pooled = {}
    for name in names:
        count = totals[name]
        pooled[name] = {
            "flagged": share(count["flagged"], count["valid"]),
            "change_flagged": share(count["change"], totals_ref["change"]),
            "nochange_flagged": share(count["nochange"], totals_ref["nochange"]),
            "cloud_recall": share(count["hit"], totals_ref["peer"]) if peer else None,
            "flagged_peer_clear": share(count["flagged"] - count["hit"], count["flagged"])
            if peer
            else None,
        }
    for name in TESTS:
        pooled[name]["ms_per_megapixel"] = cost_ms_per_megapixel(TESTS[name], images)
    if peer_timing:
        pooled["s2cloudless"]["ms_per_megapixel"] = (
            1000 * peer_timing["seconds"] / peer_timing["megapixels"]
        )

    def percent(value: float | None) -> str:
        return "absent" if value is None else f"{100 * value:.2f}%"

    print(f"{len(cities)} cities ({len(labelled)} labelled), {len(scenes)} scenes")
    print(f"{'scene':22}" + "".join(f"{name + ' flagged':>22}{'recall':>9}" for name in names))
    for scene, row in scenes.items():
        cells = "".join(
            f"{percent(row[f'{name}_flagged']):>22}{percent(row.get(f'{name}_cloud_recall')):>9}"
            for name in names
        )
        print(f"{scene:22}{cells}")
    print(f"\n{'city':12}" + "".join(f"{name + ' change':>20}{'no-change':>11}" for name in names))
    for city, row in labelled.items():
        cells = "".join(
            f"{percent(row[f'{name}_change_flagged']):>20}"
            f"{percent(row[f'{name}_nochange_flagged']):>11}"
            for name in names
        )
        print(f"{city:12}{cells}")
    print(
        f"\n{'pooled':12}{'flagged':>10}{'change':>10}{'no-change':>11}{'recall':>10}"
        f"{'flag.clear':>11}{'ms/Mpx':>9}"
    )
    for name, row in pooled.items():
        cost = row.get("ms_per_megapixel")
        print(
            f"{name:12}{percent(row['flagged']):>10}{percent(row['change_flagged']):>10}"
            f"{percent(row['nochange_flagged']):>11}{percent(row['cloud_recall']):>10}"
            f"{percent(row['flagged_peer_clear']):>11}"
            f"{'absent' if cost is None else f'{cost:.1f}':>9}"
        )
    if not peer:
        print("s2cloudless peer absent (give --peer-python to run it)")
    report = {
        "benchmark": "cloud_mask",
        "machine": machine(),
        "bands": list(BANDS),
        "cities": cities,
        "peer": {
            "name": "s2cloudless",
            "mask": f"probability averaged over a {PEER_RADIUS} px disk > {PEER_THRESHOLD}",
            "present": bool(peer),
        },
        "pooled": pooled,
        "labelled_cities": labelled,
        "scenes": scenes,
    }
    save_results(RESULTS, report)


if __name__ == "__main__":
    sys.exit(main())
