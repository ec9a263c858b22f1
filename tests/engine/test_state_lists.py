"""List state on the embedded engine: rows, version references in the journal, replay, migration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import agentdur

from .helpers import wait_until

notes = agentdur.VirtualObject("Notes")
attempts: dict[str, int] = {}


@notes.handler()
async def add(ctx: agentdur.ObjectContext, items: list[str]) -> list[str]:
    lst = ctx.state_list("notes", str)
    lst.append(*items)
    return await lst.items()


@notes.handler()
async def turn(ctx: agentdur.ObjectContext, text: str) -> dict[str, Any]:
    """Read, then change the list in every way, then fail once after the changes: the replay must
    return what the first run read."""
    lst = ctx.state_list("notes", str)
    before = await lst.items()
    newest = await lst.items(last=2)
    popped = await lst.pop()
    lst.append(text, text + "!")
    lst.keep_last(3)
    after = await lst.items()
    count = await lst.length()
    key = ctx.invocation_id()
    attempts[key] = attempts.get(key, 0) + 1
    if attempts[key] == 1:
        raise RuntimeError("fail once after the changes")
    return {"before": before, "newest": newest, "popped": popped, "after": after, "count": count}


@notes.handler()
async def recreate(ctx: agentdur.ObjectContext, how: str) -> dict[str, Any]:
    """Read, remove the list, make a new one over the name, read again; fail once: the replay's
    references must still find each read's rows (the versions go on across the removal)."""
    lst = ctx.state_list("notes", str)
    first = await lst.items()
    if how == "all":
        ctx.clear_all()
    else:
        lst.clear()
    lst.append("new")
    second = await lst.items()
    lst.keep_last(0)
    lst.append("newer")
    third = await lst.items()
    key = ctx.invocation_id()
    attempts[key] = attempts.get(key, 0) + 1
    if attempts[key] == 1:
        raise RuntimeError("fail once")
    return {"first": first, "second": second, "third": third}


@notes.handler()
async def wipe(ctx: agentdur.ObjectContext, how: str) -> list[str]:
    lst = ctx.state_list("notes", str)
    if how == "list":
        lst.clear()
    elif how == "clear":
        ctx.clear("notes")
    elif how == "all":
        ctx.clear_all()
    elif how == "set":
        ctx.set("notes", {"plain": True})
    return await ctx.state_keys()


@notes.handler()
async def set_plain(ctx: agentdur.ObjectContext, value: Any) -> None:
    ctx.set("notes", value)


@notes.handler()
async def read_back(ctx: agentdur.ObjectContext) -> dict[str, Any]:
    """What every read says in an exclusive handler, own uncommitted changes included."""
    lst = ctx.state_list("notes", str)
    lst.append("own")
    return {"get": await ctx.get("notes"), "keys": await ctx.state_keys(), "items": await lst.items()}


@notes.handler(kind="shared")
async def view(ctx: agentdur.ObjectSharedContext) -> dict[str, Any]:
    lst = ctx.state_list("notes", str)
    return {
        "items": await lst.items(),
        "last": await lst.items(last=1),
        "length": await lst.length(),
        "get": await ctx.get("notes"),
        "keys": await ctx.state_keys(),
    }


@notes.handler(kind="shared")
async def shared_append(ctx: agentdur.ObjectSharedContext) -> None:
    ctx.state_list("notes").append("x")  # typed: allowed; refused when it runs


APP = agentdur.App([notes])


def journal(engine: agentdur.Engine, inv_id: str) -> list[tuple[str, str | None]]:
    rows = engine.store.read("SELECT kind, value FROM journal WHERE invocation_id=? ORDER BY idx", (inv_id,))
    return [(str(row[0]), row[1]) for row in rows]


async def test_append_journals_only_new_items_and_a_read_journals_a_reference(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "l.db") as engine:
        assert await engine.call("Notes", "add", ["a", "b"], key="k") == ["a", "b"]
        inv_id = await engine.send("Notes", "add", ["c"], key="k")
        assert await engine.attach(inv_id) == ["a", "b", "c"]
        assert journal(engine, inv_id) == [("list_append", '["c"]'), ("list_items", '{"v":2}')]
        rows = engine.store.read("SELECT seq, value FROM state_items WHERE obj_key='k' ORDER BY seq")
        assert [(row[0], row[1]) for row in rows] == [(0, '"a"'), (1, '"b"'), (2, '"c"')]
        assert engine.store.read("SELECT name FROM state WHERE obj_key='k'") == []


async def test_replay_sees_what_the_first_run_read_after_pop_append_keep_last(tmp_path: Path) -> None:
    attempts.clear()
    async with agentdur.Engine(APP, path=tmp_path / "r.db") as engine:
        await engine.call("Notes", "add", ["a", "b", "c", "d"], key="k")
        inv_id = await engine.send("Notes", "turn", "e", key="k")
        result = await engine.attach(inv_id)
        assert attempts[inv_id] == 2  # the second attempt replayed every list entry
        assert result == {
            "before": ["a", "b", "c", "d"],
            "newest": ["c", "d"],
            "popped": "d",
            "after": ["c", "e", "e!"],
            "count": 3,
        }
        kinds = [kind for kind, _ in journal(engine, inv_id)]
        assert kinds == [
            "list_items",
            "list_items",
            "list_pop",
            "list_append",
            "list_keep_last",
            "list_items",
            "list_length",
        ]
        # the rows the turn removed are gone once it completed; the header keeps the version
        rows = engine.store.read("SELECT value, removed_v FROM state_items WHERE obj_key='k' ORDER BY seq")
        assert [(row[0], row[1]) for row in rows] == [('"c"', None), ('"e"', None), ('"e!"', None)]
        assert await engine.call("Notes", "view", key="k") == {
            "items": ["c", "e", "e!"],
            "last": ["e!"],
            "length": 3,
            "get": ["c", "e", "e!"],
            "keys": ["notes"],
        }


@pytest.mark.parametrize("how", ["list", "all"])
async def test_replay_after_a_removal_and_a_new_list_over_the_name(tmp_path: Path, how: str) -> None:
    attempts.clear()
    async with agentdur.Engine(APP, path=tmp_path / "n.db") as engine:
        await engine.call("Notes", "add", ["a", "b"], key="k")
        inv_id = await engine.send("Notes", "recreate", how, key="k")
        assert await engine.attach(inv_id) == {"first": ["a", "b"], "second": ["new"], "third": ["newer"]}
        assert attempts[inv_id] == 2
        refs = [value for kind, value in journal(engine, inv_id) if kind == "list_items"]
        assert all(value is not None and value.startswith('{"v":') for value in refs), refs
        rows = engine.store.read("SELECT value FROM state_items WHERE obj_key='k'")
        assert [row[0] for row in rows] == ['"newer"']


async def test_a_shared_read_journals_a_copy_and_a_shared_change_is_refused(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "s.db") as engine:
        await engine.call("Notes", "add", ["a"], key="k")
        inv_id = await engine.send("Notes", "view", key="k")
        await engine.attach(inv_id)
        assert journal(engine, inv_id)[:3] == [
            ("list_items", '["a"]'),
            ("list_items", '["a"]'),
            ("list_length", "1"),
        ]
        with pytest.raises(agentdur.TerminalError, match="cannot change state"):
            await engine.call("Notes", "shared_append", key="k")


@pytest.mark.parametrize(("how", "keys"), [("list", []), ("clear", []), ("all", []), ("set", ["notes"])])
async def test_clear_clear_all_and_set_replace_a_list(tmp_path: Path, how: str, keys: list[str]) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "c.db") as engine:
        await engine.call("Notes", "add", ["a", "b"], key="k")
        assert await engine.call("Notes", "wipe", how, key="k") == keys
        state = await engine.state("Notes", "k")
        assert state == ({"notes": {"plain": True}} if how == "set" else {})
        assert engine.store.read("SELECT * FROM state_items") == []  # deleted at completion
        # a new list over the name starts from nothing and reads its own appends
        if how != "set":
            assert await engine.call("Notes", "add", ["z"], key="k") == ["z"]


async def test_exclusive_reads_see_own_uncommitted_changes(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "o.db") as engine:
        await engine.call("Notes", "add", ["a"], key="k")
        assert await engine.call("Notes", "read_back", key="k") == {
            "get": ["a", "own"],
            "keys": ["notes"],
            "items": ["a", "own"],
        }
        assert await engine.state("Notes", "k") == {"notes": ["a", "own"]}
        assert await engine.object_keys("Notes") == ["k"]


async def test_a_plain_json_array_reads_as_the_list_and_the_first_change_converts_it(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "m.db") as engine:
        await engine.call("Notes", "set_plain", ["old1", "old2"], key="k")
        assert (await engine.call("Notes", "view", key="k"))["items"] == ["old1", "old2"]
        inv_id = await engine.send("Notes", "add", ["new"], key="k")
        assert await engine.attach(inv_id) == ["old1", "old2", "new"]
        assert journal(engine, inv_id) == [("list_append", '["new"]'), ("list_items", '{"v":1}')]
        assert engine.store.read("SELECT name FROM state WHERE obj_key='k'") == []
        assert await engine.state("Notes", "k") == {"notes": ["old1", "old2", "new"]}
        # a plain value that is not an array is not a list
        await engine.call("Notes", "set_plain", {"a": 1}, key="j")
        with pytest.raises(agentdur.TerminalError, match="not a list"):
            await engine.call("Notes", "add", ["x"], key="j")


async def test_items_are_checked_like_set_values(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "v.db", max_entry_size=1000) as engine:
        inv_id = await engine.send("Notes", "add", ["x" * 2000], key="k")
        await wait_until(
            lambda: (
                engine.store.read_one(
                    "SELECT last_error FROM invocations WHERE id=? AND last_error IS NOT NULL", (inv_id,)
                )
                is not None
            )
        )
        error = engine.store.read_one("SELECT last_error FROM invocations WHERE id=?", (inv_id,))
        assert error is not None and "maximum journal entry size" in str(error[0])
        assert engine.store.read("SELECT * FROM state_items") == []
        await engine.kill(inv_id)


async def test_lists_survive_a_restart_and_replace_the_whole_list_journal(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    async with agentdur.Engine(APP, path=db) as engine:
        for n in range(30):
            await engine.call("Notes", "add", [f"item {n}"], key="k")
    async with agentdur.Engine(APP, path=db) as engine:
        inv_id = await engine.send("Notes", "add", ["last"], key="k")
        items = await engine.attach(inv_id)
        assert items[-1] == "last" and len(items) == 31
        journaled = sum(len(value or "") for _, value in journal(engine, inv_id))
        assert journaled <= len(json.dumps(["last"])) + len('{"v":31}')
