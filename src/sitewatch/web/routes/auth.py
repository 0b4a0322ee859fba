"""Signing in and out: the form, the JSON API, and who am I.

The form is protected from login CSRF by a double-submit token: ``GET /login`` puts a
random token in a SameSite=Strict cookie and in the form, and ``POST /login`` accepts only
the two together (another site can neither read nor set that cookie). ``POST /api/login``
takes JSON only, which another site cannot send without a CORS preflight.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict

from sitewatch.auth.sessions import SESSION_LIFETIME, NewSession, close_session, open_session
from sitewatch.auth.users import SignedIn, authenticate
from sitewatch.errors import LoginRefused
from sitewatch.web.pages import render
from sitewatch.web.responses import SafeJSONResponse
from sitewatch.web.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    csrf_checked,
    json_body,
    signed_in,
    workspace,
)

router = APIRouter(tags=["sign-in"])


def _sign_in(request: Request, name: str, password: str) -> NewSession:
    """Check the password (counting failures) and open a session, or LoginRefused."""
    user = authenticate(workspace(request), name, password)
    with workspace(request).session() as session:
        return open_session(session, user)


def _set_session_cookie(request: Request, response: Response, new: NewSession) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        new.token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def _me(user: SignedIn) -> dict[str, Any]:
    return {"name": user.name, "role": user.role, "csrf_token": user.csrf_token}


def _login_form(message: str = "", status_code: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = render("login.html", status_code, csrf_token=token, message=message)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return response


@router.get("/login", include_in_schema=False)
def login_page() -> Response:
    """The sign-in form."""
    return _login_form()


@router.post("/login", include_in_schema=False)
def login_form(
    request: Request,
    name: str = Form(..., max_length=100),
    password: str = Form(..., max_length=1024),
    csrf_token: str = Form(..., max_length=100),
) -> Response:
    """Sign in from the form: to the home page, or the form again with the reason."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not (cookie and hmac.compare_digest(cookie.encode(), csrf_token.encode())):
        return _login_form("the form expired; sign in again", 403)
    try:
        new = _sign_in(request, name, password)
    except LoginRefused as refused:
        return _login_form(str(refused), 401)
    response = RedirectResponse("/", status_code=303)
    _set_session_cookie(request, response, new)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    password: str


@router.post("/api/login", dependencies=[Depends(json_body)])
def login_api(request: Request, login: LoginIn) -> Response:
    """Sign in; the answer holds the CSRF token every write must send as X-CSRF-Token."""
    new = _sign_in(request, login.name, login.password)
    response = SafeJSONResponse(_me(new.user))
    _set_session_cookie(request, response, new)
    return response


@router.get("/api/me")
def me(user: SignedIn = Depends(signed_in)) -> dict[str, Any]:
    """The signed-in user, their role and their session's CSRF token."""
    return _me(user)


def _sign_out(request: Request, response: Response) -> Response:
    with workspace(request).session() as session:
        close_session(session, request.cookies.get(SESSION_COOKIE, ""))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/api/logout")
def logout_api(request: Request, _user: SignedIn = Depends(csrf_checked)) -> Response:
    """End this session."""
    return _sign_out(request, SafeJSONResponse({"signed_out": True}))


@router.post("/logout", include_in_schema=False)
def logout_form(request: Request, _user: SignedIn = Depends(csrf_checked)) -> Response:
    """End this session from the page's form."""
    return _sign_out(request, RedirectResponse("/login", status_code=303))
