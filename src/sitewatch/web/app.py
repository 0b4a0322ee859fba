"""``create_app(workspace_root)``: the FastAPI application ``sitewatch serve`` runs."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from sitewatch import __version__
from sitewatch.limits import MAX_REQUEST_BYTES
from sitewatch.web.errors import install_error_handlers
from sitewatch.web.middleware import GuardRequests
from sitewatch.web.responses import SafeJSONResponse
from sitewatch.web.routes import (
    auth,
    declarations,
    home,
    ledger,
    maps,
    pages,
    reference,
    runs,
    scan_pages,
    scans,
    scenes,
    sites,
    tiles,
    users,
)
from sitewatch.workspace import open_workspace

#: The environment variable naming the workspace of ``sitewatch serve --workers N``: each
#: worker process builds its app from it (:func:`app_of_served_workspace`).
SERVED_WORKSPACE = "SITEWATCH_SERVED_WORKSPACE"


def app_of_served_workspace() -> FastAPI:
    """The app of one worker of ``sitewatch serve --workers N`` (uvicorn's factory)."""
    return create_app(Path(os.environ[SERVED_WORKSPACE]))


def create_app(workspace_root: Path) -> FastAPI:
    """The workbench over the workspace at ``workspace_root`` (its database must be at
    the current schema: ``sitewatch db upgrade``). SITEWATCH_DB_URL is honoured as by
    every command. The workspace is opened now, so a bad one fails before serving."""
    workspace = open_workspace(workspace_root)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        workspace.close()

    app = FastAPI(
        title="sitewatch",
        version=__version__,
        default_response_class=SafeJSONResponse,
        lifespan=lifespan,
        docs_url=None,  # served by routes/home.py behind a session, without a CDN
        redoc_url=None,
        openapi_url=None,
    )
    app.state.workspace = workspace
    install_error_handlers(app)
    app.add_middleware(GuardRequests, max_bytes=MAX_REQUEST_BYTES)
    for area in (
        home,
        auth,
        reference,
        sites,
        scenes,
        runs,
        scans,
        scan_pages,
        declarations,
        ledger,
        users,
        maps,
        pages,
        tiles,
    ):
        app.include_router(area.router)
    static = files("sitewatch.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app
