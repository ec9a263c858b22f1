"""Operating an engine: listing, pending approvals, object state, output, kill, purge, resume."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import agentdur

from .helpers import wait_until

log: list[str] = []

svc = agentdur.Service("Ops")
obj = agentdur.VirtualObject("Profile")


@svc.handler()
async def needs_approval(ctx: agentdur.Context, what: str) -> str:
    aid, decision = ctx.awakeable(type_hint=str, description=f"approve {what}")
    log.append(aid)
    try:
        return await decision
    except agentdur.InvocationCancelledError:
        log.append("compensated")
        raise


@svc.handler()
async def parent(ctx: agentdur.Context) -> str:
    return await ctx.service_call(needs_approval, "child")


@obj.handler()
async def update(ctx: agentdur.ObjectContext, name: str) -> None:
    ctx.set("name", name)
    ctx.set("visits", (await ctx.get("visits", type_hint=int) or 0) + 1)


@obj.handler()
async def slow_update(ctx: agentdur.ObjectContext) -> None:
    await ctx.sleep(timedelta(hours=1))


APP = agentdur.App([svc, obj])


async def test_list_pending_awakeables_state_and_output(tmp_path: Path) -> None:
    log.clear()
    async with agentdur.Engine(APP, path=tmp_path / "o.db") as engine:
        waiting = await engine.send("Ops", "needs_approval", "refund")
        await wait_until(lambda: len(log) == 1)
        pending = await engine.pending_awakeables()
        assert [(p.id, p.invocation_id, p.service, p.handler, p.description) for p in pending] == [
            (log[0], waiting, "Ops", "needs_approval", "approve refund")
        ]
        assert await engine.output(waiting) == (False, None)
        await engine.call("Profile", "update", "Ada", key="u1")
        await engine.call("Profile", "update", "Ada L.", key="u1")
        assert await engine.state("Profile", "u1") == {"name": "Ada L.", "visits": 2}
        assert await engine.state("Profile", "nobody") == {}
        with pytest.raises(agentdur.NotFoundError, match="not a virtual object"):
            await engine.state("Ops", "u1")
        listed = await engine.invocations(service="Profile", key="u1")
        assert [i.status for i in listed] == ["completed", "completed"]
        assert [i.id for i in await engine.invocations(status="running")] == [waiting]
        await engine.resolve_awakeable(log[0], "ok")
        assert await engine.attach(waiting) == "ok"
        assert await engine.output(waiting) == (True, "ok")
        assert await engine.pending_awakeables() == []


async def test_kill_skips_compensation_and_kills_children(tmp_path: Path) -> None:
    log.clear()
    async with agentdur.Engine(APP, path=tmp_path / "k.db") as engine:
        top = await engine.send("Ops", "parent")
        await wait_until(lambda: len(log) == 1)
        child = (await engine.invocation(top)).journal[0].target
        assert child is not None
        await engine.kill(top)
        for inv in (top, child):
            with pytest.raises(agentdur.InvocationCancelledError, match="killed"):
                await engine.attach(inv)
        assert "compensated" not in log
        with pytest.raises(agentdur.TerminalError, match="killed"):
            await engine.output(top)


async def test_kill_frees_the_object_key(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "q.db") as engine:
        stuck = await engine.send("Profile", "slow_update", key="u2")
        queued = await engine.send("Profile", "update", "Bo", key="u2")
        await engine.kill(stuck)
        assert await engine.attach(queued) is None
        assert await engine.state("Profile", "u2") == {"name": "Bo", "visits": 1}


async def test_purge_and_resume_rules(tmp_path: Path) -> None:
    log.clear()
    async with agentdur.Engine(APP, path=tmp_path / "p.db") as engine:
        done = await engine.send("Profile", "update", "Cy", key="u3", idempotency_key="k1")
        await engine.attach(done)
        waiting = await engine.send("Ops", "needs_approval", "x")
        with pytest.raises(agentdur.ConflictError, match="only completed"):
            await engine.purge(waiting)
        with pytest.raises(agentdur.ConflictError, match="not paused"):
            await engine.resume(waiting)
        await engine.purge(done)
        with pytest.raises(agentdur.NotFoundError):
            await engine.invocation(done)
        again = await engine.send("Profile", "update", "Cy", key="u3", idempotency_key="k1")
        assert again == done  # same key, same id: a fresh invocation after the purge
        assert (await engine.invocation(again)).status in ("pending", "running", "completed")
        for call in (engine.purge, engine.resume, engine.kill):
            with pytest.raises(agentdur.NotFoundError):
                await call("inv_missing")
