"""Plain asyncio concurrency in a handler: deterministic replay, per-task values, clear refusals."""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from pathlib import Path

import agentdur

from .helpers import wait_status, wait_until

svc = agentdur.Service("Concurrent")
APP = agentdur.App([svc])

gates: dict[str, asyncio.Event] = {}
ran: Counter[str] = Counter()
published: dict[str, str] = {}


def gate(name: str) -> asyncio.Event:
    return gates.setdefault(name, asyncio.Event())


def ran_once(point: str) -> bool:
    return ran[point] == 1


async def gated_step(name: str) -> str:
    ran[f"{name} start"] += 1
    await gate(name).wait()
    ran[f"{name} done"] += 1
    return name


def publish(name: str, value: str) -> None:
    published[name] = value


@svc.handler()
async def fan(ctx: agentdur.Context) -> list[object]:
    async def branch(i: int) -> list[object]:
        first = await ctx.run_typed(f"b{i} first", gated_step, agentdur.RunOptions(), f"{i}.1")
        second = await ctx.run_typed(f"b{i} second", gated_step, agentdur.RunOptions(), f"{i}.2")
        value = ctx.random().random()
        noted = await ctx.run_typed(f"b{i} note", lambda: value)
        return [first, second, value == noted]

    results = await asyncio.gather(*(branch(i) for i in range(3)))
    aid, approval = ctx.awakeable(type_hint=str)
    await ctx.run_typed("publish", publish, agentdur.RunOptions(), "fan", aid)
    return [*results, await approval]


async def test_gather_replays_after_suspension_whatever_the_completion_order(tmp_path: Path) -> None:
    gates.clear()
    ran.clear()
    async with agentdur.Engine(APP, path=tmp_path / "fan.db", suspend_after=0.05) as engine:
        inv = await engine.send("Concurrent", "fan")
        for name in ("2.1", "0.1", "1.1", "1.2", "2.2", "0.2"):  # neither task order nor its reverse
            await wait_until(functools.partial(ran_once, f"{name} start"), what=f"{name} started")
            gate(name).set()
            await wait_until(functools.partial(ran_once, f"{name} done"), what=f"{name} done")
        await wait_until(lambda: "fan" in published, what="approval published")
        await wait_status(engine, inv, "suspended")
        # The suspended status commits just before the runtime drops the runner: wait for both.
        await wait_until(lambda: engine.in_memory == 0, what="the suspended runner released")
        await engine.resolve_awakeable(published["fan"], "approved")  # replays from the top
        result = await engine.attach(inv)
        info = await engine.invocation(inv)
    assert result == [["0.1", "0.2", True], ["1.1", "1.2", True], ["2.1", "2.2", True], "approved"]
    assert all(count == 1 for count in ran.values()), ran  # no step ran twice
    keys = {(e.task, e.seq): e.name for e in info.journal}
    assert len(keys) == len(info.journal)  # every entry has its own (task, seq)
    for i in range(3):
        assert keys[(f"fan.<locals>.branch:{i}", 0)] == f"b{i} first"
        assert keys[(f"fan.<locals>.branch:{i}", 1)] == f"b{i} second"
        assert keys[(f"fan.<locals>.branch:{i}", 2)] == f"b{i} note"
    assert [e.name for e in info.journal if e.task == ""] == ["awakeable", "publish"]


@svc.handler()
async def random_per_task(ctx: agentdur.Context) -> list[float]:
    async def draw() -> float:
        return ctx.random().random()

    root = ctx.random().random()
    drawn = await asyncio.gather(draw(), draw())
    return [root, *drawn]


async def test_each_task_has_its_own_deterministic_random(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "r.db") as engine:
        first = await engine.call("Concurrent", "random_per_task", idempotency_key="k")
        other = await engine.call("Concurrent", "random_per_task")
    assert len(set(first)) == 3  # the handler and each task draw from their own generator
    assert first != other  # seeded by the invocation id


@svc.handler()
async def delegates(ctx: agentdur.Context) -> list[str]:
    """Sync agent code in a thread hands coroutines to the loop, one at a time, then two at once."""
    loop = asyncio.get_running_loop()

    async def on_loop(name: str) -> str:
        return await ctx.run_typed(name, lambda: name)

    def agent_code() -> list[str]:
        one = asyncio.run_coroutine_threadsafe(on_loop("one"), loop).result()
        two = asyncio.run_coroutine_threadsafe(on_loop("two"), loop).result()
        both = [asyncio.run_coroutine_threadsafe(on_loop(f"both {i}"), loop) for i in range(2)]
        try:
            return [one, two, *(f.result() for f in both)]
        except agentdur.UserError as error:
            return [one, two, str(error)]

    return await asyncio.to_thread(agent_code)


@svc.handler()
async def from_a_thread(ctx: agentdur.Context) -> str:
    try:
        await asyncio.to_thread(ctx.time)
    except agentdur.UserError as error:
        return str(error)
    return "no error"


async def test_durable_calls_from_a_thread_are_refused_at_once(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "u.db") as engine:
        inv = await engine.send("Concurrent", "from_a_thread")
        thread = await engine.attach(inv)
        journal = (await engine.invocation(inv)).journal
    assert "that the handler did not create" in thread and "ctx time" in thread
    assert journal == []  # refused before anything was journaled


async def test_tasks_a_thread_hands_to_the_loop_act_for_the_handler_one_at_a_time(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "d.db") as engine:
        inv = await engine.send("Concurrent", "delegates")
        result = await engine.attach(inv)
        journal = (await engine.invocation(inv)).journal
    assert result[:2] == ["one", "two"]
    assert "make durable calls at once on behalf of the same task" in result[2]
    paths = {e.name: e.task for e in journal}
    assert paths["one"] == "~delegates.<locals>.on_loop:0", paths  # delegates of the handler task
    assert paths["two"] == "~delegates.<locals>.on_loop:1", paths
