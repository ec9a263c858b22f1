"""Sagas: undo the completed steps of a handler that failed or was cancelled.

Register a compensation after each step that completed (:meth:`Saga.step` does both). When the
handler then fails with a terminal error, or is cancelled (an
:class:`~agentdur.InvocationCancelledError` at its next await), the compensations run in reverse
order, each as a journaled step named ``compensate: <name>``, and the error is raised again.

Because compensations are journaled steps, a process that dies while compensating resumes with the
first compensation that had not completed: the ones that completed are never run again. The one that
was running when the process died runs again, so make compensations idempotent (undo by a booking
id, not "the last booking"). A compensation's ordinary errors are retried (per its ``options``, or
else by retrying the invocation, which replays the finished ones); a compensation that raises a
terminal error stops the compensating, and that error propagates instead of the original one.

Example::

    async with Saga(ctx) as saga:
        flight = await saga.step("Book flight", book_flight, trip, compensate=("Cancel flight", cancel_flight))
        hotel = await saga.step("Book hotel", book_hotel, trip, compensate=("Cancel hotel", cancel_hotel))
        await ctx.run_typed("Charge card", charge, RunOptions(max_attempts=3), trip)
    # a TerminalError from "Charge card" cancels the hotel, then the flight, then propagates

Only terminal errors (and cancellation) compensate: other exceptions are retried by the engine, and a
retry replays the journal, so the steps are not done twice and need no undo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

from agentdur import Context, RunOptions, TerminalError

__all__ = ["Compensation", "Saga"]

T = TypeVar("T")

COMPENSATE_PREFIX = "compensate: "


@dataclass(frozen=True)
class Compensation:
    """An undo action: ``fn(*args)`` journaled as ``compensate: <name>``."""

    name: str
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    options: RunOptions[Any] = field(default_factory=RunOptions)


class Saga:
    """The compensations of one handler invocation (create one per invocation, in the handler).

    Use it as an async context manager (compensates on a terminal error or cancellation and
    re-raises), or call :meth:`compensate` yourself from an ``except`` block.
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.compensations: list[Compensation] = []
        self.compensated = False

    def add(
        self, name: str, fn: Callable[..., Any], *args: Any, options: RunOptions[Any] | None = None
    ) -> None:
        """Register ``fn(*args)`` to undo something done (or about to be done: registering before a
        step that may half-succeed is safe when ``fn`` tolerates nothing to undo)."""
        self.compensations.append(Compensation(name, fn, args, options or RunOptions()))

    async def step(
        self,
        name: str,
        action: Callable[..., Any],
        *args: Any,
        compensate: tuple[str, Callable[..., Any]] | None = None,
        options: RunOptions[Any] | None = None,
    ) -> Any:
        """Run ``action(*args)`` as journaled step ``name``; once it completed, register the
        compensation ``compensate = (name, fn)``, called as ``fn(result)``."""
        result = await self.ctx.run_typed(name, action, options or RunOptions(), *args)
        if compensate is not None:
            undo_name, undo = compensate
            self.add(undo_name, undo, result)
        return result

    async def compensate(self) -> list[str]:
        """Run the registered compensations in reverse order, each once, as journaled steps.

        Returns:
            the names of the compensations run, in the order they ran.
        """
        ran = []
        while self.compensations:
            undo = self.compensations.pop()
            await self.ctx.run_typed(COMPENSATE_PREFIX + undo.name, undo.fn, undo.options, *undo.args)
            ran.append(undo.name)
        self.compensated = True
        return ran

    async def __aenter__(self) -> Saga:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if isinstance(exc, TerminalError):
            await self.compensate()
