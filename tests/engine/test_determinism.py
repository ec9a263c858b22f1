"""Combinators and deterministic values replay identically whatever the completion order."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

import agentdur

from .helpers import wait_until

published: dict[str, str] = {}
seen: list[object] = []

svc = agentdur.Service("Race")


def publish(name: str, value: str) -> None:
    published[name] = value


@svc.handler()
async def race(ctx: agentdur.Context) -> dict[str, object]:
    a_id, a = ctx.awakeable(type_hint=str)
    b_id, b = ctx.awakeable(type_hint=str)
    await ctx.run_typed("publish a", publish, agentdur.RunOptions(), "a", a_id)
    await ctx.run_typed("publish b", publish, agentdur.RunOptions(), "b", b_id)
    done, pending = await agentdur.wait_completed(a, b)
    first = [await f for f in done]
    winner = await agentdur.select(a=a, b=b)
    seen.append(("observed", first, winner))
    gate_id, gate = ctx.awakeable(type_hint=str)
    await ctx.run_typed("publish gate", publish, agentdur.RunOptions(), "gate", gate_id)
    await gate
    order = [await f async for f in agentdur.as_completed(a, b)]
    everything = [await f for f in await agentdur.gather(a, b)]
    return {"first": first, "pending": len(pending), "winner": winner, "order": order, "all": everything}


@svc.handler()
async def values(ctx: agentdur.Context) -> dict[str, object]:
    uid = str(ctx.uuid())
    draw = ctx.random().random()
    now = await ctx.time()
    seen.append((uid, draw, now))
    await ctx.sleep(timedelta(milliseconds=1))
    aid, gate = ctx.awakeable()
    await ctx.run_typed("publish", publish, agentdur.RunOptions(), "values", aid)
    await gate
    return {"uuid": uid, "random": draw, "time": now}


async def sleepy(seconds: float, label: str) -> str:
    await asyncio.sleep(seconds)
    return label


@svc.handler()
async def timeout_race(ctx: agentdur.Context) -> list[object]:
    work = ctx.run_typed("work", sleepy, agentdur.RunOptions(), 0.01, "work done")
    match await agentdur.select(work=work, timeout=ctx.sleep(timedelta(hours=1))):
        case ["work", result]:
            return ["work", result]
        case other:
            return list(other)


APP = agentdur.App([svc])


@pytest.fixture(autouse=True)
def reset() -> None:
    published.clear()
    seen.clear()


async def test_combinators_replay_the_recorded_completion_order(tmp_path: Path) -> None:
    db = tmp_path / "race.db"
    async with agentdur.Engine(APP, path=db) as engine:
        inv = await engine.send("Race", "race")
        await wait_until(lambda: "b" in published)
        await engine.resolve_awakeable(published["b"], "B")  # b completes first
        await wait_until(lambda: "gate" in published)
        journal_before = [(e.index, e.kind, e.name, e.value) for e in (await engine.invocation(inv)).journal]
    # After the restart a completes too, before the replay: both are done when the combinators replay.
    async with agentdur.Engine(APP, path=db, suspend_after=None) as engine:
        await engine.resolve_awakeable(published["a"], "A")
        await wait_until(lambda: len(seen) == 2)
        await engine.resolve_awakeable(published["gate"], "go")
        result = await engine.attach(inv)
        journal_after = [(e.index, e.kind, e.name, e.value) for e in (await engine.invocation(inv)).journal]
    # without the journal the replay would have seen both done and picked "a"
    assert seen[0] == seen[1] == ("observed", ["B"], ["b", "B"])
    assert result == {
        "first": ["B"],
        "pending": 1,
        "winner": ["b", "B"],
        "order": ["A", "B"],
        "all": ["A", "B"],
    }
    # the replay reproduced the recorded entries exactly: same indexes, kinds, names and values
    assert journal_after[: len(journal_before)] == [
        (i, k, n, v if k != "awakeable" else journal_after[i][3]) for i, k, n, v in journal_before
    ]
    combinators = [v for _, k, _, v in journal_after if k == "combinator"]
    assert combinators == [[1], [1], [0, 1]]


async def test_uuid_random_and_time_are_stable_across_replay(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    async with agentdur.Engine(APP, path=db) as engine:
        inv = await engine.send("Race", "values")
        await wait_until(lambda: "values" in published)
    async with agentdur.Engine(APP, path=db) as engine:
        await wait_until(lambda: len(seen) == 2)
        await engine.resolve_awakeable(published["values"], None)
        result = await engine.attach(inv)
    assert seen[0] == seen[1]
    assert result == {"uuid": seen[0][0], "random": seen[0][1], "time": seen[0][2]}  # type: ignore[index]


async def test_select_with_a_timer_as_timeout(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "t.db") as engine:
        assert await engine.call("Race", "timeout_race") == ["work", "work done"]
