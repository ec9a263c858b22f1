"""agentdur's handler context on top of a restate-sdk context: the same code runs on Restate."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator, Sequence
from datetime import timedelta
from random import Random
from typing import Any, Optional, cast
from uuid import UUID

import restate
from pydantic import TypeAdapter
from restate.serde import BytesSerde

from .. import tracing
from .._context import (
    DurableCallFuture,
    DurableFuture,
    FutureHost,
    ObjectContext,
    SendHandle,
    StateList,
    check_not_in_step,
)
from .._exceptions import TerminalError, UserError
from .._options import RunOptions, check_run_options
from .._serde import adapter_for, step_result_type
from .._service import HandlerSpec
from .._tasks import current_track
from .._values import DEFAULT_MAX_ENTRY_SIZE, check_state_name, dump_checked
from ._errors import from_restate, raising_restate_errors
from ._lists import SEPARATOR, SETTLING, ListModel, Lists, header_of
from ._pump import Pump, completed
from ._serde import AdapterSerde, AwakeableSerde, StepSerde
from ._tracing import RestateTrace, replaying

_ANY = AdapterSerde(adapter_for(Any))
_RAW = BytesSerde()


class RestateFuture(DurableFuture[Any]):
    """A restate-sdk durable future seen through agentdur's API (errors converted, bytes decoded)."""

    def __init__(
        self,
        host: RestateContext,
        inner: restate.RestateDurableFuture[Any],
        adapter: TypeAdapter[Any] | None = None,
        transform: Callable[[Any], Any] | None = None,
        trace_index: int | None = None,
    ) -> None:
        self._host = host
        self.inner = inner
        self._adapter = adapter
        self._transform = transform
        self._trace_index = trace_index  # the operation's span ends when its result is taken

    @property
    def host(self) -> FutureHost:
        return self._host

    def __await__(self) -> Generator[Any, Any, Any]:
        return self._result().__await__()

    def _traced(self, outcome: str) -> None:
        if self._trace_index is not None:
            self._host.trace.done(self._trace_index, outcome)
            self._trace_index = None

    async def _result(self) -> Any:
        try:
            # restate-sdk's server future (not in its declared type) knows whether it was collected
            if not cast(Any, self.inner).future.done():
                await self._host.pump.wait("await of a durable future", (self.inner,), take=self.inner)
            value = await self.inner
        except restate.TerminalError as error:
            self._traced("failed")
            raise from_restate(error) from None
        self._traced("completed")
        if self._adapter is not None and isinstance(value, bytes | bytearray):
            value = None if not value else self._adapter.validate_json(value)
        return value if self._transform is None else self._transform(value)


class StateFuture(RestateFuture):
    """A state read: a list's header read as the list's items.

    A list operation on ``name`` issued before this read is awaited queues a read of the list at
    that point (``snapshot``), so the result is the list as it was when this read was issued.
    """

    def __init__(self, host: RestateContext, name: str, inner: Any, adapter: TypeAdapter[Any]) -> None:
        super().__init__(host, inner)
        self._name = name
        self._value_adapter = adapter
        self.snapshot: Callable[[], Any] | None = None

    async def _result(self) -> Any:
        raw = await super()._result()
        ctx = self._host
        ctx.forget_get(self._name, self)
        if self.snapshot is not None:
            raw = await self.snapshot()
        elif self._name not in ctx.lists.models:
            # Nothing wrote ``name`` since this read was issued (a write makes its model): what it
            # read is what the invocation knows of it, so a later set/clear need not read it again.
            lists, name, header = ctx.lists, self._name, header_of(raw)
            model = lists.model(name)
            if not model.known:
                model.known, model.base = True, None
                model.header, model.plain = header, None if header is not None else raw
            if header is not None:
                raw = await lists.read(name, lambda current: lists.value_of(name, current))()
        elif header_of(raw) is not None:  # a list changed since: the list as it was at the read
            lists, name = ctx.lists, self._name
            raw = await lists.items_of(name, ListModel(known=True, header=header_of(raw)), None)
        return None if raw is None else self._value_adapter.validate_json(raw)


class ListFuture(DurableFuture[Any]):
    """The result of a list operation: what ``make`` returns, computed at the first await.

    Not usable in combinators (it is several journaled commands, not one).
    """

    def __init__(self, host: RestateContext, make: Callable[[], Any]) -> None:
        self._host = host
        self._make = make
        self._done = False
        self._value: Any = None

    @property
    def host(self) -> FutureHost:
        return self._host

    def __await__(self) -> Generator[Any, Any, Any]:
        return self._result().__await__()

    async def _result(self) -> Any:
        if not self._done:
            self._value = await self._make()
            self._done = True
        return self._value


class RestateStateList(StateList[Any]):
    """A state list on Restate (see :mod:`agentdur.restate._lists`)."""

    def __init__(self, ctx: RestateContext, name: str, type_hint: Any) -> None:
        self.name = name
        self._ctx = ctx
        self._adapter = adapter_for(cast(Any, list)[type_hint])
        self._item_adapter = adapter_for(cast(Any, Optional)[type_hint])
        self._append_adapter = adapter_for(type_hint)

    def items(self, *, last: int | None = None) -> DurableFuture[list[Any]]:
        if last is not None:
            self._count("last", last)
        self._ctx._command(f"ctx list items {self.name!r}")
        name, lists, adapter = self.name, self._ctx.lists, self._adapter

        async def compute(model: ListModel) -> bytes:
            return await lists.items_of(name, model, last)

        reader = lists.read(name, compute)

        async def result() -> Any:  # validated at the await (the read may run at another's)
            return adapter.validate_json(await reader())

        return ListFuture(self._ctx, result)

    def length(self) -> DurableFuture[int]:
        self._ctx._command(f"ctx list length {self.name!r}")
        name, lists = self.name, self._ctx.lists

        async def compute(model: ListModel) -> int:
            return lists.length_of(name, model)

        return ListFuture(self._ctx, lists.read(name, compute))

    def append(self, *values: Any) -> None:
        self._ctx._writable("append")
        what = f"an item appended to state list {self.name!r}"
        adapter = self._append_adapter
        raws = [dump_checked(what, adapter, v, DEFAULT_MAX_ENTRY_SIZE).encode() for v in values]
        name, lists = self.name, self._ctx.lists
        lists.change(name, lambda model: lists.append(name, model, raws))
        self._ctx._written[name] = True

    def pop(self) -> DurableFuture[Any]:
        self._ctx._writable("pop")
        name, lists, adapter = self.name, self._ctx.lists, self._item_adapter

        async def compute(model: ListModel) -> bytes | None:
            return await lists.pop(name, model)

        popped = lists.read(name, compute)

        async def result() -> Any:
            raw = await popped()
            return None if raw is None else adapter.validate_json(raw)

        return ListFuture(self._ctx, result)

    def keep_last(self, count: int) -> None:
        self._count("keep_last", count)
        self._ctx._writable("keep_last")
        name, lists = self.name, self._ctx.lists
        lists.change(name, lambda model: lists.keep_last(name, model, count))

    def clear(self) -> None:
        self._ctx.clear(self.name)


class RestateCallFuture(RestateFuture, DurableCallFuture[Any]):
    """A call made through restate-sdk."""

    inner: restate.RestateDurableCallFuture[Any]

    async def invocation_id(self) -> str:
        return str(await self._host.pump.run_exclusive("await of invocation_id()", self.inner.invocation_id))


class RestateSendHandle(SendHandle):
    """A send made through restate-sdk."""

    def __init__(self, host: RestateContext, inner: restate.SendHandle) -> None:
        self._host = host
        self.inner = inner

    async def invocation_id(self) -> str:
        return str(await self._host.pump.run_exclusive("await of invocation_id()", self.inner.invocation_id))


def _run_options(name: str, options: RunOptions[Any], adapter: TypeAdapter[Any]) -> restate.RunOptions[Any]:
    """agentdur's RunOptions mapped field by field onto restate-sdk's (the timeout is ours)."""
    return restate.RunOptions(
        serde=StepSerde(name, adapter),
        max_attempts=options.max_attempts,
        max_duration=options.max_duration,
        initial_retry_interval=options.initial_retry_interval,
        max_retry_interval=options.max_retry_interval,
        retry_interval_factor=options.retry_interval_factor,
    )


class RestateContext(ObjectContext, FutureHost):
    """Every agentdur context operation, delegated to the restate-sdk context of the invocation."""

    def __init__(self, inner: restate.ObjectContext, spec: HandlerSpec) -> None:
        # Typed as the widest restate-sdk context: the SDK passes the same invocation context (an
        # ObjectContext) to every kind of handler; key() and _writable() guard the object-only parts.
        self.inner = inner
        self._spec = spec
        self.loop = asyncio.get_running_loop()  # for sync code in worker threads
        # This invocation's own writes, so state_keys() reflects them as on the embedded engine
        # (restate-sdk lists the keys as stored when the invocation started).
        self._written: dict[str, bool] = {}
        self._cleared_all = False
        self.lists = Lists(self)
        self._open_gets: dict[str, list[StateFuture]] = {}
        # After a clear_all issued while list operations were queued: the commands issued since (the
        # clear_all first), held until those operations ran (their reads must come before it).
        self._held: list[Callable[[], None]] | None = None
        self._doomed: list[tuple[str, ListModel]] = []
        self._held_lock = asyncio.Lock()
        # The single waiter of this invocation; agentdur's task factory reports the handler's tasks to
        # it (task_created), so it knows when all of them are blocked.
        self.pump = Pump(inner, self)
        self.pump.before_wait = self._before_durable_wait
        tracing.set_replay_probe(replaying)
        self.trace = RestateTrace(inner, spec.service, spec.name, str(inner.key()) if spec.keyed else None)

    def task_created(self, task: asyncio.Task[Any]) -> None:
        """A task of this handler was created (called by agentdur's task factory)."""
        self.pump.task_created(task)

    def _command(self, operation: str) -> None:
        """Refuse ``operation`` from a step's body or from a task the handler did not create: its
        place among the journal's commands would not be found again on replay."""
        check_not_in_step(operation)
        current_track(self, operation)
        self.pump.durable_call(operation)

    # ----------------------------------------------------------------- steps and waits

    def run_typed(
        self,
        name: str,
        action: Callable[..., Any],
        options: RunOptions[Any] = RunOptions(),
        /,
        *args: Any,
        **kwargs: Any,
    ) -> DurableFuture[Any]:
        self._command(f"ctx run {name!r}")
        check_run_options(name, options)
        adapter = adapter_for(step_result_type(action, options.type_hint))
        body = raising_restate_errors(name, action, options.timeout_seconds)
        inner = self.inner.run_typed(name, body, _run_options(name, options, adapter), *args, **kwargs)
        return RestateFuture(self, inner, trace_index=self.trace.operation("run", name))

    def sleep(self, delta: timedelta, name: str | None = None) -> DurableFuture[None]:
        self._command("ctx sleep")
        inner = self.inner.sleep(delta, name)
        return RestateFuture(self, inner, trace_index=self.trace.operation("sleep", name or "sleep"))

    def awakeable(
        self, type_hint: Any = Any, description: str | None = None
    ) -> tuple[str, DurableFuture[Any]]:
        self._command("ctx awakeable")
        serde = AwakeableSerde(adapter_for(type_hint))
        awakeable_id, inner = self.inner.awakeable(serde=serde)
        serde.awakeable_id = awakeable_id
        index = self.trace.operation("awakeable", description or "awakeable")
        return awakeable_id, RestateFuture(self, inner, trace_index=index)

    def resolve_awakeable(self, name: str, value: Any) -> None:
        self._command("ctx resolve_awakeable")
        self.inner.resolve_awakeable(name, value, serde=_ANY)

    def reject_awakeable(self, name: str, failure_message: str, failure_code: int = 500) -> None:
        self._command("ctx reject_awakeable")
        self.inner.reject_awakeable(name, failure_message, failure_code)

    # ----------------------------------------------------------------- calls

    def _call(
        self,
        service: str,
        handler: str,
        key: str | None,
        arg: bytes,
        adapter: TypeAdapter[Any] | None,
        idempotency_key: str | None,
    ) -> RestateCallFuture:
        self._command(f"ctx call {service}/{handler}")
        inner = self.inner.generic_call(
            service, handler, arg, key=key, idempotency_key=idempotency_key, headers=self.trace.call_headers()
        )
        index = self.trace.operation("call", f"{service}/{handler}")
        return RestateCallFuture(self, inner, adapter, trace_index=index)

    def generic_send(
        self,
        service: str,
        handler: str,
        arg: bytes,
        key: str | None = None,
        send_delay: timedelta | None = None,
        idempotency_key: str | None = None,
    ) -> SendHandle:
        self._command(f"ctx send {service}/{handler}")
        inner = self.inner.generic_send(
            service,
            handler,
            bytes(arg),
            key=key,
            send_delay=send_delay,
            idempotency_key=idempotency_key,
            headers=self.trace.call_headers(),
        )
        self.trace.operation("send", f"{service}/{handler}")
        return RestateSendHandle(self, inner)

    def cancel_invocation(self, invocation_id: str) -> None:
        self._command("ctx cancel_invocation")
        self.inner.cancel_invocation(invocation_id)

    # ----------------------------------------------------------------- determinism

    def uuid(self) -> UUID:
        return self.inner.uuid()

    def random(self) -> Random:
        return self.inner.random()

    def time(self) -> DurableFuture[float]:
        self._command("ctx time")
        return RestateFuture(self, self.inner.time())

    def invocation_id(self) -> str:
        return str(self.inner.request().id)

    def _publish(self, data: Any) -> None:
        """Dropped: restate-server has no live stream to hand it to (docs/server.md, "Live output")."""

    # ----------------------------------------------------------------- state

    def key(self) -> str:
        if self._spec.kind is None:
            raise UserError(f"{self._spec.service!r} is a service: only virtual objects have a key")
        return str(self.inner.key())

    def get(self, name: str, type_hint: Any = Any) -> DurableFuture[Any]:
        self._command(f"ctx get {name!r}")
        self.key()
        check_state_name(name)
        adapter = adapter_for(type_hint)
        if self._held is not None:  # after a clear_all still held: read once it is written
            return ListFuture(self, lambda: self._after_held(lambda: self.get(name, type_hint)))
        if name in self.lists.models:  # a list this invocation uses: read in order with its changes
            lists = self.lists

            reader = lists.read(name, lambda model: lists.value_of(name, model))

            async def result() -> Any:
                raw = await reader()
                return None if raw is None else adapter.validate_json(raw)

            return ListFuture(self, result)
        future = StateFuture(self, name, self.inner.get(name, serde=_RAW), adapter)
        self._open_gets.setdefault(name, []).append(future)
        return future

    def forget_get(self, name: str, future: StateFuture) -> None:
        """A plain read of ``name`` has its stored value."""
        waiting = self._open_gets.get(name, [])
        if future in waiting:
            waiting.remove(future)
        if not waiting:
            self._open_gets.pop(name, None)

    def model_created(self, name: str) -> None:
        """List ``name`` is used from now on: a plain read of it issued before and not awaited yet
        reads the list in order with the list's operations (before the one being issued)."""
        lists = self.lists
        for future in self._open_gets.pop(name, []):
            if future.snapshot is None:
                future.snapshot = lists.read(name, lambda model: lists.value_of(name, model))

    async def _after_held(self, issue: Callable[[], DurableFuture[Any]]) -> Any:
        await self.write_held()
        return await issue()

    async def write_held(self) -> None:
        """Run the list operations a clear_all was issued after (reads only), then issue the clear_all
        and the commands held behind it, in order."""
        if self._held is None:
            return
        async with self._held_lock:
            if self._held is None:
                return
            for name, model in self._doomed:
                await self.lists.settle_model(name, model)
            held, self._held, self._doomed = self._held, None, []
            for command in held:
                command()

    async def _before_durable_wait(self) -> None:
        """Write every queued list change before the handler waits on anything durable, so that
        other invocations (shared handlers) see them (deterministic: a function of the code path)."""
        if SETTLING.get():  # a list being settled waits on its own reads
            return
        await self.write_held()
        await self.lists.settle_all()

    def read_started(self, key: str) -> RestateFuture:
        """A raw state read issued now (for lists)."""
        # restate-sdk declares state reads as Awaitable but returns its durable future
        return RestateFuture(self, cast("restate.RestateDurableFuture[Any]", self.inner.get(key, serde=_RAW)))

    async def read_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """Raw state reads of ``keys``, issued together."""
        futures = [self.read_started(key) for key in keys]
        if futures:
            await self.wait_all(futures)
        return [await future for future in futures]

    def write_raw(self, key: str, value: bytes | None) -> None:
        """Set (``None``: clear) a state key to raw JSON bytes (for lists)."""
        if self._held is not None:
            self._held.append(lambda: self._write_now(key, value))
        else:
            self._write_now(key, value)

    async def flush_cleared(self) -> None:
        """Before a read of list items: a held clear_all and what follows it are written first."""
        if self._held is not None:
            await self.write_held()

    def _write_now(self, key: str, value: bytes | None) -> None:
        if value is None:
            self.inner.clear(key)
        else:
            self.inner.set(key, value, serde=_RAW)

    def state_keys(self) -> DurableFuture[list[str]]:
        self._command("ctx state_keys")
        self.key()
        if self._held is not None:
            return ListFuture(self, lambda: self._after_held(self.state_keys))
        written, cleared_all = dict(self._written), self._cleared_all

        def with_own_writes(stored: list[str]) -> list[str]:
            names = set() if cleared_all else {name for name in stored if SEPARATOR not in name}
            names |= {name for name, present in written.items() if present}
            names -= {name for name, present in written.items() if not present}
            return sorted(names)

        inner = cast("restate.RestateDurableFuture[list[str]]", self.inner.state_keys())  # as in get()
        return RestateFuture(self, inner, transform=with_own_writes)

    def state_list(self, name: str, type_hint: Any = Any) -> StateList[Any]:
        self.key()
        check_state_name(name)
        return RestateStateList(self, name, type_hint)

    def set(self, name: str, value: Any) -> None:
        self._writable("set")
        check_state_name(name)
        self._replace(name, _ANY.serialize(value))

    def clear(self, name: str) -> None:
        self._writable("clear")
        check_state_name(name)
        self._replace(name, None)

    def _replace(self, name: str, raw: bytes | None) -> None:
        """Set or clear ``name``; a list this invocation uses loses its items' keys too."""
        self._written[name] = raw is not None
        lists = self.lists
        if name not in lists.models and not lists.all_cleared:
            # It may be a list: read its header (issued before the write) and clear its items
            # then; ``name`` itself is written now, as a plain set always is.
            async def drop_stored(model: ListModel) -> None:
                lists.drop(name, model)
                model.plain = raw

            lists.queue(name, drop_stored)
            self.write_raw(name, raw)
            return

        def apply(model: ListModel) -> None:
            lists.drop(name, model)
            model.plain = raw
            lists.write(model, name, raw)

        lists.change(name, apply)

    def clear_all(self) -> None:
        self._writable("clear_all")
        self._written.clear()
        self._cleared_all = True
        lists = self.lists
        # Operations queued (or running) on a list still read what they return (a pop its item) but
        # write nothing; the clear_all is held until they have read.
        doomed = [(name, m) for name, m in lists.models.items() if m.pending or m.lock.locked()]
        for _, model in doomed:
            model.doomed = True
        lists.models, lists.all_cleared = {}, True
        if doomed or self._held is not None:
            if self._held is None:
                self._held = []
            self._doomed.extend(doomed)
            self._held.append(self.inner.clear_all)
        else:
            self.inner.clear_all()

    async def settle_lists(self) -> None:
        """Write the list changes still waiting for their list's header (the handler returned)."""
        await self.write_held()
        await self.lists.settle_all()

    def _writable(self, operation: str) -> None:
        self._command(f"ctx {operation}")
        self.key()
        if not self._spec.writes_state:
            raise TerminalError(
                f"shared handler {self._spec.service}/{self._spec.name} cannot change state ({operation}): "
                "state is read-only in shared handlers; use an exclusive handler"
            )

    # ----------------------------------------------------------------- combinators

    async def wait_completed(
        self, futures: Sequence[DurableFuture[Any]]
    ) -> tuple[list[DurableFuture[Any]], list[DurableFuture[Any]]]:
        own = _own(self, futures)
        await self.pump.wait("agentdur.wait_completed", [f.inner for f in own])
        done = [f for f in own if completed(f.inner)]
        return list[DurableFuture[Any]](done), [f for f in own if not completed(f.inner)]

    async def wait_all(self, futures: Sequence[DurableFuture[Any]]) -> None:
        await self.pump.wait("agentdur.gather", [f.inner for f in _own(self, futures)], need_all=True)

    def completion_order(self, futures: Sequence[DurableFuture[Any]]) -> list[DurableFuture[Any]]:
        """Completed ``futures`` in the order the pump saw them complete (the same on replay)."""
        own = sorted(_own(self, futures), key=lambda f: self.pump.completion_rank(f.inner))
        return list[DurableFuture[Any]](own)


def _own(host: RestateContext, futures: Sequence[DurableFuture[Any]]) -> list[RestateFuture]:
    out = []
    for fut in futures:
        if isinstance(fut, ListFuture):
            raise UserError(
                "a state list operation's future cannot be passed to a combinator on Restate (it is "
                "several journaled commands): await it on its own"
            )
        if not isinstance(fut, RestateFuture) or fut.host is not host:
            raise UserError("combinators take futures created by the same handler invocation")
        out.append(fut)
    return out
