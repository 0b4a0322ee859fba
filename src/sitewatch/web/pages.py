"""HTML pages: Jinja2 templates shipped in the package, every value escaped."""

from __future__ import annotations

from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader

_TEMPLATES = Environment(loader=PackageLoader("sitewatch.web", "templates"), autoescape=True)


def render(template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    """The page ``template`` filled with ``values`` (HTML-escaped: a site named
    ``<script>`` shows as text)."""
    return HTMLResponse(_TEMPLATES.get_template(template).render(**values), status_code)
