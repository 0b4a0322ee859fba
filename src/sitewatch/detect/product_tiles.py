"""Web-map tiles of a detection run's change products: the score and the mask.

The files are those the run's row names (``DetectionRun.products``, relative to the
workspace folder); a path that would leave the workspace is refused rather than opened.
The score (a probability in 0..1) is drawn with a colour map, fixed so that one colour
means one score in every run; the mask is a semi-transparent red overlay of the changed
pixels, so the imagery below stays visible. Rendering and the empty tile are
:mod:`sitewatch.imagery.tiles`'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np
from rio_tiler.colormap import cmap
from rio_tiler.models import ImageData
from sqlalchemy.orm import Session

from sitewatch.db.models import Scene
from sitewatch.detect.runs import get_run
from sitewatch.errors import InputError, NotFoundError
from sitewatch.imagery.stack import AssetRead
from sitewatch.imagery.tiles import (
    PNG_OPTIONS,
    check_tile,
    credit_of,
    empty_tile,
    file_view,
    read_tile,
    sensor_of,
    tilejson,
)
from sitewatch.workspace import workspace_of

#: The products that are rasters, hence tiles.
TILED_PRODUCTS = ("score", "mask")
#: A perceptually uniform map, legible on imagery and to colour-blind readers.
SCORE_COLOURS = "inferno"
#: Changed pixels of the mask: red at 60 % opacity; unchanged pixels are not drawn.
MASK_COLOURS = {1: (255, 32, 32, 153)}


@dataclass(frozen=True)
class ProductLayer:
    """One raster product of a run, with the dates it compares, detached from the session."""

    run_id: str
    product: str
    href: str
    before: datetime | None
    after: datetime | None
    sensor: str
    attribution: str


def product_layer(session: Session, run_id: str, product: str) -> ProductLayer:
    """The ``product`` (score or mask) of run ``run_id``; NotFoundError for an unknown run or
    a run without that file, InputError for another product name."""
    if product not in TILED_PRODUCTS:
        raise InputError(
            f"{product!r} is not a tiled product (one of: {', '.join(TILED_PRODUCTS)})",
            item="product",
        )
    run = get_run(session, run_id)
    relative = run.products.get(product)
    if not relative:
        raise NotFoundError(f"detection run {run_id!r} has no {product} product")
    root = workspace_of(session).root.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise InputError("names a product outside the workspace", item=f"run {run_id}")
    before = session.get(Scene, run.before_scene_id) if run.before_scene_id else None
    after = session.get(Scene, run.after_scene_id) if run.after_scene_id else None
    return ProductLayer(
        run_id=run.id,
        product=product,
        href=str(path),
        before=before.datetime if before else None,
        after=after.datetime if after else None,
        sensor=sensor_of(after.platform, after.instrument) if after else "unknown",
        attribution=credit_of(after.id, after.platform) if after else f"run {run.id}",
    )


def render_product_tile(layer: ProductLayer, z: int, x: int, y: int) -> bytes:
    """The PNG of tile ``z/x/y`` of the product: coloured score, or red changed pixels."""
    check_tile(z, x, y)
    read = AssetRead(layer.href, None, (1,), (0,))
    resampling = "bilinear" if layer.product == "score" else "nearest"
    image = read_tile((read,), 1, z, x, y, f"run {layer.run_id}", resampling)
    if image is None:
        return empty_tile()
    if layer.product == "score":
        scaled = image.rescale(in_range=[(0.0, 1.0)])
        return scaled.render(img_format="PNG", colormap=_score_colours(), **PNG_OPTIONS)
    changed = np.where(image.array.filled(0) == 1, 1, 0).astype(np.uint8)
    mask = np.broadcast_to(np.ma.getmaskarray(image.array), changed.shape)
    overlay = ImageData(np.ma.MaskedArray(changed, mask=mask))
    return overlay.render(img_format="PNG", colormap=MASK_COLOURS, **PNG_OPTIONS)


@lru_cache(maxsize=1)
def _score_colours() -> dict[int, tuple[int, int, int, int]]:
    return cmap.get(SCORE_COLOURS)


def product_tilejson(layer: ProductLayer, tiles_url: str) -> dict[str, Any]:
    """The metadata of the product's tiles; ``tiles_url``: the ``.../{z}/{x}/{y}.png`` template."""
    bounds, zooms = file_view(layer.href, f"run {layer.run_id}")
    return tilejson(
        tiles_url,
        bounds,
        zooms,
        name=f"run {layer.run_id} {layer.product}",
        run_id=layer.run_id,
        product=layer.product,
        acquired=layer.after.isoformat() if layer.after else None,
        before=layer.before.isoformat() if layer.before else None,
        sensor=layer.sensor,
        attribution=layer.attribution,
        legend=_legend(layer.product),
    )


def _legend(product: str) -> dict[str, Any]:
    """What the colours mean, for a viewer's legend."""
    if product == "score":
        return {"colormap": SCORE_COLOURS, "range": [0.0, 1.0], "meaning": "change score"}
    red, green, blue, alpha = MASK_COLOURS[1]
    return {"changed": f"rgba({red},{green},{blue},{alpha / 255:.2f})", "meaning": "changed"}
