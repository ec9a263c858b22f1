"""Virtual objects: per-key FIFO, concurrent read-only shared handlers, atomic state."""

from __future__ import annotations

import asyncio
from pathlib import Path

import agentdur

from .helpers import wait_until

order: list[tuple[str, int]] = []
gates: dict[str, asyncio.Event] = {}

chat = agentdur.VirtualObject("Chat")


@chat.handler()
async def message(ctx: agentdur.ObjectContext, n: int) -> list[int]:
    order.append((ctx.key(), n))
    if n == 0:
        await ctx.run_typed("held", _wait_gate, agentdur.RunOptions(), ctx.key())
    history = await ctx.get("history", type_hint=list[int]) or []
    history.append(n)
    ctx.set("history", history)
    ctx.set("last", n)
    return history


async def _wait_gate(key: str) -> None:
    await gates.setdefault(key, asyncio.Event()).wait()


@chat.handler(kind="shared")
async def get_history(ctx: agentdur.ObjectSharedContext) -> list[int]:
    return await ctx.get("history", type_hint=list[int]) or []


@chat.handler()
async def reset(ctx: agentdur.ObjectContext, keep_last: bool) -> list[str]:
    if keep_last:
        ctx.clear("history")
    else:
        ctx.clear_all()
    ctx.set("note", "reset")
    own = await ctx.get("note", type_hint=str)
    assert own == "reset"  # a handler reads its own writes before they commit
    return await ctx.state_keys()


@chat.handler()
async def fail_after_set(ctx: agentdur.ObjectContext) -> None:
    ctx.set("poison", True)
    raise agentdur.TerminalError("refused")


APP = agentdur.App([chat])


async def test_exclusive_handlers_run_in_arrival_order_per_key_and_keys_in_parallel(tmp_path: Path) -> None:
    order.clear()
    gates.clear()
    async with agentdur.Engine(APP, path=tmp_path / "o.db") as engine:
        first = await engine.send("Chat", "message", 0, key="alice")
        queued = [await engine.send("Chat", "message", n, key="alice") for n in range(1, 6)]
        other = await engine.call("Chat", "message", 7, key="bob")  # bob is not blocked by alice
        assert other == [7]
        await wait_until(lambda: ("alice", 0) in order)
        assert [n for k, n in order if k == "alice"] == [0]  # the rest wait behind the held one
        # shared handlers run alongside the held exclusive one and see committed state only
        assert await engine.call("Chat", "get_history", key="alice") == []
        gates["alice"].set()
        results = [await engine.attach(i) for i in [first, *queued]]
        assert results[-1] == [0, 1, 2, 3, 4, 5]
        assert [n for k, n in order if k == "alice"] == [0, 1, 2, 3, 4, 5]
        assert await engine.call("Chat", "get_history", key="alice") == [0, 1, 2, 3, 4, 5]


async def test_state_clear_clear_all_and_keys(tmp_path: Path) -> None:
    gates.setdefault("k", asyncio.Event()).set()
    async with agentdur.Engine(APP, path=tmp_path / "s.db") as engine:
        await engine.call("Chat", "message", 1, key="k")
        assert await engine.call("Chat", "reset", True, key="k") == ["last", "note"]
        assert await engine.call("Chat", "reset", False, key="k") == ["note"]
        assert await engine.call("Chat", "get_history", key="k") == []


async def test_state_survives_restart_and_keys_are_isolated(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    async with agentdur.Engine(APP, path=db) as engine:
        for n in (1, 2):
            await engine.call("Chat", "message", n, key="carol")
        await engine.call("Chat", "message", 9, key="dave")
    async with agentdur.Engine(APP, path=db) as engine:
        assert await engine.call("Chat", "get_history", key="carol") == [1, 2]
        assert await engine.call("Chat", "get_history", key="dave") == [9]


async def test_state_written_before_a_terminal_failure_stays_with_its_journal(tmp_path: Path) -> None:
    # State commits with the journal entry that set it (as on Restate), not at handler end.
    async with agentdur.Engine(APP, path=tmp_path / "f.db") as engine:
        try:
            await engine.call("Chat", "fail_after_set", key="eve")
        except agentdur.TerminalError as error:
            assert error.message == "refused"
        rows = engine.store.read("SELECT name FROM state WHERE obj_key='eve'")
        journal = engine.store.read("SELECT kind, name FROM journal WHERE kind='set_state'")
        assert [r[0] for r in rows] == ["poison"]
        assert [(j[0], j[1]) for j in journal] == [("set_state", "poison")]
