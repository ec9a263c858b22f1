"""Restate's verb forms of the ingress URLs, and the workflow routes.

- ``/restate/call/{Service}[/{key}]/{handler}`` is ``/{Service}[/{key}]/{handler}``;
  ``/restate/send/...`` is the same path with ``/send`` appended (``?delay=`` included).
- ``GET /restate/workflow/{name}/{key}/attach|output``: the run of a workflow key.
- ``POST /restate/attach`` with ``{"target": "workflow", "workflowName", "workflowKey"}`` or
  ``{"target": "invocation", "invocationId"}``: attach as ``.../attach`` does.
"""

from __future__ import annotations

import json
from typing import Any

from .._exceptions import InvalidInputError
from .._service import App
from ._routes import SEND, Target, resolve_invocation_path

CALL = "call"
VERBS = (CALL, SEND)
BAD_VERB_PATH = (
    "bad path, expected /restate/call/{Service}/{handler}, /restate/call/{Object}/{key}/{handler} "
    "or the same after /restate/send/"
)
ATTACH_TARGETS = ("workflow", "invocation")


def resolve_verb_path(app: App, verb: str, rest: list[str]) -> Target:
    """The handler that ``/restate/{verb}/{rest...}`` names; ``send`` makes it a one-way send.

    Raises:
        InvalidInputError: the path has ``/send`` appended, or is of no known shape (400, as Restate).
        NotFoundError: unknown service or handler.
    """
    if not rest or rest[-1] == SEND or len(rest) > 3:
        raise InvalidInputError(BAD_VERB_PATH)
    target = resolve_invocation_path(app, rest)
    return Target(target.spec, target.key, send=verb == SEND)


def attach_request(body: bytes) -> tuple[str, str] | str:
    """What a ``POST /restate/attach`` body names: ``(workflow, key)`` or an invocation id.

    Raises:
        InvalidInputError: the body is not such an object (the message names the field).
    """
    data: Any = json.loads(body or b"null")
    if not isinstance(data, dict):
        raise InvalidInputError('the attach request must be a JSON object with a "target"')
    target = data.get("target")
    if target not in ATTACH_TARGETS:
        raise InvalidInputError(f"target: must be one of {', '.join(ATTACH_TARGETS)}, not {target!r}")
    if target == "invocation":
        return _text(data, "invocationId")
    return _text(data, "workflowName"), _text(data, "workflowKey")


def _text(data: dict[str, Any], field: str) -> str:
    value = data.get(field)
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"{field}: a non-empty string is required")
    return value
