"""Parallelization: fan out to N branches, fan in their results in input order.

A branch is one of:

- :func:`step`: a local function run as one journaled step (a tool, a model call);
- :func:`call`: a durable call to another handler (a remote agent, or an agent of this app: it
  runs as its own invocation, so the caller can suspend while it works);
- :func:`agent`: a local coroutine that makes its own durable calls (several steps, calls, timers).

:func:`run_all` returns every result or raises :class:`ParallelFailed` naming the first failure;
:func:`run_settled` returns a :class:`BranchResult` per branch, successes and failures. Both keep
the input order and start at most ``limit`` branches at a time. Which branch finished when is
journaled, so a replay after a crash starts the same branches in the same order and takes each
completed branch's result from the journal: no completed step or call runs twice.

Branches of :func:`step` and :func:`call` are durable futures waited on with
``agentdur.wait_completed`` from the handler's task, on either engine. :func:`agent` branches run as
asyncio tasks, each task's durable calls replayed by its place in the handler (on both engines).

Example::

    results = await run_all(
        ctx,
        [step(f"Review {doc}", review, doc) for doc in docs],
        limit=3,
    )
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from agentdur import (
    Context,
    DurableFuture,
    InvocationCancelledError,
    RunOptions,
    TerminalError,
    UserError,
    wait_completed,
)
from agentdur._context import HandlerFn

from ._exceptions import ParallelFailed

__all__ = [
    "Branch",
    "BranchResult",
    "agent",
    "call",
    "failures",
    "generic_call",
    "run_all",
    "run_settled",
    "step",
    "successes",
]

T = TypeVar("T")

StartFn = Callable[[Context, threading.Event], DurableFuture[Any]]


@dataclass(frozen=True)
class Branch(Generic[T]):
    """One branch of a fan-out (build it with :func:`step`, :func:`call` or :func:`agent`).

    Attributes:
        name: the branch's name (a step's journal entry; shown in results and errors).
        start: starts the branch as one durable future; the event is set when the branch should
            stop early (a race it lost).
        agent: a local coroutine making its own durable calls, for branches that are not one future.
        remote: True when the future is a call to another invocation (it can be cancelled).
    """

    name: str
    start: StartFn | None = None
    agent: Callable[[Context], Awaitable[T]] | None = None
    remote: bool = False


@dataclass(frozen=True)
class BranchResult(Generic[T]):
    """What one branch produced: its value, or the terminal error it failed with."""

    index: int
    name: str
    value: T | None = None
    error: TerminalError | None = None

    @property
    def ok(self) -> bool:
        """True when the branch succeeded."""
        return self.error is None


def step(
    name: str,
    fn: Callable[..., Any],
    *args: Any,
    options: RunOptions[Any] | None = None,
    stoppable: bool = False,
) -> Branch[Any]:
    """A branch running ``fn(*args)`` (sync or async) as one journaled step named ``name``.

    Args:
        name: the step's journal entry; unique within the fan-out.
        fn: the step's body.
        args: its arguments (JSON-serializable values are safest: they are not journaled).
        options: retries of the step.
        stoppable: pass a ``stop: threading.Event`` keyword to ``fn``; racing sets it when the
            branch lost, and ``fn`` should then raise :class:`BranchStopped` (or return) soon.
    """

    def start(ctx: Context, stop: threading.Event) -> DurableFuture[Any]:
        kwargs: dict[str, Any] = {"stop": stop} if stoppable else {}
        return ctx.run_typed(name, fn, options or RunOptions(), *args, **kwargs)

    return Branch(name, start=start)


def call(name: str, handler: HandlerFn[Any, T], arg: Any, *, key: str | None = None) -> Branch[T]:
    """A branch calling ``handler`` (of a service, or of a virtual object on ``key``) durably."""

    def start(ctx: Context, stop: threading.Event) -> DurableFuture[Any]:
        if key is None:
            return ctx.service_call(handler, arg)
        return ctx.object_call(handler, key, arg)

    return Branch(name, start=start, remote=True)


def generic_call(
    name: str, service: str, handler: str, arg: bytes, *, key: str | None = None
) -> Branch[bytes]:
    """A branch calling ``service/handler`` by name with raw JSON; its value is the raw JSON result."""

    def start(ctx: Context, stop: threading.Event) -> DurableFuture[Any]:
        return ctx.generic_call(service, handler, arg, key=key)

    return Branch(name, start=start, remote=True)


def agent(name: str, fn: Callable[[Context], Awaitable[T]]) -> Branch[T]:
    """A branch running the local coroutine ``fn(ctx)``, which makes its own durable calls."""
    return Branch(name, agent=fn)


def check_branches(branches: Sequence[Branch[Any]], limit: int | None) -> None:
    """Refuse an empty fan-out, duplicate names and a limit below one."""
    if not branches:
        raise UserError("a fan-out needs at least one branch")
    names = [b.name for b in branches]
    if len(set(names)) != len(names):
        raise UserError(f"branch names must be unique, got {names}")
    if limit is not None and limit < 1:
        raise UserError(f"limit must be at least 1, got {limit}")
    for branch in branches:
        if (branch.start is None) == (branch.agent is None):
            raise UserError(f"branch {branch.name!r} needs exactly one of start and agent")


async def run_settled(
    ctx: Context, branches: Sequence[Branch[T]], *, limit: int | None = None
) -> list[BranchResult[T]]:
    """Run every branch, at most ``limit`` at a time; return one result per branch, in input order.

    A branch that fails with a terminal error (a step out of retries, a failed call) is a failed
    :class:`BranchResult`; a cancellation of this invocation is raised, not collected.
    """
    check_branches(branches, limit)
    if any(b.agent is not None for b in branches):
        return await _run_as_tasks(ctx, branches, limit)
    return await _run_as_futures(ctx, branches, limit or len(branches))


async def run_all(ctx: Context, branches: Sequence[Branch[T]], *, limit: int | None = None) -> list[T]:
    """Run every branch (see :func:`run_settled`) and return their values in input order.

    Raises:
        ParallelFailed: after all branches finished, when any failed (the first, in input order).
    """
    results = await run_settled(ctx, branches, limit=limit)
    failed = failures(results)
    if failed:
        first = failed[0]
        assert first.error is not None
        raise ParallelFailed(
            f"{len(failed)} of {len(results)} branches failed; {first.name!r}: {first.error.message}"
        )
    return [r.value for r in results]  # type: ignore[misc]  # no failure: every value is set


def successes(results: Sequence[BranchResult[T]]) -> list[BranchResult[T]]:
    """The branches that succeeded, in input order."""
    return [r for r in results if r.ok]


def failures(results: Sequence[BranchResult[T]]) -> list[BranchResult[T]]:
    """The branches that failed, in input order."""
    return [r for r in results if not r.ok]


async def settle(index: int, branch: Branch[T], future: Awaitable[T]) -> BranchResult[T]:
    """Await one branch's outcome as a :class:`BranchResult` (a cancellation of ours propagates)."""
    try:
        return BranchResult(index, branch.name, await future)
    except InvocationCancelledError:
        raise
    except TerminalError as error:
        return BranchResult(index, branch.name, error=error)


async def _run_as_futures(ctx: Context, branches: Sequence[Branch[T]], limit: int) -> list[BranchResult[T]]:
    """Durable futures waited on from this task: a journaled split at each wait, on both engines."""
    results: dict[int, BranchResult[T]] = {}
    running: list[tuple[int, DurableFuture[Any]]] = []
    waiting = list(enumerate(branches))
    while waiting or running:
        while waiting and len(running) < limit:
            index, branch = waiting.pop(0)
            assert branch.start is not None
            running.append((index, branch.start(ctx, threading.Event())))
        done, _ = await wait_completed(*(future for _, future in running))
        finished = {id(future) for future in done}
        for index, future in running:
            if id(future) in finished:
                results[index] = await settle(index, branches[index], future)
        running = [(i, f) for i, f in running if id(f) not in finished]
    return [results[i] for i in range(len(branches))]


async def _run_as_tasks(
    ctx: Context, branches: Sequence[Branch[T]], limit: int | None
) -> list[BranchResult[T]]:
    """One asyncio task per branch; each task's journal entries are found by its path on replay."""
    gate = asyncio.Semaphore(limit or len(branches))

    async def branch_task(index: int, branch: Branch[T]) -> BranchResult[T]:
        async with gate:
            if branch.agent is not None:
                return await settle(index, branch, branch.agent(ctx))
            assert branch.start is not None
            return await settle(index, branch, branch.start(ctx, threading.Event()))

    return list(await asyncio.gather(*(branch_task(i, b) for i, b in enumerate(branches))))
