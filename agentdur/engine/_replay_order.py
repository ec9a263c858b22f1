"""Replay in the first run's completion order: results reach a handler's tasks as they did the first time.

A handler whose tasks pass values to each other (an ``asyncio.Queue``, an ``asyncio.Event``) makes its
later durable calls in the order its awaits were answered. On the first run that is the order in which
entries completed (a step's body finished, a timer fired, a call returned); on a replay every recorded
result is there at once, and the tasks would go on in whatever order the loop runs them. So each
journal entry whose completion the handler waited for keeps its place in the invocation's completion
order (``done_order``, assigned when the completion commits, see ``_ops``), and during a replay:

- a recorded result is *held*: its future is not done yet, and a task awaiting it blocks (it is
  *parked*);
- when the handler is *quiescent* (every task of it finished or blocked on a future that is not done,
  and no callback of it queued on the loop, see :mod:`agentdur._tasks`), the parked await whose entry
  completed first is answered, and the handler runs until it is quiescent again. A held result no
  task awaits yet never blocks the others: the smallest *parked* one is answered (and when none is
  parked, the smallest held one), so this cannot deadlock;
- completions that arrive while results are still held (a new step's, a timer's) are held too, after
  every recorded one, in arrival order, which is the order of their commits and so of their
  ``done_order`` on the next replay.

Once the journal was replayed and nothing is held, this steps aside: futures complete at once, as on
a first run. An await answered by the next completion in line while nothing else can run is answered
without blocking, so a sequential handler pays a few dictionary lookups per replayed entry.

Entries from files written before ``done_order`` existed, and entries the handler never waited for
(state, combinator records), have no place in the order and complete at once.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Mapping
from typing import Any

from .._tasks import has_pending_callbacks, untracked
from . import _records as r
from ._futures import EmbeddedFuture

# The context of the callbacks this schedules: one of the handler's would count as its pending work.
_OUTSIDE = contextvars.Context()


# Loop turns the scheduler waits for the handler's tasks to block before it answers the first held
# await anyway (a task polling with asyncio.sleep(0) never blocks).
MAX_SPINS = 10_000


class ReplayOrder:
    """The completion order of one invocation's replay (see the module docstring)."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, owner: object, journal: Mapping[int, r.Entry]
    ) -> None:
        self.loop = loop
        self.owner = owner
        orders = [e.done_order for e in journal.values() if e.done_order is not None]
        self.active = bool(orders)
        self._next = max(orders, default=0)
        self.tasks: list[asyncio.Task[Any]] = []
        self._held: dict[int, tuple[int, EmbeddedFuture[Any], r.Outcome]] = {}
        self._scheduler: asyncio.Task[None] | None = None
        self._kicked = False

    # ------------------------------------------------------------------ the runner's side

    def task_created(self, task: asyncio.Task[Any]) -> None:
        """A task of the handler started: quiescence waits for it too."""
        if self.active:
            self.tasks.append(task)

    def settle(self, fut: EmbeddedFuture[Any], entry: r.Entry, outcome: r.Outcome) -> bool:
        """Hold a recorded result that has a place in the order; False when it completes at once."""
        if not self.active or entry.done_order is None:
            return False
        self._hold(entry.done_order, fut, outcome)
        return True

    def complete(self, fut: EmbeddedFuture[Any], outcome: r.Outcome) -> None:
        """A completion arrived now: hold it after everything recorded while replaying, else complete."""
        if self.active:
            self._hold(self.next_order(), fut, outcome)
        else:
            fut.complete(outcome)

    def next_order(self) -> int:
        """The place of a completion that arrives now, after every one recorded or seen before."""
        self._next += 1
        return self._next

    def holds(self, fut: EmbeddedFuture[Any]) -> bool:
        """Whether ``fut``'s result is known and held back."""
        held = self._held.get(fut.index)
        return held is not None and held[1] is fut

    def answer_now(self, fut: EmbeddedFuture[Any]) -> bool:
        """Answer an await of held ``fut`` without blocking when it is the next in line and no other
        task of the handler can run (what the scheduler would do a turn later)."""
        held = self._held.get(fut.index)
        if held is None or held[1] is not fut:
            return False
        if any(o < held[0] and f.awaited() for o, f, _ in self._held.values()):
            return False
        if not self._quiescent(asyncio.current_task()):
            return False
        self._release(fut.index)
        return True

    def journal_replayed(self) -> None:
        """Every recorded entry was taken again: step aside once nothing is held (looked at a turn
        later: the entry just taken is held only after this is called)."""
        if self.active:
            self.loop.call_soon(self._stop_if_idle, context=_OUTSIDE)

    def _stop_if_idle(self) -> None:
        if self.active and not self._held and not getattr(self.owner, "replaying", False):
            self._stop()

    def close(self) -> None:
        """The execution ended: stop the scheduler."""
        if self._scheduler is not None and not self._scheduler.done():
            self._scheduler.cancel()
        self._scheduler = None

    # ------------------------------------------------------------------ the scheduler

    def _hold(self, order: int, fut: EmbeddedFuture[Any], outcome: r.Outcome) -> None:
        self._held[fut.index] = (order, fut, outcome)
        if self._scheduler is None and not self._kicked:
            self._kicked = True  # a turn later: an await answered at once needs no scheduler
            self.loop.call_soon(self._kick, context=_OUTSIDE)  # not the handler's: see _quiescent

    def _kick(self) -> None:
        self._kicked = False
        if self._held and self._scheduler is None and self.active:
            self._scheduler = untracked(self.loop, self._run())

    def _release(self, idx: int) -> None:
        _, fut, outcome = self._held.pop(idx)
        fut.complete(outcome)

    def _stop(self) -> None:
        self.active = False
        self.tasks = []
        self.close()

    async def _run(self) -> None:
        while self._held:
            spins = 0
            # No event says "every task is blocked". A task that never blocks (a busy wait on
            # asyncio.sleep(0)) must not hold the replay forever: after MAX_SPINS turns, go on.
            while not self._quiescent(None) and spins < MAX_SPINS:
                spins += 1
                await asyncio.sleep(0)
            parked = [(order, idx) for idx, (order, fut, _) in self._held.items() if fut.awaited()]
            if parked:
                self._release(min(parked)[1])
            elif self._held:  # every task waits on something else (a poll of fut.done(), a timer)
                self._release(min((order, idx) for idx, (order, _, _) in self._held.items())[1])
        self._scheduler = None
        self._stop_if_idle()

    def _quiescent(self, running: asyncio.Task[Any] | None) -> bool:
        self.tasks = [task for task in self.tasks if not task.done()]
        for task in self.tasks:
            if task is running:
                continue
            waiting_on = getattr(task, "_fut_waiter", None)
            if waiting_on is None or waiting_on.done():
                return False
        return not has_pending_callbacks(self.loop, self.owner)
