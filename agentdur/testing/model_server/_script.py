"""What the scripted model server answers: a queue of replies, a reply function, injected faults.

Both objects are shared between the test's thread and the server's thread, so every method takes
the object's lock.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._policy import default_reply
from ._types import ModelError, ModelReply, ModelRequest, ModelToolCall

ReplyFunction = Callable[[ModelRequest], "ModelReply | ModelError | str | None"]
"""Computes the answer to a request; a ``str`` is a text reply, ``None`` defers to the default policy."""

ToolCallSpec = ModelToolCall | tuple[str, Mapping[str, Any]]


class ModelScript:
    """The server's answers: queued replies first, then the reply function, then the default policy.

    Each model request takes the next queued entry. When the queue is empty the function given to
    :meth:`respond_with` answers; when there is none (or it returns None) the deterministic offline
    policy does (see ``docs/model-server.md``). Methods return the script, so calls chain::

        server.script.tool_call("get_weather", {"city": "Paris"}).reply(text="Sunny in Paris")
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[ModelReply | ModelError] = deque()
        self._function: ReplyFunction | None = None
        self._taken = 0

    def reply(self, text: str | None = None, *, tool_calls: Iterable[ToolCallSpec] = ()) -> ModelScript:
        """Queue an answer with ``text`` and/or ``tool_calls``."""
        return self._push(ModelReply(text=text, tool_calls=_tool_calls(tool_calls)))

    def tool_call(
        self, name: str, arguments: Mapping[str, Any] | None = None, *, id: str | None = None
    ) -> ModelScript:
        """Queue an answer that calls one tool."""
        return self._push(ModelReply(tool_calls=(ModelToolCall(name, dict(arguments or {}), id),)))

    def tool_calls(self, *calls: ToolCallSpec) -> ModelScript:
        """Queue one answer that calls several tools at once (parallel tool calls)."""
        return self._push(ModelReply(tool_calls=_tool_calls(calls)))

    def error(
        self, status: int, message: str | None = None, *, retry_after: float | None = None
    ) -> ModelScript:
        """Queue an HTTP error answer (see :class:`ModelError`)."""
        return self._push(ModelError(status, message, retry_after))

    def respond_with(self, function: ReplyFunction | None) -> ModelScript:
        """Answer with ``function(request)`` once the queue is empty; None restores the default policy."""
        with self._lock:
            self._function = function
        return self

    @property
    def pending(self) -> int:
        """How many queued answers are still unused."""
        with self._lock:
            return len(self._queue)

    def clear(self) -> None:
        """Forget queued answers and the reply function."""
        with self._lock:
            self._queue.clear()
            self._function = None
            self._taken = 0

    def answer(self, request: ModelRequest) -> ModelReply | ModelError:
        """The answer to ``request``; consumes a queued entry if there is one."""
        return self.answer_with_source(request)[0]

    def answer_with_source(self, request: ModelRequest) -> tuple[ModelReply | ModelError, str]:
        """The answer to ``request`` and what gave it (``script entry 3``, ``reply function``, ...)."""
        with self._lock:
            if self._queue:
                self._taken += 1
                return self._queue.popleft(), f"script entry {self._taken}"
            function = self._function
        if function is not None:
            answer = function(request)
            if isinstance(answer, str):
                return ModelReply(text=answer), "reply function"
            if answer is not None:
                return answer, "reply function"
        return default_reply(request), "default policy"

    def _push(self, entry: ModelReply | ModelError) -> ModelScript:
        with self._lock:
            self._queue.append(entry)
        return self


@dataclass(frozen=True)
class Drop:
    """Close the connection without answering."""


FaultAction = ModelError | Drop


class ModelFaults:
    """Faults injected ahead of the script: errors, dropped connections, delays.

    Errors and drops form one queue consumed in the order they were added, one per model request;
    a request that takes a fault does not consume a scripted answer. A delay holds back the answer
    (or the fault) of the next ``n`` requests, or of every request until :meth:`clear`.
    Listing models and unknown routes never take faults.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[FaultAction] = deque()
        self._delay = 0.0
        self._delay_left: int | None = 0
        self._hold: tuple[float, Callable[[ModelRequest], bool]] | None = None

    def fail_next(
        self, n: int = 1, status: int = 429, *, retry_after: float | None = 1, message: str | None = None
    ) -> ModelFaults:
        """Answer the next ``n`` model requests with HTTP ``status`` and a provider-shaped error body.

        Args:
            n: how many requests fail.
            status: 429 (rate limit), 401 (authentication), 400 (bad request), 500, 503, ...
            retry_after: seconds sent in the ``retry-after`` header; None sends no header.
            message: the error message; a standard one for the status when omitted.
        """
        with self._lock:
            self._queue.extend(ModelError(status, message, retry_after) for _ in range(n))
        return self

    def drop_next(self, n: int = 1) -> ModelFaults:
        """Close the connection of the next ``n`` model requests without sending a response."""
        with self._lock:
            self._queue.extend(Drop() for _ in range(n))
        return self

    def delay(self, seconds: float, n: int | None = None) -> ModelFaults:
        """Hold back the answers of the next ``n`` model requests (every one when ``n`` is None) by ``seconds``."""
        with self._lock:
            self._delay = seconds
            self._delay_left = n
        return self

    def hold(self, seconds: float, when: Callable[[ModelRequest], bool] | None) -> ModelFaults:
        """Hold back by ``seconds`` the answer of every model request for which ``when(request)`` is
        true, until ``hold(0, None)``: a run stops at a point chosen by what it asks, whatever the
        order its concurrent requests arrive in (a crash test kills the process meanwhile)."""
        with self._lock:
            self._hold = (seconds, when) if when is not None else None
        return self

    @property
    def pending(self) -> int:
        """How many queued errors and drops are still unused."""
        with self._lock:
            return len(self._queue)

    def clear(self) -> None:
        """Remove every queued fault and the delay."""
        with self._lock:
            self._queue.clear()
            self._delay = 0.0
            self._delay_left = 0
            self._hold = None

    def take(self, request: ModelRequest | None = None) -> tuple[float, FaultAction | None]:
        """The delay and the fault (if any) for the next model request, ``request``, consumed."""
        with self._lock:
            delay = 0.0
            if self._delay_left is None or self._delay_left > 0:
                delay = self._delay
                if self._delay_left is not None:
                    self._delay_left -= 1
            hold = self._hold
            action = self._queue.popleft() if self._queue else None
        if hold is not None and request is not None and hold[1](request):
            delay = max(delay, hold[0])
        return delay, action


def _tool_calls(calls: Iterable[ToolCallSpec]) -> tuple[ModelToolCall, ...]:
    return tuple(
        call if isinstance(call, ModelToolCall) else ModelToolCall(call[0], dict(call[1])) for call in calls
    )
