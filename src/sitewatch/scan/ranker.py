"""The tile ranker shipped with sitewatch (``sitewatch/models/tile_ranker.json``), loaded.

The model and the features it reads are arrays in, numbers out
(:mod:`sitewatch.analysis.tile_ranker`); this is the file side: where the fitted model is
read from, once per worker process.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

from sitewatch.analysis.tile_ranker import TileRanker
from sitewatch.errors import InputError

MODEL_FILE = "tile_ranker.json"


@lru_cache(maxsize=4)
def load_ranker(path: str | None = None) -> TileRanker:
    """The shipped model (``sitewatch/models/tile_ranker.json``) or the one at ``path``.

    Cached: a worker loads it once for all its tiles.
    """
    try:
        if path is None:
            text = (resources.files("sitewatch") / "models" / MODEL_FILE).read_text()
        else:
            text = Path(path).read_text()
        return TileRanker.from_dict(json.loads(text))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(
            f"cannot load the tile ranker: {error}", source=path or MODEL_FILE
        ) from None
