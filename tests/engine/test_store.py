"""Idempotency keys, group commit, durability settings and the invocation view."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

import agentdur

runs: list[int] = []

svc = agentdur.Service("Store")


async def noop(i: int) -> int:
    return i


@svc.handler()
async def steps(ctx: agentdur.Context, n: int) -> int:
    runs.append(n)
    total = 0
    for i in range(n):
        total += await ctx.run_typed(f"step {i}", noop, agentdur.RunOptions(), i)
    return total


APP = agentdur.App([svc])


async def test_idempotency_key_returns_the_same_invocation_and_result(tmp_path: Path) -> None:
    runs.clear()
    async with agentdur.Engine(APP, path=tmp_path / "i.db") as engine:
        first = await engine.send("Store", "steps", 3, idempotency_key="order-1")
        again = await engine.send("Store", "steps", 3, idempotency_key="order-1")
        assert first == again
        results = await asyncio.gather(
            *(engine.call("Store", "steps", 3, idempotency_key="order-2") for _ in range(10))
        )
        assert results == [3] * 10
        assert await engine.call("Store", "steps", 3, idempotency_key="order-1") == 3
        assert runs == [3, 3]  # one execution per key
        with pytest.raises(agentdur.ConflictError, match="'order-1' was already used with a different input"):
            await engine.send("Store", "steps", 4, idempotency_key="order-1")
        # the same key on another handler or object key is another invocation
        assert await engine.call("Store", "steps", 1, idempotency_key="order-3") == 0


async def test_concurrent_entries_share_transactions(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "g.db") as engine:
        commits_before = engine.store.commits
        writes_before = engine.store.writes
        await asyncio.gather(*(engine.call("Store", "steps", 10) for _ in range(20)))
        commits = engine.store.commits - commits_before
        writes = engine.store.writes - writes_before
        entries = engine.store.read("SELECT count(*) FROM journal")[0][0]
        assert entries == 200
        assert commits < writes / 3, f"{commits} commits for {writes} writes: no group commit"


@pytest.mark.parametrize("mode, expected", [("FULL", 2), ("NORMAL", 1)])
async def test_synchronous_setting(tmp_path: Path, mode: str, expected: int) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "s.db", synchronous=mode) as engine:  # type: ignore[arg-type]
        assert engine.store.read("PRAGMA synchronous")[0][0] == expected
        assert engine.store.read("PRAGMA journal_mode")[0][0] == "wal"
        assert await engine.call("Store", "steps", 2) == 1


def test_invalid_synchronous_setting(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="synchronous"):
        asyncio.run(agentdur.Engine(APP, path=tmp_path / "x.db", synchronous="OFF").start())  # type: ignore[arg-type]


async def test_invocation_view_and_unknown_ids(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    async with agentdur.Engine(APP, path=db) as engine:
        inv = await engine.send("Store", "steps", 2)
        assert await engine.attach(inv) == 1
        info = await engine.invocation(inv)
        assert (info.service, info.handler, info.key, info.status, info.input, info.result) == (
            "Store",
            "steps",
            None,
            "completed",
            2,
            1,
        )
        assert [(e.index, e.kind, e.name, e.value) for e in info.journal] == [
            (0, "run", "step 0", 0),
            (1, "run", "step 1", 1),
        ]
        assert info.completed_at is not None and info.created_at <= info.completed_at
        with pytest.raises(agentdur.NotFoundError):
            await engine.invocation("inv_nope")
        with pytest.raises(agentdur.NotFoundError):
            await engine.attach("inv_nope")
    # the file is plain SQLite: the journal is there for any tool to read
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM journal WHERE invocation_id=?", (inv,)).fetchone()[0] == 2


async def test_engine_misuse(tmp_path: Path) -> None:
    engine = agentdur.Engine(APP, path=tmp_path / "m.db")
    with pytest.raises(agentdur.UserError, match="not started"):
        await engine.call("Store", "steps", 1)
    async with engine:
        pass
    with pytest.raises(agentdur.UserError, match="closed"):
        await engine.call("Store", "steps", 1)
