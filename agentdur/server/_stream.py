"""``GET /restate/invocation/{id}/stream``: an invocation's live output as Server-Sent Events.

Restate's own invocation URLs answer once (``attach`` waits for the result, ``output`` peeks at it);
this one, agentdur's addition on the embedded server, streams what the handler publishes with
``ctx.publish`` while it runs, then ends with the outcome. Messages, each with a JSON ``data``:

- ``event: output`` (``id:`` its number): ``{"type": "output", "seq", "data", "replayed", "step"}``;
- ``event: replay``: the handler restarted from its journal (crash, retry, resume after suspension);
- ``event: gap``: this subscriber fell behind and missed ``missed`` events;
- ``event: end``: ``{"type": "end", "invocationId", "status", "outcome", "result" | "failure" | "reason"}``,
  always last. A completed invocation answers with just this event.

Nothing here is journaled: the buffer lives in the server process (see :mod:`agentdur._live`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .._exceptions import InvocationPausedError, StoreWriteError, TerminalError, UserError
from .._http import INVOCATION_ID_HEADER
from .._live import LiveEvent, Subscription
from ..engine import Engine
from ..engine._records import InvocationInfo
from ._openapi_routes import INVOCATION_ID_PARAM, error_responses
from ._state import ServerState

KEEPALIVE_SECONDS = 15.0
STREAM_PATH = "/restate/invocation/{invocationId}/stream"
END = "end"


def sse_message(event: str, data: Any, message_id: int | None = None) -> bytes:
    """One Server-Sent Events message (the JSON ``data`` on one line)."""
    head = f"id: {message_id}\n" if message_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def end_data(info: InvocationInfo) -> dict[str, Any]:
    """The ``end`` event of an invocation that completed or paused."""
    data: dict[str, Any] = {
        "type": END,
        "invocationId": info.id,
        "status": info.status,
        "outcome": info.outcome,
    }
    if info.status == "paused":
        data["reason"] = info.last_error
    elif info.failure is not None:
        data["failure"] = info.failure.model_dump()
    else:
        data["result"] = info.result
    return data


class EventStream(Response):
    """The response streaming one invocation; it stops quietly when the client goes away."""

    media_type = "text/event-stream"

    def __init__(self, state: ServerState, info: InvocationInfo, subscription: Subscription | None) -> None:
        headers = {"cache-control": "no-cache", "x-accel-buffering": "no", INVOCATION_ID_HEADER: info.id}
        super().__init__(headers=headers)
        # A streamed body has no length: without this header the client reads until the end.
        self.raw_headers = [(name, value) for name, value in self.raw_headers if name != b"content-length"]
        self.engine: Engine = state.engine
        self.live = state.engine.live  # still reachable for cleanup once the engine closes
        self.info = info
        self.subscription = subscription

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        writer = asyncio.ensure_future(self._write(send))
        listener = asyncio.ensure_future(_until_disconnect(receive))
        try:
            await asyncio.wait([writer, listener], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (writer, listener):
                task.cancel()
            await asyncio.gather(writer, listener, return_exceptions=True)
            if self.subscription is not None:
                self.live.unsubscribe(self.info.id, self.subscription)
        if writer.done() and not writer.cancelled() and writer.exception() is None:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _write(self, send: Send) -> None:
        async for chunk in self._messages():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})

    async def _messages(self) -> AsyncIterator[bytes]:
        subscription = self.subscription
        if subscription is None:
            yield sse_message(END, end_data(self.info))
            return
        outcome = asyncio.ensure_future(self._outcome())
        try:
            while True:
                for event in subscription.take():
                    yield _message(event)
                if outcome.done():
                    break
                ready = asyncio.ensure_future(subscription.ready.wait())
                done, _ = await asyncio.wait([ready, outcome], timeout=KEEPALIVE_SECONDS)
                ready.cancel()
                if not done:
                    yield b": keepalive\n\n"
            for event in subscription.take():  # published before the outcome was committed
                yield _message(event)
            end = outcome.result()
            if end is not None:
                yield sse_message(END, end)
        finally:
            outcome.cancel()

    async def _outcome(self) -> dict[str, Any] | None:
        """The ``end`` data once the invocation completes or pauses; None when the server stops
        first (the stream then ends without one: the client reconnects to the next server)."""
        try:
            await self.engine.attach(self.info.id)
        except (TerminalError, InvocationPausedError):
            pass
        except (StoreWriteError, asyncio.CancelledError, UserError):
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            return None
        return end_data(await self.engine.invocation(self.info.id))


def _message(event: LiveEvent) -> bytes:
    return sse_message(event.type, event.to_json(), event.seq)


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def stream_invocation(state: ServerState, invocation_id: str) -> EventStream:
    """The response for ``GET /restate/invocation/{id}/stream``.

    Raises:
        NotFoundError: unknown invocation (a 404 JSON body, before any event is sent).
    """
    engine = state.engine
    # Subscribe before reading the status, so nothing published in between is missed.
    subscription = engine.live.subscribe(invocation_id)
    try:
        info = await engine.invocation(invocation_id)
    except BaseException:
        engine.live.unsubscribe(invocation_id, subscription)
        engine.live.forget(invocation_id)
        raise
    if info.status == "completed":
        engine.live.unsubscribe(invocation_id, subscription)
        engine.live.forget(invocation_id)
        return EventStream(state, info, None)
    return EventStream(state, info, subscription)


def openapi_paths() -> dict[str, Any]:
    """The stream's entry in the ingress OpenAPI document."""
    return {
        STREAM_PATH: {
            "get": {
                "operationId": "invocation_stream",
                "summary": "Follow an invocation's live output (Server-Sent Events)",
                "description": (
                    "agentdur's addition to Restate's invocation URLs, on the embedded server only: the "
                    "events the handler publishes with ctx.publish (event: output), a replay marker after "
                    "it restarted from its journal (event: replay), a gap when this client fell behind "
                    "(event: gap), and last the outcome (event: end). Not journaled: a completed "
                    "invocation answers with its end event only."
                ),
                "parameters": [INVOCATION_ID_PARAM],
                "responses": {
                    "200": {
                        "description": "an event stream ending with an `end` event",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    },
                    **error_responses(400, 401, 404, 500, 503),
                },
            }
        }
    }
