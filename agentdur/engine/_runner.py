"""One invocation in memory: runs its handler, replays its journal, waits on durable futures.

Replay invariant: every context operation is identified by the task that made it (its deterministic
path, see :mod:`agentdur._tasks`) and its number within that task, both program order. An operation
whose identity is in the journal returns its recorded result without running anything; one recorded
with a different kind or name is a journal mismatch and pauses the invocation. New entries take the
next free journal index, so the journal reads in the order things happened, while replay never
depends on that order: tasks of one handler may interleave differently on every run.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

from .. import _spans, tracing
from .._context import DurableFuture, check_not_in_step, enter_step, set_current_context
from .._exceptions import (
    EngineControl,
    InvocationCancelledError,
    JournalMismatchError,
    StepAbortedError,
    SuspendInvocation,
    TerminalError,
    UserError,
    terminal_error_to_json,
)
from .._options import RunOptions
from .._serde import validate_input
from .._service import HandlerSpec
from .._step_body import engine_cancelled, run_body, running_in_task
from .._tasks import TaskTrack, current_track, path_order, start_handler_task, untracked
from .._values import dump_checked
from ..usage import set_usage_sink
from . import _ops
from . import _records as r
from ._futures import EmbeddedFuture, FutureOwner
from ._host import RuntimeHost
from ._ledger import InvocationLedger
from ._replay_order import ReplayOrder

if TYPE_CHECKING:
    from opentelemetry.trace import Span

log = logging.getLogger("agentdur.engine")
# Journaled reads of state: writing them without waiting reveals nothing to a later step body.
_READS = frozenset({r.GET_STATE, r.STATE_KEYS, r.LIST_ITEMS, r.LIST_LENGTH})


class _Abort(EngineControl):
    """Stops a handler whose journal does not match its code; the invocation is paused."""


class _Interrupt(EngineControl):
    """Wakes a blocked await to raise the cancellation there."""


class InvocationRunner(FutureOwner):
    """Runs one attempt of one invocation's handler against its journal."""

    def __init__(self, runtime: RuntimeHost, inv: r.InvocationState, journal: dict[int, r.Entry]) -> None:
        self.runtime = runtime
        self.loop = runtime.loop
        self.store = runtime.store
        self.inv = inv
        self.journal = journal
        # Recorded entries by (task path, number within the task), not yet taken by the handler.
        self.recorded: dict[tuple[str, int], int] = {(e.task, e.seq): idx for idx, e in journal.items()}
        self.next_index = max(journal) + 1 if journal else 0
        self.keys: dict[int, tuple[str, int]] = {}  # new entries' identities, until written
        self.pending: dict[int, EmbeddedFuture[Any]] = {}
        self.completions_seen = inv.completions
        self.inflight_steps = 0
        self.cancel_pending = inv.cancel_requested and inv.cancel_at_await is None
        self.closed = False
        self.suspending = False
        self.abort_error: JournalMismatchError | None = None
        self.task: asyncio.Task[None] | None = None
        self._blocked: list[tuple[asyncio.Future[None], Sequence[EmbeddedFuture[Any]], TaskTrack]] = []
        self._blocked_since = 0.0
        self._suspend_timer: asyncio.TimerHandle | None = None
        self.step_tasks: dict[int, asyncio.Task[None]] = {}  # running steps by journal index
        # Passed with every write of this invocation (made once: the step path allocates nothing
        # more): a failed write stops the handler before it goes on with a gap in its journal.
        self.on_write_error: Callable[[BaseException], None] = partial(runtime.store_failed, self)
        self.running_steps: dict[int, tuple[str, float]] = {}  # their names and start times
        self.reason = "new"  # why this execution runs: new, recovery, retry, resume (set by the runtime)
        self.trace: _spans.InvocationTrace | None = None
        # Entries written without waiting (awakeables, timers, state) since the last flush a step
        # asked for: a step body may tell the outside world about them (an awakeable id), so it
        # starts only once they are committed (see _flush_before_step).
        self._unflushed = False
        self._flushing: asyncio.Future[None] | None = None
        self.order = ReplayOrder(self.loop, self, journal)

    # ----------------------------------------------------------------- lifecycle

    def start(self, context: Any) -> None:
        """Start the handler in its own task with ``context`` as its current context."""
        self.task = start_handler_task(self.loop, self._main(context), self, f"agentdur:{self.inv.id}")
        self.order.task_created(self.task)

    def task_created(self, task: asyncio.Task[Any]) -> None:
        """A task of the handler was created (called by agentdur's task factory)."""
        self.order.task_created(task)

    async def _main(self, context: Any) -> None:
        set_current_context(context)
        spec = self.inv.spec
        self._begin()
        outcome = "interrupted"
        error_seen: BaseException | None = None
        try:
            if spec.takes_input:
                arg = validate_input(spec.input_adapter, self.inv.input)
                result = await spec.fn(context, arg)
            else:
                result = await spec.fn(context)
            what = f"the result of handler {spec.service}/{spec.name}"
            output = dump_checked(what, spec.output_adapter, result, self.runtime.max_entry_size)
        except TerminalError as error:
            outcome, error_seen = "failed", error
            await self.runtime.finish(self, None, json.dumps(terminal_error_to_json(error)), error)
        except _Abort as abort:
            outcome = "paused"
            await self.runtime.pause(self, str(self.abort_error), error=abort)
        except asyncio.CancelledError as error:
            if self.suspending or self.closed or engine_cancelled():
                if not self.suspending:
                    raise
                outcome = "suspended"
            else:  # the handler raised it of its own: a failed attempt, not a stop
                outcome, error_seen = "attempt_failed", error
                await self.runtime.retry_later(self, _handler_aborted(spec, error))
        except (SuspendInvocation, _Interrupt):
            if not self.suspending:
                raise
            outcome = "suspended"
        except BaseExceptionGroup as group:  # a TaskGroup's failure: decide by what its tasks raised
            outcome, error_seen = "failed", group
            await self._failed_group(group)
        except Exception as error:
            outcome, error_seen = "attempt_failed", error
            await self.runtime.retry_later(self, error)
        except BaseException as error:  # SystemExit, KeyboardInterrupt, GeneratorExit from the handler
            if isinstance(error, EngineControl) or not running_in_task(self.task):
                raise  # control flow, or the coroutine being closed (garbage collected): not an attempt
            outcome, error_seen = "attempt_failed", error
            await self.runtime.retry_later(self, _handler_aborted(spec, error))
        else:
            outcome = "succeeded"
            await self.runtime.finish(self, output, None)
        finally:
            self.closed = True
            self._disarm()
            self._end(outcome, error_seen)

    def _begin(self) -> None:
        """Log and trace the start of this execution; bind the invocation's usage ledger."""
        inv, spec = self.inv, self.inv.spec
        set_usage_sink(InvocationLedger(self.store, inv.id, spec.service, inv.key))
        tracing.set_replay_probe(lambda: self.replaying)
        if self.journal:
            log.info(
                "invocation %s (%s/%s) %s: replaying %d journal entries",
                inv.id,
                spec.service,
                spec.name,
                self.reason,
                len(self.journal),
            )
        else:
            log.info("invocation %s (%s/%s) started (%s)", inv.id, spec.service, spec.name, self.reason)
        self.trace = _spans.start_trace(
            spec.service, spec.name, inv.id, inv.key, inv.trace_context, inv.attempts + 1, self.reason
        )
        if self.trace is not None and self.trace.new_anchor is not None:
            inv.trace_context = anchor = self.trace.new_anchor
            inv_id = inv.id
            self.store.write_nowait(
                lambda conn: _ops.set_trace_context(conn, inv_id, anchor), single_statement=True
            )

    def _end(self, outcome: str, error: BaseException | None) -> None:
        level = logging.DEBUG if outcome in ("suspended", "interrupted") else logging.INFO
        log.log(level, "invocation %s execution ended: %s", self.inv.id, outcome)
        if self.trace is not None:
            self.trace.end(outcome, error)
            self.trace = None

    async def _failed_group(self, group: BaseExceptionGroup[BaseException]) -> None:
        """End an attempt whose handler raised an exception group (``asyncio.TaskGroup``) as its
        leaves say: a journal mismatch pauses, a suspension ends quietly, terminal errors alone end
        the invocation with the first of them, anything else is retried."""
        leaves = _leaves(group)
        if any(isinstance(leaf, _Abort) for leaf in leaves):
            await self.runtime.pause(self, str(self.abort_error), error=group)
        elif any(
            isinstance(leaf, SuspendInvocation | asyncio.CancelledError | _Interrupt) for leaf in leaves
        ):
            if not self.suspending:
                raise group
        elif leaves and all(isinstance(leaf, TerminalError) for leaf in leaves):
            first = leaves[0]
            assert isinstance(first, TerminalError)
            await self.runtime.finish(self, None, json.dumps(terminal_error_to_json(first)), first)
        elif isinstance(group, Exception):
            await self.runtime.retry_later(self, group)
        elif any(isinstance(leaf, EngineControl) for leaf in leaves):
            raise group
        else:  # SystemExit and the like among the leaves: a failed attempt, not the process's end
            spec = self.inv.spec
            await self.runtime.retry_later(self, _handler_aborted(spec, group))

    def drain(self) -> None:
        """Start no new operation: the handler unwinds at its next one; running steps may finish."""
        self.suspending = True
        self.closed = True
        self._disarm()

    def stop(self) -> None:
        """Cancel the handler and its steps (engine shutdown; recovery resumes it)."""
        self.closed = True
        self._disarm()
        for task in list(self.step_tasks.values()):
            task.cancel()
        if self.task is not None:
            self.task.cancel()

    @property
    def replaying(self) -> bool:
        """True while some recorded entry has not been taken again by the handler."""
        return bool(self.recorded)

    # ----------------------------------------------------------------- journal

    def enter(self, kind: str, name: str) -> tuple[int, r.Entry | None]:
        """Take the journal index of an operation; return the recorded entry if any."""
        if self.closed:
            raise SuspendInvocation()
        operation = f"ctx {kind} {name!r}"
        check_not_in_step(operation)
        track = current_track(self, operation)
        key = (track.path, track.seq)
        track.seq += 1
        idx = self.recorded.pop(key, None)
        if idx is None:
            idx = self.next_index
            self.next_index = idx + 1
            self.keys[idx] = key
            log.debug("invocation %s entry %d %s %r started", self.inv.id, idx, kind, name)
            if self.trace is not None and kind != r.RUN:
                self.trace.open_wait(kind, idx, name)
            return idx, None
        entry = self.journal[idx]
        if entry.kind != kind or entry.name != name:
            self.abort_error = JournalMismatchError(idx, f"{entry.kind} {entry.name!r}", f"{kind} {name!r}")
            self.closed = True
            raise _Abort()
        log.debug("invocation %s entry %d %s %r replayed (%s)", self.inv.id, idx, kind, name, entry.status)
        if self.trace is not None:
            if entry.status == r.ENTRY_PENDING:
                self.trace.open_wait(kind, idx, name)  # still waiting: that wait is this execution's
            else:
                self.trace.replayed(kind, idx, name, entry.status)
        if not self.recorded:
            self.order.journal_replayed()
            if self.cancel_pending:
                self.loop.call_soon(self._interrupt_blocked)  # replay is over: deliver the cancellation
        return idx, entry

    def take_key(self, idx: int) -> tuple[str, int]:
        """The (task path, number) of new entry ``idx``, for the write that journals it."""
        return self.keys.pop(idx)

    def future(
        self, idx: int, entry: r.Entry | None, adapter: TypeAdapter[Any] | None
    ) -> EmbeddedFuture[Any]:
        """A future for entry ``idx``: completed from the journal, or registered as pending."""
        fut: EmbeddedFuture[Any] = EmbeddedFuture(self, idx, adapter)
        self.settle(fut, entry)
        return fut

    def settle(self, fut: EmbeddedFuture[Any], entry: r.Entry | None) -> None:
        """Complete ``fut`` from its recorded entry, or wait for the engine to deliver it."""
        if entry is None or entry.status == r.ENTRY_PENDING:
            self.pending[fut.index] = fut
        else:
            outcome = (entry.status, entry.failure if entry.status == r.ENTRY_FAILED else entry.value)
            if not self.order.settle(fut, entry, outcome):
                fut.complete(outcome)
            if self.trace is not None:
                self.trace.close_wait(fut.index, entry.status)

    def record(
        self,
        idx: int,
        kind: str,
        name: str,
        status: str,
        value: str | None = None,
        failure: str | None = None,
        *,
        target: str | None = None,
        wake_at: float | None = None,
        extra: Callable[[Any], None] | None = None,
        value_schema: str | None = None,
    ) -> None:
        """Write an entry without waiting; later acknowledged writes commit after it."""
        inv_id = self.inv.id
        now = time.time()
        task, seq = self.take_key(idx)

        def op(conn: Any) -> None:
            _ops.insert_entry(
                conn,
                inv_id,
                idx,
                kind,
                name,
                status,
                value,
                failure,
                now,
                target,
                wake_at,
                task=task,
                seq=seq,
                value_schema=value_schema,
            )
            if extra is not None:
                extra(conn)

        self.store.write_nowait(op, single_statement=extra is None, on_error=self.on_write_error)
        if kind not in _READS:  # a lost read is read again on replay: nothing escaped through it
            self._unflushed = True

    def _flush_before_step(self) -> asyncio.Future[None] | None:
        """What a new step body waits for: the commit of the entries written before it without waiting.

        Without it, a body that publishes an awakeable id (a notify step) could run, and the id
        reach a person, before the awakeable's entry is durable: a crash then would lose the
        awakeable the person is about to resolve. One barrier serves every step started until the
        next fire-and-forget write; a step after none waits for nothing.
        """
        if self._unflushed:
            self._unflushed = False
            self._flushing = asyncio.ensure_future(self.store.barrier())
        if self._flushing is not None and not self._flushing.done():
            return self._flushing
        self._flushing = None
        return None

    def deliver(self, idx: int, outcome: r.Outcome) -> None:
        """A completion committed for entry ``idx`` (timer, awakeable, call result, cancel)."""
        self.completions_seen += 1
        if self.trace is not None:
            self.trace.close_wait(idx, outcome[0])
        fut = self.pending.pop(idx, None)
        if fut is not None:
            self.order.complete(fut, outcome)
            return
        entry = self.journal.get(idx)
        if entry is not None and entry.status == r.ENTRY_PENDING:
            entry.status = outcome[0]
            if self.order.active:  # not taken again yet: its result waits its turn when it is
                entry.done_order = self.order.next_order()
            if outcome[0] == r.ENTRY_FAILED:
                entry.failure = outcome[1]
            else:
                entry.value = outcome[1]

    def fail_pending(self, idx: int, error: BaseException) -> None:
        """The write that would have started entry ``idx`` failed: fail its future with that error."""
        fut = self.pending.pop(idx, None)
        if fut is not None:
            fut.fail(error)

    # ----------------------------------------------------------------- steps

    def run_step(
        self,
        name: str,
        action: Callable[..., Any],
        options: RunOptions[Any],
        adapter: TypeAdapter[Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> EmbeddedFuture[Any]:
        """Start a ``run_typed`` step, or return its recorded result."""
        idx, entry = self.enter(r.RUN, name)
        if entry is not None:
            return self.future(idx, entry, adapter)
        fut: EmbeddedFuture[Any] = EmbeddedFuture(self, idx, adapter)
        self.inflight_steps += 1
        self.running_steps[idx] = (name, time.time())
        flushing = self._flush_before_step()
        self.step_tasks[idx] = untracked(
            self.loop,
            self._execute_step(
                fut, self.take_key(idx), name, action, options, adapter, args, kwargs, flushing
            ),
        )
        return fut

    async def _execute_step(
        self,
        fut: EmbeddedFuture[Any],
        key: tuple[str, int],
        name: str,
        action: Callable[..., Any],
        options: RunOptions[Any],
        adapter: TypeAdapter[Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        flushing: asyncio.Future[None] | None = None,
    ) -> None:
        tries: list[r.StepAttempt] = []
        span = self.trace.start_step(fut.index, name) if self.trace is not None else None
        attempts = [0]
        try:
            if flushing is not None:
                await asyncio.shield(flushing)
            if span is None:
                status, text = await self._attempt_step(name, action, options, adapter, args, kwargs, tries)
            else:
                with _spans.use_span(span):
                    status, text = await self._attempt_step(
                        name, action, options, adapter, args, kwargs, tries, span, attempts
                    )
                _spans.end_step(span, status, attempts[0])
            self.step_tasks.pop(fut.index, None)
            _, started_at = self.running_steps.pop(fut.index, (name, None))
            value, failure = (text, None) if status == r.ENTRY_COMPLETED else (None, text)
            written = self.store.write(
                partial(
                    _ops.insert_entry,
                    inv_id=self.inv.id,
                    idx=fut.index,
                    kind=r.RUN,
                    name=name,
                    status=status,
                    value=value,
                    failure=failure,
                    now=time.time(),
                    task=key[0],
                    seq=key[1],
                    started_at=started_at,
                    attempts=r.attempts_text(tries),
                ),
                single_statement=True,
                on_error=self.on_write_error,
            )
        except Exception as error:  # retryable and the step does not retry itself, or the store is closed
            log.info(
                "step %r of invocation %s failed, the invocation retries it: %s", name, self.inv.id, error
            )
            if span is not None:
                span.record_exception(error)
                _spans.end_step(span, "retrying", attempts[0])
            self.step_tasks.pop(fut.index, None)
            self.running_steps.pop(fut.index, None)
            self.inflight_steps -= 1
            fut.fail(error)
            self._arm()
            return
        self.inflight_steps -= 1
        outcome: r.Outcome = (status, text)

        def acknowledge(commit: asyncio.Future[None]) -> None:
            # The handler learns the result only once its entry is durable.
            if commit.cancelled():
                fut.fail(asyncio.CancelledError())
            elif (error := commit.exception()) is not None:
                fut.fail(error)
            else:
                self.order.complete(fut, outcome)
            if self._blocked:
                self._arm()

        written.add_done_callback(acknowledge)

    async def _attempt_step(
        self,
        name: str,
        action: Callable[..., Any],
        options: RunOptions[Any],
        adapter: TypeAdapter[Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        tries: list[r.StepAttempt],
        span: Span | None = None,
        attempts: list[int] | None = None,
    ) -> tuple[str, str]:
        """Run a step body until it succeeds or gives up; each failed attempt is added to ``tries``."""
        is_async = _is_async(action)
        enter_step(name)  # this task's context (and the threads it starts) now belong to the step
        attempt = 0
        started = time.monotonic()
        timeout = options.timeout_seconds
        what = f"the result of step {name!r}"
        while True:
            attempt += 1
            began = time.time()
            if attempts is not None:
                attempts[0] = attempt
            try:
                # Anything but a result, a TerminalError or an Exception is control flow or has
                # become a StepAbortedError here, so nothing below lets a step stop the process.
                result = await run_body(name, action, is_async, args, kwargs, timeout)
                return r.ENTRY_COMPLETED, dump_checked(what, adapter, result, self.runtime.max_entry_size)
            except TerminalError as error:
                return r.ENTRY_FAILED, json.dumps(terminal_error_to_json(error))
            except Exception as error:
                if not options.retries_in_step:
                    raise
                tries.append(r.StepAttempt.failed(began, error))
                delay = options.delay_after(attempt)
                elapsed = time.monotonic() - started
                out_of_attempts = options.max_attempts is not None and attempt >= options.max_attempts
                out_of_time = (
                    options.max_duration is not None
                    and elapsed + delay > options.max_duration.total_seconds()
                )
                if span is not None:
                    _spans.step_attempt_failed(span, attempt, error)
                if out_of_attempts or out_of_time:
                    message = (
                        f"step {name!r} failed after {attempt} attempt(s): {type(error).__name__}: {error}"
                    )
                    return r.ENTRY_FAILED, json.dumps(TerminalError(message).to_json())
                log.info(
                    "step %r of invocation %s failed (attempt %d), retrying in %.1fs: %s: %s",
                    name,
                    self.inv.id,
                    attempt,
                    delay,
                    type(error).__name__,
                    error,
                )
                await asyncio.sleep(delay)

    # ----------------------------------------------------------------- waiting

    async def await_future(self, fut: EmbeddedFuture[Any]) -> Any:
        """Await one durable future, raising a pending cancellation at this await."""
        track = self._count_await("await")
        if not fut.done() and not (self.order.active and self.order.answer_now(fut)):
            await self._block((fut,), track)
        return fut.result()

    async def wait_all(self, futures: Sequence[DurableFuture[Any]]) -> None:
        track = self._count_await("gather")
        for fut in _own(self, futures):
            if not fut.done() and not (self.order.active and self.order.answer_now(fut)):
                await self._block((fut,), track)

    async def wait_completed(
        self, futures: Sequence[DurableFuture[Any]]
    ) -> tuple[list[DurableFuture[Any]], list[DurableFuture[Any]]]:
        own = _own(self, futures)
        idx, entry = self.enter(r.COMBINATOR, "wait_completed")
        track = self._count_await("wait_completed")
        if entry is not None and entry.value is not None:
            positions = set(json.loads(entry.value))
            for i in positions:
                if not own[i].done():  # recorded as done: its completion is in the journal
                    await self._block((own[i],), track)
        else:
            if not any(f.done() for f in own):
                await self._block(own, track)
            positions = {i for i, f in enumerate(own) if f.done()}
            self.record(idx, r.COMBINATOR, "wait_completed", r.ENTRY_COMPLETED, json.dumps(sorted(positions)))
        done = [f for i, f in enumerate(own) if i in positions]
        rest = [f for i, f in enumerate(own) if i not in positions]
        return list[DurableFuture[Any]](done), list[DurableFuture[Any]](rest)

    def _count_await(self, operation: str) -> TaskTrack:
        """Number this await within its task, and raise a cancellation that belongs here."""
        track = current_track(self, f"durable {operation}")
        track.awaits += 1
        if self.inv.cancel_at_await == track.awaits and self.inv.cancel_task == track.path:
            self.cancel_pending = False
            raise InvocationCancelledError()
        if self.cancel_pending and not self.replaying:
            self._deliver_cancel(track)
        return track

    async def _block(self, targets: Sequence[EmbeddedFuture[Any]], track: TaskTrack) -> None:
        """Wait until one of ``targets`` completes, or a cancellation interrupts the wait."""
        waiter: asyncio.Future[None] = self.loop.create_future()
        for target in targets:
            target.add_waiter(waiter)
        if not self._blocked:
            self._blocked_since = time.monotonic()
        blocked = (waiter, targets, track)
        self._blocked.append(blocked)
        self._arm()
        try:
            await waiter
        except _Interrupt:
            self._deliver_cancel(track)
        finally:
            self._blocked.remove(blocked)

    # ----------------------------------------------------------------- cancellation

    def request_cancel(self) -> None:
        """Raise a cancellation at the handler's current await, or at its next one."""
        self.completions_seen += 1  # the cancel request counts as a completion in the file too
        self.cancel_pending = True
        if not self.replaying:
            self._interrupt_blocked()

    def _interrupt_blocked(self) -> None:
        """Deliver a pending cancellation to one blocked await: the first task by path, so a
        handler whose tasks all wait is cancelled at the same place whatever order they blocked in."""
        if not self.cancel_pending or self.closed:
            return
        waiting = [b for b in self._blocked if not b[0].done()]
        if waiting:
            waiter = min(waiting, key=lambda b: path_order(b[2].path))[0]
            waiter.set_exception(_Interrupt())

    def _deliver_cancel(self, track: TaskTrack) -> None:
        self.cancel_pending = False
        number, path = track.awaits, track.path
        self.inv.cancel_at_await, self.inv.cancel_task = number, path
        inv_id = self.inv.id
        self.store.write_nowait(
            lambda conn: _ops.record_cancel_delivery(conn, inv_id, number, path), on_error=self.on_write_error
        )
        raise InvocationCancelledError()

    # ----------------------------------------------------------------- suspension

    def _arm(self) -> None:
        """Schedule a suspension check if the handler only waits and no step is running."""
        if self.inflight_steps or self._suspend_timer is not None or self.closed:
            return
        after = self.runtime.suspend_after
        if after is not None and self._only_waits():
            self._suspend_timer = self.loop.call_later(after, self._check_idle)

    def _only_waits(self) -> bool:
        """True when the handler is blocked and nothing it waits for has completed yet."""
        return bool(self._blocked) and not any(
            t.done() or self.order.holds(t) for _, targets, _ in self._blocked for t in targets
        )

    def _disarm(self) -> None:
        self.order.close()
        if self._suspend_timer is not None:
            self._suspend_timer.cancel()
            self._suspend_timer = None

    def _check_idle(self) -> None:
        self._suspend_timer = None
        after = self.runtime.suspend_after
        if self.closed or after is None or self.inflight_steps or not self._only_waits():
            return
        idle = time.monotonic() - self._blocked_since
        if idle >= after:
            self.runtime.suspend(self)
        else:
            self._suspend_timer = self.loop.call_later(after - idle, self._check_idle)


@functools.lru_cache(maxsize=4096)
def _is_async_cached(action: Callable[..., Any]) -> bool:
    return asyncio.iscoroutinefunction(action)


def _is_async(action: Callable[..., Any]) -> bool:
    try:
        return _is_async_cached(action)
    except TypeError:  # unhashable callable
        return asyncio.iscoroutinefunction(action)


def _handler_aborted(spec: HandlerSpec, error: BaseException) -> StepAbortedError:
    """A BaseException out of handler code, as the retryable failure of this attempt."""
    aborted = StepAbortedError(f"{spec.service}/{spec.name}", error, handler=True)
    aborted.__cause__ = error
    return aborted


def _own(runner: InvocationRunner, futures: Sequence[DurableFuture[Any]]) -> list[EmbeddedFuture[Any]]:
    out = []
    for fut in futures:
        if not isinstance(fut, EmbeddedFuture) or fut.host is not runner:
            raise UserError("combinators take futures created by the same handler invocation")
        out.append(fut)
    return out


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    """The exceptions of a (nested) exception group, in order."""
    found: list[BaseException] = []
    for error in group.exceptions:
        found.extend(_leaves(error) if isinstance(error, BaseExceptionGroup) else [error])
    return found
