"""The ingress: Restate's invocation URLs in front of the embedded engine (port 8080 by default).

- ``POST /{Service}/{handler}``, ``POST /{Object}/{key}/{handler}``: JSON in, the JSON result out
  (shared object handlers also answer ``GET``); a terminal failure answers with its code.
- ``.../send`` (``?delay=10s``): 202 ``{"invocationId": ..., "status": "Accepted"}``.
- ``GET /restate/invocation/{id}/attach|output`` and the idempotency-key forms of both.
- ``GET /restate/invocation/{id}/stream``: the live output as Server-Sent Events (agentdur's own).
- A caller whose invocation pauses gets 500 ``{"status": "paused", "invocationId": ...}`` with the
  reason and how to resume, instead of waiting forever.
- ``POST /restate/awakeables/{id}/resolve`` (JSON body) and ``/reject`` (text body).
- ``/restate/call/...``, ``/restate/send/...`` and the workflow routes (see :mod:`._verbs`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._exceptions import InvalidInputError, InvocationPausedError, StoreWriteError, TerminalError, UserError
from .._http import (
    HTTP_ACCEPTED,
    HTTP_CONFLICT,
    HTTP_NOT_READY,
    HTTP_SERVICE_UNAVAILABLE,
    IDEMPOTENCY_KEY_HEADER,
    INVOCATION_ID_HEADER,
)
from .._spans import TRACEPARENT, set_ingress_parent
from .._workflow import WORKFLOW_ALREADY_INVOKED
from ._body import check_json, read_body, read_text, require_json, require_text
from ._durations import parse_delay
from ._errors import (
    EXCEPTION_HANDLERS,
    CatchAll,
    error_response,
    health_response,
    method_not_allowed,
    paused_response,
    terminal_error_response,
)
from ._json import SafeJSONResponse
from ._params import any_character, invocation_id, single
from ._params import awakeable_id as check_awakeable_id
from ._routes import Target, no_route, path_segments, resolve_idempotent_path, resolve_invocation_path
from ._state import ServerState
from ._stream import stream_invocation
from ._verbs import attach_request, resolve_verb_path

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
SHUTTING_DOWN = "the server is shutting down; the invocation continues when it restarts"


class Ingress:
    """The request handlers of the ingress, bound to one :class:`ServerState`."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    async def dispatch(self, request: Request) -> Response:
        """Route by path: Restate's ``/restate/...`` API, else a handler invocation."""
        segments = path_segments(request)
        if segments[:1] == ["restate"]:
            return await self.restate_api(request, segments)
        return await self.invoke(request, resolve_invocation_path(self.state.engine.app, segments))

    # ------------------------------------------------------------------ invoking

    async def invoke(self, request: Request, target: Target) -> Response:
        """Call a handler and answer its result, or send to it and answer 202."""
        allowed = ("GET", "POST") if target.spec.kind == "shared" and not target.send else ("POST",)
        if request.method not in allowed:
            raise method_not_allowed(request.method, allowed)
        delay_text = single(request.query_params, "delay")
        if delay_text is not None and not target.send:
            raise InvalidInputError("delay is only allowed on /send: a call cannot wait before it starts")
        delay = parse_delay(delay_text) if delay_text is not None else None
        body = await self.json_body(request) if request.method == "POST" else b"null"
        idempotency_key = request.headers.get(IDEMPOTENCY_KEY_HEADER) or None
        self.refuse_when_closing()
        # A W3C traceparent makes the invocation's spans join the caller's trace.
        set_ingress_parent(request.headers.get(TRACEPARENT))
        spec, key = target.spec, target.key
        if spec.kind == "workflow" and not target.send:
            return await self.run_workflow(spec.service, spec.name, key, body, idempotency_key)
        if target.send:
            inv_id, created = await self.state.engine.submit(
                spec.service, spec.name, body, key=key, idempotency_key=idempotency_key, delay=delay
            )
            status = "Accepted" if created else "PreviouslyAccepted"
            return SafeJSONResponse(
                {"invocationId": inv_id, "status": status},
                status_code=HTTP_ACCEPTED,
                headers={INVOCATION_ID_HEADER: inv_id},
            )
        inv_id = await self.state.engine.send(
            spec.service, spec.name, body, key=key, idempotency_key=idempotency_key
        )
        return await self.outcome_response(inv_id, self.state.engine.attach)

    async def run_workflow(
        self, workflow: str, handler: str, key: str | None, body: bytes, idempotency_key: str | None
    ) -> Response:
        """Run a workflow key and answer its result; a 409 naming the run when it was submitted before."""
        inv_id, created = await self.state.engine.submit(
            workflow, handler, body, key=key, idempotency_key=idempotency_key
        )
        if not created:
            return error_response(HTTP_CONFLICT, WORKFLOW_ALREADY_INVOKED, {INVOCATION_ID_HEADER: inv_id})
        return await self.outcome_response(inv_id, self.state.engine.attach)

    async def json_body(self, request: Request) -> bytes:
        require_json(request)
        return check_json(await read_body(request, self.state.max_body))

    def refuse_when_closing(self) -> None:
        if self.state.closing:
            raise HTTPException(HTTP_SERVICE_UNAVAILABLE, SHUTTING_DOWN)

    async def outcome_response(self, inv_id: str, attach: Callable[[str], Awaitable[Any]]) -> Response:
        """The outcome of ``attach(inv_id)``: the JSON result, the failure with its code, a 500 naming the
        invocation when it paused, or a 503 at shutdown."""
        headers = {INVOCATION_ID_HEADER: inv_id}
        try:
            result = await attach(inv_id)
        except TerminalError as error:
            return terminal_error_response(error, headers)
        except StoreWriteError as error:  # the invocation was stopped: its journal could not be written
            return error_response(HTTP_SERVICE_UNAVAILABLE, str(error), headers)
        except InvocationPausedError as error:
            return paused_response(error, headers)
        except asyncio.CancelledError:
            # The engine cancels attached waiters when it closes; a cancellation of this request's
            # own task (a server forced to stop) must still propagate.
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            return error_response(HTTP_SERVICE_UNAVAILABLE, f"{SHUTTING_DOWN}: attach to {inv_id}", headers)
        except UserError:
            if not self.state.closing:
                raise
            return error_response(HTTP_SERVICE_UNAVAILABLE, f"{SHUTTING_DOWN}: attach to {inv_id}", headers)
        return SafeJSONResponse(result, headers=headers)

    # ------------------------------------------------------------------ /restate/...

    async def restate_api(self, request: Request, segments: list[str]) -> Response:
        """``/restate/health``, ``/restate/invocation/...`` and ``/restate/awakeables/...``."""
        match segments[1:]:
            case ["health"]:
                return health_response(self.state.engine.health())
            case ["awakeables", awakeable_id, ("resolve" | "reject") as verb]:
                if request.method != "POST":
                    raise method_not_allowed(request.method, ("POST",))
                return await self.complete_awakeable(request, check_awakeable_id(awakeable_id), verb)
            case ["invocation", streamed, "stream"]:
                if request.method != "GET":
                    raise method_not_allowed(request.method, ("GET",))
                self.refuse_when_closing()
                return await stream_invocation(self.state, invocation_id(streamed))
            case ["invocation", *target, ("attach" | "output") as verb] if len(target) in (1, 3, 4):
                if request.method != "GET":
                    raise method_not_allowed(request.method, ("GET",))
                return await self.attach_or_output(target, verb)
            case [("call" | "send") as verb, *rest]:
                return await self.invoke(request, resolve_verb_path(self.state.engine.app, verb, rest))
            case ["workflow", workflow, key, ("attach" | "output") as verb]:
                if request.method != "GET":
                    raise method_not_allowed(request.method, ("GET",))
                inv_id = self.state.engine.workflow_invocation_id(workflow, key)
                return await self.attach_or_output([inv_id], verb)
            case ["attach"]:
                if request.method != "POST":
                    raise method_not_allowed(request.method, ("POST",))
                named = attach_request(await self.json_body(request))
                if isinstance(named, tuple):
                    named = self.state.engine.workflow_invocation_id(*named)
                return await self.attach_or_output([named], "attach")
        raise no_route(segments, "see /restate/invocation/{id}/attach and /restate/awakeables/{id}/resolve")

    async def attach_or_output(self, target: list[str], verb: str) -> Response:
        """Wait for (``attach``) or peek at (``output``) an invocation, by id or by idempotency key."""
        if len(target) == 1:
            inv_id = invocation_id(target[0])
        else:
            spec, key, idempotency_key = resolve_idempotent_path(self.state.engine.app, target)
            inv_id = self.state.engine.idempotent_invocation_id(
                spec.service, spec.name, idempotency_key, key=key
            )
        if verb == "attach":
            self.refuse_when_closing()
            return await self.outcome_response(inv_id, self.state.engine.attach)
        return await self.outcome_response(inv_id, self.output)

    async def output(self, inv_id: str) -> Any:
        completed, result = await self.state.engine.output(inv_id)
        if not completed:
            raise TerminalError("not ready", HTTP_NOT_READY)
        return result

    async def complete_awakeable(self, request: Request, awakeable_id: str, verb: str) -> Response:
        """Resolve an awakeable with the JSON body, or reject it with the text body as the reason."""
        engine = self.state.engine
        if verb == "resolve":
            value = await self.json_body(request)
            self.refuse_when_closing()
            await engine.resolve_awakeable(awakeable_id, value)
            status = "Resolved"
        else:
            require_text(request)
            reason = read_text(await read_body(request, self.state.max_body)).strip() or "rejected"
            self.refuse_when_closing()
            await engine.reject_awakeable(awakeable_id, reason)
            status = "Rejected"
        return SafeJSONResponse({"awakeableId": awakeable_id, "status": status}, status_code=HTTP_ACCEPTED)


def ingress_app(state: ServerState) -> Starlette:
    """The ingress ASGI application over ``state.engine``."""
    ingress = Ingress(state)
    return Starlette(
        routes=any_character([Route("/{path:path}", ingress.dispatch, methods=ALL_METHODS)]),
        middleware=[Middleware(CatchAll)],
        exception_handlers=EXCEPTION_HANDLERS,
    )
