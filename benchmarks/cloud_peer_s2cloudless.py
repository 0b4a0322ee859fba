"""Peer for benchmarks/cloud_mask.py: s2cloudless cloud probabilities of OSCD dates.

Runs in its own environment (``python3.11 -m venv /work/cloud-venv &&
/work/cloud-venv/bin/pip install -r benchmarks/cloud-peer-requirements.txt``; the LightGBM
model ships inside the package, nothing is downloaded at run time). It reads the ten bands
the model wants as the benchmark wrote them (``<in>/<scene>.npy``: uint16 reflectance
x 10000, 0 = nodata, (band, y, x) on the 10 m grid of ``sitewatch.ml.oscd.load_date``, in
the order of ``MODEL_BANDS``), so its probabilities line up with our masks and labels and
the OSCD reading is not restated here.

Writes ``<out>/<scene>.npy`` (uint8 probability x 250, 255 = nodata) for every scene
asked, and ``<out>/timing.json`` (seconds and megapixels of the model).

    /work/cloud-venv/bin/python benchmarks/cloud_peer_s2cloudless.py \
        --in /tmp/bands --out /tmp/peer beirut_imgs_1 beirut_imgs_2
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from s2cloudless import S2PixelCloudDetector

#: The bands of s2cloudless's model, in its order (the benchmark writes them so).
MODEL_BANDS = ("B01", "B02", "B04", "B05", "B08", "B8A", "B09", "B10", "B11", "B12")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--in", dest="bands", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("scenes", nargs="+", help="file stems in --in, e.g. beirut_imgs_1")
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    detector = S2PixelCloudDetector(threshold=0.4, average_over=None, dilation_size=None)
    seconds, megapixels = 0.0, 0.0
    for scene in options.scenes:
        raw = np.load(options.bands / f"{scene}.npy")
        if raw.shape[0] != len(MODEL_BANDS):
            raise SystemExit(f"{scene}: {raw.shape[0]} bands, the model wants {MODEL_BANDS}")
        nodata = (raw == 0).any(axis=0)
        reflectance = np.moveaxis(raw.astype(np.float32) / 10_000, 0, -1)[None]
        start = time.perf_counter()
        probability = detector.get_cloud_probability_maps(reflectance)[0]
        seconds += time.perf_counter() - start
        megapixels += probability.size / 1e6
        stored = np.round(probability * 250).astype(np.uint8)
        stored[nodata] = 255
        np.save(options.out / f"{scene}.npy", stored)
        print(f"{scene}: mean probability {probability[~nodata].mean():.3f}", flush=True)
    timing = {"seconds": seconds, "megapixels": megapixels}
    (options.out / "timing.json").write_text(json.dumps(timing) + "\n")


if __name__ == "__main__":
    main()
