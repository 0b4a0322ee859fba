"""The home page, the API's description (offline), and the readiness probe."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from sitewatch.auth.users import SignedIn
from sitewatch.catalog.sites import count_sites, list_sites, to_record
from sitewatch.limits import DEFAULT_PAGE_ROWS
from sitewatch.web.pages import render
from sitewatch.web.security import signed_in, signed_in_page, workspace

router = APIRouter()


@router.get("/api/health", tags=["server"])
def health() -> dict[str, str]:
    """Whether the server answers (no session needed; it tells nothing else)."""
    return {"status": "ok"}


@router.get("/", include_in_schema=False)
def home(request: Request, user: SignedIn = Depends(signed_in_page)) -> Response:
    """Who is signed in, and the first page of the catalog."""
    with workspace(request).session() as session:
        sites = [to_record(s).as_dict() for s in list_sites(session, limit=DEFAULT_PAGE_ROWS)]
        total = count_sites(session)
    return render("home.html", user=user, sites=sites, total=total)


@router.get("/api/openapi.json", include_in_schema=False)
def openapi(request: Request, _user: SignedIn = Depends(signed_in)) -> dict[str, Any]:
    """The OpenAPI description of the JSON API."""
    return request.app.openapi()


@router.get("/api/docs", include_in_schema=False)
def docs(request: Request, user: SignedIn = Depends(signed_in_page)) -> Response:
    """The API's routes as a plain page, rendered here from the OpenAPI description: it
    works offline and loads no script (Swagger UI would fetch its code from a CDN)."""
    spec = request.app.openapi()
    routes = [
        {
            "method": method.upper(),
            "path": path,
            "summary": operation.get("summary", ""),
            "description": operation.get("description", ""),
            "parameters": [p["name"] for p in operation.get("parameters", [])],
        }
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
    ]
    return render("docs.html", user=user, routes=routes, title=spec["info"]["title"])
