"""JSON as every API route answers it: inert even where a browser mistakes it for HTML."""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import JSONResponse

#: Characters JSON may leave as they are, but that HTML (``<script>``, ``&``) or a
#: JavaScript string (the two line separators) would act on: written as ``\\uXXXX``
#: escapes, the same data for a JSON parser.
_HTML_ACTIVE = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


class SafeJSONResponse(JSONResponse):
    """UTF-8 JSON with HTML-active characters escaped; NaN and Infinity are refused (a
    bug, since every number accepted is bounded), never sent as invalid JSON."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, default=str)
        for character, escape in _HTML_ACTIVE.items():
            text = text.replace(character, escape)
        return text.encode("utf-8")
