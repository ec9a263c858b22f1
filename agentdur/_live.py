"""Live output: events a handler publishes for whoever watches its invocation, never journaled.

``ctx.publish(event)`` hands a JSON value to the process's :class:`LiveOutput`; the embedded server
streams it to ``GET /restate/invocation/{id}/stream`` subscribers as Server-Sent Events. Everything
here is best effort and bounded: each invocation keeps its latest ``max_events`` events for late
subscribers, at most ``max_invocations`` invocations are buffered (the least recently published to
is dropped first), and a subscriber that falls behind by ``max_events`` gets a ``gap`` event saying
how many it missed. The durable result always comes from ``attach``.

Replay: a handler that restarts from its journal (after a crash, a retry or a suspension) gets a
``replay`` marker first; what it publishes while it re-runs recorded operations is flagged
``replayed``, and the bodies of recorded steps do not run, so their output is not published again.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import TypeAdapter

from ._exceptions import UserError

EventType = Literal["output", "replay", "gap"]
DEFAULT_MAX_EVENTS = 512
DEFAULT_MAX_INVOCATIONS = 256
_JSON: TypeAdapter[Any] = TypeAdapter(Any)


@dataclass(frozen=True)
class LiveEvent:
    """One event of an invocation's live output.

    Attributes:
        seq: its number within this process's stream of the invocation (the SSE ``id``).
        type: ``output`` (published by the handler), ``replay`` (the handler restarted from its
            journal) or ``gap`` (this subscriber missed ``data`` events).
        data: the published JSON value (``output``), the number missed (``gap``), else None.
        replayed: published again while the handler re-ran recorded operations.
        step: the step whose body published it, if any.
    """

    seq: int
    type: EventType
    data: Any = None
    replayed: bool = False
    step: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The event as the JSON ``data`` of its SSE message."""
        body: dict[str, Any] = {"type": self.type, "seq": self.seq}
        if self.type == "output":
            body.update(data=self.data, replayed=self.replayed, step=self.step)
        elif self.type == "gap":
            body["missed"] = self.data
        return body


def to_json_value(event: Any) -> Any:
    """``event`` as plain JSON data (pydantic models, dataclasses and the like converted).

    Raises:
        UserError: the event cannot be represented as JSON.
    """
    try:
        return _JSON.dump_python(event, mode="json")
    except Exception as error:
        raise UserError(f"ctx.publish() needs a JSON-serializable event: {error}") from error


@dataclass
class Subscription:
    """One watcher of one invocation: the events not yet read, bounded."""

    limit: int
    loop: asyncio.AbstractEventLoop
    pending: deque[LiveEvent] = field(default_factory=deque)
    missed: int = 0
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    def push(self, event: LiveEvent) -> None:
        if len(self.pending) >= self.limit:
            self.pending.popleft()
            self.missed += 1
        self.pending.append(event)
        self.ready.set()

    def take(self) -> list[LiveEvent]:
        """The events received since the last call; a ``gap`` first if some were dropped."""
        events = list(self.pending)
        self.pending.clear()
        self.ready.clear()
        if self.missed:
            first = events[0].seq if events else 0
            events.insert(0, LiveEvent(first, "gap", self.missed))
            self.missed = 0
        return events


@dataclass
class _Channel:
    buffer: deque[LiveEvent]
    seq: int = 0
    subscribers: list[Subscription] = field(default_factory=list)


class LiveOutput:
    """The live output of every invocation running in this process (one per engine or deployment).

    Args:
        max_events: events kept per invocation for late subscribers, and a subscriber's backlog.
        max_invocations: invocations whose events are kept at once.
    """

    def __init__(
        self, max_events: int = DEFAULT_MAX_EVENTS, max_invocations: int = DEFAULT_MAX_INVOCATIONS
    ) -> None:
        self.max_events = max_events
        self.max_invocations = max_invocations
        self._channels: OrderedDict[str, _Channel] = OrderedDict()
        self._lock = threading.Lock()  # publishers may be step bodies in worker threads

    def publish(
        self, invocation_id: str, data: Any, *, replayed: bool = False, step: str | None = None
    ) -> None:
        """Add an ``output`` event (``data`` already plain JSON) to the invocation's stream."""
        self._add(invocation_id, "output", data, replayed, step)

    def mark_replay(self, invocation_id: str) -> None:
        """Tell watchers the handler restarted from its journal: replayed output is flagged."""
        self._add(invocation_id, "replay", None, False, None)

    def subscribe(self, invocation_id: str) -> Subscription:
        """Follow an invocation: the events still buffered, then each new one as it comes.

        Called from the event loop that reads the subscription; it must be released with
        :meth:`unsubscribe`.
        """
        subscription = Subscription(self.max_events, asyncio.get_running_loop())
        with self._lock:
            channel = self._channel(invocation_id)
            for event in channel.buffer:
                subscription.push(event)
            channel.subscribers.append(subscription)
        return subscription

    def unsubscribe(self, invocation_id: str, subscription: Subscription) -> None:
        """Stop following; the invocation's buffer goes when it has no more watchers and is evicted."""
        with self._lock:
            channel = self._channels.get(invocation_id)
            if channel is not None and subscription in channel.subscribers:
                channel.subscribers.remove(subscription)

    def forget(self, invocation_id: str) -> None:
        """Drop an invocation's buffer (it completed: late subscribers get only its outcome)."""
        with self._lock:
            channel = self._channels.get(invocation_id)
            if channel is not None and not channel.subscribers:
                del self._channels[invocation_id]

    def buffered(self, invocation_id: str) -> list[LiveEvent]:
        """The events kept for an invocation now (for tests and inspection)."""
        with self._lock:
            channel = self._channels.get(invocation_id)
            return [] if channel is None else list(channel.buffer)

    def _channel(self, invocation_id: str) -> _Channel:
        channel = self._channels.get(invocation_id)
        if channel is None:
            channel = _Channel(deque(maxlen=self.max_events))
            self._channels[invocation_id] = channel
            while len(self._channels) > self.max_invocations:
                self._evict()
        else:
            self._channels.move_to_end(invocation_id)
        return channel

    def _evict(self) -> None:
        """Drop the least recently used buffer, preferring one nobody watches."""
        for name, channel in self._channels.items():
            if not channel.subscribers:
                del self._channels[name]
                return
        self._channels.popitem(last=False)

    def _add(self, invocation_id: str, kind: EventType, data: Any, replayed: bool, step: str | None) -> None:
        with self._lock:
            channel = self._channel(invocation_id)
            channel.seq += 1
            event = LiveEvent(channel.seq, kind, data, replayed, step)
            channel.buffer.append(event)
            subscribers = list(channel.subscribers)
        for subscription in subscribers:
            _call_in_loop(subscription, event)


def _call_in_loop(subscription: Subscription, event: LiveEvent) -> None:
    """Deliver ``event``; from a worker thread, hand it to the subscriber's event loop."""
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if subscription.loop is running:
        subscription.push(event)
    elif not subscription.loop.is_closed():
        subscription.loop.call_soon_threadsafe(subscription.push, event)
