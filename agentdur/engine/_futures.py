"""Durable futures of the embedded engine."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import TypeAdapter

from .._context import DurableCallFuture, DurableFuture, FutureHost, SendHandle
from .._exceptions import terminal_error_from_json
from . import _records as r

if TYPE_CHECKING:
    from ._runner import InvocationRunner

T = TypeVar("T")

# What a journal entry's asyncio future resolves to: (entry status, value or failure JSON text).
Outcome = tuple[str, str | None]
_UNSET: Any = object()


class EmbeddedFuture(DurableFuture[T]):
    """A journal entry's result: recorded (replay) or still to come (first execution)."""

    __slots__ = ("_runner", "index", "_outcome", "_adapter", "_value")

    def __init__(self, runner: InvocationRunner, index: int, adapter: TypeAdapter[Any] | None) -> None:
        self._runner = runner
        self.index = index
        self._outcome: asyncio.Future[Outcome] = runner.loop.create_future()
        self._adapter = adapter
        self._value: Any = _UNSET

    @property
    def host(self) -> FutureHost:
        return self._runner

    @property
    def outcome(self) -> asyncio.Future[Outcome]:
        """The asyncio future the engine completes."""
        return self._outcome

    def done(self) -> bool:
        """True once the entry's result is recorded."""
        return self._outcome.done()

    def __await__(self) -> Generator[Any, Any, T]:
        return self._runner.await_future(self).__await__()

    def result(self) -> T:
        """The recorded result; raises the recorded TerminalError (or the step's retryable error)."""
        if self._value is not _UNSET:
            return self._value  # type: ignore[no-any-return]
        status, text = self._outcome.result()
        if status == r.ENTRY_FAILED:
            raise terminal_error_from_json(json.loads(text or "{}"))
        if self._adapter is None:
            value: Any = None if text is None else text.encode()
        else:
            value = None if text is None else self._adapter.validate_json(text)
        self._value = value
        return value  # type: ignore[no-any-return]


class EmbeddedCallFuture(EmbeddedFuture[T], DurableCallFuture[T]):
    """The result of a call; knows the id of the invocation it called."""

    __slots__ = ("_callee_id",)

    def __init__(
        self, runner: InvocationRunner, index: int, adapter: TypeAdapter[Any] | None, callee_id: str
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
