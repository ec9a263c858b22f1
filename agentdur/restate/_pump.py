"""One waiter per invocation on Restate: several asyncio tasks await durable futures through it.

restate-sdk 1.3 drives an invocation from whichever task awaits a pending future: each such await
runs its own loop reading the request stream, so two tasks awaiting at once steal each other's input
and hang. The pump is the only thing that waits on restate-sdk: handler tasks *park* their awaits on
it, and it wakes them.

Determinism (the journal is positional: replay must issue commands in the first run's order):

- restate-sdk's core reveals completions lazily and in journal order: asked for the first completed
  of a set of handles, it consumes the notifications it holds in journal order up to the first one
  in the set, on the first run and on replay alike (checked against a real restate-server). So what
  a poll reveals is a function of the journal and of the set asked for.
- The pump polls only when the handler is *quiescent*: every task of the handler (the handler's own
  and every task it created, tracked by ``agentdur._tasks``) has finished or is blocked on a future
  that is not done. The parked set is then the same on every replay.
- It wakes one parked await at a time, the earliest parked first, and lets the handler run until it
  is quiescent again before the next one. The order in which tasks issue commands is thereby a
  function of the sequence of wake-ups, which is a function of the journal.

Step bodies still run concurrently: a poll starts the bodies of every parked step at once.

What the pump cannot order: a task that waits on something not durable (``asyncio.sleep``, a file,
the network) while other tasks make durable calls comes back at a time of the clock's choosing, and
its next durable call lands in the journal after however many calls the others made meanwhile; a
replay, where the others' calls are answered at once, puts it elsewhere (a journal mismatch that
restate-server retries without end). The pump warns when it sees that with ``asyncio.sleep``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import restate
from restate.exceptions import SdkInternalException, SuspendedException
from restate.server_context import DisconnectedException
from restate.vm import (
    DoProgressAnyCompleted,
    DoProgressCancelSignalReceived,
    DoProgressExecuteRun,
    FirstCompletedUnresolvedFuture,
    SingleUnresolvedFuture,
    Suspended,
)

from .._context import check_not_in_step
from .._exceptions import UserError
from .._http import CANCELLED_CODE, RESTATE_CANCELLED_MESSAGE
from .._tasks import current_track, has_pending_callbacks, path_order, untracked

log = logging.getLogger("agentdur.restate")

# What asyncio.sleep's timer calls: a task awaiting a future this timer completes is sleeping.
_SLEEP_DONE = getattr(asyncio.futures, "_set_result_unless_cancelled", None)


def sleep_futures(loop: asyncio.AbstractEventLoop) -> set[int]:
    """The ids of the futures ``asyncio.sleep`` calls wait on (none on a loop without asyncio's
    inspectable timer heap)."""
    found: set[int] = set()
    if _SLEEP_DONE is None:
        return found
    for handle in getattr(loop, "_scheduled", ()):
        args = getattr(handle, "_args", None)
        if getattr(handle, "_callback", None) is _SLEEP_DONE and args and not handle.cancelled():
            found.add(id(args[0]))
    return found


@dataclass(eq=False)
class _Parked:
    """One await parked on the pump.

    ``inners`` are restate-sdk futures: the await is satisfied when any (``need_all`` False) or all
    of them completed. ``exclusive`` is an await restate-sdk only offers as a coroutine (an
    invocation id): the pump awaits it itself, alone.
    """

    seq: int
    waiter: asyncio.Future[Any]
    path: str = ""
    inners: tuple[Any, ...] = ()
    need_all: bool = False
    take: Any = None
    exclusive: Callable[[], Awaitable[Any]] | None = None

    def satisfied(self) -> bool:
        done = [completed(inner) for inner in self.inners]
        return all(done) if self.need_all else any(done)

    def pending_handles(self) -> list[int]:
        return [inner.handle for inner in self.inners if not completed(inner)]


def completed(inner: Any) -> bool:
    """Whether a restate-sdk future completed (its value taken, or revealed by the core)."""
    return bool(inner.is_completed())


@dataclass(eq=False)
class Pump:
    """The single waiter of one invocation (see the module docstring).

    Args:
        sdk: restate-sdk's context of the invocation (its VM, request stream and task set).
        owner: the agentdur context, owner of the handler's tracked tasks.
    """

    sdk: Any
    owner: object
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    parked: list[_Parked] = field(default_factory=list)
    fatal: BaseException | None = None
    _seq: int = 0
    _order: dict[int, int] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _reading: asyncio.Task[Any] | None = None
    # Tasks seen in asyncio.sleep when the pump went on without them, and whether another task
    # made a durable call since.
    _sleepers: dict[asyncio.Task[Any], bool] = field(default_factory=dict)
    _warned: bool = False
    # Run by the waiting task before it parks (the context writes its queued list changes there).
    before_wait: Callable[[], Awaitable[None]] | None = None

    # ------------------------------------------------------------------ handler side

    def task_created(self, task: asyncio.Task[Any]) -> None:
        """A task of the handler was created (called by agentdur's task factory)."""
        self.tasks.append(task)

    async def wait(
        self, what: str, inners: Iterable[Any], *, need_all: bool = False, take: Any = None
    ) -> None:
        """Park the current task until ``inners`` completed (any, or all with ``need_all``).

        With ``take``, the pump also collects that future's value, so the caller reads it at once.
        """
        inners = tuple(inners)  # before before_wait: a generator may read what it changes
        if self.before_wait is not None:
            await self.before_wait()
        parked = self._park(what)
        parked.inners, parked.need_all, parked.take = inners, need_all, take
        await self._parked_wait(parked)

    async def run_exclusive(self, what: str, action: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``action`` (which waits on restate-sdk by itself) from the pump, while nothing else polls."""
        if self.before_wait is not None:
            await self.before_wait()
        parked = self._park(what)
        parked.exclusive = action
        return await self._parked_wait(parked)

    def durable_call(self, what: str) -> None:
        """The current task makes durable call (or await) ``what``: warn if its place in the journal
        depends on how long an ``asyncio.sleep`` took (see the module docstring)."""
        task = asyncio.current_task()
        slept_past_others = self._sleepers.pop(task, False) if task is not None else False
        for other in self._sleepers:
            self._sleepers[other] = True
        if slept_past_others and not self._warned:
            self._warned = True
            log.warning(
                "invocation %s: %s came from a task that waited in asyncio.sleep (not journaled) while "
                "other tasks of the handler made durable calls: its place in Restate's journal depends "
                "on timing, and a replay may stop on a journal mismatch that restate-server retries "
                "without end. Wait with ctx.sleep, or inside a step (ctx.run_typed)",
                self.sdk.request().id,
                what,
            )

    def completion_rank(self, inner: Any) -> int:
        """The order in which the pump saw ``inner`` complete (the same on every replay)."""
        handle = int(inner.handle)
        if handle not in self._order:
            self._order[handle] = len(self._order)
        return self._order[handle]

    def _park(self, what: str) -> _Parked:
        if self.fatal is not None:
            raise self.fatal
        check_not_in_step(what)
        track = current_track(self.owner, what)
        self.durable_call(what)
        if self._task is None:
            self._task = untracked(asyncio.get_running_loop(), self._pump())
            self.sdk.tasks.add(self._task)
        parked = _Parked(self._seq, asyncio.get_running_loop().create_future(), track.path)
        self._seq += 1
        self.parked.append(parked)
        self._changed.set()
        return parked

    async def _parked_wait(self, parked: _Parked) -> Any:
        try:
            return await parked.waiter
        finally:
            with contextlib.suppress(ValueError):
                self.parked.remove(parked)

    # ------------------------------------------------------------------ the pump

    async def close(self) -> None:
        """Stop the pump (the invocation's attempt ended)."""
        for task in (self._task, self._reading):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    def raise_fatal(self) -> None:
        """Raise what stopped the pump (suspension, lost connection), if anything did."""
        if self.fatal is not None:
            raise self.fatal

    async def _pump(self) -> None:
        try:
            while True:
                self._changed.clear()
                await self._settle()
                self._note_sleepers()
                self._stamp_completed()
                parked = next((p for p in self.parked if p.exclusive or p.satisfied()), None)
                if parked is not None:
                    await self._wake(parked)
                elif self.parked:
                    await self._poll()
                else:
                    await self._changed.wait()
        except (SuspendedException, SdkInternalException, DisconnectedException) as error:
            self._stop(error)
        except asyncio.CancelledError:  # the attempt ended: nothing more will complete
            for parked in self.parked:
                parked.waiter.cancel()
            raise
        except Exception as error:  # a bug of ours: fail the handler rather than hang it
            self._stop(error)

    def _stop(self, error: BaseException) -> None:
        self.fatal = error
        for parked in self.parked:
            if not parked.waiter.done():
                parked.waiter.set_exception(error)

    async def _settle(self) -> None:
        """Return once every task of the handler is done or blocked on a future that is not done."""
        # No event says "every task is blocked"; each turn of the loop lets the runnable tasks run.
        while not self._quiescent():  # noqa: ASYNC110
            await asyncio.sleep(0)

    def _quiescent(self) -> bool:
        self.tasks = [task for task in self.tasks if not task.done()]
        for task in self.tasks:
            waiting_on = getattr(task, "_fut_waiter", None)
            if waiting_on is None or waiting_on.done():
                return False
        # A callback on its way to completing what a task awaits (a finished child's done-callback
        # completing a gather) leaves every task blocked for a turn: not quiescent yet.
        return not has_pending_callbacks(asyncio.get_running_loop(), self.owner)

    def _note_sleepers(self) -> None:
        """Note the tasks in ``asyncio.sleep`` now that the pump goes on without them."""
        for gone in [task for task in self._sleepers if task.done()]:
            del self._sleepers[gone]
        # Only a task waiting on something the pump does not hold can be asleep: skip the scan of the
        # loop's timers (shared by every invocation of the process) when there is none.
        parked = {id(p.waiter) for p in self.parked}
        waiting = [task for task in self.tasks if id(getattr(task, "_fut_waiter", None)) not in parked]
        waiting = [task for task in waiting if getattr(task, "_fut_waiter", None) is not None]
        if not waiting:
            return
        sleeping = sleep_futures(asyncio.get_running_loop())
        for task in waiting:
            if id(getattr(task, "_fut_waiter", None)) in sleeping:
                self._sleepers.setdefault(task, False)

    def _stamp_completed(self) -> None:
        for parked in self.parked:
            for inner in parked.inners:
                if completed(inner):
                    self.completion_rank(inner)

    async def _wake(self, parked: _Parked) -> None:
        """Wake one parked await: collect its value here, so its task does not wait again."""
        self.parked.remove(parked)
        try:
            if parked.exclusive is not None:
                await self._stop_reading()  # restate-sdk reads the request stream itself meanwhile
                value = await parked.exclusive()
            else:
                value = None
                if parked.take is not None:
                    try:
                        await parked.take  # restate-sdk keeps the value (or error) for the awaiting task
                    except DisconnectedException:
                        raise
                    except Exception:  # the value's own error (a terminal failure, a value
                        pass  # that does not validate) is the awaiting task's to raise, not the pump's
        except restate.TerminalError as error:
            if not parked.waiter.done():
                parked.waiter.set_exception(error)
            return
        if not parked.waiter.done():
            parked.waiter.set_result(value)

    async def _poll(self) -> None:
        """Let restate-sdk make progress until one more parked future completed, a step must start,
        input arrives, or the parked set changed."""
        handles = sorted({h for parked in self.parked for h in parked.pending_handles()})
        wanted = FirstCompletedUnresolvedFuture([SingleUnresolvedFuture(h) for h in handles])
        while True:
            await self.sdk.take_and_send_output()
            progress = self.sdk.vm.do_progress(wanted)
            if isinstance(progress, BaseException):
                raise SdkInternalException() from progress
            if isinstance(progress, Suspended):
                raise SuspendedException()
            if isinstance(progress, DoProgressAnyCompleted):
                return
            if isinstance(progress, DoProgressCancelSignalReceived):
                self._cancel_first()
                return
            if isinstance(progress, DoProgressExecuteRun):
                self._start_step(progress.handle)
                continue
            if not await self._read_input():
                return

    def _cancel_first(self) -> None:
        """Raise the cancellation where the embedded engine raises it: in the first waiting task by
        path (its earliest await)."""
        if not self.parked:
            return
        parked = min(self.parked, key=lambda p: (path_order(p.path), p.seq))
        self.parked.remove(parked)
        if not parked.waiter.done():
            parked.waiter.set_exception(restate.TerminalError(RESTATE_CANCELLED_MESSAGE, CANCELLED_CODE))

    def _start_step(self, handle: int) -> None:
        body = self.sdk.run_coros_to_execute.pop(handle)

        async def run_body() -> None:
            try:
                await body()
            finally:
                self._changed.set()  # its completion is proposed: flush it and poll again

        # Created from the pump's (untracked) task: a step's body is no task of the handler.
        self.sdk.tasks.add(asyncio.get_running_loop().create_task(run_body()))

    async def _stop_reading(self) -> None:
        reading, self._reading = self._reading, None
        if reading is None:
            return
        if not reading.done():
            reading.cancel()  # an asyncio.Queue get cancelled before it returns leaves the item queued
            with contextlib.suppress(asyncio.CancelledError):
                await reading
        if reading.done() and not reading.cancelled():
            self._consume(reading.result())

    async def _read_input(self) -> bool:
        """Wait for input from restate-server or a change of what is parked; False for the latter."""
        if self._reading is None:
            self._reading = asyncio.ensure_future(self.sdk.receive())
        changed = asyncio.ensure_future(self._changed.wait())
        try:
            await asyncio.wait({self._reading, changed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            changed.cancel()
        if not self._reading.done():
            return False
        chunk, self._reading = self._reading.result(), None
        self._consume(chunk)
        return True

    def _consume(self, chunk: Any) -> None:
        kind = chunk.get("type")
        if kind == "http.disconnect":
            raise DisconnectedException()
        if kind == "http.request":
            body = chunk.get("body")
            if body:
                self.sdk.vm.notify_input(body)
            if not chunk.get("more_body", False):
                self.sdk.vm.notify_input_closed()


def require_pump(host: Any) -> Pump:
    """The pump of a Restate context (a UserError for anything else)."""
    pump = getattr(host, "pump", None)
    if not isinstance(pump, Pump):
        raise UserError("not a Restate handler context")
    return pump
