"""Retention: completed invocations expire, everything unfinished and all object state stays."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import agentdur
from agentdur import InvocationRetryPolicy

from .helpers import wait_status, wait_until

svc = agentdur.Service("Keep")
obj = agentdur.VirtualObject("Counter")
gate = asyncio.Event()
runs: list[str] = []


@svc.handler()
async def quick(ctx: agentdur.Context, n: int) -> int:
    return await ctx.run_typed("double", lambda: n * 2)


@svc.handler()
async def approval(ctx: agentdur.Context) -> str:
    _, decision = ctx.awakeable(type_hint=str)
    return await decision


@svc.handler()
async def slow(ctx: agentdur.Context) -> str:
    async def wait_gate() -> str:
        await gate.wait()
        return "done"

    return await ctx.run_typed("wait", wait_gate)


@svc.handler()
async def broken(ctx: agentdur.Context) -> str:
    raise RuntimeError("always")


@obj.handler()
async def bump(ctx: agentdur.ObjectContext, who: str) -> int:
    runs.append(who)
    visits = (await ctx.get("visits", type_hint=int) or 0) + 1
    ctx.set("visits", visits)
    return visits


APP = agentdur.App([svc, obj])


async def completed_ids(engine: agentdur.Engine) -> set[str]:
    return {info.id for info in await engine.invocations(status="completed", limit=10_000)}


async def test_completed_invocations_expire_and_the_rest_stays(tmp_path: Path) -> None:
    gate.clear()
    runs.clear()
    async with agentdur.Engine(
        APP,
        path=tmp_path / "r.db",
        journal_retention=0.2,
        idempotency_retention=0.2,
        retention_interval=0.05,
        suspend_after=0.05,
        retry_policy=InvocationRetryPolicy(max_attempts=1),
    ) as engine:
        waiting = await engine.send("Keep", "approval")
        running = await engine.send("Keep", "slow")
        paused = await engine.send("Keep", "broken")
        await wait_status(engine, paused, "paused")
        await wait_status(engine, waiting, "suspended")
        assert await engine.call("Keep", "quick", 4) == 8
        first = await engine.send("Counter", "bump", "a", key="k", idempotency_key="once")
        assert await engine.attach(first) == 1
        assert await engine.send("Counter", "bump", "a", key="k", idempotency_key="once") == first
        assert runs == ["a"]  # within the retention the key answers with the recorded result

        async def all_gone() -> bool:
            return not await completed_ids(engine)

        await wait_until(all_gone, what="completed invocations removed by the background sweep")
        for inv_id, status in ((waiting, "suspended"), (running, "running"), (paused, "paused")):
            info = await engine.invocation(inv_id)
            assert info.status == status
        assert [e.kind for e in (await engine.invocation(waiting)).journal] == ["awakeable"]
        assert await engine.state("Counter", "k") == {"visits": 1}  # object state is never removed
        # The idempotency key expired with its invocation: the same key runs the handler again.
        again = await engine.send("Counter", "bump", "a", key="k", idempotency_key="once")
        assert again == first
        assert await engine.attach(again) == 2
        assert runs == ["a", "a"]
        gate.set()
        assert await engine.attach(running) == "done"
        await wait_until(all_gone, what="the last completed ones removed too")
        store = engine.store
        leftover = store.read_one(
            "SELECT count(*) FROM journal WHERE invocation_id NOT IN (SELECT id FROM invocations)"
        )
        assert leftover is not None and leftover[0] == 0


async def test_idempotency_retention_keeps_the_record_after_the_journal(tmp_path: Path) -> None:
    runs.clear()
    async with agentdur.Engine(
        APP,
        path=tmp_path / "i.db",
        journal_retention=0.05,
        idempotency_retention=3600,
        retention_interval=None,
    ) as engine:
        keyed = await engine.send("Counter", "bump", "b", key="k", idempotency_key="pay-1")
        assert await engine.attach(keyed) == 1
        plain = await engine.send("Counter", "bump", "c", key="k")
        assert await engine.attach(plain) == 2
        assert (await engine.invocation(keyed)).journal

        async def journal_dropped() -> bool:
            await engine.sweep()
            return plain not in await completed_ids(engine) and not (await engine.invocation(keyed)).journal

        await wait_until(journal_dropped, what="the plain invocation and the keyed one's journal removed")
        info = await engine.invocation(keyed)
        assert info.status == "completed" and info.result == 1
        ids = await completed_ids(engine)
        assert keyed in ids and plain not in ids
        # The key still answers with the recorded result, without running the handler again.
        assert await engine.send("Counter", "bump", "b", key="k", idempotency_key="pay-1") == keyed
        assert await engine.attach(keyed) == 1
        assert runs == ["b", "c"]


async def test_purge_completed_before(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "p.db", retention_interval=None) as engine:
        old = [await engine.send("Keep", "quick", n) for n in range(3)]
        for inv_id in old:
            await engine.attach(inv_id)
        middle = time.time()
        await wait_until(lambda: time.time() > middle, what="the clock moving on")
        new = await engine.send("Keep", "quick", 9)
        await engine.attach(new)
        waiting = await engine.send("Keep", "approval")
        assert await engine.purge_completed(middle) == 3
        assert await completed_ids(engine) == {new}
        assert await engine.purge_completed(time.time()) == 1
        assert await completed_ids(engine) == set()
        assert (await engine.invocation(waiting)).status in ("running", "suspended")
        assert await engine.purge_completed(time.time()) == 0


async def test_a_new_file_gives_space_back(tmp_path: Path) -> None:
    path = tmp_path / "v.db"
    async with agentdur.Engine(APP, path=path, retention_interval=None) as engine:
        assert engine.store.read_one("PRAGMA auto_vacuum")[0] == 2  # type: ignore[index]
        ids = await asyncio.gather(*(engine.send("Keep", "quick", n) for n in range(400)))
        for inv_id in ids:
            await engine.attach(inv_id)
        grown = engine.store.read_one("PRAGMA page_count")[0]  # type: ignore[index]
        assert await engine.purge_completed(time.time() + 1) == 400
        assert engine.store.read_one("PRAGMA freelist_count")[0] == 0  # type: ignore[index]
        assert engine.store.read_one("PRAGMA page_count")[0] < grown  # type: ignore[index]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


async def test_an_older_file_without_auto_vacuum_still_works(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE placeholder (x)")  # created before agentdur: auto_vacuum stays NONE
    async with agentdur.Engine(APP, path=path, journal_retention=0, retention_interval=None) as engine:
        assert engine.store.read_one("PRAGMA auto_vacuum")[0] == 0  # type: ignore[index]
        done = await engine.send("Keep", "quick", 1)
        await engine.attach(done)
        assert await engine.sweep() >= 1
        assert await completed_ids(engine) == set()


flow = agentdur.Workflow("Flow")


@flow.main()
async def flow_run(ctx: agentdur.WorkflowContext, n: int) -> int:
    ctx.set("n", n)
    return n


@flow.handler()
async def flow_peek(ctx: agentdur.WorkflowSharedContext) -> int | None:
    return await ctx.get("n", type_hint=int)


FLOW_APP = agentdur.App([flow])


async def test_workflow_runs_keep_their_own_retention(tmp_path: Path) -> None:
    """A run lives by its workflow's retention (one day here), not the journal retention; shared
    handlers of the workflow are ordinary invocations. Purging by time removes a run as purge does."""
    async with agentdur.Engine(
        FLOW_APP, path=tmp_path / "w.db", journal_retention=0, retention_interval=None
    ) as engine:
        assert await engine.call("Flow", "flow_run", 3, key="a") == 3
        assert await engine.call("Flow", "flow_peek", key="a") == 3
        run_id = engine.workflow_invocation_id("Flow", "a")

        async def only_the_run_left() -> bool:
            await engine.sweep()
            return await completed_ids(engine) == {run_id}

        await wait_until(only_the_run_left, what="the shared handler's invocation swept, the run kept")
        assert await engine.state("Flow", "a") == {"n": 3}
        assert await engine.purge_completed(time.time() + 1) == 1
        assert await completed_ids(engine) == set()
        assert await engine.state("Flow", "a") == {}  # a run goes with its key's state
        assert await engine.call("Flow", "flow_run", 4, key="a") == 4
