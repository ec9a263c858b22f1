"""The shared machinery on its own, in process: tool turns journal by position; a list in object state."""

from __future__ import annotations

import time
from pathlib import Path

from agentdur.integrations._shared import ObjectStateList

import agentdur

from .app import service

notes = agentdur.VirtualObject("Notes")


@notes.handler()
async def add(ctx: agentdur.ObjectContext, items: list[str]) -> list[str]:
    stored = ObjectStateList("notes")
    await stored.extend(items)
    popped = await stored.pop()
    return [*await stored.items(limit=2), f"popped {popped}"]


async def test_steps_journal_by_position_whatever_order_the_calls_start_in(tmp_path: Path) -> None:
    journals = []
    async with agentdur.Engine(agentdur.App([service]), path=tmp_path / "t.db") as engine:
        for arrival in ([4, 3, 2, 1, 0], [0, 1, 2, 3, 4]):
            started = time.monotonic()
            inv = await engine.send("Agents", "turn", arrival)
            assert await engine.attach(inv) == ["step 0", "step 1", "alone a alone b", "step 3", "step 4"]
            assert time.monotonic() - started < 1.0  # the four half-second steps overlap
            journals.append([entry.name for entry in (await engine.invocation(inv)).journal])
    assert journals[0] == journals[1] == ["step 0", "step 1", "alone a", "alone b", "step 3", "step 4"]


async def test_a_state_list_keeps_items_per_key(tmp_path: Path) -> None:
    async with agentdur.Engine(agentdur.App([notes]), path=tmp_path / "s.db") as engine:
        assert await engine.call("Notes", "add", ["a", "b", "c"], key="k") == ["a", "b", "popped c"]
        assert await engine.call("Notes", "add", ["d"], key="k") == ["a", "b", "popped d"]
        assert await engine.call("Notes", "add", ["x"], key="other") == ["popped x"]
