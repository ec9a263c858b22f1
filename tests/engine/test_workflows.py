"""Workflows on the embedded engine in process: suspension, restarts, retention, definitions, typing."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

import agentdur

from .helpers import wait_status, wait_until

approvals = agentdur.Workflow("Approvals")
executed: list[str] = []


def note(line: str) -> None:
    executed.append(line)


@approvals.main()
async def run(ctx: agentdur.WorkflowContext, item: str) -> str:
    await ctx.run_typed("prepare", note, line=f"prepare {ctx.key()}")
    ctx.set("item", item)
    decision = await ctx.promise("decision", type_hint=bool).value()
    await ctx.run_typed("finish", note, line=f"finish {ctx.key()}")
    return f"{item}: {'approved' if decision else 'refused'}"


@approvals.handler()
async def decide(ctx: agentdur.WorkflowSharedContext, approved: bool) -> None:
    await ctx.promise("decision", type_hint=bool).resolve(approved)


@approvals.handler()
async def item(ctx: agentdur.WorkflowSharedContext) -> str | None:
    return await ctx.get("item", type_hint=str)


@approvals.handler()
async def read_as_int(ctx: agentdur.WorkflowSharedContext) -> int:
    """Reads the bool promise as a list: a terminal error naming the promise."""
    return len(await ctx.promise("decision", type_hint=list[int]).value())


short = agentdur.Workflow("Short")


@short.main(workflow_retention=timedelta(milliseconds=300))
async def short_run(ctx: agentdur.WorkflowContext, n: int) -> int:
    ctx.set("n", n)
    await ctx.promise("seen", type_hint=int).resolve(n)
    return n


@short.handler()
async def seen(ctx: agentdur.WorkflowSharedContext) -> int | None:
    return await ctx.promise("seen", type_hint=int).peek()


app = agentdur.App([approvals, short])


async def test_a_run_waits_suspended_and_a_signal_wakes_it_by_replay(tmp_path: Path) -> None:
    executed.clear()
    async with agentdur.Engine(app, tmp_path / "wf.db", suspend_after=0.05) as engine:
        inv = await engine.send("Approvals", "run", "laptop", key="a1")
        await wait_status(engine, inv, "suspended")
        # The status is committed first, then the runner leaves memory.
        await wait_until(lambda: engine.in_memory == 0, what="the suspended run out of memory")
        assert await engine.call("Approvals", "item", key="a1") == "laptop"
        await engine.call("Approvals", "decide", True, key="a1")
        assert await engine.workflow_attach("Approvals", "a1") == "laptop: approved"
    assert executed == ["prepare a1", "finish a1"]  # the replay did not prepare again


async def test_a_restart_keeps_the_wait_and_the_promise(tmp_path: Path) -> None:
    executed.clear()
    path = tmp_path / "wf.db"
    async with agentdur.Engine(app, path) as engine:
        inv = await engine.send("Approvals", "run", "desk", key="a2")
        await wait_until(lambda: "prepare a2" in executed, what="prepared")
        await wait_until(lambda: _journal_has(path, inv, "get_promise"), what="the wait journaled")
    async with agentdur.Engine(app, path) as engine:
        await engine.call("Approvals", "decide", False, key="a2")
        assert await engine.attach(inv) == "desk: refused"
    assert executed == ["prepare a2", "finish a2"]


async def test_a_promise_read_as_another_type_fails_naming_it(tmp_path: Path) -> None:
    async with agentdur.Engine(app, tmp_path / "wf.db") as engine:
        await engine.call("Approvals", "decide", True, key="a3")
        with pytest.raises(agentdur.InvalidInputError, match="promise 'decision'"):
            await engine.call("Approvals", "read_as_int", key="a3")


async def test_a_finished_run_is_kept_for_its_retention_then_the_key_runs_again(tmp_path: Path) -> None:
    async with agentdur.Engine(app, tmp_path / "wf.db") as engine:
        assert await engine.call("Short", "short_run", 1, key="k") == 1
        with pytest.raises(agentdur.ConflictError, match="already invoked"):
            await engine.call("Short", "short_run", 2, key="k")
        assert await engine.call("Short", "seen", key="k") == 1
        inv = engine.workflow_invocation_id("Short", "k")

        async def purged() -> bool:
            try:
                await engine.invocation(inv)
            except agentdur.NotFoundError:
                return True
            return False

        await wait_until(purged, what="the run purged after its retention")
        assert await engine.state("Short", "k") == {}
        assert await engine.call("Short", "seen", key="k") is None  # its promises went with it
        assert await engine.call("Short", "short_run", 3, key="k") == 3


def test_workflow_definitions_are_checked() -> None:
    wf = agentdur.Workflow("Twice")

    @wf.main()
    async def first(ctx: agentdur.WorkflowContext) -> None: ...

    with pytest.raises(agentdur.UserError, match="already has a main handler"):

        @wf.main()
        async def second(ctx: agentdur.WorkflowContext) -> None: ...

    with pytest.raises(agentdur.UserError, match="workflow_retention"):
        wf.main(workflow_retention=timedelta(0))


async def test_an_older_file_gets_the_promises_table(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    async with agentdur.Engine(app, path):
        pass
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE promises")
    async with agentdur.Engine(app, path) as engine:
        await engine.call("Approvals", "decide", True, key="old")
        with pytest.raises(agentdur.ConflictError, match="promise was already completed"):
            await engine.call("Approvals", "decide", False, key="old")


def _journal_has(path: Path, inv_id: str, kind: str) -> bool:
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "SELECT 1 FROM journal WHERE invocation_id=? AND kind=?", (inv_id, kind)
        ).fetchone()
    return row is not None


def test_the_tours_max_retry_duration_is_max_duration() -> None:
    options = agentdur.RunOptions(max_attempts=3, max_retry_duration=timedelta(seconds=30))
    assert options.max_duration == timedelta(seconds=30) and options.retries_in_step
    both = agentdur.RunOptions(max_duration=timedelta(seconds=1), max_retry_duration=timedelta(seconds=2))
    assert both.max_duration == timedelta(seconds=1)


async def test_purging_a_run_frees_its_key_with_its_state_and_promises(tmp_path: Path) -> None:
    async with agentdur.Engine(app, tmp_path / "wf.db") as engine:
        assert await engine.call("Short", "short_run", 5, key="p") == 5
        with pytest.raises(agentdur.InvalidInputError, match="idempotency key"):
            await engine.send("Short", "short_run", 6, key="p", idempotency_key="i")
        await engine.purge(engine.workflow_invocation_id("Short", "p"))
        assert await engine.state("Short", "p") == {}
        assert await engine.call("Short", "seen", key="p") is None
        assert await engine.call("Short", "short_run", 6, key="p") == 6
