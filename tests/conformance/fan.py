"""Handlers that fan out with plain asyncio: several tasks, each making several durable calls.

The test decides in which order steps finish by creating release files, so the first run, the run
after a crash and the replay after a suspension each see a different completion order.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel

import agentdur

from ..effects import LOG_ENV, record

fan = agentdur.Service("Fan")


class FanRequest(BaseModel):
    label: str
    tasks: int = 3
    mode: Literal["gather", "taskgroup", "create_task", "wait"] = "gather"


def gated(label: str, name: str) -> str:
    """A step that logs its start, waits for the test's release file, and logs its end."""
    record(f"fan {label} {name} start")
    release = os.environ.get(LOG_ENV, "") + f".release-{label}-{name}"
    while not os.path.exists(release):
        time.sleep(0.005)
    record(f"fan {label} {name} done")
    return name


@fan.handler()
async def square(ctx: agentdur.Context, n: int) -> int:
    return n * n


async def branch(ctx: agentdur.Context, label: str, i: int) -> str:
    """Four durable calls of four kinds; task 0 also waits for an approval (a suspension point)."""
    first = await ctx.run_typed(f"t{i} first", gated, agentdur.RunOptions(), label, f"{i}.1")
    squared = await ctx.service_call(square, i)
    await ctx.sleep(timedelta(milliseconds=5 * (i + 1)))
    second = await ctx.run_typed(f"t{i} second", gated, agentdur.RunOptions(), label, f"{i}.2")
    result = f"{first}+{squared}+{second}"
    if i == 0:
        aid, approval = ctx.awakeable(type_hint=str)
        await ctx.run_typed("publish", record, agentdur.RunOptions(), f"awakeable {label} {aid}")
        result += "+" + await approval
    return result


@fan.handler()
async def run(ctx: agentdur.Context, req: FanRequest) -> list[str]:
    branches = [branch(ctx, req.label, i) for i in range(req.tasks)]
    if req.mode == "gather":
        results = list(await asyncio.gather(*branches))
    elif req.mode == "taskgroup":
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(b) for b in branches]
        results = [t.result() for t in tasks]
    elif req.mode == "create_task":
        tasks = [asyncio.create_task(b) for b in branches]
        results = [await t for t in tasks]
    else:
        tasks = [asyncio.create_task(b) for b in branches]
        done, pending = await asyncio.wait(tasks)
        assert not pending
        results = [t.result() for t in tasks]
    joined = await ctx.run_typed(  # type: ignore[func-returns-value]  # its None result is checked
        "join", record, agentdur.RunOptions(), f"fan {req.label} join"
    )
    assert joined is None
    return results


@fan.handler()
async def group_failure(ctx: agentdur.Context, label: str) -> str:
    """A TaskGroup one of whose tasks fails terminally: the invocation fails with that error."""

    async def fine() -> None:
        await ctx.run_typed("fine", record, agentdur.RunOptions(), f"group {label} fine")

    async def refuse() -> None:
        await ctx.run_typed("refuse", record, agentdur.RunOptions(), f"group {label} refused")
        raise agentdur.TerminalError("out of stock", 422)

    async with asyncio.TaskGroup() as group:
        group.create_task(fine())
        group.create_task(refuse())
    return "no error"
