"""The app the server tests serve: a service, a virtual object, approvals and observable side effects.

Steps that have side effects append lines to a marker file named in the input, so a test (another
process) can tell how often a step body really ran.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, Field

import agentdur
from agentdur.patterns.approval import request_approval

greeter = agentdur.Service("Greeter", description="Greets people and takes orders.")
counter = agentdur.VirtualObject("Counter")
approvals = agentdur.Service("Approvals")
effects = agentdur.Service("Effects")


class Order(BaseModel):
    item: str
    quantity: int = Field(gt=0)


class Receipt(BaseModel):
    item: str
    quantity: int
    total: float


class Failure(BaseModel):
    message: str
    code: int = 500


class Work(BaseModel):
    marker: str
    hold: float = 0.0
    then_sleep: float = 0.0
    release: str | None = None  # when set, the effect also waits until this file exists


def mark(path: str, line: str) -> int:
    """Append a line to a marker file; returns how many lines it now has."""
    with open(path, "a") as f:
        f.write(line + "\n")
    return len(Path(path).read_text().splitlines())


@greeter.handler()
async def greet(ctx: agentdur.Context, name: str) -> str:
    """Say hello."""

    def compose() -> str:
        return f"Hello, {name}!"

    return await ctx.run_typed("compose greeting", compose)


@greeter.handler()
async def order(ctx: agentdur.Context, order: Order) -> Receipt:
    return Receipt(item=order.item, quantity=order.quantity, total=order.quantity * 2.5)


@greeter.handler()
async def ping(ctx: agentdur.Context) -> str:
    return "pong"


@greeter.handler()
async def fail(ctx: agentdur.Context, failure: Failure) -> str:
    raise agentdur.TerminalError(failure.message, failure.code)


@counter.handler()
async def add(ctx: agentdur.ObjectContext, amount: int) -> int:
    total = (await ctx.get("count", type_hint=int) or 0) + amount
    ctx.set("count", total)
    return total


@counter.handler()
async def note(ctx: agentdur.ObjectContext, text: str) -> None:
    ctx.state_list("notes", str).append(text)


@counter.handler(kind="shared")
async def get(ctx: agentdur.ObjectSharedContext) -> int:
    return await ctx.get("count", type_hint=int) or 0


@approvals.handler()
async def request(ctx: agentdur.Context, what: str) -> str:
    """Wait for a human to approve ``what``."""
    _, decision = ctx.awakeable(type_hint=str, description=f"approve {what}")
    return f"{what}: {await decision}"


@approvals.handler()
async def decide(ctx: agentdur.Context, what: str) -> str:
    """Wait for a typed decision (``agentdur.patterns.approval.Decision``) on ``what``."""
    decision = await request_approval(ctx, f"decide {what}")
    return f"{what}: {'approved' if decision.approved else 'declined'} by {decision.by}"


@approvals.handler()
async def publish(ctx: agentdur.Context, work: Work) -> str:
    """Wait for an approval whose id is written to the marker file (no admin API needed)."""
    awakeable_id, decision = ctx.awakeable(type_hint=str, description="published approval")
    await ctx.run_typed("publish", mark, agentdur.RunOptions(), work.marker, awakeable_id)
    return await decision


@effects.handler()
async def step(ctx: agentdur.Context, work: Work) -> int:
    """One step with a side effect that takes ``hold`` seconds (and waits for ``release``), then an
    optional durable sleep."""

    async def effect() -> int:
        mark(work.marker, "start")
        await asyncio.sleep(work.hold)
        while work.release is not None and not os.path.exists(work.release):  # noqa: ASYNC110, ASYNC240
            await asyncio.sleep(0.01)  # a file the test creates from its own process
        return mark(work.marker, "done")

    lines = await ctx.run_typed("effect", effect)
    if work.then_sleep:
        await ctx.sleep(timedelta(seconds=work.then_sleep))
        await ctx.run_typed("after sleep", mark, agentdur.RunOptions(), work.marker, "after")
    return lines


@effects.handler()
async def flaky(ctx: agentdur.Context, work: Work) -> str:
    """Fails (retryably) until the marker file exists."""
    return await ctx.run_typed("check marker", require_marker, agentdur.RunOptions(), work.marker)


@effects.handler()
async def gated(ctx: agentdur.Context, work: Work) -> str:
    """One step that runs until the file ``<marker>.go`` exists."""

    def wait_for_go() -> str:  # a blocking step body: it runs in a worker thread
        while not os.path.exists(work.marker + ".go"):
            time.sleep(0.02)
        return "went"

    return await ctx.run_typed("wait for go", wait_for_go)


@effects.handler()
async def broken(ctx: agentdur.Context, work: Work) -> str:
    """A handler bug on every attempt: a plain KeyError, never a TerminalError."""
    settings = {"region": work.marker}
    return settings["model"]


def require_marker(path: str) -> str:
    if not os.path.exists(path):
        raise RuntimeError("the marker file is missing")
    return "recovered"


app = agentdur.App([greeter, counter, approvals, effects])
