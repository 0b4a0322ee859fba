"""Peer for benchmarks/cloud_mask.py: s2cloudless cloud probabilities of OSCD dates.

Runs in its own environment (``python3.11 -m venv /work/cloud-venv &&
/work/cloud-venv/bin/pip install -r benchmarks/cloud-peer-requirements.txt``; the LightGBM
model ships inside the package, nothing is downloaded at run time). It imports nothing
from sitewatch, so the OSCD reading is restated here: each of the ten bands the model
wants is warped bilinearly onto the 10 m grid of the city's first-date B02, the grid of
``sitewatch.ml.oscd.load_city``, so the probabilities line up with our masks and labels.

Writes ``<out>/<city>_<date>.npy`` (uint8 probability x 250, 255 = nodata) for every
city and date asked, and ``<out>/timing.json`` (seconds and megapixels of the model).

    /work/cloud-venv/bin/python benchmarks/cloud_peer_s2cloudless.py \
        --oscd ../shared/data/oscd --out /tmp/peer beirut:imgs_1 beirut:imgs_2
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from s2cloudless import S2PixelCloudDetector

MODEL_BANDS = ("B01", "B02", "B04", "B05", "B08", "B8A", "B09", "B10", "B11", "B12")
#: Never computed on: the lead's validation cities.
FORBIDDEN = ("pisa", "rennes", "saclay_e")


def band_on_grid(folder: Path, band: str, grid: rasterio.DatasetReader) -> np.ndarray:
    (path,) = sorted(folder.glob(f"*_{band}.tif"))
    with (
        rasterio.open(path) as source,
        WarpedVRT(
            source,
            crs=grid.crs,
            transform=grid.transform,
            width=grid.width,
            height=grid.height,
            resampling=Resampling.bilinear,
            src_nodata=0,
            nodata=0,
        ) as warped,
    ):
        return warped.read(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oscd", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("scenes", nargs="+", help="city:imgs_1 or city:imgs_2")
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    detector = S2PixelCloudDetector(threshold=0.4, average_over=None, dilation_size=None)
    seconds, megapixels = 0.0, 0.0
    for scene in options.scenes:
        city, date = scene.split(":")
        if city in FORBIDDEN:
            raise SystemExit(f"{city} is a validation city: refused")
        city_dir = options.oscd / "images" / city
        (grid_path,) = sorted((city_dir / "imgs_1").glob("*_B02.tif"))
        with rasterio.open(grid_path) as grid:
            raw = np.stack([band_on_grid(city_dir / date, band, grid) for band in MODEL_BANDS])
        nodata = (raw == 0).any(axis=0)
        reflectance = np.moveaxis(raw.astype(np.float32) / 10_000, 0, -1)[None]
        start = time.perf_counter()
        probability = detector.get_cloud_probability_maps(reflectance)[0]
        seconds += time.perf_counter() - start
        megapixels += probability.size / 1e6
        stored = np.round(probability * 250).astype(np.uint8)
        stored[nodata] = 255
        np.save(options.out / f"{city}_{date}.npy", stored)
        print(f"{city} {date}: mean probability {probability[~nodata].mean():.3f}", flush=True)
    timing = {"seconds": seconds, "megapixels": megapixels}
    (options.out / "timing.json").write_text(json.dumps(timing) + "\n")


if __name__ == "__main__":
    main()
