"""Calls and sends between handlers, delayed sends, generic calls, cancellation."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest

import agentdur

from .helpers import wait_status, wait_until

events: list[str] = []

worker = agentdur.Service("Worker")
ledger = agentdur.VirtualObject("Ledger")
orchestrator = agentdur.Service("Orchestrator")


@worker.handler()
async def square(ctx: agentdur.Context, n: int) -> int:
    return n * n


@worker.handler()
async def slow(ctx: agentdur.Context, label: str) -> str:
    try:
        await ctx.sleep(timedelta(hours=1))
    except agentdur.InvocationCancelledError:
        await ctx.run_typed("undo", events.append, agentdur.RunOptions(), f"undo {label}")
        raise
    return label


@worker.handler()
async def refuse(ctx: agentdur.Context) -> int:
    raise agentdur.TerminalError("nope", 422)


@ledger.handler()
async def record(ctx: agentdur.ObjectContext, entry: str) -> int:
    events.append(f"{ctx.key()}:{entry}@{time.time():.3f}")
    entries = await ctx.get("entries", type_hint=list[str]) or []
    entries.append(entry)
    ctx.set("entries", entries)
    return len(entries)


@orchestrator.handler()
async def fan_out(ctx: agentdur.Context, n: int) -> dict[str, object]:
    squared = await ctx.service_call(square, n)
    count = await ctx.object_call(record, "acct", f"squared {n}")
    raw = await ctx.generic_call("Worker", "square", json.dumps(n + 1).encode())
    try:
        await ctx.service_call(refuse, None)
        refused = "no"
    except agentdur.TerminalError as error:
        refused = f"{error.status_code} {error.message}"
    try:
        await ctx.generic_call("Missing", "handler", b"null")
        missing = "no"
    except agentdur.NotFoundError as error:
        missing = error.message
    handle = ctx.object_send(record, "acct", "sent later", send_delay=timedelta(milliseconds=200))
    return {
        "squared": squared,
        "count": count,
        "raw": json.loads(raw),
        "refused": refused,
        "missing": missing,
        "sent": await handle.invocation_id(),
    }


@orchestrator.handler()
async def book_trip(ctx: agentdur.Context) -> str:
    hotel = ctx.service_call(slow, "hotel")
    events.append("hotel:" + await hotel.invocation_id())
    try:
        await ctx.sleep(timedelta(hours=1))
    except agentdur.InvocationCancelledError:
        await ctx.run_typed("compensate", events.append, agentdur.RunOptions(), "compensated trip")
        raise
    return await hotel


APP = agentdur.App([worker, ledger, orchestrator])


@pytest.fixture(autouse=True)
def reset() -> None:
    events.clear()


async def test_calls_sends_and_delayed_sends(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "c.db") as engine:
        started = time.time()
        result = await engine.call("Orchestrator", "fan_out", 3)
        assert result["squared"] == 9 and result["count"] == 1 and result["raw"] == 16
        assert result["refused"] == "422 nope"
        assert (
            result["missing"] == "unknown service 'Missing'; this app has 'Ledger', 'Orchestrator', 'Worker'"
        )
        assert await engine.attach(str(result["sent"])) == 2  # the delayed send ran afterwards
        delayed = [e for e in events if "sent later" in e]
        assert len(delayed) == 1 and float(delayed[0].rsplit("@", 1)[1]) >= started + 0.2


async def test_delayed_send_survives_restart(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    delay = 2.0  # long enough for the first engine to be closed before it is due
    async with agentdur.Engine(APP, path=db) as engine:
        sent = time.time()
        inv = await engine.send("Ledger", "record", "later", key="k", delay=timedelta(seconds=delay))
        assert (await engine.invocation(inv)).status == "scheduled"
    assert not events, "the delayed send ran before the engine closed"
    reopened = time.time()
    async with agentdur.Engine(APP, path=db) as engine:
        assert await engine.attach(inv) == 1
    [ran] = events
    # It ran once, in the second engine, and not before it was due (events round times to the ms).
    assert float(ran.rsplit("@", 1)[1]) >= max(reopened, sent + delay) - 0.001


async def test_cancel_runs_compensation_and_propagates_to_calls(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "x.db") as engine:
        trip = await engine.send("Orchestrator", "book_trip")
        await wait_until(lambda: any(e.startswith("hotel:") for e in events))
        hotel = next(e for e in events if e.startswith("hotel:")).split(":", 1)[1]
        await wait_until(lambda: len(engine.store.read("SELECT 1 FROM journal WHERE kind='sleep'")) == 2)
        await engine.cancel(trip)
        with pytest.raises(agentdur.InvocationCancelledError):
            await engine.attach(trip)
        with pytest.raises(agentdur.InvocationCancelledError):
            await engine.attach(hotel)
        assert "compensated trip" in events and "undo hotel" in events
        info = await engine.invocation(trip)
        assert info.failure is not None and info.failure.code == 409
        await engine.cancel(trip)  # cancelling a completed invocation does nothing


async def test_cancel_while_suspended_and_before_start(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "y.db", suspend_after=0.05) as engine:
        inv = await engine.send("Worker", "slow", "suspended one")
        await wait_status(engine, inv, "suspended")
        await engine.cancel(inv)
        with pytest.raises(agentdur.InvocationCancelledError):
            await engine.attach(inv)
        assert "undo suspended one" in events
        later = await engine.send("Worker", "square", 2, delay=timedelta(hours=1))
        await engine.cancel(later)
        with pytest.raises(agentdur.InvocationCancelledError):
            await engine.attach(later)
        with pytest.raises(agentdur.NotFoundError):
            await engine.cancel("inv_unknown")
