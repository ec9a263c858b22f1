"""Durable futures of the embedded engine."""

from __future__ import annotations

import abc
import asyncio
import json
from collections.abc import Generator
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from .._context import DurableCallFuture, DurableFuture, FutureHost, SendHandle
from .._exceptions import terminal_error_from_json
from .._schema import mismatch_error, problems_of
from . import _records as r

T = TypeVar("T")
Outcome = r.Outcome


class FutureOwner(FutureHost, abc.ABC):
    """The runner that created a future: it knows how to wait for it deterministically."""

    @abc.abstractmethod
    async def await_future(self, fut: EmbeddedFuture[Any]) -> Any:
        """Wait for ``fut`` and return its result (or raise its error)."""


_UNSET: Any = object()
_PENDING, _COMPLETED, _ERRORED = 0, 1, 2


class EmbeddedFuture(DurableFuture[T]):
    """A journal entry's result: recorded (replay) or still to come (first execution).

    Completion wakes the awaiting handler directly (no asyncio future per entry, no callback hop):
    this is on the path of every step.
    """

    __slots__ = ("_runner", "index", "_adapter", "_value", "_state", "_outcome", "_error", "_waiters")

    def __init__(self, runner: FutureOwner, index: int, adapter: TypeAdapter[Any] | None) -> None:
        self._runner = runner
        self.index = index
        self._adapter = adapter
        self._value: Any = _UNSET
        self._state = _PENDING
        self._outcome: Outcome | None = None
        self._error: BaseException | None = None
        self._waiters: list[asyncio.Future[None]] | None = None

    @property
    def host(self) -> FutureHost:
        return self._runner

    def done(self) -> bool:
        """True once the entry's result is known."""
        return self._state != _PENDING

    def complete(self, outcome: Outcome) -> None:
        """Record the entry's outcome and wake whoever waits for it (the first outcome wins)."""
        if self._state == _PENDING:
            self._state = _COMPLETED
            self._outcome = outcome
            self._wake()

    def fail(self, error: BaseException) -> None:
        """Fail with an error that is not journaled (a retryable step error, a failed write)."""
        if self._state == _PENDING:
            self._state = _ERRORED
            self._error = error
            self._wake()

    def add_waiter(self, waiter: asyncio.Future[None]) -> None:
        """Resolve ``waiter`` when this future completes."""
        if self._waiters is None:
            self._waiters = [waiter]
        else:
            self._waiters.append(waiter)

    def awaited(self) -> bool:
        """Whether a task is blocked on this future."""
        return self._waiters is not None and any(not waiter.done() for waiter in self._waiters)

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, None
        if waiters:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def __await__(self) -> Generator[Any, Any, T]:
        return self._runner.await_future(self).__await__()

    def result(self) -> T:
        """The recorded result; raises the recorded TerminalError (or the step's retryable error)."""
        if self._value is not _UNSET:
            return self._value  # type: ignore[no-any-return]
        if self._state == _ERRORED:
            assert self._error is not None
            raise self._error
        if self._outcome is None:
            raise RuntimeError("the result of a durable future was read before it completed")
        status, text = self._outcome
        if status == r.ENTRY_FAILED:
            raise terminal_error_from_json(json.loads(text or "{}"))
        if self._adapter is None:
            value: Any = None if text is None else text.encode()
        else:
            value = None if text is None else self._adapter.validate_json(text)
        self._value = value
        return value  # type: ignore[no-any-return]


class EmbeddedAwakeableFuture(EmbeddedFuture[T]):
    """An awakeable's value: one that does not validate is a terminal error at the await, as on
    Restate, rather than a retry that can only fail again (the value is journaled)."""

    __slots__ = ("awakeable_id",)

    def __init__(self, runner: FutureOwner, index: int, adapter: TypeAdapter[Any], awakeable_id: str) -> None:
        super().__init__(runner, index, adapter)
        self.awakeable_id = awakeable_id

    @property
    def adapter(self) -> TypeAdapter[Any] | None:
        """The type the value is validated as."""
        return self._adapter

    def result(self) -> T:
        try:
            return super().result()
        except ValidationError as error:
            raise mismatch_error(self.awakeable_id, problems_of(error), None) from None


class EmbeddedCallFuture(EmbeddedFuture[T], DurableCallFuture[T]):
    """The result of a call; knows the id of the invocation it called."""

    __slots__ = ("_callee_id",)

    def __init__(
        self, runner: FutureOwner, index: int, adapter: TypeAdapter[Any] | None, callee_id: str
    ) -> None:
        super().__init__(runner, index, adapter)
        self._callee_id = callee_id

    async def invocation_id(self) -> str:
        return self._callee_id


class EmbeddedSendHandle(SendHandle):
    """A message sent durably to another handler."""

    def __init__(self, callee_id: str) -> None:
        self._callee_id = callee_id

    async def invocation_id(self) -> str:
        return self._callee_id
