"""Map tiles: scenes' imagery and runs' change products, with their TileJSON metadata.

The routes are plain ``def``: rendering a tile is CPU and disk work, run in the server's
thread pool so that one slow tile never stalls the event loop. Ids only ever look up
catalog rows; the files opened are those rows name (:mod:`sitewatch.imagery.tiles`,
:mod:`sitewatch.detect.product_tiles`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from sitewatch.auth.users import SignedIn
from sitewatch.detect.product_tiles import product_layer, product_tilejson, render_product_tile
from sitewatch.imagery.tiles import render_scene_tile, scene_layer, scene_tilejson
from sitewatch.web.security import signed_in, workspace

router = APIRouter(tags=["tiles"])

#: A scene's or run's pixels do not change under its id (a file scene's id is the hash of
#: its files; a run is never rewritten), so a browser may keep a tile for a day; private:
#: only this signed-in browser, no shared cache.
TILE_CACHE = "private, max-age=86400"


def _png(content: bytes, acquired: str | None, sensor: str) -> Response:
    headers = {"cache-control": TILE_CACHE, "x-sitewatch-sensor": _header_text(sensor)}
    if acquired:
        headers["x-sitewatch-acquired"] = acquired
    return Response(content, media_type="image/png", headers=headers)


def _header_text(text: str) -> str:
    """Catalogued text as an HTTP header value: printable ASCII, anything else as ``?``."""
    return "".join(c if " " <= c <= "~" else "?" for c in text)


def _template(*parts: str, query: str | None = None) -> str:
    path = "/".join(quote(part, safe="") for part in parts)
    suffix = f"?{query}" if query else ""
    return f"/api/tiles/{path}/{{z}}/{{x}}/{{y}}.png{suffix}"


@router.get("/api/scenes/{scene_id}/tiles.json")
def scene_tiles_metadata(
    request: Request, scene_id: str, bands: str | None = None, _user: SignedIn = Depends(signed_in)
) -> dict[str, Any]:
    """TileJSON of the scene in ``bands`` (default true colour): bounds, zooms, date, sensor."""
    with workspace(request).session() as session:
        layer = scene_layer(session, scene_id, bands)
    query = "bands=" + quote(",".join(layer.bands), safe=",")
    return scene_tilejson(layer, _template("scenes", layer.scene_id, query=query))


@router.get("/api/tiles/scenes/{scene_id}/{z}/{x}/{y}.png")
def scene_tile(
    request: Request,
    scene_id: str,
    z: int,
    x: int,
    y: int,
    bands: str | None = None,
    _user: SignedIn = Depends(signed_in),
) -> Response:
    """A 256 px PNG of the scene; transparent outside it."""
    with workspace(request).session() as session:
        layer = scene_layer(session, scene_id, bands)
    return _png(render_scene_tile(layer, z, x, y), layer.acquired.isoformat(), layer.sensor)


@router.get("/api/runs/{run_id}/tiles.json")
def run_tiles_metadata(
    request: Request, run_id: str, product: str = "score", _user: SignedIn = Depends(signed_in)
) -> dict[str, Any]:
    """TileJSON of a run's ``score`` or ``mask``, with the dates compared and a legend."""
    with workspace(request).session() as session:
        layer = product_layer(session, run_id, product)
    return product_tilejson(layer, _template("runs", layer.run_id, layer.product))


@router.get("/api/tiles/runs/{run_id}/{product}/{z}/{x}/{y}.png")
def run_tile(
    request: Request,
    run_id: str,
    product: str,
    z: int,
    x: int,
    y: int,
    _user: SignedIn = Depends(signed_in),
) -> Response:
    """A 256 px PNG of the run's product; transparent outside it."""
    with workspace(request).session() as session:
        layer = product_layer(session, run_id, product)
    acquired = layer.after.isoformat() if layer.after else None
    return _png(render_product_tile(layer, z, x, y), acquired, layer.sensor)
