"""Every error the server returns is JSON ``{"message": ..., "code": ...}``; none carries a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._exceptions import (
    InvocationPausedError,
    StoreWriteError,
    TerminalError,
    UserError,
)
from .._http import (
    FIRST_HTTP_ERROR,
    HTTP_INTERNAL_ERROR,
    HTTP_METHOD_NOT_ALLOWED,
    HTTP_NOT_FOUND,
    HTTP_SERVICE_UNAVAILABLE,
    LAST_HTTP_ERROR,
)
from ._json import SafeJSONResponse

log = logging.getLogger("agentdur.server")

GENERIC_FAILURE = "internal server error; the details are in the server log"


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> SafeJSONResponse:
    """The JSON error body every failure of the server uses."""
    return SafeJSONResponse({"message": message, "code": status}, status_code=status, headers=headers)


def terminal_error_response(
    error: TerminalError, headers: Mapping[str, str] | None = None
) -> SafeJSONResponse:
    """A handler's or the engine's terminal failure: its code becomes the HTTP status when it is one."""
    # Any other code of a TerminalError is answered with a 500 (the body still carries it).
    in_range = FIRST_HTTP_ERROR <= error.status_code <= LAST_HTTP_ERROR
    status = error.status_code if in_range else HTTP_INTERNAL_ERROR
    return SafeJSONResponse(error.to_json(), status_code=status, headers=headers)


def paused_response(
    error: InvocationPausedError, headers: Mapping[str, str] | None = None
) -> SafeJSONResponse:
    """A caller's answer when the invocation it waits for paused: 500, naming it and how to resume."""
    body = {
        "message": str(error),
        "code": HTTP_INTERNAL_ERROR,
        "invocationId": error.invocation_id,
        "status": "paused",
        "reason": error.reason,
    }
    return SafeJSONResponse(body, status_code=HTTP_INTERNAL_ERROR, headers=headers)


def method_not_allowed(method: str, allowed: tuple[str, ...]) -> HTTPException:
    """A 405 naming the methods the route accepts (and listing them in ``Allow``)."""
    return HTTPException(
        HTTP_METHOD_NOT_ALLOWED,
        f"method {method} is not allowed here; use {' or '.join(allowed)}",
        headers={"Allow": ", ".join(allowed)},
    )


async def on_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's routing errors (404, 405) and ours (413, 415, ...) as JSON."""
    assert isinstance(exc, HTTPException)
    message = exc.detail
    if exc.status_code == HTTP_NOT_FOUND and message == "Not Found":
        message = f"no route for {request.method} {request.url.path}"
    elif exc.status_code == HTTP_METHOD_NOT_ALLOWED and message == "Method Not Allowed":
        message = f"method {request.method} is not allowed on {request.url.path}"
    return error_response(exc.status_code, message, exc.headers)


async def on_terminal_error(request: Request, exc: Exception) -> Response:
    """A TerminalError raised while serving a request: bad input, unknown target, conflict."""
    assert isinstance(exc, TerminalError)
    return terminal_error_response(exc)


async def on_user_error(request: Request, exc: Exception) -> Response:
    """The engine refused to work (it is closed: the server is shutting down)."""
    return error_response(HTTP_SERVICE_UNAVAILABLE, f"unavailable: {exc}")


async def on_store_write_error(request: Request, exc: Exception) -> Response:
    """The engine could not write its journal: nothing of the request was recorded; try again later."""
    return error_response(HTTP_SERVICE_UNAVAILABLE, str(exc))


async def on_paused(request: Request, exc: Exception) -> Response:
    """An invocation a request waited for paused (wherever the wait happened)."""
    assert isinstance(exc, InvocationPausedError)
    return paused_response(exc)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    HTTPException: on_http_exception,
    TerminalError: on_terminal_error,
    InvocationPausedError: on_paused,
    UserError: on_user_error,
    StoreWriteError: on_store_write_error,
}


def health_response(reason: str | None) -> SafeJSONResponse:
    """``{"status": "ok"}``, or a 503 naming ``reason`` while the engine cannot write its journal."""
    if reason is None:
        return SafeJSONResponse({"status": "ok"})
    return SafeJSONResponse({"status": "unhealthy", "reason": reason}, status_code=HTTP_SERVICE_UNAVAILABLE)


class CatchAll:
    """Turns an unexpected exception into a generic 500 JSON body; the traceback goes to the log only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            # Nobody is left to answer: one line, no traceback (a client giving up is not a server error).
            log.info(
                "client disconnected before sending the whole body: %s %s",
                scope.get("method"),
                scope.get("path"),
            )
        except Exception:
            log.exception("unexpected error serving %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await error_response(HTTP_INTERNAL_ERROR, GENERIC_FAILURE)(scope, receive, send)
