"""The handler context API: what a handler can do durably, on either engine.

The names and signatures mirror the Restate Python SDK so that code from its documentation ports by
changing the import. Every operation is a journaled step; awaitables are durable futures.
"""

from __future__ import annotations

import abc
import contextvars
from collections.abc import Awaitable, Callable, Generator, Sequence
from datetime import timedelta
from random import Random
from typing import Any, Generic, ParamSpec, TypeVar, overload
from uuid import UUID

from pydantic import TypeAdapter

from ._exceptions import TerminalError, UserError
from ._live import to_json_value
from ._options import RunOptions
from ._service import HandlerSpec, handler_spec

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 - the Restate SDK's name for handler input
O = TypeVar("O")  # noqa: E741
P = ParamSpec("P")

HandlerFn = Callable[[Any, I], Awaitable[O]] | Callable[[Any], Awaitable[O]]


class FutureHost(abc.ABC):
    """The engine side of durable futures: how combinators wait on them deterministically."""

    @abc.abstractmethod
    async def wait_completed(
        self, futures: Sequence[DurableFuture[Any]]
    ) -> tuple[list[DurableFuture[Any]], list[DurableFuture[Any]]]:
        """Wait until at least one future completed; the split is journaled so replay repeats it."""

    @abc.abstractmethod
    async def wait_all(self, futures: Sequence[DurableFuture[Any]]) -> None:
        """Wait until every future completed, successfully or not."""

    def completion_order(self, futures: Sequence[DurableFuture[Any]]) -> list[DurableFuture[Any]]:
        """Completed ``futures`` sorted by when they completed, identically on every replay
        (argument order unless the engine knows better)."""
        return list(futures)


class DurableFuture(Awaitable[T], abc.ABC):
    """The result of a journaled operation; awaiting it returns the recorded result on replay."""

    @property
    @abc.abstractmethod
    def host(self) -> FutureHost:
        """The engine that owns this future."""

    @abc.abstractmethod
    def __await__(self) -> Generator[Any, Any, T]: ...


class DurableCallFuture(DurableFuture[T]):
    """The result of a call to another handler."""

    @abc.abstractmethod
    async def invocation_id(self) -> str:
        """The id of the called invocation."""


class SendHandle(abc.ABC):
    """A one-way message to another handler, started durably."""

    @abc.abstractmethod
    async def invocation_id(self) -> str:
        """The id of the invocation the message started."""


class Context(abc.ABC):
    """The context of a service handler: durable steps, timers, awakeables and calls."""

    @overload
    def run_typed(
        self,
        name: str,
        action: Callable[P, Awaitable[T]],
        options: RunOptions[T] = ...,
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> DurableFuture[T]: ...

    @overload
    def run_typed(
        self,
        name: str,
        action: Callable[P, T],
        options: RunOptions[T] = ...,
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> DurableFuture[T]: ...

    @abc.abstractmethod
    def run_typed(
        self,
        name: str,
        action: Callable[P, Any],
        options: RunOptions[Any] = RunOptions(),
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> DurableFuture[Any]:
        """Run ``action(*args, **kwargs)`` as a journaled step named ``name``.

        The step starts at once; the future returns its result. On replay the recorded result is
        returned without running the action. Sync actions run in a worker thread. A raised
        :class:`~agentdur.TerminalError` is journaled and not retried; other exceptions are retried
        per ``options`` (or by the invocation retry policy when ``options`` sets no retry field).
        """

    @abc.abstractmethod
    def sleep(self, delta: timedelta, name: str | None = None) -> DurableFuture[None]:
        """A durable timer: survives restarts and keeps its remaining time."""

    @overload
    def awakeable(
        self, type_hint: type[T], description: str | None = None
    ) -> tuple[str, DurableFuture[T]]: ...

    @overload
    def awakeable(
        self, type_hint: object = Any, description: str | None = None
    ) -> tuple[str, DurableFuture[Any]]: ...

    @abc.abstractmethod
    def awakeable(
        self, type_hint: Any = Any, description: str | None = None
    ) -> tuple[str, DurableFuture[Any]]:
        """Create an awakeable: an unguessable id someone outside can resolve, and its future.

        Args:
            type_hint: the type of the value it is resolved with; a class also types the future
                for type checkers.
            description: what is awaited, shown in the pending-approvals list of the embedded engine.
        """

    @abc.abstractmethod
    def resolve_awakeable(self, name: str, value: Any) -> None:
        """Complete another invocation's awakeable with ``value``."""

    @abc.abstractmethod
    def reject_awakeable(self, name: str, failure_message: str, failure_code: int = 500) -> None:
        """Fail another invocation's awakeable with a terminal error."""

    def service_call(
        self, tpe: HandlerFn[I, O], arg: I, idempotency_key: str | None = None
    ) -> DurableCallFuture[O]:
        """Call a handler of a service and get its result durably."""
        spec = handler_spec(tpe)
        return self._call(
            spec.service, spec.name, None, dump_input(spec, arg), spec.output_adapter, idempotency_key
        )

    def object_call(
        self, tpe: HandlerFn[I, O], key: str, arg: I, idempotency_key: str | None = None
    ) -> DurableCallFuture[O]:
        """Call a handler of a virtual object on ``key`` and get its result durably."""
        spec = handler_spec(tpe)
        return self._call(
            spec.service, spec.name, key, dump_input(spec, arg), spec.output_adapter, idempotency_key
        )

    def generic_call(
        self,
        service: str,
        handler: str,
        arg: bytes,
        key: str | None = None,
        idempotency_key: str | None = None,
    ) -> DurableCallFuture[bytes]:
        """Call a handler by name with raw JSON bytes; returns the raw JSON result."""
        return self._call(service, handler, key, bytes(arg), None, idempotency_key)

    def service_send(
        self,
        tpe: HandlerFn[I, O],
        arg: I,
        send_delay: timedelta | None = None,
        idempotency_key: str | None = None,
    ) -> SendHandle:
        """Start a service handler without waiting for it, optionally after ``send_delay``."""
        spec = handler_spec(tpe)
        return self.generic_send(
            spec.service, spec.name, dump_input(spec, arg), None, send_delay, idempotency_key
        )

    def object_send(
        self,
        tpe: HandlerFn[I, O],
        key: str,
        arg: I,
        send_delay: timedelta | None = None,
        idempotency_key: str | None = None,
    ) -> SendHandle:
        """Start an object handler on ``key`` without waiting for it."""
        spec = handler_spec(tpe)
        return self.generic_send(
            spec.service, spec.name, dump_input(spec, arg), key, send_delay, idempotency_key
        )

    @abc.abstractmethod
    def _call(
        self,
        service: str,
        handler: str,
        key: str | None,
        arg: bytes,
        adapter: TypeAdapter[Any] | None,
        idempotency_key: str | None,
    ) -> DurableCallFuture[Any]:
        """The engine's call: raw JSON in; the result decoded with ``adapter`` (raw bytes if None)."""

    @abc.abstractmethod
    def generic_send(
        self,
        service: str,
        handler: str,
        arg: bytes,
        key: str | None = None,
        send_delay: timedelta | None = None,
        idempotency_key: str | None = None,
    ) -> SendHandle:
        """Start a handler by name with raw JSON bytes, without waiting."""

    @abc.abstractmethod
    def cancel_invocation(self, invocation_id: str) -> None:
        """Cancel another invocation: it gets a cancellation TerminalError at its next await."""

    @abc.abstractmethod
    def uuid(self) -> UUID:
        """A UUID that is the same on every replay of this invocation."""

    @abc.abstractmethod
    def random(self) -> Random:
        """A random generator seeded per invocation, so replay draws the same numbers."""

    @abc.abstractmethod
    def time(self) -> DurableFuture[float]:
        """The current time (seconds since the epoch), recorded once and replayed."""

    @abc.abstractmethod
    def invocation_id(self) -> str:
        """The id of the running invocation."""

    def publish(self, event: Any) -> None:
        """Send ``event`` to whoever watches this invocation live; not journaled, best effort.

        Callable from the handler and from the body of a step (also in a worker thread). On the
        embedded server watchers follow ``GET /restate/invocation/{id}/stream`` (Server-Sent Events);
        on Restate the event is dropped (restate-server has no such stream). The durable result
        still comes from ``attach``.

        Args:
            event: any JSON-serializable value (pydantic models included).

        Raises:
            UserError: ``event`` is not JSON-serializable.
        """
        self._publish(to_json_value(event))

    @abc.abstractmethod
    def _publish(self, data: Any) -> None:
        """Deliver a published event (plain JSON) to the engine's live output."""


class StateList(Generic[T], abc.ABC):
    """A list in an object's state whose changes journal only what they change.

    Get one with :meth:`ObjectSharedContext.state_list`. ``append`` journals only the new items and
    ``pop``, ``keep_last`` and ``clear`` a small entry, so a chat history costs journal bytes per
    turn for what the turn adds, not for the whole history. Reads in an exclusive handler journal a
    reference to the list's version on the embedded engine (replay reads the items as they were).
    Changes need an exclusive handler, like ``ctx.set``; every item is JSON, checked like a ``set``
    value.

    Attributes:
        name: the state entry holding the list (one namespace with plain state).
    """

    name: str

    def _count(self, what: str, value: Any) -> int:
        """``value`` checked as a count (an int >= 0, not a bool), for ``what`` of this list."""
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise UserError(f"state list {self.name!r}: {what} takes a count >= 0, not {value!r}")
        return value

    @abc.abstractmethod
    def items(self, *, last: int | None = None) -> DurableFuture[list[T]]:
        """The items, oldest first; with ``last``, only the newest ``last`` of them."""

    @abc.abstractmethod
    def length(self) -> DurableFuture[int]:
        """How many items the list holds."""

    @abc.abstractmethod
    def append(self, *values: T) -> None:
        """Add ``values`` at the end (fire-and-forget, like ``ctx.set``)."""

    @abc.abstractmethod
    def pop(self) -> DurableFuture[T | None]:
        """Remove the newest item and return it (``None`` when the list is empty)."""

    @abc.abstractmethod
    def keep_last(self, count: int) -> None:
        """Drop the oldest items beyond the newest ``count``."""

    @abc.abstractmethod
    def clear(self) -> None:
        """Remove every item (and the state entry, like ``ctx.clear(name)``)."""


class ObjectSharedContext(Context):
    """The context of a shared object handler: reads the object's state, never writes it."""

    @abc.abstractmethod
    def key(self) -> str:
        """The object key this invocation runs on."""

    @overload
    def get(self, name: str, type_hint: type[T]) -> DurableFuture[T | None]: ...

    @overload
    def get(self, name: str, type_hint: object = Any) -> DurableFuture[Any]: ...

    @abc.abstractmethod
    def get(self, name: str, type_hint: Any = Any) -> DurableFuture[Any]:
        """The value of state ``name`` (``None`` when unset).

        Args:
            name: the state entry.
            type_hint: the type its JSON is validated as; a class (``int``, ``list[str]``, a
                pydantic model) also types the result for type checkers.
        """

    @abc.abstractmethod
    def state_keys(self) -> DurableFuture[list[str]]:
        """The names of the state entries this object key holds."""

    @overload
    def state_list(self, name: str, type_hint: type[T]) -> StateList[T]: ...

    @overload
    def state_list(self, name: str, type_hint: object = Any) -> StateList[Any]: ...

    @abc.abstractmethod
    def state_list(self, name: str, type_hint: Any = Any) -> StateList[Any]:
        """The list in state ``name``: appends and reads that do not journal the whole list.

        ``ctx.get(name)`` returns its items, ``ctx.set(name, value)`` replaces it, ``ctx.clear``
        and ``ctx.clear_all`` remove it, ``ctx.state_keys()`` lists it. A plain state entry holding
        a JSON array reads as the list (its first change converts it).

        Args:
            name: the state entry.
            type_hint: the type of one item; its JSON is validated as it; a class also types
                the list for type checkers.
        """


class ObjectContext(ObjectSharedContext):
    """The context of an exclusive object handler: reads and writes the object's state."""

    @abc.abstractmethod
    def set(self, name: str, value: Any) -> None:
        """Set state ``name``; committed atomically with the journal entry that records it."""

    @abc.abstractmethod
    def clear(self, name: str) -> None:
        """Remove state ``name``."""

    @abc.abstractmethod
    def clear_all(self) -> None:
        """Remove every state entry of this object key."""


_CURRENT: contextvars.ContextVar[Context] = contextvars.ContextVar("agentdur_context")


def dump_input(spec: HandlerSpec, arg: Any) -> bytes:
    """A handler's input as JSON bytes, or a TerminalError saying it cannot be serialized."""
    try:
        return spec.input_adapter.dump_json(arg)
    except Exception as error:
        raise TerminalError(f"cannot serialize the input of {spec.service}/{spec.name}: {error}") from error


def current_context() -> Context:
    """The context of the handler running in this task (integrations use it to journal steps).

    Raises:
        UserError: when called outside a handler.
    """
    try:
        return _CURRENT.get()
    except LookupError:
        raise UserError(
            "no agentdur handler is running here: call this from inside a handler served by an "
            "agentdur Engine or a Restate deployment"
        ) from None


_STEP: contextvars.ContextVar[str | None] = contextvars.ContextVar("agentdur_step", default=None)


def current_step() -> str | None:
    """The name of the step whose body runs in this task or thread, if any."""
    return _STEP.get()


def enter_step(name: str) -> contextvars.Token[str | None]:
    """Mark the current task (and threads it starts) as running the body of step ``name``."""
    return _STEP.set(name)


def check_not_in_step(operation: str) -> None:
    """Refuse a context operation made from inside a step's body.

    The operation would take a journal index only when the step body runs; on replay the step's
    recorded result is returned without running the body, so that index would never be taken and
    every later entry would mismatch.

    Raises:
        UserError: naming the step and the operation.
    """
    step = _STEP.get()
    if step is not None:
        raise UserError(
            f"{operation} was called inside the body of step {step!r}: steps cannot contain durable "
            "operations (on replay the step's body does not run). Call it from the handler instead, "
            "or, for an integration call that journals itself, do not wrap it in run_typed"
        )


def set_current_context(ctx: Context) -> contextvars.Token[Context]:
    """Bind ``ctx`` as the current context (engines call this when a handler starts)."""
    return _CURRENT.set(ctx)
