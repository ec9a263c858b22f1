"""The embedded engine: durable invocations on one SQLite file, in this process.

The engine owns the store, the invocations in memory, the per-key queues of exclusive handlers and the
timers. Everything runs on one event loop; only the writer thread touches the file for writes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import logging
import os
import secrets
import time
from collections import deque
from collections.abc import Hashable
from datetime import timedelta
from functools import partial
from types import TracebackType
from typing import Any

from .._exceptions import (
    InvalidInputError,
    InvocationCancelledError,
    NotFoundError,
    TerminalError,
    UserError,
    terminal_error_from_json,
    terminal_error_to_json,
)
from .._options import InvocationRetryPolicy
from .._serde import to_json_text, validate_input
from .._service import App, HandlerSpec
from . import _ops
from . import _records as r
from ._context import EmbeddedContext
from ._futures import Outcome
from ._runner import InvocationRunner, InvocationState
from ._store import Store, Synchronous

log = logging.getLogger("agentdur.engine")

DEFAULT_SUSPEND_AFTER = timedelta(seconds=10)


def new_invocation_id(service: str = "", handler: str = "", key: str | None = None, idempotency_key: str | None = None) -> str:
    """A fresh invocation id; with an idempotency key the id is derived from it, so every path agrees."""
    if idempotency_key is None:
        raw = secrets.token_bytes(16)
    else:
        raw = hashlib.sha256(f"{service}\0{handler}\0{key or ''}\0{idempotency_key}".encode()).digest()[:16]
    return "inv_" + base64.b32encode(raw).decode().rstrip("=").lower()


def _seconds(value: float | timedelta | None) -> float | None:
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Engine:
    """Runs an :class:`~agentdur.App` durably on a SQLite file.

    Use it as an async context manager::

        async with agentdur.Engine(app, path="agentdur.db") as engine:
            result = await engine.call("Pipeline", "run", {"text": "..."})

    Opening an engine on an existing file resumes every unfinished invocation.

    Args:
        app: the services and objects to run.
        path: the SQLite file (created when missing).
        synchronous: ``"FULL"`` (default: every acknowledged step survives power loss) or
            ``"NORMAL"`` (faster; survives a process crash, may lose the last steps on power loss).
        suspend_after: how long an invocation that only waits (timer, awakeable, call) stays in
            memory before it is released and later resumed by replay; ``None`` never releases.
        retry_policy: how handler attempts that fail with retryable errors are retried before the
            invocation is paused.
    """

    def __init__(
        self,
        app: App,
        path: str | os.PathLike[str] = "agentdur.db",
        *,
        synchronous: Synchronous = "FULL",
        suspend_after: float | timedelta | None = DEFAULT_SUSPEND_AFTER,
        retry_policy: InvocationRetryPolicy | None = None,
    ) -> None:
        self.app = app
        self.path = os.fspath(path)
        self.synchronous: Synchronous = synchronous
        self.suspend_after = _seconds(suspend_after)
        self.retry_policy = retry_policy or InvocationRetryPolicy()
        self._runners: dict[str, InvocationRunner] = {}
        self._queues: dict[tuple[str, str], deque[str]] = {}
        self._timers: dict[Hashable, asyncio.TimerHandle] = {}
        self._attachers: dict[str, list[asyncio.Future[Outcome]]] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._seq: itertools.count[int] = itertools.count(1)
        self._started = False
        self._closing = False

    # ================================================================= lifecycle

    async def __aenter__(self) -> Engine:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Open the file and resume every unfinished invocation."""
        if self._started:
            raise UserError("this Engine was already started")
        self.loop = asyncio.get_running_loop()
        self.store = Store(self.path, self.synchronous)
        self.store.start(self.loop)
        row = self.store.read_one("SELECT ifnull(max(seq), 0) FROM invocations")
        self._seq = itertools.count(int(row[0] if row else 0) + 1)
        self._started = True
        self._recover()

    async def close(self) -> None:
        """Stop running handlers (they resume on the next start), commit pending writes, close the file."""
        if not self._started or self._closing:
            return
        self._closing = True
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        runners = list(self._runners.values())
        for runner in runners:
            runner.stop()
        tasks = [t for t in (runner.task for runner in runners) if t is not None]
        tasks += list(self._background)
        for task in self._background:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for waiters in self._attachers.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.cancel()
        await self.store.close()

    @property
    def in_memory(self) -> int:
        """How many invocations are held in memory right now (waiting ones get released)."""
        return len(self._runners)

    # ================================================================= public API

    async def call(
        self,
        service: str,
        handler: str,
        arg: Any = None,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Invoke a handler and wait for its JSON result.

        Raises:
            NotFoundError: unknown service or handler.
            InvalidInputError: the input does not validate (the message names the field).
            TerminalError: the handler failed terminally (its message and code).
        """
        inv_id = await self.send(service, handler, arg, key=key, idempotency_key=idempotency_key)
        return await self.attach(inv_id)

    async def send(
        self,
        service: str,
        handler: str,
        arg: Any = None,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        delay: float | timedelta | None = None,
    ) -> str:
        """Start a handler without waiting; returns the invocation id once it is durably accepted."""
        self._check_open()
        spec = self.app.handler(service, handler)
        input_text = to_json_text(arg)
        check_route(spec, key)
        validate_input(spec.input_adapter, input_text)
        inv_id, _ = await self._submit(spec, key, input_text, idempotency_key, _seconds(delay))
        return inv_id

    async def attach(self, invocation_id: str) -> Any:
        """Wait for an invocation to finish and return its JSON result (or raise its failure)."""
        self._check_open()
        row = self.store.read_one("SELECT status, output, failure FROM invocations WHERE id=?", (invocation_id,))
        if row is None:
            raise NotFoundError(f"unknown invocation {invocation_id!r}")
        if row["status"] == r.COMPLETED:
            outcome: Outcome = _outcome_of(row["output"], row["failure"])
        else:
            waiter: asyncio.Future[Outcome] = self.loop.create_future()
            self._attachers.setdefault(invocation_id, []).append(waiter)
            outcome = await waiter
        status, text = outcome
        if status == r.ENTRY_FAILED:
            raise terminal_error_from_json(json.loads(text or "{}"))
        return None if text is None else json.loads(text)

    async def resolve_awakeable(self, awakeable_id: str, value: Any = None) -> None:
        """Complete an awakeable with a JSON value, waking the invocation that waits on it.

        Raises:
            NotFoundError: no awakeable has this id.
            ConflictError: it was already resolved or rejected.
        """
        await self._complete_awakeable(awakeable_id, r.ENTRY_COMPLETED, to_json_text(value), None)

    async def reject_awakeable(self, awakeable_id: str, message: str, code: int = 500) -> None:
        """Fail an awakeable: the waiting handler gets a TerminalError with ``message``."""
        failure = json.dumps(TerminalError(message, code).to_json())
        await self._complete_awakeable(awakeable_id, r.ENTRY_FAILED, None, failure)

    async def cancel(self, invocation_id: str) -> None:
        """Cancel an invocation: a cancellation TerminalError is raised at its next await.

        Its compensation code can still run journaled steps; calls it has in flight are cancelled too.
        Cancelling a completed invocation does nothing.
        """
        self._check_open()
        status, children = await self.store.write(partial(_ops.request_cancel, inv_id=invocation_id, now=time.time()))
        await self._after_cancel_request(invocation_id, status, children)

    async def resume(self, invocation_id: str) -> None:
        """Resume a paused invocation (after fixing what paused it) with a fresh retry budget."""
        self._check_open()
        row = self.store.read_one("SELECT status FROM invocations WHERE id=?", (invocation_id,))
        if row is None:
            raise NotFoundError(f"unknown invocation {invocation_id!r}")
        if row["status"] != r.PAUSED:
            return
        await self.store.write(partial(_ops.set_status, inv_id=invocation_id, status=r.READY, now=time.time(), attempts=0))
        self._resume(invocation_id, (r.READY,))

    async def invocation(self, invocation_id: str) -> r.InvocationInfo:
        """The status, outcome and journal of one invocation."""
        self._check_open()
        await self.store.barrier()
        row = self.store.read_one("SELECT * FROM invocations WHERE id=?", (invocation_id,))
        if row is None:
            raise NotFoundError(f"unknown invocation {invocation_id!r}")
        journal = self.store.read("SELECT * FROM journal WHERE invocation_id=? ORDER BY idx", (invocation_id,))
        return r.invocation_info_of(row, journal)

    # ================================================================= creating invocations

    def _check_open(self) -> None:
        if not self._started:
            raise UserError("the Engine is not started: use 'async with Engine(app) as engine:' or await engine.start()")
        if self._closing:
            raise UserError("the Engine is closed")

    async def _submit(
        self,
        spec: HandlerSpec,
        key: str | None,
        input_text: str,
        idempotency_key: str | None,
        delay: float | None,
    ) -> tuple[str, bool]:
        new = self._new_invocation(spec, key, input_text, idempotency_key, delay)
        inv_id, created = await self.store.write(partial(_ops.create_invocation, inv=new, seq=next(self._seq)))
        if created:
            self._schedule_new(new, spec)
        return inv_id, created

    def _new_invocation(
        self, spec: HandlerSpec, key: str | None, input_text: str, idempotency_key: str | None, delay: float | None
    ) -> _ops.NewInvocation:
        now = time.time()
        if delay:
            status, wake_at = r.SCHEDULED, now + delay
        else:
            status, wake_at = (r.PENDING if spec.exclusive else r.READY), None
        return _ops.NewInvocation(
            id=new_invocation_id(spec.service, spec.name, key, idempotency_key),
            service=spec.service,
            handler=spec.name,
            key=key,
            exclusive=spec.exclusive,
            status=status,
            input=input_text,
            idempotency_key=idempotency_key,
            wake_at=wake_at,
            now=now,
        )

    def _schedule_new(self, new: _ops.NewInvocation, spec: HandlerSpec) -> None:
        """Run a just-created invocation, queue it behind its key, or wait for its delay."""
        if new.status == r.SCHEDULED:
            assert new.wake_at is not None
            self._set_timer(("inv", new.id), new.wake_at, partial(self._deliver_scheduled, new.id))
        elif spec.exclusive:
            assert new.key is not None
            self._enqueue(new.id, spec.service, new.key)
        else:
            self._start_runner(InvocationState(new.id, spec, new.key, new.input), {}, r.READY)

    def _start_call(
        self,
        runner: InvocationRunner,
        idx: int,
        service: str,
        handler: str,
        key: str | None,
        arg: str,
        idempotency_key: str | None,
    ) -> tuple[str, r.Entry]:
        """Journal a call entry and create the callee in the same transaction."""
        name = f"{service}/{handler}"
        caller_id, now = runner.inv.id, time.time()
        try:
            spec = self.app.handler(service, handler)
            check_route(spec, key)
        except TerminalError as error:
            failure = json.dumps(terminal_error_to_json(error))
            runner.record(idx, r.CALL, name, r.ENTRY_FAILED, None, failure, target="")
            return "", r.Entry(r.CALL, name, r.ENTRY_FAILED, failure=failure, target="")
        new = self._new_invocation(spec, key, arg, idempotency_key, None)
        seq = next(self._seq)

        def op(conn: Any) -> tuple[bool, bool]:
            callee_id, created = _ops.create_invocation(conn, new, seq)
            _ops.insert_entry(conn, caller_id, idx, r.CALL, name, r.ENTRY_PENDING, None, None, now, target=callee_id)
            completed = _ops.add_waiter(conn, callee_id, caller_id, idx, now)
            return created, completed

        def after(fut: asyncio.Future[tuple[bool, bool]]) -> None:
            if fut.cancelled() or fut.exception() is not None:
                runner.fail_pending(idx, fut.exception() or asyncio.CancelledError())
                return
            created, completed = fut.result()
            if created:
                self._schedule_new(new, spec)
            if completed:
                self._wake_from_db(caller_id, idx)

        self.store.write(op).add_done_callback(after)
        return new.id, r.Entry(r.CALL, name, r.ENTRY_PENDING, target=new.id)

    def _start_send(
        self,
        runner: InvocationRunner,
        idx: int,
        service: str,
        handler: str,
        key: str | None,
        arg: str,
        delay: timedelta | None,
        idempotency_key: str | None,
    ) -> str:
        """Journal a send entry and create the callee (possibly delayed) in the same transaction."""
        name = f"{service}/{handler}"
        caller_id, now = runner.inv.id, time.time()
        spec = self.app.handler(service, handler)
        check_route(spec, key)
        new = self._new_invocation(spec, key, arg, idempotency_key, _seconds(delay))
        seq = next(self._seq)

        def op(conn: Any) -> bool:
            callee_id, created = _ops.create_invocation(conn, new, seq)
            _ops.insert_entry(
                conn, caller_id, idx, r.SEND, name, r.ENTRY_COMPLETED, json.dumps(callee_id), None, now, target=callee_id
            )
            return created

        def after(fut: asyncio.Future[bool]) -> None:
            if not fut.cancelled() and fut.exception() is None and fut.result():
                self._schedule_new(new, spec)

        self.store.write(op).add_done_callback(after)
        return new.id

    # ================================================================= running

    def _start_runner(self, state: InvocationState, journal: dict[int, r.Entry], status: str) -> None:
        if self._closing or state.id in self._runners:
            return
        runner = InvocationRunner(self, state, journal)
        self._runners[state.id] = runner
        if status != r.RUNNING:
            inv_id = state.id
            self.store.write_nowait(partial(_ops.set_status, inv_id=inv_id, status=r.RUNNING, now=time.time()))
        runner.start(EmbeddedContext(runner))

    def _resume(self, inv_id: str, allowed: tuple[str, ...]) -> None:
        """Load an invocation and its journal from the file and run it by replay."""
        if self._closing or inv_id in self._runners:
            return
        row = self.store.read_one("SELECT * FROM invocations WHERE id=?", (inv_id,))
        if row is None or row["status"] not in allowed:
            return
        if row["exclusive"]:
            queue = self._queues.get((row["service"], row["obj_key"]))
            if not queue or queue[0] != inv_id:
                return
        try:
            spec = self.app.handler(row["service"], row["handler"])
        except NotFoundError as error:
            self.store.write_nowait(
                partial(_ops.set_status, inv_id=inv_id, status=r.PAUSED, now=time.time(), last_error=str(error))
            )
            return
        journal = {
            int(e["idx"]): r.Entry.from_row(e)
            for e in self.store.read("SELECT * FROM journal WHERE invocation_id=?", (inv_id,))
        }
        state = InvocationState(
            id=inv_id,
            spec=spec,
            key=row["obj_key"],
            input=row["input"],
            attempts=row["attempts"],
            completions=row["completions"],
            cancel_requested=bool(row["cancel_requested"]),
            cancel_at_await=row["cancel_at_await"],
        )
        self._start_runner(state, journal, row["status"])

    def _enqueue(self, inv_id: str, service: str, key: str) -> None:
        queue = self._queues.setdefault((service, key), deque())
        queue.append(inv_id)
        if len(queue) == 1:
            self._resume(inv_id, (r.PENDING, r.READY, r.RUNNING))

    def _dequeue(self, inv_id: str, service: str, key: str) -> None:
        """Remove a finished exclusive invocation from its key's line and start the next one."""
        queue = self._queues.get((service, key))
        if not queue:
            return
        was_head = queue[0] == inv_id
        try:
            queue.remove(inv_id)
        except ValueError:
            return
        if not queue:
            del self._queues[(service, key)]
        elif was_head:
            self._resume(queue[0], (r.PENDING, r.READY, r.RUNNING))

    async def _finish(self, runner: InvocationRunner, output: str | None, failure: str | None) -> None:
        inv = runner.inv
        try:
            parents = await self.store.write(
                partial(_ops.finish_invocation, inv_id=inv.id, output=output, failure=failure, now=time.time())
            )
        finally:
            if self._runners.get(inv.id) is runner:
                del self._runners[inv.id]
        outcome: Outcome = _outcome_of(output, failure)
        for waiter in self._attachers.pop(inv.id, []):
            if not waiter.done():
                waiter.set_result(outcome)
        for parent in parents:
            self._notify(parent.parent_id, parent.index, (parent.status, parent.failure or parent.value))
        if inv.spec.exclusive and inv.key is not None:
            self._dequeue(inv.id, inv.spec.service, inv.key)

    async def _retry_later(self, runner: InvocationRunner, error: Exception) -> None:
        inv = runner.inv
        attempts = inv.attempts + 1
        message = f"{type(error).__name__}: {error}"
        if attempts >= self.retry_policy.max_attempts:
            await self._pause(runner, f"gave up after {attempts} attempts; last error: {message}", attempts)
            return
        wake_at = time.time() + self.retry_policy.delay_after(attempts)
        log.info("invocation %s failed (attempt %d), retrying: %s", inv.id, attempts, message)
        try:
            await self.store.write(
                partial(_ops.set_status, inv_id=inv.id, status=r.BACKING_OFF, now=time.time(), wake_at=wake_at,
                        last_error=message, attempts=attempts)
            )
        finally:
            if self._runners.get(inv.id) is runner:
                del self._runners[inv.id]
        self._set_timer(("inv", inv.id), wake_at, partial(self._resume, inv.id, (r.BACKING_OFF,)))

    async def _pause(self, runner: InvocationRunner, reason: str, attempts: int | None = None) -> None:
        inv = runner.inv
        log.warning("invocation %s paused: %s", inv.id, reason)
        try:
            await self.store.write(
                partial(_ops.set_status, inv_id=inv.id, status=r.PAUSED, now=time.time(), last_error=reason,
                        attempts=attempts)
            )
        finally:
            if self._runners.get(inv.id) is runner:
                del self._runners[inv.id]

    def _suspend(self, runner: InvocationRunner) -> None:
        runner.suspending = True
        runner.stop()
        self._spawn(self._complete_suspension(runner))

    async def _complete_suspension(self, runner: InvocationRunner) -> None:
        if runner.task is not None:
            await asyncio.gather(runner.task, return_exceptions=True)
        inv_id = runner.inv.id
        observed = runner.completions_seen
        suspended = await self.store.write(
            partial(_ops.suspend, inv_id=inv_id, completions_seen=observed, now=time.time())
        )
        if self._runners.get(inv_id) is runner:
            del self._runners[inv_id]
        if not suspended or runner.completions_seen != observed:
            self._resume(inv_id, (r.READY, r.RUNNING))

    # ================================================================= completions

    def _notify(self, inv_id: str, idx: int, outcome: Outcome) -> None:
        """A completion for entry ``idx`` of ``inv_id`` was committed: deliver it or wake the invocation."""
        runner = self._runners.get(inv_id)
        if runner is not None:
            runner.deliver(idx, outcome)
        else:
            self._resume(inv_id, (r.READY,))

    def _wake_from_db(self, inv_id: str, idx: int) -> None:
        row = self.store.read_one(
            "SELECT status, value, failure FROM journal WHERE invocation_id=? AND idx=?", (inv_id, idx)
        )
        if row is not None and row["status"] != r.ENTRY_PENDING:
            self._notify(inv_id, idx, (row["status"], row["failure"] or row["value"]))

    async def _complete_awakeable(self, awakeable_id: str, status: str, value: str | None, failure: str | None) -> None:
        self._check_open()
        inv_id, idx = await self.store.write(
            partial(_ops.complete_awakeable, awakeable_id=awakeable_id, status=status, value=value,
                    failure=failure, now=time.time())
        )
        self._notify(inv_id, idx, (status, failure if failure is not None else value))

    def _complete_awakeable_from_handler(
        self, runner: InvocationRunner, idx: int, kind: str, awakeable_id: str, status: str,
        value: str | None, failure: str | None,
    ) -> None:
        caller_id, now = runner.inv.id, time.time()

        def op(conn: Any) -> tuple[str, int] | None:
            _ops.insert_entry(conn, caller_id, idx, kind, awakeable_id, r.ENTRY_COMPLETED, None, None, now)
            try:
                return _ops.complete_awakeable(conn, awakeable_id, status, value, failure, now)
            except TerminalError:
                return None  # unknown or already completed: as on Restate, not an error for the caller

        def after(fut: asyncio.Future[tuple[str, int] | None]) -> None:
            if not fut.cancelled() and fut.exception() is None and (target := fut.result()) is not None:
                self._notify(target[0], target[1], (status, failure if failure is not None else value))

        self.store.write(op).add_done_callback(after)

    def _cancel_from_handler(self, runner: InvocationRunner, idx: int, target: str) -> None:
        caller_id, now = runner.inv.id, time.time()

        def op(conn: Any) -> tuple[str, list[str]] | None:
            _ops.insert_entry(conn, caller_id, idx, r.CANCEL, target, r.ENTRY_COMPLETED, None, None, now)
            try:
                return _ops.request_cancel(conn, target, now)
            except NotFoundError:
                return None

        def after(fut: asyncio.Future[tuple[str, list[str]] | None]) -> None:
            if not fut.cancelled() and fut.exception() is None and (found := fut.result()) is not None:
                self._spawn(self._after_cancel_request(target, *found))

        self.store.write(op).add_done_callback(after)

    async def _after_cancel_request(self, inv_id: str, status: str, children: list[str]) -> None:
        if status == r.COMPLETED:
            return
        if status in (r.PENDING, r.SCHEDULED):  # never started: it ends cancelled right away
            self._cancel_timer(("inv", inv_id))
            row = self.store.read_one("SELECT service, obj_key, exclusive FROM invocations WHERE id=?", (inv_id,))
            failure = json.dumps(terminal_error_to_json(InvocationCancelledError()))
            parents = await self.store.write(
                partial(_ops.finish_invocation, inv_id=inv_id, output=None, failure=failure, now=time.time())
            )
            for waiter in self._attachers.pop(inv_id, []):
                if not waiter.done():
                    waiter.set_result((r.ENTRY_FAILED, failure))
            for parent in parents:
                self._notify(parent.parent_id, parent.index, (parent.status, parent.failure or parent.value))
            if row is not None and row["exclusive"]:
                self._dequeue(inv_id, row["service"], row["obj_key"])
        else:
            runner = self._runners.get(inv_id)
            if runner is not None:
                runner.request_cancel()
            elif status in (r.BACKING_OFF, r.PAUSED):
                self._cancel_timer(("inv", inv_id))
                await self.store.write(partial(_ops.set_status, inv_id=inv_id, status=r.READY, now=time.time()))
                self._resume(inv_id, (r.READY,))
            else:
                self._resume(inv_id, (r.READY, r.RUNNING))
        for child in children:
            with contextlib.suppress(NotFoundError):
                await self.cancel(child)

    # ================================================================= timers

    def _set_timer(self, key: Hashable, wake_at: float, callback: Any) -> None:
        if self._closing or key in self._timers:
            return

        def fire() -> None:
            self._timers.pop(key, None)
            callback()

        self._timers[key] = self.loop.call_later(max(0.0, wake_at - time.time()), fire)

    def _cancel_timer(self, key: Hashable) -> None:
        handle = self._timers.pop(key, None)
        if handle is not None:
            handle.cancel()

    def _ensure_timer(self, inv_id: str, idx: int, wake_at: float) -> None:
        """Make sure a pending durable sleep fires (idempotent: one timer per entry)."""
        self._set_timer(("sleep", inv_id, idx), wake_at, partial(self._spawn_fire_sleep, inv_id, idx))

    def _spawn_fire_sleep(self, inv_id: str, idx: int) -> None:
        self._spawn(self._fire_sleep(inv_id, idx))

    async def _fire_sleep(self, inv_id: str, idx: int) -> None:
        done = await self.store.write(
            partial(_ops.complete_entry, inv_id=inv_id, idx=idx, status=r.ENTRY_COMPLETED, value=None,
                    failure=None, now=time.time())
        )
        if done:
            self._notify(inv_id, idx, (r.ENTRY_COMPLETED, None))

    def _deliver_scheduled(self, inv_id: str) -> None:
        self._spawn(self._deliver_scheduled_async(inv_id))

    async def _deliver_scheduled_async(self, inv_id: str) -> None:
        row = self.store.read_one("SELECT service, obj_key, exclusive FROM invocations WHERE id=?", (inv_id,))
        if row is None:
            return
        status = r.PENDING if row["exclusive"] else r.READY
        await self.store.write(partial(_ops.requeue, inv_id=inv_id, status=status, seq=next(self._seq), now=time.time()))
        if row["exclusive"]:
            self._enqueue(inv_id, row["service"], row["obj_key"])
        else:
            self._resume(inv_id, (r.READY,))

    def _spawn(self, coro: Any) -> None:
        task = self.loop.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ================================================================= recovery

    def _recover(self) -> None:
        rows = self.store.read(
            "SELECT id, service, obj_key, exclusive, status, wake_at FROM invocations"
            " WHERE status != ? ORDER BY seq",
            (r.COMPLETED,),
        )
        to_resume: list[str] = []
        for row in rows:
            inv_id, status = row["id"], row["status"]
            if status == r.SCHEDULED:
                self._set_timer(("inv", inv_id), row["wake_at"] or 0.0, partial(self._deliver_scheduled, inv_id))
                continue
            if status == r.BACKING_OFF:
                self._set_timer(("inv", inv_id), row["wake_at"] or 0.0, partial(self._resume, inv_id, (r.BACKING_OFF,)))
            if row["exclusive"]:
                self._queues.setdefault((row["service"], row["obj_key"]), deque()).append(inv_id)
            elif status in (r.READY, r.RUNNING, r.PENDING):
                to_resume.append(inv_id)
        for queue in self._queues.values():
            to_resume.append(queue[0])
        for row in self.store.read(
            "SELECT invocation_id, idx, wake_at FROM journal WHERE kind=? AND status=?", (r.SLEEP, r.ENTRY_PENDING)
        ):
            self._ensure_timer(row["invocation_id"], row["idx"], row["wake_at"] or 0.0)
        for inv_id in to_resume:
            self._resume(inv_id, (r.READY, r.RUNNING, r.PENDING))
        if rows:
            log.info("recovered %d unfinished invocations, %d resumed", len(rows), len(to_resume))


def check_route(spec: HandlerSpec, key: str | None) -> None:
    """A keyed route for an object handler, an unkeyed one for a service handler."""
    if spec.keyed and key is None:
        raise InvalidInputError(f"{spec.service}/{spec.name} is a virtual object handler: it needs an object key")
    if not spec.keyed and key is not None:
        raise InvalidInputError(f"{spec.service}/{spec.name} is a service handler: it takes no object key")


def _outcome_of(output: str | None, failure: str | None) -> Outcome:
    return (r.ENTRY_FAILED, failure) if failure is not None else (r.ENTRY_COMPLETED, output)
