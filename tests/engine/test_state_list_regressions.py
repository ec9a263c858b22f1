"""Regression tests of list-state bugs the hostile tests found (each failed before its fix): ``last``
between the length and twice it, an append not checked against the list's type, torn shared reads,
and a killed queued invocation purging rows the running one still replays."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import agentdur

from .helpers import wait_until
from .test_state_lists_hostile import APP, items_rows, last_error


async def test_an_item_not_of_the_list_type_is_refused_at_the_append(tmp_path: Path) -> None:
    """The list's type_hint is known at the append: a value that does not match it must not be
    stored, or every later read of the list (any handler, any invocation) fails validation and is
    retried for ever."""
    async with agentdur.Engine(APP, path=tmp_path / "v.db") as engine:
        inv_id = await engine.send("Hostile", "append_value", "mismatch", key="k")
        error = await last_error(engine, inv_id)
        assert "state list 'n'" in error and "does not match its declared type" in error, error
        await engine.kill(inv_id)
        assert items_rows(engine) == []
        assert await engine.call("Hostile", "view", "n", key="k") == {"items": [], "length": 0, "get": None}


async def test_shared_reads_never_see_a_half_applied_change(tmp_path: Path) -> None:
    """``t`` is always a plain ``["x"]`` or the list ``["x", "y"]`` once the toggling started: a
    shared read must see one of them, never nothing. The reads of a shared handler run one query
    for the plain entry and others for the list, each on its own snapshot: a change committed
    between them is half seen. The window is narrow, so up to 2 runs of 3,000 toggles look for it."""
    async with agentdur.Engine(APP, path=tmp_path / "race.db") as engine:
        await engine.call("Hostile", "toggle", 1, key="k")
        seen: dict[str, list[Any]] = {"get": [], "items": []}
        for _ in range(2):
            toggling = await engine.send("Hostile", "toggle", 3_000, key="k")
            done = asyncio.Event()

            async def finish(inv_id: str, finished: asyncio.Event) -> Any:
                try:
                    return await engine.attach(inv_id)
                finally:
                    finished.set()

            async def read(how: str, finished: asyncio.Event) -> None:
                while not finished.is_set():
                    seen[how].append(await engine.call("Hostile", "read_t", how, key="k"))

            result, *_ = await asyncio.gather(
                finish(toggling, done), *(read(how, done) for how in ("get", "items", "get", "items"))
            )
            assert result == 3_000
            if any(value not in (["x"], ["x", "y"]) for values in seen.values() for value in values):
                break
        for how, values in seen.items():
            assert len(values) > 50, how
            torn = [value for value in values if value not in (["x"], ["x", "y"])]
            assert torn == [], f"{how}: {len(torn)} of {len(values)} reads saw {torn[:3]}"


racer = agentdur.VirtualObject("Racer")
gate = threading.Event()
racer_attempts: dict[str, list[Any]] = {}


def wait_for_gate() -> str:
    """A step that holds its invocation until the test opens the gate."""
    if not gate.wait(timeout=60):
        raise TimeoutError("the test never opened the gate")
    return "open"


@racer.handler()
async def fill(ctx: agentdur.ObjectContext, items: list[str]) -> None:
    ctx.state_list("l", str).append(*items)


@racer.handler()
async def trim(ctx: agentdur.ObjectContext) -> list[str]:
    """Read, trim, wait at the gate, then fail the first attempt: the retry replays the read."""
    lst = ctx.state_list("l", str)
    before = await lst.items()
    lst.keep_last(1)
    await ctx.run_typed("gate", wait_for_gate)
    seen = racer_attempts.setdefault(ctx.invocation_id(), [])
    seen.append(before)
    if len(seen) == 1:
        raise RuntimeError("fail the first attempt")
    return before


@racer.handler()
async def newest(ctx: agentdur.ObjectContext, last: int) -> dict[str, Any]:
    """Read the newest ``last`` in an exclusive handler; the first attempt fails after it."""
    got = await ctx.state_list("l", str).items(last=last)
    seen = racer_attempts.setdefault(ctx.invocation_id(), [])
    seen.append(got)
    if len(seen) == 1:
        raise RuntimeError("fail the first attempt")
    return {"first": seen[0], "replayed": got}


@racer.handler(kind="shared")
async def shared_newest(ctx: agentdur.ObjectSharedContext, last: int) -> list[str]:
    return await ctx.state_list("l", str).items(last=last)


RACE_APP = agentdur.App([racer])


async def test_items_with_last_between_the_length_and_twice_it_returns_every_item(tmp_path: Path) -> None:
    """``last=7`` of 5 items is all 5 (``texts[len - last:]`` takes a negative start: the newest 2)."""
    racer_attempts.clear()
    async with agentdur.Engine(RACE_APP, path=tmp_path / "n.db") as engine:
        await engine.call("Racer", "fill", ["a", "b", "c", "d", "e"], key="k")
        assert await engine.call("Racer", "shared_newest", 7, key="k") == ["a", "b", "c", "d", "e"]
        # in an exclusive handler the first run and the replay must agree, on all 5
        assert await engine.call("Racer", "newest", 7, key="k") == {
            "first": ["a", "b", "c", "d", "e"],
            "replayed": ["a", "b", "c", "d", "e"],
        }


async def test_killing_a_queued_invocation_keeps_the_rows_a_running_one_still_replays(tmp_path: Path) -> None:
    """A queued exclusive invocation killed while another of its key runs completes through
    ``finish_exclusive``, which deletes the rows the running one removed but may still replay."""
    racer_attempts.clear()
    gate.clear()
    async with agentdur.Engine(RACE_APP, path=tmp_path / "q.db") as engine:
        await engine.call("Racer", "fill", ["a", "b", "c"], key="k")
        running = await engine.send("Racer", "trim", key="k")
        await wait_until(
            lambda: len(engine.store.read("SELECT 1 FROM state_items WHERE removed_v IS NOT NULL")) == 2
        )
        queued = await engine.send("Racer", "fill", ["queued"], key="k")
        await engine.kill(queued)
        gate.set()
        assert await engine.attach(running) == ["a", "b", "c"]
        assert racer_attempts[running] == [["a", "b", "c"], ["a", "b", "c"]]
        assert await engine.state("Racer", "k") == {"l": ["c"]}


async def test_a_chat_session_gives_the_model_its_whole_history_below_max_history(tmp_path: Path) -> None:
    """``patterns.chat_session`` reads ``items(last=max_history)``: with 6 stored turns and
    ``max_history=10`` the model must get all 6 (the slice bug above hands it the newest 4)."""
    from agentdur.patterns.sessions import ChatMessage, ChatTurn, chat_session

    prompts: list[int] = []

    async def respond(history: list[ChatTurn]) -> str:
        prompts.append(len(history))
        return f"reply {len(prompts)}"

    app = agentdur.App([chat_session("BugChat", respond, max_history=10)])
    async with agentdur.Engine(app, path=tmp_path / "chat.db") as engine:
        for n in range(4):
            reply = await engine.call("BugChat", "message", ChatMessage(message=f"m{n}"), key="u")
            assert reply["turns"] == 2 * (n + 1)
        assert prompts == [1, 3, 5, 7]  # what was stored, and the new message
