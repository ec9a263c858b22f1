"""Writer faults, injected into the real SQLite file: failing triggers and a lock held by another connection.

A failed write fails its waiting caller at once (no hang), the engine reports itself unhealthy until a
test write succeeds again, an invocation whose fire-and-forget write failed is paused rather than
continued with a gap in its journal, and a busy file is retried before anything fails.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import agentdur
from agentdur.engine import _store

from .helpers import wait_status, wait_until

GUARD = 20.0  # only a failure guard: a hang fails the test instead of blocking it
ran: dict[str, int] = {}

svc = agentdur.Service("Faulty")


def count(name: str) -> str:
    ran[name] = ran.get(name, 0) + 1
    return name


@svc.handler()
async def gated(ctx: agentdur.Context, label: str) -> str:
    """A step, an awakeable (a fire-and-forget journal write), then another step."""
    first = await ctx.run_typed("a", count, agentdur.RunOptions(), f"{label}-a")
    _, approval = ctx.awakeable(type_hint=str, description="gate")
    answer = await approval
    second = await ctx.run_typed("b", count, agentdur.RunOptions(), f"{label}-b")
    return f"{first} {answer} {second}"


release = asyncio.Event()


async def hold(name: str) -> str:
    count(name)
    await release.wait()
    return name


@svc.handler()
async def held(ctx: agentdur.Context, label: str) -> str:
    """A step, a step that waits for the test, then another step."""
    first = await ctx.run_typed("a", count, agentdur.RunOptions(), f"{label}-a")
    middle = await ctx.run_typed("hold", hold, agentdur.RunOptions(), f"{label}-hold")
    last = await ctx.run_typed("b", count, agentdur.RunOptions(), f"{label}-b")
    return f"{first} {middle} {last}"


@svc.handler()
async def plain(ctx: agentdur.Context, text: str) -> str:
    return await ctx.run_typed("upper", str.upper, agentdur.RunOptions(), text)


APP = agentdur.App([svc])


@contextmanager
def sql(db: Path) -> Iterator[sqlite3.Connection]:
    """Another connection to the engine's file, as an operator (or a failing disk) would have."""
    conn = sqlite3.connect(db, isolation_level=None, timeout=GUARD)
    try:
        yield conn
    finally:
        conn.close()


def inject(db: Path, table: str, when: str = "1") -> None:
    with sql(db) as conn:
        conn.execute(
            f"CREATE TRIGGER injected_fault BEFORE INSERT ON {table} WHEN {when}"
            " BEGIN SELECT RAISE(FAIL, 'injected fault'); END"
        )


def remove_fault(db: Path) -> None:
    with sql(db) as conn:
        conn.execute("DROP TRIGGER injected_fault")


async def test_a_failed_write_fails_its_caller_and_the_engine_is_unhealthy_until_it_can_write(
    tmp_path: Path,
) -> None:
    db = tmp_path / "f.db"
    async with agentdur.Engine(APP, path=db) as engine:
        assert engine.healthy and engine.health() is None
        inject(db, "invocations")

        with pytest.raises(agentdur.StoreWriteError, match="injected fault"):
            await asyncio.wait_for(engine.send("Faulty", "plain", "x"), GUARD)
        reason = engine.health()
        assert reason is not None and "injected fault" in reason
        assert not engine.healthy
        # While it cannot write, a new write is refused at once, with the same reason.
        with pytest.raises(agentdur.StoreWriteError, match="injected fault"):
            await asyncio.wait_for(engine.send("Faulty", "plain", "y"), GUARD)
        # Reading what is committed still works.
        assert await engine.invocations() == []

        remove_fault(db)
        await wait_until(lambda: engine.healthy, GUARD, "the engine to write again")
        assert await asyncio.wait_for(engine.call("Faulty", "plain", "z"), GUARD) == "Z"
        assert engine.store.faults == 1


async def test_a_failed_fire_and_forget_write_pauses_the_invocation_without_a_gap(tmp_path: Path) -> None:
    ran.clear()
    db = tmp_path / "g.db"
    async with agentdur.Engine(APP, path=db) as engine:
        inject(db, "journal", "NEW.kind = 'awakeable'")
        inv_id = await engine.send("Faulty", "gated", "one")
        await wait_status(engine, inv_id, "paused", GUARD)
        info = await engine.invocation(inv_id)
        assert info.last_error is not None and "injected fault" in info.last_error
        assert [e.name for e in info.journal] == ["a"]  # the awakeable never made it to the file
        assert ran == {"one-a": 1}  # the handler did not go on past the failed write
        assert await engine.pending_awakeables() == []

        remove_fault(db)
        await wait_until(lambda: engine.healthy, GUARD, "the engine to write again")
        await engine.resume(inv_id)
        await wait_until(lambda: _pending(engine), GUARD, "the awakeable to be recorded on resume")
        [approval] = await engine.pending_awakeables()
        await engine.resolve_awakeable(approval.id, "approved")
        assert await asyncio.wait_for(engine.attach(inv_id), GUARD) == "one-a approved one-b"
        assert ran == {"one-a": 1, "one-b": 1}  # the step that completed before the fault did not rerun
        journal = (await engine.invocation(inv_id)).journal
        assert [e.index for e in journal] == list(range(len(journal)))


async def _pending(engine: agentdur.Engine) -> bool:
    return bool(await engine.pending_awakeables())


async def test_a_busy_file_is_retried_before_anything_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_store, "BUSY_TIMEOUT", 0.02)
    monkeypatch.setattr(_store, "RETRY_DELAYS", (0.05,) * 200)
    db = tmp_path / "b.db"
    async with agentdur.Engine(APP, path=db) as engine:
        assert await engine.call("Faulty", "plain", "warm") == "WARM"
        with sql(db) as holder:
            holder.execute("BEGIN EXCLUSIVE")
            sent = asyncio.ensure_future(engine.send("Faulty", "plain", "busy"))
            await wait_until(lambda: engine.store.busy_retries >= 2, GUARD, "the writer to retry")
            assert not sent.done()
            assert engine.healthy  # busy for a moment is not a fault
            holder.execute("ROLLBACK")
        inv_id = await asyncio.wait_for(sent, GUARD)
        assert await asyncio.wait_for(engine.attach(inv_id), GUARD) == "BUSY"
        assert engine.store.faults == 0


async def test_a_file_busy_beyond_the_retries_fails_the_write_then_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_store, "BUSY_TIMEOUT", 0.02)
    monkeypatch.setattr(_store, "RETRY_DELAYS", (0.01, 0.01))
    db = tmp_path / "c.db"
    async with agentdur.Engine(APP, path=db) as engine:
        with sql(db) as holder:
            holder.execute("BEGIN EXCLUSIVE")
            with pytest.raises(agentdur.StoreWriteError, match="locked"):
                await asyncio.wait_for(engine.send("Faulty", "plain", "late"), GUARD)
            assert engine.store.busy_retries == 2
            assert "locked" in (engine.health() or "")
            holder.execute("ROLLBACK")
        await wait_until(lambda: engine.healthy, GUARD, "the engine to write again")
        assert await asyncio.wait_for(engine.call("Faulty", "plain", "late"), GUARD) == "LATE"


async def test_an_invocation_stopped_by_a_fault_that_outlives_the_engine_resumes_at_the_next_start(
    tmp_path: Path,
) -> None:
    ran.clear()
    release.clear()
    db = tmp_path / "h.db"
    async with agentdur.Engine(APP, path=db) as engine:
        inv_id = await engine.send("Faulty", "held", "two")
        await wait_until(lambda: ran.get("two-hold") == 1, GUARD, "the held step to start")
        inject(db, "journal")
        release.set()
        await wait_until(lambda: not engine.healthy, GUARD, "the step's write to fail")
        with pytest.raises(agentdur.StoreWriteError, match="injected fault"):
            await asyncio.wait_for(engine.attach(inv_id), GUARD)
        assert ran == {"two-a": 1, "two-hold": 1}  # it did not go on past the lost entry
    # Closed while it still could not write: the invocation was never paused nor completed.
    with sql(db) as conn:
        assert conn.execute("SELECT status FROM invocations WHERE id=?", (inv_id,)).fetchone() == ("running",)
        assert conn.execute("SELECT name FROM journal WHERE invocation_id=?", (inv_id,)).fetchall() == [
            ("a",)
        ]
    remove_fault(db)
    async with agentdur.Engine(APP, path=db) as engine:
        assert await asyncio.wait_for(engine.attach(inv_id), GUARD) == "two-a two-hold two-b"
    # "a" committed before the fault and never ran again; "hold" ran again: its result was never durable.
    assert ran == {"two-a": 1, "two-hold": 2, "two-b": 1}


async def test_only_the_invocations_whose_writes_failed_are_paused(tmp_path: Path) -> None:
    ran.clear()
    db = tmp_path / "o.db"
    async with agentdur.Engine(APP, path=db) as engine:
        waiting = await engine.send("Faulty", "gated", "calm")
        await wait_until(lambda: _pending(engine), GUARD, "the awakeable to be recorded")
        inject(db, "journal")
        hit = await engine.send("Faulty", "plain", "hit")
        with pytest.raises(agentdur.StoreWriteError, match=f"invocation {hit} .*injected fault"):
            await asyncio.wait_for(engine.attach(hit), GUARD)
        remove_fault(db)
        await wait_status(engine, hit, "paused", GUARD)
        # The invocation that only waited wrote nothing during the fault: it goes on untouched.
        assert (await engine.invocation(waiting)).status == "running"
        [approval] = await engine.pending_awakeables()
        await engine.resolve_awakeable(approval.id, "fine")
        assert await asyncio.wait_for(engine.attach(waiting), GUARD) == "calm-a fine calm-b"
        await engine.resume(hit)
        assert await asyncio.wait_for(engine.attach(hit), GUARD) == "HIT"
