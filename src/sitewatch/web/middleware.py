"""Three guards around every request: a bounded body, the browser's security headers, and
a bug answered as a bare 500 (with those headers, the traceback only in the server log)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sitewatch.web.responses import SafeJSONResponse

#: What every answer tells the browser: no sniffing JSON as HTML, no framing (clickjacking),
#: scripts, styles and forms from this server only, no caching of private data, no referrer.
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    # img-src data: because Leaflet blanks a cancelled tile with a 1x1 data: GIF; an image
    # runs no code, and scripts, styles and connections stay limited to this server.
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"
    ),
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def _too_large(max_bytes: int) -> SafeJSONResponse:
    return SafeJSONResponse(
        {"error": f"the request body is larger than {max_bytes} bytes"}, status_code=413
    )


_LOG = logging.getLogger("sitewatch.web")


class GuardRequests:
    """Refuse a body over ``max_bytes`` (413) before it is read into memory: at once when
    its Content-Length says so, else as soon as the chunks received pass the bound; add
    :data:`SECURITY_HEADERS` to every response; answer an unexpected exception with a 500
    that says nothing of the code (Starlette's own answer to it would lack the headers)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send, started = _with_headers(send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _too_large(self.max_bytes)(scope, receive, send)
            return
        try:
            await self.app(scope, self._bounded(receive), send)
        except Exception:
            _LOG.exception("%s %s failed", scope.get("method"), scope.get("path"))
            if started():
                raise  # part of the answer is out: only closing the connection is left
            answer = SafeJSONResponse({"error": "internal error (see the server log)"}, 500)
            await answer(scope, receive, send)

    def _bounded(self, receive: Receive) -> Receive:
        received = 0

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(
                        413, f"the request body is larger than {self.max_bytes} bytes"
                    )
            return message

        return bounded_receive


def _with_headers(send: Send) -> tuple[Send, Callable[[], bool]]:
    """``send`` adding the security headers, and whether a response has been started."""
    started = False

    async def send_with_headers(message: Message) -> None:
        nonlocal started
        if message["type"] == "http.response.start":
            started = True
            present = {name.lower() for name, _ in message.get("headers", [])}
            extra = [
                (name.encode(), value.encode())
                for name, value in SECURITY_HEADERS.items()
                if name.encode() not in present
            ]
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return send_with_headers, lambda: started
