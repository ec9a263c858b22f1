"""Handlers that fan out over asyncio tasks, each task making several durable calls.

Step bodies sleep for times that depend on how often they already ran, so completions come in a
different order on the first run than on a re-execution after a crash. Side effects go to the
shared log (tests/effects.py) so tests count what really ran across processes and replays.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import timedelta

import agentdur

from ..effects import LOG_ENV, count, record

TASKS = 3
STEPS = 3

spread = agentdur.VirtualObject("Spread")


async def step(label: str, i: int, j: int) -> str:
    """Task ``i``'s ``j``-th step; the first execution of later tasks is faster, re-executions reversed."""
    record(f"step {label} {i}.{j}")
    first = count(f"step {label} {i}.{j}") == 1
    await asyncio.sleep(0.03 * ((TASKS - i) if first else (i + 1)) + 0.01 * j)
    if (i, j) == (1, 1):
        await asyncio.to_thread(_wait_for_file, os.environ.get(LOG_ENV, "") + f".release-{label}")
    return f"{i}.{j}"


def _wait_for_file(path: str) -> None:
    """Block until the test creates ``path`` (it may kill the deployment first)."""
    while not os.path.exists(path):
        time.sleep(0.01)


async def worker(ctx: agentdur.ObjectContext, label: str, i: int, issued: list[str]) -> list[str]:
    """Steps, a state write and read, a timer: several durable calls from one task."""
    out = []
    for j in range(STEPS):
        issued.append(f"{i}.{j}")
        out.append(await ctx.run_typed(f"step {i}.{j}", step, agentdur.RunOptions(), label, i, j))
        if j == 0:
            ctx.set(f"task {i}", out[-1])
            assert await ctx.get(f"task {i}", type_hint=str) == out[-1]
        if i == 2 and j == 1:
            await ctx.sleep(timedelta(milliseconds=30))
    return out


@spread.handler()
async def fan_out(ctx: agentdur.ObjectContext, label: str) -> dict[str, object]:
    """gather, then create_task + asyncio.wait with an awakeable, then a TaskGroup."""
    record(f"attempt {label}")
    issued: list[str] = []  # the order this attempt issued the steps in (journal order on Restate)
    gathered = await asyncio.gather(*(worker(ctx, label, i, issued) for i in range(TASKS)))

    aid, approval = ctx.awakeable(type_hint=str)
    await ctx.run_typed("publish", record, agentdur.RunOptions(), f"awakeable {label} {aid}")

    async def approve() -> str:
        return await approval

    async def two_steps(n: int) -> int:
        a = await ctx.run_typed(f"round2 {n}a", _echo, agentdur.RunOptions(), label, n)
        b = await ctx.run_typed(f"round2 {n}b", _echo, agentdur.RunOptions(), label, n + 10)
        return a + b

    tasks = [asyncio.create_task(approve()), *(asyncio.create_task(two_steps(n)) for n in range(2))]
    done, pending = await asyncio.wait(tasks)
    assert not pending
    async with asyncio.TaskGroup() as group:
        last = [group.create_task(two_steps(100 + n)) for n in range(2)]
    return {
        "gathered": gathered,
        "approval": tasks[0].result(),
        "round2": [t.result() for t in tasks[1:]],
        "round3": [t.result() for t in last],
        "issued": issued,
    }


async def _echo(label: str, n: int) -> int:
    record(f"echo {label} {n}")
    await asyncio.sleep(0.01 * (n % 3))
    return n


@spread.handler()
async def race(ctx: agentdur.ObjectContext, label: str) -> list[str]:
    """C completes first; A and B complete while a step runs; as_completed must still start with C."""
    futures = []
    for name in "abc":
        aid, fut = ctx.awakeable(type_hint=str)
        await ctx.run_typed("publish", record, agentdur.RunOptions(), f"awakeable {label}-{name} {aid}")
        futures.append(fut)
    done, _ = await agentdur.wait_completed(*futures)
    await ctx.run_typed("hold", _hold, agentdur.RunOptions(), label)
    return [await f async for f in agentdur.as_completed(*futures)]


async def _hold(label: str) -> None:
    record(f"hold {label}")
    await asyncio.to_thread(_wait_for_file, os.environ.get(LOG_ENV, "") + f".release-{label}")


@spread.handler()
async def cancel_fan(ctx: agentdur.ObjectContext, label: str) -> str:
    """Two tasks wait on timers; a cancellation reaches one of them (the first by path), which
    compensates and re-raises."""

    async def branch(name: str, hours: int) -> None:
        try:
            await ctx.sleep(timedelta(hours=hours))
        except agentdur.InvocationCancelledError:
            await ctx.run_typed("compensate", record, agentdur.RunOptions(), f"cancelled {label} {name}")
            raise

    await ctx.run_typed("publish", record, agentdur.RunOptions(), f"started {label}")
    await asyncio.gather(branch("a", 1), branch("b", 2))
    return "not cancelled"


@spread.handler()
async def from_thread(ctx: agentdur.ObjectContext, label: str) -> str:
    """A durable call from a worker thread: refused on the first run."""
    await asyncio.to_thread(ctx.set, "x", label)
    return "not refused"


@spread.handler()
async def overlap(ctx: agentdur.ObjectContext, label: str) -> list[bool]:
    """Three tasks, one step each; every body waits until all three started (or gives up)."""

    async def meet(i: int) -> bool:
        record(f"meet {label} {i}")
        for _ in range(1000):
            if count(f"meet {label} ") >= 3:
                return True
            await asyncio.sleep(0.01)
        return False

    async def branch(i: int) -> bool:
        return await ctx.run_typed(f"meet {i}", meet, agentdur.RunOptions(), i)

    return list(await asyncio.gather(*(branch(i) for i in range(3))))


async def _pause(i: int) -> str:
    """Branch 1's step ends well after branch 0 went on, so the first run journals branch 0's next
    commands first."""
    await asyncio.sleep(0.3 if i == 1 else 0.0)
    return str(i)


async def _nested(depth: int) -> None:
    """Gathers nested ``depth`` deep: the caller resumes only after as many done-callbacks ran."""
    if depth:
        await asyncio.gather(_nested(depth - 1))


@spread.handler()
async def handoff(ctx: agentdur.ObjectContext, label: str) -> list[str]:
    """Two branches; branch 0 reaches its next commands through nested gathers, then a timer makes the
    invocation suspend so it is replayed with both steps complete."""
    record(f"attempt {label}")

    async def branch(i: int) -> str:
        await ctx.run_typed(f"pause {i}", _pause, agentdur.RunOptions(), i)
        if i == 0:
            await _nested(4)
        ctx.set(f"after {i}", label)
        return await ctx.run_typed(f"after {i}", _pause, agentdur.RunOptions(), i)

    done = await asyncio.gather(branch(0), branch(1))
    await ctx.sleep(timedelta(milliseconds=600))
    record(f"finished {label} {' '.join(done)}")
    return list(done)


app = agentdur.App([spread])


def _released(label: str) -> bool:
    return os.path.exists(os.environ.get(LOG_ENV, "") + f".release-{label}")


@spread.handler()
async def sleep_beside(ctx: agentdur.ObjectContext, label: str) -> list[int]:
    """One task waits outside the journal (asyncio.sleep until the test creates a file) while another
    makes steps, then makes a step itself: where it lands in the journal depends on timing."""

    async def sleeper() -> int:
        while not _released(label):  # noqa: ASYNC110 - a file written by another process
            await asyncio.sleep(0.01)
        return await ctx.run_typed("after sleep", _echo, agentdur.RunOptions(), label, 0)

    async def stepper() -> list[int]:
        return [await ctx.run_typed(f"beside {n}", _echo, agentdur.RunOptions(), label, n) for n in (1, 2)]

    slept, stepped = await asyncio.gather(sleeper(), stepper())
    return [slept, *stepped]


@spread.handler()
async def list_tasks(ctx: agentdur.ObjectContext, label: str) -> dict[str, object]:
    """List operations from several tasks around timers (restate-server suspends the invocation at
    each, so it replays from the start): pops awaited together, reads issued before changes, a
    clear_all after a queued pop; a replay must issue the same commands in the same order."""
    record(f"attempt {label}")
    lst = ctx.state_list("l", str)
    lst.append("a", "b", "c", "d")

    async def branch(i: int) -> list[object]:
        out: list[object] = []
        for j in range(2):
            await ctx.sleep(timedelta(milliseconds=250 + 50 * i))
            lst.append(f"{i}.{j}")
            out.append(await lst.pop())
            out.append(await ctx.run_typed(f"list echo {i}.{j}", _echo, agentdur.RunOptions(), label, j))
        return out

    first, second, popped, length = await asyncio.gather(branch(0), branch(1), lst.pop(), lst.length())

    async def append_y() -> None:  # runs while the pop below reads its item
        lst.append("y")

    beside, _ = await asyncio.gather(lst.pop(), append_y())
    before = ctx.get("l", type_hint=list[str])
    lst.append("z")
    seen = await before
    last = lst.pop()
    ctx.clear_all()
    return {
        "branches": [first, second],
        "popped": popped,
        "length": length,
        "beside": beside,
        "seen": seen,
        "last": await last,
        "after": await lst.items(),
    }


@spread.handler()
async def list_read_fails(ctx: agentdur.ObjectContext, label: str) -> dict[str, object]:
    """A list read that fails (the state is a string) raises at its own await, not at the durable
    await that happens to write the list's queue first."""
    ctx.set("s", "text")
    reading = ctx.state_list("s", str).items()
    echoed = await ctx.run_typed("echo", _echo, agentdur.RunOptions(), label, 7)
    try:
        await reading
    except agentdur.TerminalError as error:
        return {"echoed": echoed, "error": error.message}
    return {"echoed": echoed, "error": None}
