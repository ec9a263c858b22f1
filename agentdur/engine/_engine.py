"""The public face of the embedded engine: run, call, resolve, cancel and inspect invocations."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from datetime import timedelta
from functools import partial
from types import TracebackType
from typing import Any

from .._exceptions import (
    ConflictError,
    InvalidInputError,
    InvalidRunOptionsError,
    NotFoundError,
    StoreWriteError,
    TerminalError,
    UserError,
    terminal_error_from_json,
)
from .._live import LiveOutput
from .._loop_watch import DEFAULT_BLOCKED_LOOP_WARNING, LoopWatch
from .._options import InvocationRetryPolicy, as_seconds, check_positive_int
from .._serde import to_json_text, validate_input
from .._service import App, HandlerSpec
from .._step_body import STEP_THREADS
from .._values import DEFAULT_MAX_ENTRY_SIZE
from .._workflow import NO_IDEMPOTENCY_KEY, WORKFLOW_ALREADY_INVOKED, Workflow
from . import _ledger, _lists, _ops
from . import _records as r
from ._lock import DatabaseLock
from ._poison import DEFAULT_POISON_AFTER, mark_clean_shutdown, pause_poisoned
from ._recovery import recover
from ._retention import (
    DEFAULT_IDEMPOTENCY_RETENTION,
    DEFAULT_JOURNAL_RETENTION,
    DEFAULT_RETENTION_INTERVAL,
    Retention,
    RetentionPolicy,
    workflow_runs,
)
from ._runtime import DEFAULT_SUSPEND_AFTER, Runtime, new_invocation_id
from ._store import Store, Synchronous
from ._watch import FileIdentity, FileWatch, describe_blocker
from ._workflow_runs import purge_run
from ._workflows import RetentionSweeper, workflow_run_id


class Engine:
    """Runs an :class:`~agentdur.App` durably on a SQLite file, in this process.

    Use it as an async context manager::

        async with agentdur.Engine(app, path="agentdur.db") as engine:
            result = await engine.call("Pipeline", "run", {"text": "..."})

    Opening an engine on an existing file resumes every unfinished invocation. An engine owns its
    file alone: while it runs, a second engine on the same file (in this process or another) fails
    to start with :class:`~agentdur.DatabaseLockedError` naming the owner. To run an app in several
    processes, use the Restate backend.

    Args:
        app: the services and objects to run.
        path: the SQLite file (created when missing).
        synchronous: ``"FULL"`` (default: every acknowledged step survives power loss) or
            ``"NORMAL"`` (faster; survives a process crash, may lose the last steps on power loss).
        suspend_after: how long an invocation that only waits (timer, awakeable, call) stays in
            memory before it is released and later resumed by replay; ``None`` never releases.
        retry_policy: how handler attempts that fail with retryable errors are retried before the
            invocation is paused.
        max_entry_size: the largest journal entry (a step result, a state value, a handler result)
            in bytes of JSON; a larger one fails its attempt with :class:`~agentdur.JournalValueError`.
            Defaults to restate-server's message size limit (32 MiB); ``None`` sets no limit.
        poison_after: an invocation that was running at this many crashes of the process in a row,
            without writing a journal entry in between, is paused at the next start instead of
            being resumed (so the server comes up); ``None`` never pauses one for that.
        blocked_loop_warning: seconds a handler may hold the event loop (sync code outside a step)
            before a WARNING names it, once per handler; ``None`` does not watch.
        journal_retention: how long a completed invocation and its journal are kept (one day by
            default, as on Restate); ``None`` keeps them until purged.
        idempotency_retention: how long an invocation started with an idempotency key keeps
            answering that key with its result (one day); it caps the journal retention of such an
            invocation. ``None``: until purged.
        retention_interval: how often the background sweep removes what expired (one minute);
            ``None`` disables it (:meth:`sweep` and :meth:`purge_completed` still work).
    """

    def __init__(
        self,
        app: App,
        path: str | os.PathLike[str] = "agentdur.db",
        *,
        synchronous: Synchronous = "FULL",
        suspend_after: float | timedelta | None = DEFAULT_SUSPEND_AFTER,
        retry_policy: InvocationRetryPolicy | None = None,
        max_entry_size: int | None = DEFAULT_MAX_ENTRY_SIZE,
        poison_after: int | None = DEFAULT_POISON_AFTER,
        blocked_loop_warning: float | timedelta | None = DEFAULT_BLOCKED_LOOP_WARNING,
        journal_retention: float | timedelta | None = DEFAULT_JOURNAL_RETENTION,
        idempotency_retention: float | timedelta | None = DEFAULT_IDEMPOTENCY_RETENTION,
        retention_interval: float | timedelta | None = DEFAULT_RETENTION_INTERVAL,
    ) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be 'FULL' or 'NORMAL', not {synchronous!r}")
        check_positive_int("Engine.max_entry_size", max_entry_size)
        check_positive_int("Engine.poison_after", poison_after)
        blocked_after = as_seconds(blocked_loop_warning)
        if blocked_after is not None and not blocked_after > 0:
            raise InvalidRunOptionsError(
                f"Engine.blocked_loop_warning must be positive, not {blocked_loop_warning!r}"
            )
        self.max_entry_size = max_entry_size
        self.poison_after = poison_after
        self.blocked_loop_warning = blocked_after
        self._file_watch: FileWatch | None = None
        self._loop_watch: LoopWatch | None = None
        self.app = app
        self.path = os.fspath(path)
        self.synchronous: Synchronous = synchronous
        self.suspend_after = as_seconds(suspend_after)
        self.retry_policy = retry_policy or InvocationRetryPolicy()
        self.retention_policy = RetentionPolicy(
            as_seconds(journal_retention), as_seconds(idempotency_retention), as_seconds(retention_interval)
        )
        self._runtime: Runtime | None = None
        self._retention: Retention | None = None
        self._lock = DatabaseLock(self.path)
        self._closed = False

    # ================================================================= lifecycle

    async def __aenter__(self) -> Engine:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Take ownership of the file, open it and resume every unfinished invocation.

        Raises:
            DatabaseLockedError: another engine owns the file.
        """
        if self._runtime is not None or self._closed:
            raise UserError("an Engine can be started once")
        loop = asyncio.get_running_loop()
        self._lock.acquire()
        try:
            store = Store(self.path, self.synchronous)
        except BaseException:
            self._lock.release()
            raise
        store.start(loop)
        await pause_poisoned(store, self.poison_after)
        self._runtime = rt = Runtime(self.app, store, loop, self.suspend_after, self.retry_policy)
        rt.max_entry_size = self.max_entry_size
        self._file_watch = FileWatch(rt, FileIdentity(self.path))
        self._file_watch.start()
        if self.blocked_loop_warning is not None:
            self._loop_watch = LoopWatch(
                loop, self.blocked_loop_warning, lambda t, f: describe_blocker(rt, t, f)
            )
            self._loop_watch.start()
        recover(rt)
        RetentionSweeper(rt, self.app).start()
        self._retention = Retention(store, self.retention_policy, workflow_runs(self.app))
        self._retention.start()

    async def close(self, grace_period: float = 0.0) -> None:
        """Stop running handlers (they resume on the next start), commit pending writes, close the file.

        Args:
            grace_period: seconds that steps already running get to finish and be journaled; handlers
                start no new operation meanwhile. Whatever is left is resumed by the next start.
        """
        if self._runtime is None or self._closed:
            return
        self._closed = True
        for watch in (self._file_watch, self._loop_watch):
            if watch is not None:
                watch.stop()
        try:
            if self._retention is not None:
                await self._retention.close()
            await self._runtime.close(grace_period)
            with contextlib.suppress(StoreWriteError):
                await mark_clean_shutdown(self._runtime.store)
            await self._runtime.store.close()
        finally:
            self._lock.release()

    @property
    def store(self) -> Store:
        """The engine's SQLite store (for tools and tests that read the file)."""
        return self._rt.store

    @property
    def live(self) -> LiveOutput:
        """What running handlers publish with ``ctx.publish`` (not journaled), for live watchers."""
        return self._rt.live

    @property
    def healthy(self) -> bool:
        """False while the engine cannot write its journal (see :meth:`health`)."""
        return self.health() is None

    def health(self) -> str | None:
        """``None`` while the engine can write its journal; otherwise why it cannot.

        While it cannot, new writes fail at once with :class:`~agentdur.StoreWriteError` and the
        invocations whose writes failed are stopped; it becomes healthy again by itself once a
        test write to the file succeeds.
        """
        rt = self._rt
        if self._file_watch is not None:
            self._file_watch.check()
        fault = rt.store.fault
        return None if fault is None else str(fault)

    @property
    def abandoned_steps(self) -> list[tuple[str, float]]:
        """Sync step bodies abandoned at their timeout (or at shutdown) whose threads still run:
        their step names and seconds running. A thread cannot be stopped; each ends on its own."""
        return STEP_THREADS.abandoned()

    @property
    def in_memory(self) -> int:
        """How many invocations are held in memory right now (waiting ones get released)."""
        return len(self._rt.runners)

    @property
    def _rt(self) -> Runtime:
        if self._runtime is None:
            raise UserError(
                "the Engine is not started: use 'async with Engine(app) as engine:' or await engine.start()"
            )
        if self._closed:
            raise UserError("the Engine is closed")
        return self._runtime

    # ================================================================= invoking

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
            ConflictError: the run handler of a workflow was already invoked for this key (as on
                Restate; :meth:`workflow_attach` waits for that run's result).
            TerminalError: the handler failed terminally (its message and code).
        """
        if self.app.handler(service, handler).kind == "workflow":
            inv_id, created = await self.submit(
                service, handler, arg, key=key, idempotency_key=idempotency_key
            )
            if not created:
                raise ConflictError(WORKFLOW_ALREADY_INVOKED)
            return await self.attach(inv_id)
        if idempotency_key is None:
            spec, input_text = self._checked_input(service, handler, arg, key)
            waiter = self._rt.submit_and_wait(spec, key, input_text)
            if waiter is not None:
                return _result_of(await waiter)
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
        """Start a handler without waiting; returns the invocation id once it is durably accepted.

        Args:
            arg: the input: a JSON-compatible value or model, or raw JSON as ``bytes``.
            key: the object key, for virtual-object handlers (and only for them).
            idempotency_key: the same key for the same handler (and object key) always names the
                same invocation; reusing it with another input raises :class:`ConflictError`.
            delay: start the handler only after this long (seconds or a timedelta).
        """
        inv_id, _ = await self.submit(
            service, handler, arg, key=key, idempotency_key=idempotency_key, delay=delay
        )
        return inv_id

    async def submit(
        self,
        service: str,
        handler: str,
        arg: Any = None,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        delay: float | timedelta | None = None,
    ) -> tuple[str, bool]:
        """Like :meth:`send`, and also says whether the invocation is new (``False``: its
        idempotency key named an existing one)."""
        spec, input_text = self._checked_input(service, handler, arg, key)
        if idempotency_key is not None and spec.kind == "workflow":
            raise InvalidInputError(NO_IDEMPOTENCY_KEY)  # as restate-server answers
        return await self._rt.submit(spec, key, input_text, idempotency_key, as_seconds(delay))

    def idempotent_invocation_id(
        self, service: str, handler: str, idempotency_key: str, *, key: str | None = None
    ) -> str:
        """The id of the invocation an idempotency key names (whether or not it exists yet)."""
        return new_invocation_id(service, handler, key, idempotency_key)

    def _checked_input(
        self, service: str, handler: str, arg: Any, key: str | None
    ) -> tuple[HandlerSpec, str]:
        """The handler and its input as JSON text, or the 4xx error saying what is wrong (nothing written)."""
        self._rt  # noqa: B018 - raises when the engine is not running
        spec = self.app.handler(service, handler)
        input_text = to_json_text(arg)
        spec.check_key(key)
        validate_input(spec.input_adapter, input_text)
        return spec, input_text

    def workflow_invocation_id(self, workflow: str, key: str) -> str:
        """The id of the run of ``workflow`` for ``key`` (whether or not it was submitted yet).

        Raises:
            NotFoundError: ``workflow`` is not a workflow of this app, or has no run handler.
        """
        definition = self.app.services.get(workflow)
        if not isinstance(definition, Workflow) or definition.main_handler is None:
            raise NotFoundError(f"unknown workflow {workflow!r}")
        return workflow_run_id(workflow, definition.main_handler, key)

    async def workflow_attach(self, workflow: str, key: str) -> Any:
        """Wait for the run of ``workflow`` for ``key`` to finish; its result (or its failure raised).

        Raises:
            NotFoundError: unknown workflow, or no run was submitted for ``key``.
        """
        return await self.attach(self.workflow_invocation_id(workflow, key))

    async def attach(self, invocation_id: str) -> Any:
        """Wait for an invocation to finish and return its JSON result (or raise its failure)."""
        return _result_of(await self._rt.attach(invocation_id))

    async def output(self, invocation_id: str) -> tuple[bool, Any]:
        """``(True, result)`` when the invocation completed, ``(False, None)`` while it runs.

        Raises:
            NotFoundError: unknown invocation.
            TerminalError: the invocation completed with this failure.
        """
        row = self._rt.store.read_one(
            "SELECT status, output, failure FROM invocations WHERE id=?", (invocation_id,)
        )
        if row is None:
            raise NotFoundError(f"unknown invocation {invocation_id!r}")
        if row["status"] != r.COMPLETED:
            return False, None
        if row["failure"] is not None:
            raise terminal_error_from_json(json.loads(row["failure"]))
        return True, None if row["output"] is None else json.loads(row["output"])

    async def resolve_awakeable(self, awakeable_id: str, value: Any = None) -> None:
        """Complete an awakeable with a JSON value, waking the invocation that waits on it.

        The value must match the type the awakeable was created with (its recorded JSON schema, or
        the handler's own type while the handler is in memory).

        Raises:
            NotFoundError: no awakeable has this id.
            ConflictError: it was already resolved or rejected.
            AwakeableValueError: the value does not match the awakeable's type (400; the message
                names the field). The awakeable stays pending.
        """
        await self._rt.complete_awakeable(awakeable_id, r.ENTRY_COMPLETED, to_json_text(value), None)

    async def reject_awakeable(self, awakeable_id: str, message: str, code: int = 500) -> None:
        """Fail an awakeable: the waiting handler gets a TerminalError with ``message``."""
        failure = json.dumps(TerminalError(message, code).to_json())
        await self._rt.complete_awakeable(awakeable_id, r.ENTRY_FAILED, None, failure)

    # ================================================================= operating

    async def cancel(self, invocation_id: str) -> None:
        """Cancel an invocation: a cancellation TerminalError is raised at its next await.

        Its compensation code can still run journaled steps; calls it has in flight are cancelled too.
        Cancelling a completed invocation does nothing.

        Raises:
            NotFoundError: unknown invocation.
        """
        await self._rt.cancel(invocation_id)

    async def kill(self, invocation_id: str) -> None:
        """End an invocation at once, without running its compensation; calls in flight are killed too.

        Raises:
            NotFoundError: unknown invocation.
        """
        await self._rt.kill(invocation_id)

    async def resume(self, invocation_id: str) -> None:
        """Resume a paused invocation (after fixing what paused it) with a fresh retry budget.

        Raises:
            NotFoundError: unknown invocation.
            ConflictError: the invocation is not paused.
        """
        rt = self._rt
        self._require_status(invocation_id, r.PAUSED, "not paused")
        await rt.store.write(
            partial(_ops.set_status, inv_id=invocation_id, status=r.READY, now=time.time(), attempts=0)
        )
        rt.resume(invocation_id, (r.READY,))

    async def purge(self, invocation_id: str) -> None:
        """Delete a completed invocation and its journal (its idempotency key is then free again).

        Purging the run of a workflow also deletes its key's state and promises: the key can run again.

        Raises:
            NotFoundError: unknown invocation.
            ConflictError: the invocation has not completed.
        """
        self._require_status(invocation_id, r.COMPLETED, "only completed ones can be purged")
        row = self._rt.store.read_one("SELECT service, obj_key FROM invocations WHERE id=?", (invocation_id,))
        if row is not None and row["obj_key"] is not None and self._is_workflow_run(invocation_id, row):
            # a workflow run goes with its key's state and promises, as when its retention ends
            op = partial(purge_run, inv_id=invocation_id, service=row["service"], key=row["obj_key"])
            await self._rt.store.write(op)
            return
        await self._rt.store.write(partial(_ops.purge, inv_id=invocation_id))

    def _is_workflow_run(self, invocation_id: str, row: Any) -> bool:
        definition = self.app.services.get(row["service"])
        if not isinstance(definition, Workflow) or definition.main_handler is None:
            return False
        return invocation_id == self.workflow_invocation_id(row["service"], row["obj_key"])

    async def purge_completed(self, before: float) -> int:
        """Delete every invocation that completed before ``before`` (epoch seconds) and its journal,
        whatever the retention; returns how many. Object state is kept.

        It works in bounded steps between the engine's other writes, then gives the freed pages back
        to the file system when the file uses incremental auto-vacuum.
        """
        self._rt  # noqa: B018 - raises when the engine is not running
        assert self._retention is not None
        return await self._retention.purge_completed_before(before)

    async def sweep(self) -> int:
        """Apply the retention now (what the background sweep does): how many rows it removed."""
        self._rt  # noqa: B018 - raises when the engine is not running
        assert self._retention is not None
        return await self._retention.sweep_now()

    def _require_status(self, invocation_id: str, status: str, otherwise: str) -> None:
        row = self._rt.store.read_one("SELECT status FROM invocations WHERE id=?", (invocation_id,))
        if row is None:
            raise NotFoundError(f"unknown invocation {invocation_id!r}")
        if row["status"] != status:
            raise ConflictError(f"invocation {invocation_id!r} is {row['status']}: {otherwise}")

    # ================================================================= inspecting

    async def invocation(self, invocation_id: str) -> r.InvocationInfo:
        """The status, outcome and journal of one invocation.

        The journal also lists the ``run`` steps executing right now (status ``running``, with their
        start time): their entries are written only once they complete.
        """
        rt = self._rt
        await rt.store.barrier()
        row = rt.store.read_one("SELECT * FROM invocations WHERE id=?", (invocation_id,))
        if row is None:
            raise NotFoundError(f"unknown invocation {invocation_id!r}")
        journal = rt.store.read("SELECT * FROM journal WHERE invocation_id=? ORDER BY idx", (invocation_id,))
        info = r.invocation_info_of(row, journal)
        recorded = {entry.index for entry in info.journal}
        running = [entry for entry in rt.running_steps(invocation_id) if entry.index not in recorded]
        if running:
            info.journal = sorted([*info.journal, *running], key=lambda entry: entry.index)
        return info

    async def invocations(
        self,
        *,
        status: str | None = None,
        service: str | None = None,
        key: str | None = None,
        limit: int = 100,
        outcome: str | None = None,
        since: float | None = None,
        until: float | None = None,
        offset: int = 0,
    ) -> list[r.InvocationInfo]:
        """Invocations, newest first, filtered by status, outcome, service and object key (journals omitted).

        ``status`` also takes an outcome name (``succeeded``, ``failed``, ``cancelled``, ``killed``).
        ``failed`` matches the invocations that completed with a failure *and* the paused ones: an
        invocation pauses when its attempts failed (or its journal does not match), and waits there
        for an operator instead of completing. ``since`` and ``until`` (epoch seconds) bound when
        the invocation was created; ``offset`` skips that many of the newest matches (paging).
        """
        store = self._rt.store
        await store.barrier()
        where: list[str] = []
        params: list[Any] = []
        if status in r.OUTCOMES:
            status, outcome = None, status
        if outcome == r.FAILED:
            where.append("(outcome=? OR status=?)")
            params += [r.FAILED, r.PAUSED]
            outcome = None
        for column, value in (
            ("status", status),
            ("outcome", outcome),
            ("service", service),
            ("obj_key", key),
        ):
            if value is not None:
                where.append(f"{column}=?")
                params.append(value)
        for condition, bound in (("created_at>=?", since), ("created_at<?", until)):
            if bound is not None:
                where.append(condition)
                params.append(bound)
        sql = "SELECT * FROM invocations"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq DESC LIMIT ? OFFSET ?"
        rows = store.read(sql, (*params, max(0, int(limit)), max(0, int(offset))))
        return [r.invocation_info_of(row, []) for row in rows]

    async def pending_awakeables(self) -> list[r.PendingAwakeable]:
        """Awakeables nobody resolved yet — the approvals inbox — oldest first."""
        store = self._rt.store
        await store.barrier()
        rows = store.read(
            "SELECT j.target, j.invocation_id, j.idx, j.name, j.created_at, j.value_schema,"
            " i.service, i.handler, i.obj_key"
            " FROM journal j JOIN invocations i ON i.id = j.invocation_id"
            " WHERE j.kind=? AND j.status=? AND i.status != ? ORDER BY j.created_at",
            (r.AWAKEABLE, r.ENTRY_PENDING, r.COMPLETED),
        )
        return [r.pending_awakeable_of(row) for row in rows]

    async def object_keys(self, service: str, limit: int = 1000) -> list[str]:
        """The keys of a virtual object that have state or invocations, in order.

        Raises:
            NotFoundError: ``service`` is not a virtual object of this app.
        """
        if not self.app.is_keyed(service):
            raise NotFoundError(f"{service!r} is a service, not a virtual object: it has no keys")
        store = self._rt.store
        await store.barrier()
        rows = store.read(
            "SELECT obj_key FROM state WHERE service=?"
            " UNION SELECT obj_key FROM state_lists WHERE service=? AND active=1"
            " UNION SELECT obj_key FROM invocations WHERE service=? AND obj_key IS NOT NULL"
            " ORDER BY obj_key LIMIT ?",
            (service, service, service, max(0, int(limit))),
        )
        return [str(row["obj_key"]) for row in rows]

    async def usage(self, by: str = "service", since: float | None = None) -> dict[str, Any]:
        """Tokens and cost of model calls, spent and saved by replay, per ``by`` (``service``,
        ``key``, ``model`` or ``invocation``) since ``since`` (epoch seconds), and their total.

        Raises:
            InvalidInputError: an unknown grouping.
        """
        if by not in _ledger.GROUPINGS:
            raise InvalidInputError(f"by: must be one of {', '.join(_ledger.GROUPINGS)}, not {by!r}")
        await self._rt.store.barrier()
        return _ledger.usage_report(self._rt.store, by, since)

    async def state(self, service: str, key: str) -> dict[str, Any]:
        """The committed state of one object key, as JSON values by name.

        Raises:
            NotFoundError: ``service`` is not a virtual object of this app.
        """
        if not self.app.is_keyed(service):
            raise NotFoundError(f"{service!r} is a service, not a virtual object: it has no state")
        store = self._rt.store
        await store.barrier()
        values = _lists.committed_state(store, service, key)  # a list shows as its JSON array
        return {name: json.loads(values[name]) for name in sorted(values)}


def _result_of(outcome: tuple[str, str | None]) -> Any:
    """The JSON result of an outcome, or its failure raised."""
    status, text = outcome
    if status == r.ENTRY_FAILED:
        raise terminal_error_from_json(json.loads(text or "{}"))
    return None if text is None else json.loads(text)
