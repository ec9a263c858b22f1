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
from .._values import DEFAULT_MAX_ENTRY_SIZE, dump_checked
from ._errors import from_restate, raising_restate_errors
from ._lists import SEPARATOR, Lists, header_of
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
    """A state read: a list's header read as the list's items."""

    def __init__(self, host: RestateContext, name: str, inner: Any, adapter: TypeAdapter[Any]) -> None:
        super().__init__(host, inner)
        self._name = name
        self._value_adapter = adapter

    async def _result(self) -> Any:
        raw = await super()._result()
        header = header_of(raw)
        if header is not None:
            lists = cast(RestateContext, self.host).lists
            model = lists.model(self._name)
            if not model.known:
                model.known, model.header, model.base = True, header, None
            raw = await lists.items(self._name, None)
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

        async def read() -> Any:
            return adapter.validate_json(await lists.items(name, last))

        return ListFuture(self._ctx, read)

    def length(self) -> DurableFuture[int]:
        self._ctx._command(f"ctx list length {self.name!r}")
        name, lists = self.name, self._ctx.lists
        return ListFuture(self._ctx, lambda: lists.length(name))

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
        popped: list[bytes | None] = []

        async def run(model: Any) -> None:
            popped.append(await lists.pop(name, model))

        lists.queue(name, run)

        async def result() -> Any:
            await lists.settle(name)
            raw = popped[0] if popped else None
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
        # The single waiter of this invocation; agentdur's task factory reports the handler's tasks to
        # it (task_created), so it knows when all of them are blocked.
        self.pump = Pump(inner, self)
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
        adapter = adapter_for(type_hint)
        if name in self.lists.models:  # a list this invocation uses: its queued changes first
            lists = self.lists

            async def read() -> Any:
                model = await lists.settle(name)
                raw = await lists.items(name, None) if model.header is not None else model.plain
                return None if raw is None else adapter.validate_json(raw)

            return ListFuture(self, read)
        return StateFuture(self, name, self.inner.get(name, serde=_RAW), adapter)

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
        if value is None:
            self.inner.clear(key)
        else:
            self.inner.set(key, value, serde=_RAW)

    def state_keys(self) -> DurableFuture[list[str]]:
        self._command("ctx state_keys")
        self.key()
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
        return RestateStateList(self, name, type_hint)

    def set(self, name: str, value: Any) -> None:
        self._writable("set")
        self._replace(name, _ANY.serialize(value))

    def clear(self, name: str) -> None:
        self._writable("clear")
        self._replace(name, None)

    def _replace(self, name: str, raw: bytes | None) -> None:
        """Set or clear ``name``; a list this invocation uses loses its items' keys too."""
        self._written[name] = raw is not None
        if name not in self.lists.models:
            self.write_raw(name, raw)
            return
        lists = self.lists

        def apply(model: Any) -> None:
            lists.drop(name, model)
            model.plain = raw
            self.write_raw(name, raw)

        lists.change(name, apply)

    def clear_all(self) -> None:
        self._writable("clear_all")
        self.inner.clear_all()
        self._written.clear()
        self._cleared_all = True
        for model in self.lists.models.values():
            model.known, model.header, model.plain, model.base = True, None, None, None
            model.pending.clear()

    async def settle_lists(self) -> None:
        """Write the list changes still waiting for their list's header (the handler returned)."""
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
