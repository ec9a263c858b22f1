"""The runtime of the embedded engine: invocations in memory, per-key queues, timers, completions.

Everything here runs on the engine's event loop; only the writer thread touches the file for writes.
The public face is :class:`agentdur.Engine`; this module is what the runner and the context call.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import logging
import random
import secrets
import time
from collections import deque
from collections.abc import Hashable
from datetime import timedelta
from functools import partial
from typing import Any

from pydantic import TypeAdapter

from .. import _spans
from .._exceptions import (
    EngineControl,
    InvocationCancelledError,
    InvocationPausedError,
    NotFoundError,
    StoreWriteError,
    TerminalError,
    terminal_error_to_json,
)
from .._live import LiveOutput
from .._options import InvocationRetryPolicy
from .._schema import value_check
from .._service import App, HandlerSpec
from .._values import DEFAULT_MAX_ENTRY_SIZE
from . import _ops
from . import _records as r
from ._faults import WriteFaults
from ._futures import EmbeddedAwakeableFuture
from ._host import RunnerView
from ._runner import InvocationRunner
from ._store import Store
from ._workflows import context_for, run_retention, workflow_run_id

log = logging.getLogger("agentdur.engine")

DEFAULT_SUSPEND_AFTER = timedelta(seconds=10)
KILLED_MESSAGE = r.KILLED_MESSAGE


# Invocation ids need to be unique, not secret (awakeable ids are the unguessable ones).
_ID_RANDOM = random.Random(secrets.randbits(128))


def new_invocation_id(
    service: str = "", handler: str = "", key: str | None = None, idempotency_key: str | None = None
) -> str:
    """A fresh invocation id; with an idempotency key the id is derived from it, so every path agrees.

    Fresh ids start with the time, so rows of invocations created together sit together in the
    file's B-trees (random ids made every commit touch pages all over the journal index).
    """
    if idempotency_key is None:
        return f"inv_{time.time_ns():016x}{_ID_RANDOM.getrandbits(64):016x}"
    digest = hashlib.sha256(f"{service}\0{handler}\0{key or ''}\0{idempotency_key}".encode()).hexdigest()
    return f"inv_{digest[:32]}"


class Runtime:
    """Runs invocations for one :class:`~agentdur.Engine`: the machinery behind its public API."""

    def __init__(
        self,
        app: App,
        store: Store,
        loop: asyncio.AbstractEventLoop,
        suspend_after: float | None,
        retry_policy: InvocationRetryPolicy,
    ) -> None:
        self.app = app
        self.store = store
        self.loop = loop
        self.suspend_after = suspend_after
        self.retry_policy = retry_policy
        self.max_entry_size: int | None = DEFAULT_MAX_ENTRY_SIZE  # the Engine sets its own
        self.runners: dict[str, RunnerView] = {}
        self.queues: dict[tuple[str, str], deque[str]] = {}
        self.timers: dict[Hashable, asyncio.TimerHandle] = {}
        self.attachers: dict[str, list[asyncio.Future[r.Outcome]]] = {}
        self.background: set[asyncio.Task[Any]] = set()
        self.faults = WriteFaults(self)
        store.on_recovered = self.faults.recovered
        row = store.read_one("SELECT ifnull(max(seq), 0) FROM invocations")
        self.seq: itertools.count[int] = itertools.count(int(row[0] if row else 0) + 1)
        self.closing = False
        self.live = LiveOutput()  # what handlers publish, for live watchers (not journaled)

    async def close(self, grace_period: float = 0.0) -> None:
        """Stop running handlers (recovery resumes them) and cancel timers and background work.

        With a grace period, handlers start no new operation and steps already running get up to
        ``grace_period`` seconds to finish and be journaled before everything stops.
        """
        self.closing = True
        if grace_period > 0:
            for runner in self.runners.values():
                runner.drain()
            steps = [task for runner in self.runners.values() for task in runner.step_tasks.values()]
            if steps:
                await asyncio.wait(steps, timeout=grace_period)
            await self.store.barrier()  # the finished steps' entries are committed
        for handle in self.timers.values():
            handle.cancel()
        self.timers.clear()
        runners = list(self.runners.values())
        for runner in runners:
            runner.stop()
        tasks = [t for t in (runner.task for runner in runners) if t is not None]
        tasks += list(self.background)
        for task in self.background:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for waiters in self.attachers.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.cancel()

    async def attach(self, invocation_id: str) -> r.Outcome:
        """Wait for an invocation's outcome.

        Raises:
            NotFoundError: unknown invocation.
            InvocationPausedError: the invocation is paused, now or while waiting.
        """
        row = self.store.read_one(
            "SELECT status, output, failure, last_error FROM invocations WHERE id=?", (invocation_id,)
        )
        if row is None:
            raise NotFoundError(f"unknown invocation {invocation_id!r}")
        if row["status"] == r.COMPLETED:
            return r.outcome_of(row["output"], row["failure"])
        if invocation_id in self.faults:
            raise self.faults.answer(invocation_id)
        if row["status"] == r.PAUSED and invocation_id not in self.runners:
            raise InvocationPausedError(invocation_id, row["last_error"] or "paused")
        waiter: asyncio.Future[r.Outcome] = self.loop.create_future()
        self.attachers.setdefault(invocation_id, []).append(waiter)
        return await waiter

    async def cancel(self, invocation_id: str) -> None:
        """Request cancellation of an invocation and of the calls it has in flight."""
        status, children = await self.store.write(
            partial(_ops.request_cancel, inv_id=invocation_id, now=time.time())
        )
        await self.after_cancel_request(invocation_id, status, children)

    async def submit(
        self,
        spec: HandlerSpec,
        key: str | None,
        input_text: str,
        idempotency_key: str | None,
        delay: float | None,
    ) -> tuple[str, bool]:
        """Create an invocation once its row is committed; returns its id and whether it is new."""
        new = self.new_invocation(spec, key, input_text, idempotency_key, delay)
        inv_id, created = await self.store.write(partial(_ops.create_invocation, inv=new, seq=next(self.seq)))
        if created:
            self.schedule_new(new, spec)
        return inv_id, created

    def submit_and_wait(
        self, spec: HandlerSpec, key: str | None, input_text: str
    ) -> asyncio.Future[r.Outcome] | None:
        """Start a service handler at once and return the future of its outcome.

        Only for a caller that waits for the outcome and has no idempotency key: the row is
        written without waiting for its commit, because every write of the handler, its outcome
        included, commits after it. Returns ``None`` when this path does not apply.
        """
        if spec.exclusive or spec.kind == "workflow":
            return None
        new = self.new_invocation(spec, key, input_text, None, None)
        new.status = r.RUNNING
        self.store.write_nowait(partial(_ops.create_invocation, inv=new, seq=next(self.seq)))
        waiter: asyncio.Future[r.Outcome] = self.loop.create_future()
        self.attachers.setdefault(new.id, []).append(waiter)
        self.start_runner(
            r.InvocationState(new.id, spec, new.key, new.input, trace_context=new.trace_context),
            {},
            r.RUNNING,
        )
        return waiter

    def new_invocation(
        self,
        spec: HandlerSpec,
        key: str | None,
        input_text: str,
        idempotency_key: str | None,
        delay: float | None,
    ) -> _ops.NewInvocation:
        now = time.time()
        if delay:
            status, wake_at = r.SCHEDULED, now + delay
        else:
            status, wake_at = (r.PENDING if spec.exclusive else r.READY), None
        retention = run_retention(self.app, spec)
        if retention is not None:  # a workflow run: its key names it, whatever the idempotency key
            assert key is not None
            inv_id, idempotency_key = workflow_run_id(spec.service, spec.name, key), None
        else:
            inv_id = new_invocation_id(spec.service, spec.name, key, idempotency_key)
        return _ops.NewInvocation(
            id=inv_id,
            service=spec.service,
            handler=spec.name,
            key=key,
            exclusive=spec.exclusive,
            status=status,
            input=input_text,
            idempotency_key=idempotency_key,
            wake_at=wake_at,
            now=now,
            retention=retention,
            trace_context=_spans.parent_for_new_invocation(),
        )

    def schedule_new(self, new: _ops.NewInvocation, spec: HandlerSpec) -> None:
        """Run a just-created invocation, queue it behind its key, or wait for its delay."""
        if new.status == r.SCHEDULED:
            assert new.wake_at is not None
            self.set_timer(("inv", new.id), new.wake_at, partial(self.deliver_scheduled, new.id))
        elif spec.exclusive:
            assert new.key is not None
            self.enqueue(new.id, spec.service, new.key)
        else:
            self.start_runner(
                r.InvocationState(new.id, spec, new.key, new.input, trace_context=new.trace_context),
                {},
                r.READY,
            )

    # ================================================================= running

    def start_runner(
        self, state: r.InvocationState, journal: dict[int, r.Entry], status: str, *, restarted: bool = False
    ) -> None:
        if self.closing or state.id in self.runners:
            return
        runner = InvocationRunner(self, state, journal)
        runner.reason = _execution_reason(status, bool(journal) or state.attempts > 0)
        self.runners[state.id] = runner
        if restarted:
            self.live.mark_replay(state.id)
        if status != r.RUNNING:
            inv_id = state.id
            self.store.write_nowait(
                partial(_ops.set_status, inv_id=inv_id, status=r.RUNNING, now=time.time()),
                on_error=runner.on_write_error,
            )
        runner.start(context_for(runner, restarted=restarted))

    def resume(self, inv_id: str, allowed: tuple[str, ...]) -> None:
        """Load an invocation and its journal from the file and run it by replay."""
        if self.closing or inv_id in self.runners:
            return
        row = self.store.read_one("SELECT * FROM invocations WHERE id=?", (inv_id,))
        if row is None or row["status"] not in allowed:
            return
        if row["exclusive"]:
            queue = self.queues.get((row["service"], row["obj_key"]))
            if not queue or queue[0] != inv_id:
                return
        try:
            spec = self.app.handler(row["service"], row["handler"])
        except NotFoundError as error:
            reason = str(error)
            log.warning("invocation %s paused: %s", inv_id, reason)
            written = self.store.write(
                partial(_ops.set_status, inv_id=inv_id, status=r.PAUSED, now=time.time(), last_error=reason)
            )

            def answer(done: asyncio.Future[None]) -> None:
                if not done.cancelled():
                    done.exception()  # a failed write is logged by the store; the callers hear anyway
                self.answer_paused(inv_id, reason)

            written.add_done_callback(answer)
            return
        journal = {
            int(e["idx"]): r.Entry.from_row(e)
            for e in self.store.read("SELECT * FROM journal WHERE invocation_id=?", (inv_id,))
        }
        state = r.InvocationState(
            id=inv_id,
            spec=spec,
            key=row["obj_key"],
            input=row["input"],
            attempts=row["attempts"],
            completions=row["completions"],
            cancel_requested=bool(row["cancel_requested"]),
            cancel_at_await=row["cancel_at_await"],
            cancel_task=row["cancel_task"],
            trace_context=row["trace_context"],
        )
        # Run before (a journal, a failed attempt, or running when the last process stopped): watchers of
        # its live output are told it starts over.
        restarted = bool(journal) or state.attempts > 0 or row["status"] == r.RUNNING
        self.start_runner(state, journal, row["status"], restarted=restarted)

    def enqueue(self, inv_id: str, service: str, key: str) -> None:
        queue = self.queues.setdefault((service, key), deque())
        queue.append(inv_id)
        if len(queue) == 1:
            self.resume(inv_id, (r.PENDING, r.READY, r.RUNNING))

    def dequeue(self, inv_id: str, service: str, key: str) -> None:
        """Remove a finished exclusive invocation from its key's line and start the next one."""
        queue = self.queues.get((service, key))
        if not queue:
            return
        was_head = queue[0] == inv_id
        try:
            queue.remove(inv_id)
        except ValueError:
            return
        if not queue:
            del self.queues[(service, key)]
        elif was_head:
            self.resume(queue[0], (r.PENDING, r.READY, r.RUNNING))

    async def finish(
        self,
        runner: RunnerView,
        output: str | None,
        failure: str | None,
        error: BaseException | None = None,
    ) -> None:
        """Record the outcome of a handler that returned or failed terminally (``error``, kept with
        its traceback)."""
        inv = runner.inv
        detail = None
        if error is not None:
            detail = r.error_detail_text(error)
            level = logging.INFO if isinstance(error, InvocationCancelledError) else logging.WARNING
            log.log(
                level, "invocation %s failed: %s: %s", inv.id, type(error).__name__, error, exc_info=error
            )
        try:
            await self._complete(
                inv.id, output, failure, inv.spec.service, inv.key, inv.spec.exclusive, error_detail=detail
            )
        except StoreWriteError as write_error:
            self.store_failed(runner, write_error)
        finally:
            if self.runners.get(inv.id) is runner:
                del self.runners[inv.id]

    async def _complete(
        self,
        inv_id: str,
        output: str | None,
        failure: str | None,
        service: str,
        key: str | None,
        exclusive: bool,
        *,
        outcome: str | None = None,
        error_detail: str | None = None,
        held_key: bool = True,
    ) -> None:
        """Commit an outcome, then tell whoever waits: attached clients, calling invocations, the key's line.

        ``held_key``: the invocation ran on its key (not one ended while queued), so list rows it
        removed can go; rows another invocation's replay may still read must stay.
        """
        finish = partial(
            _ops.finish_invocation,
            inv_id=inv_id,
            output=output,
            failure=failure,
            now=time.time(),
            outcome=outcome,
            error_detail=error_detail,
        )
        if exclusive and key is not None and held_key:
            finish = partial(_ops.finish_exclusive, finish=finish, service=service, key=key)
        parents = await self.store.write(finish)
        result: r.Outcome = r.outcome_of(output, failure)
        self.live.forget(inv_id)
        for waiter in self.attachers.pop(inv_id, []):
            if not waiter.done():
                waiter.set_result(result)
        for parent in parents:
            self.notify(parent.parent_id, parent.index, (parent.status, parent.failure or parent.value))
        if exclusive and key is not None:
            self.dequeue(inv_id, service, key)

    async def _complete_unstarted(self, inv_id: str, error: TerminalError, outcome: str) -> None:
        row = self.store.read_one("SELECT service, obj_key, exclusive FROM invocations WHERE id=?", (inv_id,))
        if row is not None:
            failure = json.dumps(terminal_error_to_json(error))
            await self._complete(
                inv_id,
                None,
                failure,
                row["service"],
                row["obj_key"],
                bool(row["exclusive"]),
                outcome=outcome,
                # Ended before it ran, or while it waited: skipping the list purge is always safe
                # (the key's next exclusive completion does it), purging under a running one is not.
                held_key=False,
            )

    async def kill(self, inv_id: str) -> None:
        """End an invocation now, without compensation, and kill the calls it has in flight."""
        row = self.store.read_one("SELECT status FROM invocations WHERE id=?", (inv_id,))
        if row is None:
            raise NotFoundError(f"unknown invocation {inv_id!r}")
        if row["status"] == r.COMPLETED:
            return
        runner = self.runners.pop(inv_id, None)
        if runner is not None:
            runner.suspending = True  # its task ends quietly; nothing more of it is journaled
            runner.stop()
        self.cancel_timer(("inv", inv_id))
        children = [
            str(c["target"])
            for c in self.store.read(
                "SELECT target FROM journal WHERE invocation_id=? AND kind=? AND status=?",
                (inv_id, r.CALL, r.ENTRY_PENDING),
            )
        ]
        log.info("invocation %s killed", inv_id)
        await self._complete_unstarted(inv_id, InvocationCancelledError(KILLED_MESSAGE), r.KILLED)
        for child in children:
            with contextlib.suppress(NotFoundError):
                await self.kill(child)

    async def retry_later(self, runner: RunnerView, error: Exception) -> None:
        if isinstance(error, StoreWriteError):  # not the handler's fault: retrying would not help
            self.store_failed(runner, error)
            return
        inv = runner.inv
        attempts = inv.attempts + 1
        message = f"{type(error).__name__}: {error}"
        if attempts >= self.retry_policy.max_attempts:
            reason = f"gave up after {attempts} attempts; last error: {message}"
            await self.pause(runner, reason, attempts, error)
            return
        delay = self.retry_policy.delay_after(attempts)
        wake_at = time.time() + delay
        log.warning(
            "invocation %s failed (attempt %d of %d), retrying in %.1fs: %s",
            inv.id,
            attempts,
            self.retry_policy.max_attempts,
            delay,
            message,
            exc_info=error,
        )
        try:
            await self.store.write(
                partial(
                    _ops.set_status,
                    inv_id=inv.id,
                    status=r.BACKING_OFF,
                    now=time.time(),
                    wake_at=wake_at,
                    last_error=message,
                    attempts=attempts,
                    error_detail=r.error_detail_text(error),
                )
            )
        except StoreWriteError as write_error:
            self.store_failed(runner, write_error)
            return
        finally:
            if self.runners.get(inv.id) is runner:
                del self.runners[inv.id]
        self.set_timer(("inv", inv.id), wake_at, partial(self.resume, inv.id, (r.BACKING_OFF,)))

    async def pause(
        self,
        runner: RunnerView,
        reason: str,
        attempts: int | None = None,
        error: BaseException | None = None,
    ) -> None:
        """Pause an invocation for an operator, keeping ``error`` with its traceback, and answer its
        external callers (calling invocations keep waiting: a resume may still complete it)."""
        inv = runner.inv
        detail = None
        if error is not None:
            if isinstance(error, EngineControl) and runner.abort_error is not None:
                # The handler stopped at the mismatch: its traceback shows the call that differs.
                mismatch = runner.abort_error
                detail = r.error_detail_text(mismatch.with_traceback(error.__traceback__))
            else:
                detail = r.error_detail_text(error)
        log.warning(
            "invocation %s paused: %s; resume it with `agentdur resume %s`",
            inv.id,
            reason,
            inv.id,
            exc_info=error,
        )
        try:
            await self.store.write(
                partial(
                    _ops.set_status,
                    inv_id=inv.id,
                    status=r.PAUSED,
                    now=time.time(),
                    last_error=reason,
                    attempts=attempts,
                    error_detail=detail,
                )
            )
        except StoreWriteError as error:
            self.store_failed(runner, error)
            self.faults.stopped[inv.id] = reason  # it is paused for its own reason once the store can write
        finally:
            if self.runners.get(inv.id) is runner:
                del self.runners[inv.id]
        self.answer_paused(inv.id, reason)

    def answer_paused(self, inv_id: str, reason: str) -> None:
        """Tell the external callers waiting for ``inv_id`` that it paused, instead of waiting forever."""
        for waiter in self.attachers.pop(inv_id, []):
            if not waiter.done():
                waiter.set_exception(InvocationPausedError(inv_id, reason))

    def running_steps(self, inv_id: str) -> list[r.JournalEntry]:
        """The ``run`` steps of ``inv_id`` executing now in memory, not journaled yet."""
        runner = self.runners.get(inv_id)
        if runner is None:
            return []
        return [
            r.running_entry(idx, r.RUN, name, started)
            for idx, (name, started) in sorted(runner.running_steps.items())
        ]

    def store_failed(self, runner: RunnerView, error: BaseException) -> None:
        """A write of ``runner``'s invocation failed: stop it, pause it once the store can write."""
        self.faults.stop(runner, error)

    def suspend(self, runner: RunnerView) -> None:
        runner.suspending = True
        runner.stop()
        self.spawn(self._complete_suspension(runner))

    async def _complete_suspension(self, runner: RunnerView) -> None:
        if runner.task is not None:
            await asyncio.gather(runner.task, return_exceptions=True)
        inv_id = runner.inv.id
        observed = runner.completions_seen
        try:
            suspended = await self.store.write(
                partial(_ops.suspend, inv_id=inv_id, completions_seen=observed, now=time.time())
            )
        except StoreWriteError as error:
            self.store_failed(runner, error)
            return
        if self.runners.get(inv_id) is runner:
            del self.runners[inv_id]
        if not suspended or runner.completions_seen != observed:
            self.resume(inv_id, (r.READY, r.RUNNING))

    # ================================================================= completions

    def notify(self, inv_id: str, idx: int, outcome: r.Outcome) -> None:
        """A completion for entry ``idx`` of ``inv_id`` was committed: deliver it or wake the invocation."""
        runner = self.runners.get(inv_id)
        if runner is not None:
            runner.deliver(idx, outcome)
        else:
            self.resume(inv_id, (r.READY,))

    def wake_from_db(self, inv_id: str, idx: int) -> None:
        row = self.store.read_one(
            "SELECT status, value, failure FROM journal WHERE invocation_id=? AND idx=?", (inv_id, idx)
        )
        if row is not None and row["status"] != r.ENTRY_PENDING:
            self.notify(inv_id, idx, (row["status"], row["failure"] or row["value"]))

    async def complete_awakeable(
        self, awakeable_id: str, status: str, value: str | None, failure: str | None
    ) -> None:
        """Resolve or reject an awakeable from outside; a value that does not match its type is refused."""
        check = value_check(awakeable_id, self.live_awakeable_adapter(awakeable_id))
        inv_id, idx = await self.store.write(
            partial(
                _ops.complete_awakeable,
                awakeable_id=awakeable_id,
                status=status,
                value=value,
                failure=failure,
                now=time.time(),
                check=check,
            )
        )
        self.notify(inv_id, idx, (status, failure if failure is not None else value))

    def live_awakeable_adapter(self, awakeable_id: str) -> TypeAdapter[Any] | None:
        """The type a handler in memory awaits ``awakeable_id`` as (stricter than the recorded schema:
        it runs the type's own validators); ``None`` when no handler in memory awaits it."""
        for runner in self.runners.values():
            for fut in runner.pending.values():
                if isinstance(fut, EmbeddedAwakeableFuture) and fut.awakeable_id == awakeable_id:
                    return fut.adapter
        return None

    async def after_cancel_request(self, inv_id: str, status: str, children: list[str]) -> None:
        if status == r.COMPLETED:
            return
        if status in (r.PENDING, r.SCHEDULED):  # never started: it ends cancelled right away
            self.cancel_timer(("inv", inv_id))
            await self._complete_unstarted(inv_id, InvocationCancelledError(), r.CANCELLED)
        else:
            runner = self.runners.get(inv_id)
            if runner is not None:
                runner.request_cancel()
            elif status in (r.BACKING_OFF, r.PAUSED):
                self.cancel_timer(("inv", inv_id))
                await self.store.write(
                    partial(_ops.set_status, inv_id=inv_id, status=r.READY, now=time.time())
                )
                self.resume(inv_id, (r.READY,))
            else:
                self.resume(inv_id, (r.READY, r.RUNNING))
        for child in children:
            with contextlib.suppress(NotFoundError):
                await self.cancel(child)

    # ================================================================= timers

    def set_timer(self, key: Hashable, wake_at: float, callback: Any) -> None:
        if self.closing or key in self.timers:
            return

        def fire() -> None:
            self.timers.pop(key, None)
            callback()

        self.timers[key] = self.loop.call_later(max(0.0, wake_at - time.time()), fire)

    def cancel_timer(self, key: Hashable) -> None:
        handle = self.timers.pop(key, None)
        if handle is not None:
            handle.cancel()

    def ensure_timer(self, inv_id: str, idx: int, wake_at: float) -> None:
        """Make sure a pending durable sleep fires (idempotent: one timer per entry)."""
        self.set_timer(("sleep", inv_id, idx), wake_at, partial(self._spawn_fire_sleep, inv_id, idx))

    def _spawn_fire_sleep(self, inv_id: str, idx: int) -> None:
        self.spawn(self._fire_sleep(inv_id, idx))

    async def _fire_sleep(self, inv_id: str, idx: int) -> None:
        try:
            done = await self.store.write(
                partial(
                    _ops.complete_entry,
                    inv_id=inv_id,
                    idx=idx,
                    status=r.ENTRY_COMPLETED,
                    value=None,
                    failure=None,
                    now=time.time(),
                )
            )
        except StoreWriteError:
            self.faults.redo.append(partial(self._spawn_fire_sleep, inv_id, idx))
            return
        if done:
            self.notify(inv_id, idx, (r.ENTRY_COMPLETED, None))

    def deliver_scheduled(self, inv_id: str) -> None:
        self.spawn(self._deliver_scheduled_async(inv_id))

    async def _deliver_scheduled_async(self, inv_id: str) -> None:
        row = self.store.read_one("SELECT service, obj_key, exclusive FROM invocations WHERE id=?", (inv_id,))
        if row is None:
            return
        status = r.PENDING if row["exclusive"] else r.READY
        try:
            await self.store.write(
                partial(_ops.requeue, inv_id=inv_id, status=status, seq=next(self.seq), now=time.time())
            )
        except StoreWriteError:
            self.faults.redo.append(partial(self.deliver_scheduled, inv_id))
            return
        if row["exclusive"]:
            self.enqueue(inv_id, row["service"], row["obj_key"])
        else:
            self.resume(inv_id, (r.READY,))

    def spawn(self, coro: Any) -> None:
        task = self.loop.create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)


def _execution_reason(status: str, ran_before: bool) -> str:
    """Why an invocation runs now, from the status it had (for its logs and trace)."""
    if not ran_before:
        return "new"
    if status == r.BACKING_OFF:
        return "retry"
    if status == r.RUNNING:
        return "recovery"
    return "resume"
