"""An app using state lists the way a hostile or careless user would, run on both engines by
``test_state_lists_hostile.py`` (and ``test_state_list_bugs.py``)."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import agentdur

from ..effects import LOG_ENV, record

lists = agentdur.VirtualObject("ListX")


def _gate(label: str, stage: int, block_at: int) -> int:
    """Log the stage; at ``block_at``, block until the test creates the release file (it kills the
    process first)."""
    record(f"stage {label} {stage}")
    if stage == block_at:
        while not os.path.exists(os.environ.get(LOG_ENV, "") + f".release-{label}"):
            time.sleep(0.01)
    return stage


def _tick(label: str, round_: int) -> int:
    record(f"tick {label} {round_}")
    time.sleep(0.02)
    return round_


STAGES = 10


@lists.handler()
async def stages(ctx: agentdur.ObjectContext, job: dict[str, Any]) -> dict[str, Any]:
    """Every kind of change in one invocation, a step after each; the step at ``block_at`` blocks
    so that the test can SIGKILL the process there."""
    label, block_at = str(job["label"]), int(job["block_at"])
    lst = ctx.state_list("n", str)
    seen: dict[str, Any] = {}
    stage = 0

    async def step() -> None:
        nonlocal stage
        await ctx.run_typed(f"gate {stage}", _gate, agentdur.RunOptions(), label, stage, block_at)
        stage += 1

    seen["before"] = await lst.items()
    await step()  # 0
    seen["popped"] = await lst.pop()
    await step()  # 1
    lst.append(f"{label}-a", f"{label}-b")
    await step()  # 2
    lst.keep_last(3)
    seen["kept"] = await lst.items()
    await step()  # 3
    lst.clear()
    await step()  # 4
    lst.append(f"{label}-z")
    seen["after_clear"] = await lst.items()
    await step()  # 5
    ctx.set("n", ["p1", "p2"])
    await step()  # 6
    lst.append(f"{label}-q")  # converts the plain array
    seen["converted"] = await lst.items()
    await step()  # 7
    ctx.clear_all()
    lst.append(f"{label}-r")
    await step()  # 8
    seen["last"] = await lst.items(last=1)
    seen["length"] = await lst.length()
    seen["keys"] = await ctx.state_keys()
    await step()  # 9
    return seen


def churn_model(rounds: int) -> dict[str, Any]:
    """What :func:`churn` returns, computed without an engine."""
    items: list[int] = []
    seen: list[Any] = []
    for i in range(rounds):
        seen.append(items[-3:])
        items += [i * 10, i * 10 + 1]
        if i % 3 == 0:
            seen.append(items.pop() if items else None)
        if i % 5 == 4:
            items = items[-4:]
        if i % 7 == 6:
            items = []
        if i % 11 == 10:
            items = [i]
    return {"seen": seen, "final": items, "length": len(items)}


@lists.handler()
async def churn(ctx: agentdur.ObjectContext, job: dict[str, Any]) -> dict[str, Any]:
    """Many changes and reads with a slow step each round, for kills at random moments."""
    label, rounds = str(job["label"]), int(job["rounds"])
    lst = ctx.state_list("c", int)
    seen: list[Any] = []
    for i in range(rounds):
        seen.append((await lst.items())[-3:])  # last=3 has its own test (test_state_list_bugs.py)
        lst.append(i * 10, i * 10 + 1)
        if i % 3 == 0:
            seen.append(await lst.pop())
        if i % 5 == 4:
            lst.keep_last(4)
        if i % 7 == 6:
            lst.clear()
        if i % 11 == 10:
            ctx.set("c", [i])
        await ctx.run_typed("tick", _tick, agentdur.RunOptions(), label, i)
    return {"seen": seen, "final": await lst.items(), "length": await lst.length()}


@lists.handler()
async def convert_then_block(ctx: agentdur.ObjectContext, label: str) -> dict[str, Any]:
    """The first change of a plain array converts it; the process is killed right after."""
    lst = ctx.state_list("n", str)
    before = await lst.items()
    lst.append(label)
    after = await lst.items()
    await ctx.run_typed("gate", _gate, agentdur.RunOptions(), label, 0, 0)
    popped = await lst.pop()
    return {"before": before, "after": after, "popped": popped, "final": await lst.items()}


@lists.handler()
async def set_name(ctx: agentdur.ObjectContext, job: dict[str, Any]) -> None:
    ctx.set(str(job["name"]), job["value"])


@lists.handler()
async def fill(ctx: agentdur.ObjectContext, job: dict[str, Any]) -> None:
    ctx.state_list(str(job.get("name", "n")), Any).append(*job["items"])


@lists.handler()
async def named(ctx: agentdur.ObjectContext, name: str) -> dict[str, Any]:
    lst = ctx.state_list(name, int)
    lst.append(1, 2)
    return {"items": await lst.items(), "get": await ctx.get(name), "keys": await ctx.state_keys()}


@lists.handler()
async def pop_then_clear_all(ctx: agentdur.ObjectContext) -> Any:
    popped = ctx.state_list("n", str).pop()
    ctx.clear_all()
    return await popped


@lists.handler()
async def get_then_append(ctx: agentdur.ObjectContext, item: str) -> Any:
    before = ctx.get("n")
    ctx.state_list("n", str).append(item)
    return await before


@lists.handler()
async def clear_untouched(ctx: agentdur.ObjectContext, how: str) -> None:
    """Remove list ``n`` without any list operation on it first in this invocation."""
    if how == "clear":
        ctx.clear("n")
    elif how == "set":
        ctx.set("n", "plain")
    elif how == "list clear":
        ctx.state_list("n").clear()


@lists.handler(kind="shared")
async def view(ctx: agentdur.ObjectSharedContext, name: str) -> dict[str, Any]:
    lst = ctx.state_list(name, Any)
    return {
        "items": await lst.items(),
        "length": await lst.length(),
        "get": await ctx.get(name),
        "keys": await ctx.state_keys(),
    }


@lists.handler(kind="shared")
async def newest(ctx: agentdur.ObjectSharedContext, last: int) -> Any:
    return await ctx.state_list("n", Any).items(last=last)


@lists.handler(kind="shared")
async def get_plain(ctx: agentdur.ObjectSharedContext, name: str) -> dict[str, Any]:
    return {"get": await ctx.get(name), "keys": await ctx.state_keys()}


@lists.handler()
async def slide(ctx: agentdur.ObjectContext, job: dict[str, Any]) -> list[int]:
    """A window sliding over 0, 1, 2, ...: append one, keep the newest 3, a read (on Restate the
    list's changes are written at its next read), a slow step; a shared reader must only ever see
    a run of consecutive numbers."""
    label, rounds = str(job["label"]), int(job["rounds"])
    lst = ctx.state_list("w", int)
    for i in range(rounds):
        lst.append(i)
        lst.keep_last(3)
        await lst.length()
        await ctx.run_typed("tick", _tick, agentdur.RunOptions(), label, i)
    return await lst.items()


@lists.handler(kind="shared")
async def window(ctx: agentdur.ObjectSharedContext) -> list[Any]:
    return await ctx.state_list("w", Any).items()


@lists.handler()
async def read_then_change(ctx: agentdur.ObjectContext, item: str) -> list[Any]:
    """Reads issued before a change and awaited after it see the list as it was when issued."""
    lst = ctx.state_list("n", str)
    items, length = lst.items(), lst.length()
    lst.append(item)
    return [await items, await length]


@lists.handler()
async def pops_together(ctx: agentdur.ObjectContext) -> list[Any]:
    """Two pops awaited together (asyncio.gather): each removes its own item."""
    lst = ctx.state_list("n", str)
    popped = await asyncio.gather(lst.pop(), lst.pop())
    return [list(popped), await lst.items()]


flow = agentdur.Workflow("ListFlow")


@flow.main()
async def flow_run(ctx: agentdur.WorkflowContext, items: list[str]) -> dict[str, Any]:
    lst = ctx.state_list("log", str)
    lst.append(*items)
    approved = await ctx.promise("go", type_hint=bool).value()
    popped = await lst.pop()
    lst.append(f"approved={approved}")
    return {"popped": popped, "items": await lst.items()}


@flow.handler()
async def flow_view(ctx: agentdur.WorkflowSharedContext) -> dict[str, Any]:
    lst = ctx.state_list("log", str)
    return {"items": await lst.items(), "length": await lst.length(), "keys": await ctx.state_keys()}


@flow.handler()
async def flow_go(ctx: agentdur.WorkflowSharedContext) -> None:
    await ctx.promise("go", type_hint=bool).resolve(True)


app = agentdur.App([lists, flow])
