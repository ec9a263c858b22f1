"""Bearer-token protection of the ingress and the admin API (``--token`` or ``AGENTDUR_TOKEN``)."""

from __future__ import annotations

import hmac

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from .._http import HTTP_UNAUTHORIZED
from ._errors import error_response


class BearerAuth:
    """Rejects every HTTP request without ``Authorization: Bearer <token>`` with a 401.

    Args:
        app: the application to protect.
        token: the shared secret; compared in constant time.
        open_paths: paths answered without a token (the admin ``/health``).
        open_prefixes: paths under these are answered without a token too (the console's static
            files, ``/ui/...``: they hold no data, and the page asks for the token itself).
    """

    def __init__(
        self,
        app: ASGIApp,
        token: str,
        open_paths: frozenset[str] = frozenset(),
        open_prefixes: tuple[str, ...] = (),
    ) -> None:
        if not token:
            raise ValueError("the token must not be empty")
        self.app = app
        self.expected = f"Bearer {token}".encode()  # header bytes arrive latin-1 decoded
        self.open_paths = open_paths
        self.open_prefixes = open_prefixes

    def is_open(self, path: str) -> bool:
        """True for a path answered without a token."""
        return path in self.open_paths or any(path.startswith(prefix) for prefix in self.open_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.is_open(scope["path"]):
            given = Headers(scope=scope).get("authorization", "")
            if not hmac.compare_digest(given.encode("latin-1"), self.expected):
                message = "missing bearer token" if not given else "invalid bearer token"
                response = error_response(HTTP_UNAUTHORIZED, message, {"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
