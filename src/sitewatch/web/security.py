"""Who is asking: the session cookie, the CSRF token of writes, roles, JSON-only bodies.

Every route but the sign-in form, ``/api/health`` (which says only "ok") and the static
files depends on :func:`signed_in`; every write also on :func:`csrf_checked`. The rules
themselves (sessions, roles, tokens) are the service layer's (:mod:`sitewatch.auth`).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request

from sitewatch.auth.sessions import csrf_matches, resolve_session
from sitewatch.auth.users import SignedIn, require_role
from sitewatch.errors import AccessDenied, InputError
from sitewatch.workspace import Workspace

SESSION_COOKIE = "sitewatch_session"
LOGIN_CSRF_COOKIE = "sitewatch_login_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class LoginRequired(Exception):
    """No valid session: 401 for the API, a redirect to the sign-in form for a page."""

    def __init__(self, *, page: bool = False) -> None:
        super().__init__("sign in first")
        self.page = page


def workspace(request: Request) -> Workspace:
    """The workspace this server was started on."""
    return request.app.state.workspace


def signed_in(request: Request) -> SignedIn:
    """The user whose session cookie came with the request, with their current role."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with workspace(request).session() as session:
            user = resolve_session(session, token)
        if user is not None:
            return user
    raise LoginRequired


def signed_in_page(request: Request) -> SignedIn:
    """:func:`signed_in` for an HTML page: without a session, off to the sign-in form."""
    try:
        return signed_in(request)
    except LoginRequired:
        raise LoginRequired(page=True) from None


async def csrf_checked(request: Request, user: SignedIn = Depends(signed_in)) -> SignedIn:
    """The user, if the write carries their session's CSRF token (header, or form field)."""
    presented = request.headers.get(CSRF_HEADER)
    if presented is None and request.headers.get("content-type", "").startswith(_FORM_TYPES):
        value = (await request.form()).get(CSRF_FIELD)
        presented = value if isinstance(value, str) else None
    if not csrf_matches(user, presented):
        raise AccessDenied(
            f"missing or wrong CSRF token: send the {CSRF_HEADER} header (from /api/me) "
            f"or the {CSRF_FIELD} form field"
        )
    return user


def needs_role(role: str, action: str) -> Callable[..., SignedIn]:
    """A dependency: the (CSRF-checked) user, if their role allows ``action``."""

    def allowed(user: SignedIn = Depends(csrf_checked)) -> SignedIn:
        require_role(user, role, action)
        return user

    return allowed


def reads_as(role: str, action: str) -> Callable[..., SignedIn]:
    """A dependency for reads reserved to a role (no CSRF token: a read changes nothing)."""

    def allowed(user: SignedIn = Depends(signed_in)) -> SignedIn:
        require_role(user, role, action)
        return user

    return allowed


def json_body(request: Request) -> None:
    """API writes take JSON only: a page on another site cannot send that without a CORS
    preflight, which this server never grants (a second wall behind the CSRF token)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise InputError("send the body as application/json", item="content-type")
