"""The web console at ``/ui`` on the admin port, and the admin endpoints only it needs.

The console is static HTML, CSS and JavaScript shipped in the package (``agentdur/server/console``),
with no build step and nothing fetched from elsewhere: the page reads the admin API with ``fetch``.
Its files are served without a token (they hold no data); every API request the page makes carries
the token the user typed into its login prompt, kept in the browser's ``sessionStorage``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from .._exceptions import InvalidInputError
from .._http import HTTP_ACCEPTED, HTTP_SERVICE_UNAVAILABLE
from ._body import read_body, require_json
from ._json import SafeJSONResponse, parse_json
from ._params import awakeable_id as check_awakeable_id
from ._state import ServerState

STATIC = Path(__file__).resolve().parent / "console"
UI_PATH = "/ui"
MAX_KEYS = 1000
DEFAULT_REJECT_REASON = "rejected"


class ConsoleApi:
    """Admin endpoints the console uses besides the ones every client has."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    def _refuse_when_closing(self) -> None:
        if self.state.closing:
            raise HTTPException(HTTP_SERVICE_UNAVAILABLE, "the server is shutting down")

    async def _json(self, request: Request) -> Any:
        require_json(request)
        return parse_json(await read_body(request, self.state.max_body))

    async def resolve(self, request: Request) -> Response:
        """``POST /awakeables/{id}/resolve``: the JSON body is the value (checked against its schema)."""
        awakeable_id = check_awakeable_id(request.path_params["id"])
        value = await self._json(request)
        self._refuse_when_closing()
        await self.state.engine.resolve_awakeable(awakeable_id, value)
        return SafeJSONResponse(
            {"awakeableId": awakeable_id, "status": "Resolved"}, status_code=HTTP_ACCEPTED
        )

    async def reject(self, request: Request) -> Response:
        """``POST /awakeables/{id}/reject`` with ``{"reason": "..."}`` (optional): the waiting handler
        gets a TerminalError with that reason."""
        awakeable_id = check_awakeable_id(request.path_params["id"])
        body = await self._json(request)
        if body is None:
            body = {}
        if not isinstance(body, dict) or not isinstance(body.get("reason", ""), str):
            raise InvalidInputError('reason: send {"reason": "<text>"} (a string), or no body')
        reason = body.get("reason", "").strip() or DEFAULT_REJECT_REASON
        self._refuse_when_closing()
        await self.state.engine.reject_awakeable(awakeable_id, reason)
        return SafeJSONResponse(
            {"awakeableId": awakeable_id, "status": "Rejected"}, status_code=HTTP_ACCEPTED
        )

    async def keys(self, request: Request) -> Response:
        """``GET /state/{service}``: the keys of a virtual object."""
        service = request.path_params["service"]
        keys = await self.state.engine.object_keys(service, MAX_KEYS)
        return SafeJSONResponse({"service": service, "keys": keys})

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/awakeables/{id}/resolve", self.resolve, methods=["POST"]),
            Route("/awakeables/{id}/reject", self.reject, methods=["POST"]),
            Route("/state/{service}", self.keys, methods=["GET"]),
            Route(UI_PATH, _to_index, methods=["GET"]),
            Mount(UI_PATH, StaticFiles(directory=STATIC, html=True), name="console"),
        ]


async def _to_index(request: Request) -> Response:
    return RedirectResponse(f"{UI_PATH}/", status_code=308)
