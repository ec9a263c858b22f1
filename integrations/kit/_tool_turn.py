"""Parallel tool calls with a deterministic journal.

When a model asks for several tools in one response, agent SDKs run them as concurrent asyncio tasks.
Each journaled operation takes the next journal index when it is *created*, so tasks that reach the
context in a different order on replay would find other entries at their indices. A
:class:`ToolTurn` fixes the order of creation, not of execution:

- a tool that is **one journaled step** waits until the tools before it in the model's response
  created theirs, creates its step, and lets the next tool go at once; the step bodies run
  concurrently (three one-second tools take about one second);
- a tool that **makes its own steps** (awakeables, calls, several ``run_typed``) runs alone, in
  response order: it starts once the tools before it created their steps, and the tools after it wait
  until it finished.

The step results are awaited by one task per turn, after every tool of the turn created its step
(the tools wait on plain asyncio futures), which keeps the order of the awaits, where a cancellation
is delivered, the same on replay. (Both engines now also replay plain asyncio concurrency
deterministically, see docs/engines.md; turns predate that.)

Usage (framework-free; an integration registers each model response and routes each tool call)::

    with tool_turns_scope() as turns:              # around one agent run
        turns.begin(["call_a", "call_b"])          # after each model response
        ...
        slot = turns.slot("call_b")                # in the tool's task
        value = await slot.step(lambda: ctx.run_typed("Tool: b", b))      # one step
        value = await slot.alone(tool_that_makes_its_own_steps)           # or: alone
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar

from agentdur import DurableFuture, gather

T = TypeVar("T")

__all__ = ["ToolSlot", "ToolTurn", "ToolTurns", "current_tool_turns", "tool_turns_scope"]


class ToolTurn:
    """The tool calls of one model response, in the order the model listed them.

    Args:
        call_ids: the ids of the calls that run as local tools (not handoffs, not hosted tools).
    """

    def __init__(self, call_ids: Sequence[str]) -> None:
        self.call_ids = list(call_ids)
        self.concurrent = True
        self._released = [False] * len(self.call_ids)
        self._next = 0  # every position below has released
        self._ready = [asyncio.Event() for _ in range(len(self.call_ids) + 1)]
        self._ready[0].set()
        self._pending: list[tuple[DurableFuture[Any], asyncio.Future[Any]]] = []
        self._waiting = 0
        self._collector: asyncio.Task[None] | None = None

    def run_one_at_a_time(self) -> None:
        """Run every tool of this turn alone, in order (the SDK caps how many run at once, so a
        tool cannot wait for later ones to start)."""
        self.concurrent = False

    async def wait_for(self, position: int) -> None:
        """Return once every tool before ``position`` created its step (or finished, if it runs alone)."""
        await self._ready[position].wait()

    def release(self, position: int) -> None:
        """Let the tools after ``position`` go; idempotent."""
        if self._released[position]:
            return
        self._released[position] = True
        while self._next < len(self._released) and self._released[self._next]:
            self._next += 1
            self._ready[self._next].set()
        if self._next == len(self._released) and self._pending and self._collector is None:
            self._collector = asyncio.get_running_loop().create_task(self._collect())

    async def result_of(self, position: int, future: DurableFuture[T]) -> T:
        """The result of the step created at ``position``, awaited together with the turn's others."""
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((future, waiter))
        self._waiting += 1
        self.release(position)
        try:
            return await waiter
        finally:
            self._waiting -= 1
            if self._waiting == 0 and self._collector is not None and not self._collector.done():
                self._collector.cancel()  # nobody is left to hand results to (the run is torn down)

    async def _collect(self) -> None:
        pending = list(self._pending)
        try:
            await gather(*(future for future, _ in pending))
        except asyncio.CancelledError:
            for _, waiter in pending:
                waiter.cancel()
            raise
        except BaseException as error:  # engine control flow: the waiting tools raise it too
            for _, waiter in pending:
                if not waiter.done():
                    waiter.set_exception(error)
            raise
        for future, waiter in pending:
            try:
                value = await future  # completed: returns at once
            except BaseException as error:
                if not waiter.done():
                    waiter.set_exception(error)
            else:
                if not waiter.done():
                    waiter.set_result(value)


class ToolSlot:
    """One tool call's place in its turn."""

    def __init__(self, turn: ToolTurn, position: int) -> None:
        self.turn = turn
        self.position = position

    async def wait(self) -> None:
        """Wait until it is this call's turn to create steps."""
        await self.turn.wait_for(self.position)

    def release(self) -> None:
        """Let the next call go (idempotent; call it in ``finally`` so nothing waits forever)."""
        self.turn.release(self.position)

    async def step(self, create: Callable[[], DurableFuture[T]]) -> T:
        """Create this call's single step in turn order and return its result.

        The step is created once the calls before it created theirs; the calls after it go at once,
        so the step bodies run concurrently.
        """
        try:
            await self.wait()
            future = create()
        except BaseException:
            self.release()
            raise
        if not self.turn.concurrent:
            try:
                return await future
            finally:
                self.release()
        return await self.turn.result_of(self.position, future)

    async def alone(self, body: Callable[[], Awaitable[T]]) -> T:
        """Run ``body`` (which makes its own steps) alone, after the calls before it created theirs."""
        await self.wait()
        try:
            return await body()
        finally:
            self.release()


class ToolTurns:
    """The turns of one agent run (and of the agent runs nested in its tools), by tool call id."""

    def __init__(self) -> None:
        self._slots: dict[str, ToolSlot] = {}

    def begin(self, call_ids: Sequence[str]) -> ToolTurn:
        """Register the local tool calls of a model response, in the response's order."""
        turn = ToolTurn(call_ids)
        for position, call_id in enumerate(turn.call_ids):
            self._slots[call_id] = ToolSlot(turn, position)
        return turn

    def slot(self, call_id: str | None) -> ToolSlot | None:
        """The slot of call ``call_id``, or ``None`` if no registered response asked for it."""
        return None if call_id is None else self._slots.get(call_id)


_TURNS: contextvars.ContextVar[ToolTurns | None] = contextvars.ContextVar("agentdur_tool_turns", default=None)


def current_tool_turns() -> ToolTurns | None:
    """The turns of the agent run in progress in this task, if any."""
    return _TURNS.get()


@contextlib.contextmanager
def tool_turns_scope() -> Iterator[ToolTurns]:
    """Track tool turns for the code inside (nested scopes share the outer one's turns)."""
    existing = _TURNS.get()
    if existing is not None:
        yield existing
        return
    turns = ToolTurns()
    token = _TURNS.set(turns)
    try:
        yield turns
    finally:
        _TURNS.reset(token)
