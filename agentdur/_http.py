"""The HTTP vocabulary shared by the server, the client, the CLI and the Restate adapter.

Ports, default URLs, header names and status codes are Restate's, so that the same client and CLI
talk to ``agentdur serve`` and to a real Restate server. This module imports nothing of agentdur:
the status-to-exception mapping built on it is :func:`agentdur._exceptions.error_for_status`.
"""

from __future__ import annotations

LOCALHOST = "127.0.0.1"
DEFAULT_INGRESS_PORT = 8080
DEFAULT_ADMIN_PORT = 9070
# Where a Restate deployment (``agentdur serve --backend restate``) serves the handlers to restate-server.
DEFAULT_DEPLOYMENT_PORT = 9080
DEFAULT_INGRESS_URL = f"http://{LOCALHOST}:{DEFAULT_INGRESS_PORT}"
DEFAULT_ADMIN_URL = f"http://{LOCALHOST}:{DEFAULT_ADMIN_PORT}"

IDEMPOTENCY_KEY_HEADER = "idempotency-key"
INVOCATION_ID_HEADER = "x-restate-id"

HTTP_OK = 200
HTTP_ACCEPTED = 202
HTTP_BAD_REQUEST = 400
HTTP_UNAUTHORIZED = 401
HTTP_FORBIDDEN = 403
HTTP_NOT_FOUND = 404
HTTP_METHOD_NOT_ALLOWED = 405
HTTP_CONFLICT = 409
HTTP_CONTENT_TOO_LARGE = 413
HTTP_UNSUPPORTED_MEDIA_TYPE = 415
# Restate's answer to ``GET /restate/invocation/{id}/output`` while the invocation has not finished.
HTTP_NOT_READY = 470
HTTP_INTERNAL_ERROR = 500
HTTP_SERVICE_UNAVAILABLE = 503
# Every status from the first to the last error code is a failure.
FIRST_HTTP_ERROR = HTTP_BAD_REQUEST
LAST_HTTP_ERROR = 599

# The code of a cancelled invocation's failure, on both engines and over HTTP.
CANCELLED_CODE = HTTP_CONFLICT
# The exact wordings of a real cancellation: the embedded engine's, restate-sdk's (raised at the
# await that meets the cancel signal) and restate-server's (an invocation cancelled before it ran).
CANCELLED_MESSAGE = "the invocation was cancelled"
RESTATE_CANCELLED_MESSAGE = "cancelled"
RESTATE_SERVER_CANCELLED_MESSAGE = "canceled"
CANCELLED_MESSAGES = frozenset(
    {CANCELLED_MESSAGE, RESTATE_CANCELLED_MESSAGE, RESTATE_SERVER_CANCELLED_MESSAGE}
)


def is_cancellation(code: int, message: str) -> bool:
    """Whether a failure that carries no journaled cancellation flag is a real cancellation.

    Only the exact code and one of the exact wordings count: a handler's own
    ``TerminalError("cannot cancel order", 409)`` is a conflict, not a cancellation.
    """
    return code == CANCELLED_CODE and message in CANCELLED_MESSAGES
