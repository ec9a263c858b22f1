"""A replay hands recorded results to a handler's tasks in the order they completed the first time.

Each test runs a handler on a file until its last step, which blocks; closes the engine (the
invocation stays unfinished); and reopens the file, where recovery replays the journal and the last
step now returns. A replay that answered awaits in another order would journal the handler's later
steps in another order and pause on a journal mismatch.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import agentdur
from agentdur.engine._futures import EmbeddedFuture

svc = agentdur.Service("Order")
APP = agentdur.App([svc])
OPTS: agentdur.RunOptions[Any] = agentdur.RunOptions()
# Shared with the step bodies of the running engine (one process).
GATE: dict[str, Any] = {}


async def _last() -> str:
    if GATE.get("block_last"):
        await asyncio.Event().wait()
    return "done"


async def _slow(name: str) -> str:
    if GATE.get("first_run"):
        await GATE["fast_done"].wait()
    return name


async def _fast(name: str) -> str:
    if GATE.get("first_run"):
        GATE["fast_done"].set()
    return name


async def _publish(awakeable_id: str) -> None:
    GATE["awakeable"] = awakeable_id


async def _echo(item: str) -> str:
    return item


@svc.handler()
async def steps_and_awakeable(ctx: agentdur.Context) -> list[str]:
    """A step and an awakeable race; the handler journals one step per result, in arrival order."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    awakeable_id, approval = ctx.awakeable(type_hint=str)
    await ctx.run_typed("publish", _publish, OPTS, awakeable_id)

    async def by_hand() -> None:
        await queue.put(await approval)

    async def by_step(name: str, body: Any) -> None:
        await queue.put(await ctx.run_typed(name, body, OPTS, name))

    tasks = [
        asyncio.create_task(by_hand()),
        asyncio.create_task(by_step("slow", _slow)),
        asyncio.create_task(by_step("fast", _fast)),
    ]
    taken = []
    for _ in tasks:
        item = await queue.get()
        taken.append(await ctx.run_typed(f"took {item}", _echo, OPTS, item))
    await asyncio.gather(*tasks)
    await ctx.run_typed("last", _last, OPTS)
    return taken


@svc.handler()
async def polls_done(ctx: agentdur.Context, interval: float) -> str:
    """Waits for a step by polling the embedded future's ``done()`` (no durable await): a replay must
    not hold its result back forever, even when the polling task never blocks (``interval`` 0 is a
    busy wait on ``asyncio.sleep(0)``, so the replay never sees every task blocked)."""
    step = ctx.run_typed("fast", _fast, OPTS, "fast")
    assert isinstance(step, EmbeddedFuture)
    while not step.done():  # noqa: ASYNC110 (what the test is about)
        await asyncio.sleep(interval)
    await ctx.run_typed("last", _last, OPTS)
    value: str = await step
    return value


async def _until(condition: Any, what: str) -> None:
    for _ in range(2000):
        if await condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def _replayed(db: Path, inv_id: str) -> tuple[Any, agentdur.InvocationInfo]:
    GATE.clear()
    async with agentdur.Engine(APP, path=db) as engine:
        result = await asyncio.wait_for(engine.attach(inv_id), 20)
        return result, await engine.invocation(inv_id)


def _run_names(info: agentdur.InvocationInfo) -> list[str]:
    return [
        e.name
        for e in info.journal
        if e.kind == "run" and e.status == "completed" and e.name.startswith("took")
    ]


async def test_a_replay_follows_the_first_runs_order_of_steps_and_awakeables(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    GATE.clear()
    GATE.update(block_last=True, first_run=True, fast_done=asyncio.Event())
    async with agentdur.Engine(APP, path=db) as engine:
        inv = await engine.send("Order", "steps_and_awakeable")

        async def took(n: int) -> bool:
            return len(_run_names(await engine.invocation(inv))) >= n

        await _until(lambda: took(2), "fast and slow taken")
        await engine.resolve_awakeable(GATE["awakeable"], "hand")
        await _until(lambda: took(3), "the awakeable taken")
        first = _run_names(await engine.invocation(inv))
    assert first == ["took fast", "took slow", "took hand"]

    result, info = await _replayed(db, inv)
    assert result == ["fast", "slow", "hand"]
    assert info.status == "completed", info.last_error
    assert _run_names(info) == first


@pytest.mark.parametrize("interval", [0.01, 0], ids=["polling", "busy-waiting"])
async def test_a_result_polled_with_done_is_not_held_back_forever(tmp_path: Path, interval: float) -> None:
    db = tmp_path / "p.db"
    GATE.clear()
    GATE.update(block_last=True, fast_done=asyncio.Event())
    async with agentdur.Engine(APP, path=db) as engine:
        inv = await engine.send("Order", "polls_done", interval)

        async def at_last() -> bool:
            return any(e.name == "last" for e in (await engine.invocation(inv)).journal)

        await _until(at_last, "the last step")

    result, info = await _replayed(db, inv)
    assert result == "fast"
    assert info.status == "completed", info.last_error
