"""Unhappy paths you can see: callers answered when an invocation pauses, outcomes, errors, step times."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

import agentdur
from agentdur.engine._store import Store

from .helpers import wait_status, wait_until

svc = agentdur.Service("Outcomes")
fixed: dict[str, bool] = {}
SECRET_INPUT = "input-that-must-not-be-logged"


@svc.handler()
async def buggy(ctx: agentdur.Context, secret: str) -> str:
    """A handler bug until ``fixed["buggy"]``: a plain KeyError, retried and then paused."""

    def lookup() -> str:
        return "fine" if fixed.get("buggy") else {"a": "b"}["missing"]

    return lookup()


@svc.handler()
async def refuses(ctx: agentdur.Context) -> str:
    raise agentdur.TerminalError("no such order", 422)


@svc.handler()
async def waits(ctx: agentdur.Context) -> str:
    _, approval = ctx.awakeable(type_hint=str)
    return await approval


@svc.handler()
async def slow_step(ctx: agentdur.Context, hold: float) -> str:
    async def work() -> str:
        await asyncio.sleep(hold)
        return "done"

    result = await ctx.run_typed("slow work", work)
    await ctx.sleep(timedelta(milliseconds=50))
    return result


@svc.handler()
async def decides_or_times_out(ctx: agentdur.Context) -> str:
    _, decision = ctx.awakeable(type_hint=str)
    match await agentdur.select(decision=decision, timeout=ctx.sleep(timedelta(days=1))):
        case ["decision", value]:
            return str(value)
        case _:
            return "timed out"


APP = agentdur.App([svc])
QUICK = agentdur.InvocationRetryPolicy(max_attempts=2, initial_interval=timedelta(milliseconds=10))


@pytest.fixture(autouse=True)
def broken_again() -> None:
    fixed.clear()


async def test_a_caller_is_answered_when_the_invocation_pauses_and_waits_again_after_resume(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agentdur.engine")
    async with agentdur.Engine(APP, path=tmp_path / "o.db", retry_policy=QUICK) as engine:
        with pytest.raises(agentdur.InvocationPausedError) as caught:
            await engine.call("Outcomes", "buggy", SECRET_INPUT)
        paused = caught.value
        assert paused.invocation_id.startswith("inv_")
        assert "gave up after 2 attempts" in paused.reason and "KeyError" in paused.reason
        assert f"agentdur resume {paused.invocation_id}" in str(paused)
        # Attaching to it now answers at once, as does one that waited from before.
        with pytest.raises(agentdur.InvocationPausedError):
            await engine.attach(paused.invocation_id)

        info = await engine.invocation(paused.invocation_id)
        assert info.status == "paused" and info.outcome is None and info.attempts == 2
        assert info.error is not None and info.error.type == "KeyError"
        assert info.error.traceback is not None and "in lookup" in info.error.traceback
        failed = await engine.invocations(status="failed")
        assert [i.id for i in failed] == [paused.invocation_id]

        fixed["buggy"] = True
        await engine.resume(paused.invocation_id)
        assert await engine.attach(paused.invocation_id) == "fine"
        done = await engine.invocation(paused.invocation_id)
        assert done.status == "completed" and done.outcome == "succeeded"
        assert await engine.invocations(status="failed") == []

    attempts = [r for r in caplog.records if "failed (attempt 1 of 2)" in r.getMessage()]
    pauses = [r for r in caplog.records if "paused" in r.getMessage()]
    assert attempts and attempts[0].levelno == logging.WARNING and attempts[0].exc_info is not None
    assert pauses and pauses[0].levelno == logging.WARNING and pauses[0].exc_info is not None
    assert SECRET_INPUT not in caplog.text


async def test_a_waiting_attach_is_answered_when_an_unknown_handler_pauses_it(tmp_path: Path) -> None:
    db = tmp_path / "u.db"
    async with agentdur.Engine(APP, path=db) as engine:
        inv = await engine.send("Outcomes", "waits")
        await wait_until(lambda: bool(engine.in_memory), what="the handler to run")
    other = agentdur.Service("Other")

    @other.handler()
    async def nothing(ctx: agentdur.Context) -> None:
        return None

    async with agentdur.Engine(agentdur.App([other]), path=db) as engine:
        with pytest.raises(agentdur.InvocationPausedError, match="unknown service"):
            await engine.attach(inv)
        assert (await engine.invocation(inv)).status == "paused"


async def test_outcomes_are_separate_from_status_and_filterable(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "f.db", retry_policy=QUICK) as engine:
        fixed["buggy"] = True
        succeeded = await engine.send("Outcomes", "buggy", "x")
        await engine.attach(succeeded)
        failed = await engine.send("Outcomes", "refuses")
        with pytest.raises(agentdur.TerminalError, match="no such order"):
            await engine.attach(failed)
        cancelled = await engine.send("Outcomes", "waits")
        killed = await engine.send("Outcomes", "waits")
        await wait_until(lambda: engine.in_memory == 2, what="both waiting")
        await engine.cancel(cancelled)
        await engine.kill(killed)
        await wait_status(engine, cancelled, "completed")

        outcomes = {i.id: (i.status, i.outcome) for i in await engine.invocations()}
        assert outcomes == {
            succeeded: ("completed", "succeeded"),
            failed: ("completed", "failed"),
            cancelled: ("completed", "cancelled"),
            killed: ("completed", "killed"),
        }
        for outcome, inv in (("succeeded", succeeded), ("cancelled", cancelled), ("killed", killed)):
            assert [i.id for i in await engine.invocations(status=outcome)] == [inv]
            assert [i.id for i in await engine.invocations(outcome=outcome)] == [inv]
        assert [i.id for i in await engine.invocations(outcome="failed")] == [failed]

        terminal = await engine.invocation(failed)
        assert terminal.failure is not None and terminal.failure.code == 422
        assert terminal.error is not None and terminal.error.type == "TerminalError"
        assert terminal.error.traceback is not None and "in refuses" in terminal.error.traceback


async def test_a_running_step_is_shown_then_recorded_with_its_start_and_duration(tmp_path: Path) -> None:
    hold = 0.4
    async with agentdur.Engine(APP, path=tmp_path / "d.db") as engine:
        inv = await engine.send("Outcomes", "slow_step", hold)

        async def running() -> bool:
            journal = (await engine.invocation(inv)).journal
            return bool(journal) and journal[0].status == "running"

        await wait_until(running, what="the step to show as running")
        during = (await engine.invocation(inv)).journal[0]
        assert during.name == "slow work" and during.completed_at is None and during.duration is None
        assert await engine.attach(inv) == "done"
        step, sleep = (await engine.invocation(inv)).journal
    assert step.status == "completed" and step.started_at == during.started_at
    assert step.completed_at is not None and step.duration is not None
    assert step.duration >= hold * 0.9  # it began when the body began, not when its entry was written
    assert sleep.kind == "sleep" and sleep.duration is not None and sleep.duration >= 0.04


def test_an_older_file_gets_the_outcome_derived(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.executescript(
        """
        CREATE TABLE invocations (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, service TEXT NOT NULL,
            handler TEXT NOT NULL, obj_key TEXT, exclusive INTEGER NOT NULL, status TEXT NOT NULL,
            input TEXT, output TEXT, failure TEXT, last_error TEXT, idempotency_key TEXT,
            attempts INTEGER NOT NULL DEFAULT 0, wake_at REAL, completions INTEGER NOT NULL DEFAULT 0,
            cancel_requested INTEGER NOT NULL DEFAULT 0, cancel_at_await INTEGER,
            created_at REAL NOT NULL, modified_at REAL NOT NULL, completed_at REAL) WITHOUT ROWID;
        CREATE TABLE journal (invocation_id TEXT NOT NULL, idx INTEGER NOT NULL, kind TEXT NOT NULL,
            name TEXT NOT NULL, status TEXT NOT NULL, value TEXT, failure TEXT, target TEXT, wake_at REAL,
            created_at REAL NOT NULL, completed_at REAL, PRIMARY KEY (invocation_id, idx)) WITHOUT ROWID;
        """
    )
    failures = {
        "ok": None,
        "failed": {"message": "boom", "code": 500},
        "cancelled": {"message": "the invocation was cancelled", "code": 409, "cancelled": True},
        "killed": {"message": "the invocation was killed", "code": 409, "cancelled": True},
    }
    for seq, (name, failure) in enumerate(failures.items()):
        conn.execute(
            "INSERT INTO invocations (id, seq, service, handler, exclusive, status, output, failure,"
            " created_at, modified_at) VALUES (?,?,'S','h',0,'completed',?,?,0,0)",
            (name, seq, "1" if failure is None else None, None if failure is None else json.dumps(failure)),
        )
    conn.execute(
        "INSERT INTO invocations (id, seq, service, handler, exclusive, status, created_at, modified_at)"
        " VALUES ('waiting', 9, 'S', 'h', 0, 'suspended', 0, 0)"
    )
    conn.commit()
    conn.close()
    for _ in range(2):  # the migration is idempotent
        store = Store(db)
        rows = store.read("SELECT id, outcome FROM invocations")
        assert {row["id"]: row["outcome"] for row in rows} == {
            "ok": "succeeded",
            "failed": "failed",
            "cancelled": "cancelled",
            "killed": "killed",
            "waiting": None,
        }
        assert "started_at" in {row["name"] for row in store.read("PRAGMA table_info(journal)")}
        store._reader.close()


def versioned_app(first_step: str) -> agentdur.App:
    """The same handler before and after a code change that renamed its first step."""
    service = agentdur.Service("Versioned")

    @service.handler()
    async def run(ctx: agentdur.Context) -> str:
        await ctx.run_typed(first_step, lambda: "x")
        _, gate = ctx.awakeable(type_hint=str)
        return await gate

    return agentdur.App([service])


async def test_a_journal_mismatch_answers_the_caller_and_keeps_where_it_happened(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    async with agentdur.Engine(versioned_app("fetch"), path=db) as engine:
        inv = await engine.send("Versioned", "run")

        async def journaled() -> bool:
            return len((await engine.invocation(inv)).journal) == 2

        await wait_until(journaled, what="the step and the awakeable journaled")
    async with agentdur.Engine(versioned_app("download"), path=db) as engine:
        with pytest.raises(agentdur.InvocationPausedError, match="journal mismatch at index 0"):
            await engine.attach(inv)
        info = await engine.invocation(inv)
    assert info.status == "paused" and info.error is not None
    assert info.error.type == "JournalMismatchError" and "'download'" in info.error.message
    assert info.error.traceback is not None and "in run" in info.error.traceback


async def test_the_losing_timer_of_a_select_is_abandoned_once_the_invocation_completed(
    tmp_path: Path,
) -> None:
    """A completed invocation shows no step still ``pending``: the timeout it stopped waiting for is abandoned."""
    async with agentdur.Engine(APP, path=tmp_path / "select.db") as engine:
        inv_id = await engine.send("Outcomes", "decides_or_times_out")
        pending: list[agentdur.PendingAwakeable] = []

        async def awaiting() -> bool:
            pending[:] = await engine.pending_awakeables()
            return bool(pending)

        await wait_until(awaiting, 20, "the awakeable")
        running = await engine.invocation(inv_id)
        assert [(e.kind, e.status) for e in running.journal] == [
            ("awakeable", "pending"),
            ("sleep", "pending"),
        ]
        await engine.resolve_awakeable(pending[0].id, "yes")
        assert await engine.attach(inv_id) == "yes"
        done = await engine.invocation(inv_id)
        statuses = {e.kind: e.status for e in done.journal}
        assert statuses["awakeable"] == "completed" and statuses["sleep"] == "abandoned"
