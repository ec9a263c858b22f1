"""Workflows on the embedded engine: run ids per key, the workflow context, promises, retention.

The run handler of a workflow key has one invocation whose id is derived from the key, so every
submission (ingress, Engine, another handler) finds the same one. Promise operations journal an
entry of the calling invocation and change the ``promises`` table in the same transaction (see
:mod:`._promises`); whoever waits is woken only after that transaction committed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from functools import partial
from typing import Any

from pydantic import TypeAdapter, ValidationError

from .._context import DurableFuture
from .._exceptions import ConflictError, InvalidInputError, TerminalError, terminal_error_to_json
from .._serde import adapter_for, describe_validation_error, dump
from .._service import App, HandlerSpec
from .._workflow import DurablePromise, Workflow, WorkflowContext
from . import _ops
from . import _promises as p
from . import _records as r
from ._context import EmbeddedContext
from ._futures import EmbeddedFuture
from ._host import RuntimeHost
from ._runner import InvocationRunner
from ._workflow_runs import purge_expired

SWEEP_EVERY_MAX = 60.0  # seconds between two sweeps of expired workflow runs, at most
SWEEP_EVERY_MIN = 0.05


def workflow_run_id(service: str, handler: str, key: str) -> str:
    """The invocation id of the run of workflow ``service`` for ``key`` (the same on every path)."""
    digest = hashlib.sha256(f"workflow\0{service}\0{handler}\0{key}".encode()).hexdigest()
    return f"inv_{digest[:32]}"


def run_retention(app: App, spec: HandlerSpec) -> float | None:
    """Seconds a finished run of ``spec`` is kept; ``None`` when ``spec`` is no workflow run handler."""
    definition = app.services.get(spec.service)
    if spec.kind != "workflow" or not isinstance(definition, Workflow):
        return None
    return definition.retention.total_seconds()


def context_for(runner: InvocationRunner, *, restarted: bool = False) -> EmbeddedContext:
    """The context a handler gets: a workflow context for the handlers of workflows.

    ``restarted``: an earlier attempt of the invocation ran (its live output may come again).
    """
    if runner.inv.spec.workflow:
        return EmbeddedWorkflowContext(runner, restarted=restarted)
    return EmbeddedContext(runner, restarted=restarted)


class EmbeddedWorkflowContext(EmbeddedContext, WorkflowContext):
    """The context of a workflow's handlers on the embedded engine (run handler and shared ones)."""

    def promise(self, name: str, type_hint: Any = Any) -> DurablePromise[Any]:
        return EmbeddedPromise(self._runner, self.key(), name, adapter_for(type_hint))


class PromiseFuture(EmbeddedFuture[Any]):
    """A promise's value: one that does not validate as the awaited type is a terminal error naming
    the promise at the await (the value is journaled: retrying could only fail again)."""

    __slots__ = ("promise_name",)

    def __init__(self, runner: InvocationRunner, index: int, adapter: TypeAdapter[Any], name: str) -> None:
        super().__init__(runner, index, adapter)
        self.promise_name = name

    def result(self) -> Any:
        try:
            return super().result()
        except ValidationError as error:
            raise InvalidInputError(
                f"the value of promise {self.promise_name!r} does not match its type: "
                f"{describe_validation_error(error)}"
            ) from None


class EmbeddedPromise(DurablePromise[Any]):
    """A durable promise of one workflow key on the embedded engine."""

    def __init__(self, runner: InvocationRunner, key: str, name: str, adapter: TypeAdapter[Any]) -> None:
        super().__init__(name)
        self._runner = runner
        self._key = key
        self._adapter = adapter
        self._service = runner.inv.spec.service

    def value(self) -> DurableFuture[Any]:
        runner = self._runner
        idx, entry = runner.enter(p.GET_PROMISE, self.name)
        if entry is None:
            target = p.promise_target(self._service, self._key, self.name)
            self._watch(idx, target)
            entry = r.Entry(p.GET_PROMISE, self.name, r.ENTRY_PENDING, target=target)
        fut = PromiseFuture(runner, idx, self._adapter, self.name)
        runner.settle(fut, entry)
        return fut

    def resolve(self, value: Any) -> DurableFuture[None]:
        try:
            text = dump(self._adapter, self._adapter.validate_python(value))
        except ValidationError as error:
            raise InvalidInputError(
                f"cannot resolve promise {self.name!r} with this value: {describe_validation_error(error)}"
            ) from None
        return self._complete(r.ENTRY_COMPLETED, text, None)

    def reject(self, message: str, code: int = 500) -> DurableFuture[None]:
        failure = json.dumps(terminal_error_to_json(TerminalError(message, code)))
        return self._complete(r.ENTRY_FAILED, None, failure)

    def peek(self) -> DurableFuture[Any]:
        runner = self._runner
        idx, entry = runner.enter(p.PEEK_PROMISE, self.name)
        fut = PromiseFuture(runner, idx, self._adapter, self.name)
        if entry is not None:
            runner.settle(fut, entry)
            return fut
        runner.pending[idx] = fut
        inv_id, now = runner.inv.id, time.time()
        task, seq = runner.take_key(idx)
        service, key, name = self._service, self._key, self.name

        def op(conn: Any) -> r.Outcome:
            status, value, failure = p.peek_promise(conn, service, key, name)
            _insert(conn, inv_id, idx, p.PEEK_PROMISE, name, status, value, failure, now, task, seq)
            return status, failure if failure is not None else value

        runner.store.write(op, on_error=runner.on_write_error).add_done_callback(
            partial(_settle, runner, idx)
        )
        return fut

    # ------------------------------------------------------------------ writes

    def _watch(self, idx: int, target: str) -> None:
        runner = self._runner
        rt: RuntimeHost = runner.runtime
        inv_id, now = runner.inv.id, time.time()
        task, seq = runner.take_key(idx)
        service, key, name = self._service, self._key, self.name

        def op(conn: Any) -> bool:
            return p.watch_promise(conn, inv_id, idx, target, service, key, name, now, task, seq)

        def after(fut: asyncio.Future[bool]) -> None:
            if fut.cancelled() or fut.exception() is not None:
                runner.fail_pending(idx, fut.exception() or asyncio.CancelledError())
            elif fut.result():
                rt.wake_from_db(inv_id, idx)

        runner.store.write(op, on_error=runner.on_write_error).add_done_callback(after)

    def _complete(self, status: str, value: str | None, failure: str | None) -> DurableFuture[None]:
        runner = self._runner
        kind = p.COMPLETE_PROMISE
        idx, entry = runner.enter(kind, self.name)
        fut: EmbeddedFuture[None] = EmbeddedFuture(runner, idx, adapter_for(Any))
        if entry is not None:
            runner.settle(fut, entry)
            return fut
        runner.pending[idx] = fut
        rt: RuntimeHost = runner.runtime
        inv_id, now = runner.inv.id, time.time()
        task, seq = runner.take_key(idx)
        service, key, name = self._service, self._key, self.name

        def op(conn: Any) -> tuple[r.Outcome, list[p.Waiting]]:
            try:
                woken = p.complete_promise(conn, service, key, name, status, value, failure, now)
            except ConflictError as error:
                refused = json.dumps(terminal_error_to_json(error))
                _insert(conn, inv_id, idx, kind, name, r.ENTRY_FAILED, None, refused, now, task, seq)
                return (r.ENTRY_FAILED, refused), []
            _insert(conn, inv_id, idx, kind, name, r.ENTRY_COMPLETED, None, None, now, task, seq)
            return (r.ENTRY_COMPLETED, None), woken

        def after(done: asyncio.Future[tuple[r.Outcome, list[p.Waiting]]]) -> None:
            if done.cancelled() or done.exception() is not None:
                runner.fail_pending(idx, done.exception() or asyncio.CancelledError())
                return
            outcome, woken = done.result()
            own = runner.pending.pop(idx, None)
            if own is not None:
                own.complete(outcome)
            for waiting in woken:
                rt.notify(waiting.invocation_id, waiting.index, waiting.outcome)

        runner.store.write(op, on_error=runner.on_write_error).add_done_callback(after)
        return fut


def _insert(
    conn: Any,
    inv_id: str,
    idx: int,
    kind: str,
    name: str,
    status: str,
    value: str | None,
    failure: str | None,
    now: float,
    task: str,
    seq: int,
) -> None:
    _ops.insert_entry(conn, inv_id, idx, kind, name, status, value, failure, now, task=task, seq=seq)


def _settle(runner: InvocationRunner, idx: int, done: asyncio.Future[r.Outcome]) -> None:
    """Complete the future of entry ``idx`` with the outcome its committed write returned."""
    if done.cancelled() or done.exception() is not None:
        runner.fail_pending(idx, done.exception() or asyncio.CancelledError())
        return
    fut = runner.pending.pop(idx, None)
    if fut is not None:
        fut.complete(done.result())


class RetentionSweeper:
    """Purges the runs of workflows whose retention expired, with their state and promises."""

    def __init__(self, rt: RuntimeHost, app: App) -> None:
        self.rt = rt
        self.workflows = [
            (d.name, d.main_handler, d.retention.total_seconds())
            for d in app.services.values()
            if isinstance(d, Workflow) and d.main_handler is not None
        ]

    def start(self) -> None:
        """Sweep now and then every so often (a fraction of the shortest retention, at most a minute)."""
        if self.workflows:
            self._sweep()

    def _every(self) -> float:
        shortest = min(retention for _, _, retention in self.workflows)
        return max(SWEEP_EVERY_MIN, min(SWEEP_EVERY_MAX, shortest / 4))

    def _sweep(self) -> None:
        now = time.time()
        for service, handler, retention in self.workflows:
            self.rt.store.write_nowait(
                partial(purge_expired, service=service, handler=handler, before=now - retention)
            )
        self.rt.set_timer(("workflow-retention",), now + self._every(), self._sweep)
