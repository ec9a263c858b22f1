"""The app both engines serve in the conformance suite.

Steps record what really ran in the side-effect log (tests/effects.py), so tests count executions
across processes and crashes.
"""

from __future__ import annotations

import os
from datetime import timedelta

from pydantic import BaseModel

import agentdur

from ..effects import LOG_ENV, count, record
from .fan import fan
from .workflows import caller, signup, timed


class Order(BaseModel):
    id: str
    amount: float


class Receipt(BaseModel):
    order_id: str
    charged: float
    currency: str


ops = agentdur.Service("Ops")
flows = agentdur.Service("Flows")
account = agentdur.VirtualObject("Account")


async def charge(order: Order) -> Receipt:
    record(f"charge {order.id}")
    return Receipt(order_id=order.id, charged=order.amount, currency="EUR")


def sync_double(x: float) -> float:
    record("double")
    return x * 2


@ops.handler()
async def everything(ctx: agentdur.Context, order: Order) -> dict[str, object]:
    """Each context operation once, with typed results."""
    receipt = await ctx.run_typed("charge", charge, agentdur.RunOptions(), order)
    doubled = await ctx.run_typed("double", sync_double, agentdur.RunOptions(), receipt.charged)
    now = await ctx.time()
    await ctx.sleep(timedelta(milliseconds=20))
    balance = await ctx.object_call(deposit, order.id, doubled)
    squared = await ctx.service_call(square, 7)
    handle = ctx.object_send(deposit, order.id, 1.0)
    await handle.invocation_id()
    return {
        "receipt": receipt.model_dump(),
        "doubled": doubled,
        "time_is_float": isinstance(now, float),
        "uuid_len": len(str(ctx.uuid())),
        "random_in_range": 0 <= ctx.random().random() < 1,
        "balance": balance,
        "squared": squared,
    }


@ops.handler()
async def square(ctx: agentdur.Context, n: int) -> int:
    return n * n


@ops.handler()
async def flaky(ctx: agentdur.Context, name: str) -> str:
    """A step failing twice before it succeeds, retried by RunOptions."""

    def attempt() -> str:
        record(f"attempt {name}")
        if count(f"attempt {name}") < 3:
            raise ConnectionError("transient")
        return "ok"

    options: agentdur.RunOptions[str] = agentdur.RunOptions(
        max_attempts=5, initial_retry_interval=timedelta(milliseconds=10)
    )
    return await ctx.run_typed("flaky step", attempt, options)


@ops.handler()
async def refuse(ctx: agentdur.Context, code: int) -> str:
    def decline() -> str:
        record("decline")
        raise agentdur.TerminalError("card declined", code)

    return await ctx.run_typed("decline", decline)


@ops.handler()
async def nap(ctx: agentdur.Context, millis: int) -> float:
    start = await ctx.time()
    await ctx.sleep(timedelta(milliseconds=millis))
    end = await ctx.run_typed("clock", _now)
    return end - start


def _now() -> float:
    import time

    return time.time()


@account.handler()
async def deposit(ctx: agentdur.ObjectContext, amount: float) -> float:
    balance = (await ctx.get("balance", type_hint=float) or 0.0) + amount
    ctx.set("balance", balance)
    history = await ctx.get("history", type_hint=list[float]) or []
    ctx.set("history", [*history, amount])
    return balance


@account.handler()
async def hold(ctx: agentdur.ObjectContext, label: str) -> str:
    """Holds the key until an awakeable is resolved; logs the awakeable id."""
    record(f"hold {label} start")
    aid, release = ctx.awakeable(type_hint=str)
    await ctx.run_typed("publish", record, agentdur.RunOptions(), f"awakeable {label} {aid}")
    value = await release
    ctx.set("held", label)
    return value


@account.handler()
async def enter(ctx: agentdur.ObjectContext, label: str) -> list[str]:
    entries = await ctx.get("entries", type_hint=list[str]) or []
    entries.append(label)
    ctx.set("entries", entries)
    return entries


@account.handler()
async def wipe(ctx: agentdur.ObjectContext) -> list[str]:
    ctx.clear("history")
    keys = await ctx.state_keys()
    ctx.clear_all()
    return sorted(keys)


@account.handler(kind="shared")
async def balance(ctx: agentdur.ObjectSharedContext) -> float:
    return await ctx.get("balance", type_hint=float) or 0.0


@account.handler(kind="shared")
async def entries(ctx: agentdur.ObjectSharedContext) -> list[str]:
    return await ctx.get("entries", type_hint=list[str]) or []


@flows.handler()
async def race(ctx: agentdur.Context, label: str) -> dict[str, object]:
    """Three awakeables resolved out of order by the test; combinators must see that order."""
    ids, futures = [], []
    for _ in range(3):
        aid, fut = ctx.awakeable(type_hint=str)
        ids.append(aid)
        futures.append(fut)
    await ctx.run_typed("publish", record, agentdur.RunOptions(), f"race {label} " + " ".join(ids))
    done, pending = await agentdur.wait_completed(*futures)
    first = [await f for f in done]
    winner = await agentdur.select(a=futures[0], b=futures[1], c=futures[2])
    await ctx.run_typed("observed", record, agentdur.RunOptions(), f"race-first {label}")
    order = [await f async for f in agentdur.as_completed(*futures)]
    everything = [await f for f in await agentdur.gather(*futures)]
    return {"first": first, "pending": len(pending), "winner": winner, "order": order, "all": everything}


@flows.handler()
async def approval(ctx: agentdur.Context, label: str) -> str:
    aid, decision = ctx.awakeable(type_hint=dict[str, str])
    await ctx.run_typed("publish", record, agentdur.RunOptions(), f"awakeable {label} {aid}")
    try:
        value = await decision
    except agentdur.TerminalError as error:
        return f"rejected: {error.message}"
    return f"approved by {value['by']}"


@flows.handler()
async def trip(ctx: agentdur.Context, label: str) -> str:
    """Books a hotel through a call, then waits; cancellation runs the compensation."""
    await ctx.run_typed("book flight", record, agentdur.RunOptions(), f"book flight {label}")
    hotel = ctx.service_call(hotel_booking, label)
    try:
        await ctx.sleep(timedelta(hours=1))
        return await hotel
    except agentdur.InvocationCancelledError:
        await ctx.run_typed("cancel flight", record, agentdur.RunOptions(), f"cancel flight {label}")
        raise


@flows.handler()
async def hotel_booking(ctx: agentdur.Context, label: str) -> str:
    record(f"hotel started {label}")
    try:
        await ctx.sleep(timedelta(hours=1))
    except agentdur.InvocationCancelledError:
        await ctx.run_typed("cancel hotel", record, agentdur.RunOptions(), f"cancel hotel {label}")
        raise
    return "booked"


def cannot_cancel_order() -> str:
    raise agentdur.TerminalError("cannot cancel order", agentdur.ConflictError.default_status)


@flows.handler()
async def refuse_to_cancel(ctx: agentdur.Context, label: str) -> str:
    """Fails with a user's own 409 whose message mentions cancelling: a conflict, not a cancellation."""
    return await ctx.run_typed("refuse", cannot_cancel_order)


@flows.handler()
async def order_conflicts(ctx: agentdur.Context, label: str) -> dict[str, str]:
    """The error class a handler sees for the user's 409 "cannot cancel order", from a step and a call."""
    seen: dict[str, str] = {}
    try:
        await ctx.run_typed("refuse", cannot_cancel_order)
    except agentdur.TerminalError as error:
        seen["step"] = type(error).__name__
    try:
        await ctx.service_call(refuse_to_cancel, label)
    except agentdur.TerminalError as error:
        seen["call"] = type(error).__name__
    return seen


@flows.handler()
async def later(ctx: agentdur.Context, label: str) -> str:
    ctx.object_send(enter, label, f"delayed {label}", send_delay=timedelta(milliseconds=500))
    return "scheduled"


def _wait_for_file(path: str) -> None:
    """Block a step until another process creates ``path`` (a crash test kills the server first)."""
    import time

    while not os.path.exists(path):
        time.sleep(0.01)


@flows.handler()
async def pipeline(ctx: agentdur.Context, label: str) -> list[str]:
    """Five steps; step 3 blocks until a release file exists (the crash test kills the server there)."""
    results = []
    for i in range(1, 6):

        def step(i: int = i) -> str:
            record(f"step {label} {i} start")
            if i == 3:
                _wait_for_file(os.environ.get(LOG_ENV, "") + f".release-{label}")
            record(f"step {label} {i} done")
            return f"{label}-{i}"

        results.append(await ctx.run_typed(f"step {i}", step))
    return results


app = agentdur.App([ops, flows, account, fan, signup, timed, caller])


@flows.handler()
async def fan_in_tasks(ctx: agentdur.Context, n: int) -> list[int]:
    """Several asyncio tasks, each awaiting its own step, as an agent framework's gather would."""
    import asyncio

    async def branch(i: int) -> int:
        def work() -> int:
            record(f"branch {i}")
            return i * i

        return await ctx.run_typed(f"branch {i}", work)

    return list(await asyncio.gather(*(branch(i) for i in range(n))))
