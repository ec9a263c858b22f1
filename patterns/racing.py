"""Competitive racing: start several branches, keep the first to succeed, cancel the rest for real.

Branches are :mod:`~agentdur.patterns.parallel` branches: :func:`~agentdur.patterns.parallel.call`
(another handler, here or remote: a loser's invocation is cancelled through the engine, so its own
compensations run) and :func:`~agentdur.patterns.parallel.step` with ``stoppable=True`` (a local
step: its body gets a ``stop`` event, set when it lost, and should raise :class:`BranchStopped`).

The first branch to *succeed* wins; failed branches are passed over until all failed
(:class:`AllBranchesFailed`). With a ``deadline``, a durable timer races too: when it fires first,
every branch is cancelled and :class:`RaceTimedOut` is raised. The winner is journaled (a
``race winner`` step) after a journaled wait, so a replay picks the same winner and cancels the same
losers, whichever branch would finish first this time.

Example::

    won = await race(
        ctx,
        [call("fast", fast_agent.run, question), call("thorough", deep_agent.run, question)],
        deadline=timedelta(minutes=2),
    )
    return f"{won.name}: {won.value}"
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from agentdur import Context, DurableCallFuture, DurableFuture, RunOptions, UserError, wait_completed

from ._exceptions import AllBranchesFailed, BranchStopped, RaceTimedOut
from .parallel import Branch, BranchResult, check_branches, settle

__all__ = ["AllBranchesFailed", "BranchStopped", "RaceResult", "RaceTimedOut", "race"]

T = TypeVar("T")

WINNER_STEP = "race winner"
DEADLINE_TIMER = "race deadline"


@dataclass(frozen=True)
class RaceResult(Generic[T]):
    """The winning branch: its position in the input, its name and its value."""

    index: int
    name: str
    value: T


@dataclass
class _Runner:
    """A started branch: its future and how to stop it."""

    index: int
    branch: Branch[Any]
    future: DurableFuture[Any]
    stop: threading.Event


def _winner(index: int, name: str) -> dict[str, Any]:
    return {"index": index, "name": name}


async def race(
    ctx: Context, branches: Sequence[Branch[T]], *, deadline: timedelta | None = None
) -> RaceResult[T]:
    """Run ``branches`` at once; return the first to succeed and cancel the others.

    Args:
        ctx: the handler's context.
        branches: calls and stoppable steps (local agents cannot be stopped: call a handler instead).
        deadline: cancel everything and raise :class:`RaceTimedOut` if no branch succeeded by then.

    Raises:
        RaceTimedOut: the deadline passed first.
        AllBranchesFailed: every branch failed (their errors, in input order, in the message).
    """
    check_branches(branches, None)
    if any(b.start is None for b in branches):
        raise UserError("racing needs branches that are durable futures (parallel.step or parallel.call)")
    runners = [_start(ctx, i, b) for i, b in enumerate(branches)]
    timer = ctx.sleep(deadline, DEADLINE_TIMER) if deadline is not None else None
    failed: list[BranchResult[T]] = []
    running = list(runners)
    while running:
        futures = [r.future for r in running] + ([timer] if timer is not None else [])
        done, _ = await wait_completed(*futures)
        finished = {id(f) for f in done}
        for runner in [r for r in running if id(r.future) in finished]:
            running.remove(runner)
            outcome: BranchResult[T] = await settle(runner.index, runner.branch, runner.future)
            if outcome.ok:
                await ctx.run_typed(WINNER_STEP, _winner, RunOptions(), runner.index, runner.branch.name)
                await _cancel(ctx, running)
                return RaceResult(runner.index, runner.branch.name, outcome.value)  # type: ignore[arg-type]
            failed.append(outcome)
        if timer is not None and id(timer) in finished:
            await _cancel(ctx, running)
            raise RaceTimedOut(f"no branch succeeded within {deadline}; cancelled {len(running)} branches")
    errors = "; ".join(f"{r.name!r}: {r.error.message if r.error else ''}" for r in failed)
    raise AllBranchesFailed(f"every branch failed: {errors}")


def _start(ctx: Context, index: int, branch: Branch[Any]) -> _Runner:
    stop = threading.Event()
    assert branch.start is not None
    return _Runner(index, branch, branch.start(ctx, stop), stop)


async def _cancel(ctx: Context, losers: Sequence[_Runner]) -> None:
    """Stop local steps (their stop event) and cancel remote invocations through the engine."""
    for loser in losers:
        loser.stop.set()
        if isinstance(loser.future, DurableCallFuture):
            ctx.cancel_invocation(await loser.future.invocation_id())
