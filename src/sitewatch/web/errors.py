"""Service errors as HTTP answers: one status per error class, the message as JSON."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from sitewatch.errors import (
    AccessDenied,
    ConflictError,
    EnvironmentProblem,
    InputError,
    LoginRefused,
    NotFoundError,
    SitewatchError,
    VerificationFailed,
)
from sitewatch.web.responses import SafeJSONResponse
from sitewatch.web.security import LoginRequired

#: Most specific first: LoginRefused is an AccessDenied.
STATUS = (
    (LoginRefused, 401),
    (AccessDenied, 403),
    (InputError, 400),
    (NotFoundError, 404),
    (ConflictError, 409),
    (VerificationFailed, 409),
    (EnvironmentProblem, 503),
)
#: The workspace itself cannot be used (schema, database): the server's problem.
OTHER_STATUS = 503


def status_of(error: SitewatchError) -> int:
    """The HTTP status that says what an error class says."""
    return next((status for kind, status in STATUS if isinstance(error, kind)), OTHER_STATUS)


def error_response(message: str, status: int) -> SafeJSONResponse:
    return SafeJSONResponse({"error": message}, status_code=status)


async def _service_error(_request: Request, error: Exception) -> Response:
    assert isinstance(error, SitewatchError)
    return error_response(str(error), status_of(error))


async def _login_required(_request: Request, error: Exception) -> Response:
    assert isinstance(error, LoginRequired)
    if error.page:
        return RedirectResponse("/login", status_code=303)
    return error_response("sign in first (POST /api/login)", 401)


async def _invalid_request(_request: Request, error: Exception) -> Response:
    """A request the routes' types refuse, as one line naming the first field at fault."""
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0] if error.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    return error_response(f"{where}: {first.get('msg', 'invalid request')}", 400)


async def _http_error(_request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    return error_response(str(error.detail), error.status_code)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SitewatchError, _service_error)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
