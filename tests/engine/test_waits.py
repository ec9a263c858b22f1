"""Durable timers, awakeables and suspension of invocations that only wait."""

from __future__ import annotations

import sqlite3
import time
from datetime import timedelta
from pathlib import Path

import pytest

import agentdur

from .helpers import wait_status, wait_until

published: dict[str, str] = {}

svc = agentdur.Service("Waits")


def publish(name: str, value: str) -> None:
    published[name] = value


@svc.handler()
async def nap(ctx: agentdur.Context, seconds: float) -> list[float]:
    """Sleep durably; returns when it went to sleep and when the step after the sleep ran."""
    start = await ctx.time()
    await ctx.sleep(timedelta(seconds=seconds))
    woke = await ctx.run_typed("clock", time.time)
    return [start, woke]


@svc.handler()
async def approval(ctx: agentdur.Context, name: str) -> str:
    aid, decision = ctx.awakeable(type_hint=str)
    await ctx.run_typed("publish", publish, agentdur.RunOptions(), name, aid)
    try:
        return "approved: " + await decision
    except agentdur.TerminalError as error:
        return f"rejected ({error.status_code}): {error.message}"


@svc.handler()
async def resolver(ctx: agentdur.Context, target: str) -> None:
    ctx.resolve_awakeable(target, "from a handler")


@svc.handler()
async def rejecter(ctx: agentdur.Context, target: str) -> None:
    ctx.reject_awakeable(target, "no budget", 403)


APP = agentdur.App([svc])


@pytest.fixture(autouse=True)
def reset() -> None:
    published.clear()


def sleep_entry(engine: agentdur.Engine, inv_id: str) -> sqlite3.Row | None:
    """The journal row of the invocation's sleep, with the wake time it recorded (None: not yet)."""
    return engine.store.read_one(
        "SELECT wake_at, status, completed_at FROM journal WHERE invocation_id=? AND kind='sleep'", (inv_id,)
    )


def deadline_of(engine: agentdur.Engine, inv_id: str) -> float:
    entry = sleep_entry(engine, inv_id)
    assert entry is not None, f"{inv_id} has no sleep in its journal"
    return float(entry["wake_at"])


async def test_sleep_waits_its_time_and_keeps_its_deadline_across_a_restart(tmp_path: Path) -> None:
    long_nap = 3.0
    db = tmp_path / "t.db"
    async with agentdur.Engine(APP, path=db) as engine:
        short = await engine.send("Waits", "nap", 0.05)
        long = await engine.send("Waits", "nap", long_nap)
        start, woke = await engine.attach(short)
        assert woke - start >= 0.05
        assert woke >= deadline_of(engine, short)
        await wait_until(lambda: sleep_entry(engine, long) is not None, what="the long nap's timer journaled")
        deadline = deadline_of(engine, long)
        # a short timer does not wait behind a longer one
        assert woke < deadline
    closed = time.time()
    assert closed < deadline, "the engine closed after the long timer's deadline: nothing left to test"
    # Stay down for most of the nap: a timer restarted at the reopen would now end 2 s after its deadline.
    await wait_until(lambda: time.time() >= deadline - 1.0, within=long_nap + 5, what="the reopen time")
    reopened = time.time()
    async with agentdur.Engine(APP, path=db) as engine:
        start, woke = await engine.attach(long)
        entry = sleep_entry(engine, long)
    assert entry is not None and entry["status"] == "completed"
    assert entry["wake_at"] == deadline, "the restart moved the timer's deadline"
    # Not early: the timer did not fire at the reopen, nor before its deadline.
    assert entry["completed_at"] >= deadline and woke >= deadline
    # Not restarted: it woke before a full-length timer started at the reopen could have.
    assert woke < reopened + long_nap, f"woke {woke - deadline:.2f}s after its deadline, as if restarted"


async def test_awakeable_resolved_and_rejected_from_the_engine(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "a.db") as engine:
        first = await engine.send("Waits", "approval", "first")
        second = await engine.send("Waits", "approval", "second")
        await wait_until(lambda: {"first", "second"} <= published.keys())
        assert published["first"].startswith("prom_1")
        assert len(published["first"]) - len("prom_1") >= 32  # >= 192 bits of url-safe base64
        await engine.resolve_awakeable(published["first"], "yes")
        await engine.reject_awakeable(published["second"], "too expensive", 418)
        assert await engine.attach(first) == "approved: yes"
        assert await engine.attach(second) == "rejected (418): too expensive"
        with pytest.raises(agentdur.ConflictError, match="already completed"):
            await engine.resolve_awakeable(published["first"], "again")
        with pytest.raises(agentdur.NotFoundError, match="unknown awakeable"):
            await engine.resolve_awakeable("prom_1doesnotexist", "x")
        with pytest.raises(agentdur.NotFoundError):
            await engine.reject_awakeable("prom_1doesnotexist", "x")


async def test_awakeable_resolved_and_rejected_from_handlers(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "h.db") as engine:
        a = await engine.send("Waits", "approval", "a")
        b = await engine.send("Waits", "approval", "b")
        await wait_until(lambda: {"a", "b"} <= published.keys())
        await engine.call("Waits", "resolver", published["a"])
        await engine.call("Waits", "rejecter", published["b"])
        assert await engine.attach(a) == "approved: from a handler"
        assert await engine.attach(b) == "rejected (403): no budget"
        # resolving a completed awakeable from a handler is not an error for the resolver
        await engine.call("Waits", "resolver", published["a"])


async def test_waiting_invocations_are_released_from_memory_and_resumed(tmp_path: Path) -> None:
    count = 10_000
    async with agentdur.Engine(
        APP, path=tmp_path / "s.db", synchronous="NORMAL", suspend_after=0.2
    ) as engine:
        ids = [await engine.send("Waits", "approval", f"n{i}") for i in range(count)]
        await wait_until(lambda: len(published) == count, within=120, what="all approvals published")
        await wait_until(lambda: engine.in_memory == 0, within=60, what="every waiting invocation released")
        assert engine.store.read("SELECT count(*) FROM invocations WHERE status='suspended'")[0][0] == count
        for i in (0, count // 2, count - 1):
            await engine.resolve_awakeable(published[f"n{i}"], f"ok {i}")
            assert await engine.attach(ids[i]) == f"approved: ok {i}"
        await wait_status(engine, ids[1], "suspended")
