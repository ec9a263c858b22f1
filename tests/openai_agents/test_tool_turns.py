"""The shared machinery on its own, in process: tool turns journal by position; a list in object state."""

from __future__ import annotations

from pathlib import Path

import pytest

import agentdur
from agentdur.integrations.kit import ObjectStateList

from ..effects import LOG_ENV, intervals
from .app import service
from .conftest import assert_turn_overlaps

notes = agentdur.VirtualObject("Notes")


@notes.handler()
async def add(ctx: agentdur.ObjectContext, items: list[str]) -> list[str]:
    stored = ObjectStateList("notes")
    await stored.extend(items)
    popped = await stored.pop()
    return [*await stored.items(limit=2), f"popped {popped}"]


async def test_steps_journal_by_position_whatever_order_the_calls_start_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "effects.log"
    monkeypatch.setenv(LOG_ENV, str(log))
    journals = []
    async with agentdur.Engine(agentdur.App([service]), path=tmp_path / "t.db") as engine:
        for arrival in ([4, 3, 2, 1, 0], [0, 1, 2, 3, 4]):
            log.unlink(missing_ok=True)
            inv = await engine.send("Agents", "turn", arrival)
            assert await engine.attach(inv) == ["step 0", "step 1", "alone a alone b", "step 3", "step 4"]
            assert_turn_overlaps(intervals(log.read_text().splitlines()))
            journals.append([entry.name for entry in (await engine.invocation(inv)).journal])
    assert journals[0] == journals[1] == ["step 0", "step 1", "alone a", "alone b", "step 3", "step 4"]


async def test_a_state_list_keeps_items_per_key(tmp_path: Path) -> None:
    async with agentdur.Engine(agentdur.App([notes]), path=tmp_path / "s.db") as engine:
        assert await engine.call("Notes", "add", ["a", "b", "c"], key="k") == ["a", "b", "popped c"]
        assert await engine.call("Notes", "add", ["d"], key="k") == ["a", "b", "popped d"]
        assert await engine.call("Notes", "add", ["x"], key="other") == ["popped x"]
