"""State lists on the embedded engine used the way a careless or hostile user would.

Wrong values and counts, odd names, lists over plain values, writes from shared handlers, the entry
size limit, long lists, every change in one invocation replayed, plain state operations over lists,
workflows, purges, an old database file, and shared reads racing exclusive changes.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

import agentdur

from .helpers import wait_until

hostile = agentdur.VirtualObject("Hostile")
attempts: dict[str, int] = {}
first_runs: dict[str, Any] = {}


@hostile.handler()
async def append_value(ctx: agentdur.ObjectContext, what: str) -> list[int]:
    """Append one bad value to an int list, then read it back."""
    values: dict[str, Any] = {"nan": float("nan"), "object": object(), "mismatch": "not an int"}
    lst = ctx.state_list("n", int)
    lst.append(values[what])
    return await lst.items()


@hostile.handler()
async def bad_count(ctx: agentdur.ObjectContext, what: str) -> Any:
    """A count that is not a count >= 0, after an append that must then not be stored."""
    lst = ctx.state_list("n", int)
    lst.append(1)
    if what == "keep_last -1":
        lst.keep_last(-1)
    elif what == "keep_last '3'":
        lst.keep_last("3")  # type: ignore[arg-type]
    elif what == "keep_last 1.5":
        lst.keep_last(1.5)  # type: ignore[arg-type]
    elif what == "last -1":
        return await lst.items(last=-1)
    elif what == "last '2'":
        return await lst.items(last="2")  # type: ignore[arg-type]
    return await lst.items()


@hostile.handler()
async def named(ctx: agentdur.ObjectContext, name: str) -> dict[str, Any]:
    """A list under any name, read back every way."""
    lst = ctx.state_list(name, int)
    lst.append(1, 2)
    return {
        "items": await lst.items(),
        "last": await lst.items(last=0),
        "get": await ctx.get(name),
        "keys": await ctx.state_keys(),
    }


@hostile.handler()
async def set_plain(ctx: agentdur.ObjectContext, value: Any) -> None:
    ctx.set("n", value)


@hostile.handler()
async def list_op(ctx: agentdur.ObjectContext, op: str) -> Any:
    """One list operation on ``n`` (whatever ``n`` holds)."""
    lst = ctx.state_list("n")
    if op == "items":
        return await lst.items()
    if op == "length":
        return await lst.length()
    if op == "append":
        lst.append(1)
    elif op == "pop":
        return await lst.pop()
    elif op == "keep_last":
        lst.keep_last(0)
    return await ctx.get("n")


@hostile.handler(kind="shared")
async def shared_write(ctx: agentdur.ObjectSharedContext, op: str) -> Any:
    lst = ctx.state_list("n", int)
    if op == "append":
        lst.append(9)
    elif op == "pop":
        return await lst.pop()
    elif op == "keep_last":
        lst.keep_last(0)
    elif op == "clear":
        lst.clear()
    return None


@hostile.handler(kind="shared")
async def view(ctx: agentdur.ObjectSharedContext, name: str) -> dict[str, Any]:
    lst = ctx.state_list(name)
    return {"items": await lst.items(), "length": await lst.length(), "get": await ctx.get(name)}


@hostile.handler(kind="shared")
async def shared_last(ctx: agentdur.ObjectSharedContext, last: int) -> list[int]:
    return await ctx.state_list("n", int).items(last=last)


@hostile.handler()
async def append_many(ctx: agentdur.ObjectContext, items: list[int]) -> int:
    lst = ctx.state_list("n", int)
    lst.append(*items)
    return await lst.length()


@hostile.handler()
async def exclusive_last(ctx: agentdur.ObjectContext, last: int) -> list[int]:
    return await ctx.state_list("n", int).items(last=last)


@hostile.handler()
async def everything(ctx: agentdur.ObjectContext, label: str) -> dict[str, Any]:
    """Every change in one invocation, reading between them; the first attempt fails after all of
    it, so the second replays every entry and must return what the first read."""
    lst = ctx.state_list("n", str)
    seen: dict[str, Any] = {"before": await lst.items()}
    seen["popped"] = await lst.pop()
    lst.append(f"{label}1", f"{label}2")
    lst.keep_last(2)
    seen["kept"] = await lst.items()
    lst.clear()
    seen["cleared"] = {
        "items": await lst.items(),
        "length": await lst.length(),
        "keys": await ctx.state_keys(),
    }
    lst.append(f"{label}3")
    seen["after_clear"] = await lst.items()
    ctx.set("n", ["plain1", "plain2"])
    seen["get_plain"] = await ctx.get("n")
    seen["as_list"] = await lst.items(last=1)
    lst.append(f"{label}4")  # converts the plain array back into a list
    seen["converted"] = await lst.items()
    ctx.set("other", 1)
    ctx.clear_all()
    seen["after_clear_all"] = {"items": await lst.items(), "keys": await ctx.state_keys()}
    lst.append(f"{label}5")
    seen["popped_last"] = await lst.pop()
    lst.append(f"{label}6", f"{label}7")
    seen["final"] = {"items": await lst.items(), "get": await ctx.get("n"), "keys": await ctx.state_keys()}
    inv = ctx.invocation_id()
    attempts[inv] = attempts.get(inv, 0) + 1
    if attempts[inv] == 1:
        first_runs[inv] = seen
        raise RuntimeError("fail once after every change")
    return seen


@hostile.handler()
async def toggle(ctx: agentdur.ObjectContext, rounds: int) -> int:
    """Turn ``t`` from a plain array into a list and back, ``rounds`` times."""
    lst = ctx.state_list("t", str)
    for _ in range(rounds):
        ctx.set("t", ["x"])
        lst.append("y")
        await asyncio.sleep(0.001)  # not journaled: lets the shared readers run between the commits
    return rounds


@hostile.handler(kind="shared")
async def read_t(ctx: agentdur.ObjectSharedContext, how: str) -> Any:
    if how == "get":
        return await ctx.get("t")
    return await ctx.state_list("t", str).items()


flow = agentdur.Workflow("Flow")


@flow.main()
async def flow_run(ctx: agentdur.WorkflowContext, items: list[str]) -> list[str]:
    lst = ctx.state_list("log", str)
    lst.append(*items)
    await ctx.promise("go", type_hint=bool).value()
    lst.append("done")
    return await lst.items()


@flow.handler()
async def flow_view(ctx: agentdur.WorkflowSharedContext) -> dict[str, Any]:
    return {"items": await ctx.state_list("log", str).items(), "keys": await ctx.state_keys()}


@flow.handler()
async def flow_go(ctx: agentdur.WorkflowSharedContext) -> None:
    await ctx.promise("go", type_hint=bool).resolve(True)


APP = agentdur.App([hostile, flow])


def items_rows(engine: agentdur.Engine) -> list[tuple[str, int, str]]:
    rows = engine.store.read("SELECT obj_key, seq, value FROM state_items ORDER BY obj_key, name, seq")
    return [(str(row[0]), int(row[1]), str(row[2])) for row in rows]


def journal(engine: agentdur.Engine, inv_id: str) -> list[tuple[str, str | None]]:
    rows = engine.store.read("SELECT kind, value FROM journal WHERE invocation_id=? ORDER BY idx", (inv_id,))
    return [(str(row[0]), row[1]) for row in rows]


async def last_error(engine: agentdur.Engine, inv_id: str) -> str:
    """The error of a failed attempt of ``inv_id`` (waits for the first one)."""

    def failed() -> bool:
        row = engine.store.read_one("SELECT last_error FROM invocations WHERE id=?", (inv_id,))
        return row is not None and row[0] is not None

    await wait_until(failed, what=f"{inv_id} failing an attempt")
    row = engine.store.read_one("SELECT last_error FROM invocations WHERE id=?", (inv_id,))
    assert row is not None
    return str(row[0])


# ----------------------------------------------------------------- wrong values and counts


@pytest.mark.parametrize(
    ("what", "says"),
    [
        ("nan", "non-finite float nan"),
        ("object", "cannot be serialized as JSON"),
    ],
)
async def test_an_item_that_cannot_be_journaled_is_refused_at_the_append(
    tmp_path: Path, what: str, says: str
) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "v.db") as engine:
        inv_id = await engine.send("Hostile", "append_value", what, key="k")
        error = await last_error(engine, inv_id)
        assert "state list 'n'" in error and says in error, error
        await engine.kill(inv_id)
        assert items_rows(engine) == []  # nothing stored: the list is still readable
        assert await engine.call("Hostile", "view", "n", key="k") == {"items": [], "length": 0, "get": None}


@pytest.mark.parametrize("what", ["keep_last -1", "keep_last '3'", "keep_last 1.5", "last -1", "last '2'"])
async def test_a_count_that_is_not_a_count_fails_the_attempt_naming_the_list(
    tmp_path: Path, what: str
) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "c.db") as engine:
        inv_id = await engine.send("Hostile", "bad_count", what, key="k")
        error = await last_error(engine, inv_id)
        assert error.startswith("UserError: state list 'n': ") and ">= 0" in error, error
        # the append before the bad call is journaled; a retry replays it rather than adding again
        await wait_until(
            lambda: (
                len(engine.store.read("SELECT 1 FROM invocations WHERE id=? AND attempts>=2", (inv_id,))) == 1
            )
        )
        await engine.kill(inv_id)
        assert [value for _, _, value in items_rows(engine)] == ["1"]


async def test_last_zero_reads_nothing_and_journals_a_reference(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "z.db") as engine:
        inv_id = await engine.send("Hostile", "named", "n", key="k")
        assert await engine.attach(inv_id) == {"items": [1, 2], "last": [], "get": [1, 2], "keys": ["n"]}
        assert ("list_items", '{"v":1,"last":0}') in journal(engine, inv_id)
        assert await engine.call("Hostile", "shared_last", 0, key="k") == []


@pytest.mark.parametrize("name", ["", " ", "n/with/slashes", "ünï 🙂", "x" * 100_000])
async def test_any_state_name_works_for_a_list(tmp_path: Path, name: str) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "n.db") as engine:
        assert await engine.call("Hostile", "named", name, key="k") == {
            "items": [1, 2],
            "last": [],
            "get": [1, 2],
            "keys": [name],
        }
        assert await engine.state("Hostile", "k") == {name: [1, 2]}
        assert await engine.call("Hostile", "view", name, key="k") == {
            "items": [1, 2],
            "length": 2,
            "get": [1, 2],
        }


@pytest.mark.parametrize(
    ("plain", "json_type"),
    [({"a": 1}, "object"), ("text", "string"), (7, "number"), (None, "null"), (True, "boolean")],
)
@pytest.mark.parametrize("op", ["items", "length", "append", "pop", "keep_last"])
async def test_a_list_operation_on_a_plain_value_that_is_not_an_array_fails_naming_the_state(
    tmp_path: Path, plain: Any, json_type: str, op: str
) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "p.db") as engine:
        await engine.call("Hostile", "set_plain", plain, key="k")
        with pytest.raises(agentdur.TerminalError, match=f"state 'n' holds a JSON {json_type}, not a list"):
            await engine.call("Hostile", "list_op", op, key="k")
        assert await engine.state("Hostile", "k") == {"n": plain}  # left as it was
        assert items_rows(engine) == []


@pytest.mark.parametrize("op", ["append", "pop", "keep_last", "clear"])
async def test_a_shared_handler_cannot_change_a_list(tmp_path: Path, op: str) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "s.db") as engine:
        await engine.call("Hostile", "append_many", [1, 2, 3], key="k")
        with pytest.raises(agentdur.TerminalError, match="cannot change state") as raised:
            await engine.call("Hostile", "shared_write", op, key="k")
        assert op in str(raised.value)
        assert await engine.state("Hostile", "k") == {"n": [1, 2, 3]}


# ----------------------------------------------------------------- sizes


async def test_an_append_over_the_entry_size_limit_in_one_call_is_refused_and_smaller_calls_pass(
    tmp_path: Path,
) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "big.db", max_entry_size=1000) as engine:
        items = list(range(100_000, 100_300))  # every item small, 300 of them: ~2,100 bytes of JSON
        inv_id = await engine.send("Hostile", "append_many", items, key="k")
        error = await last_error(engine, inv_id)
        assert "state list 'n'" in error and "append them in smaller calls" in error, error
        await engine.kill(inv_id)
        assert items_rows(engine) == []
        for start in range(0, 300, 100):
            assert (
                await engine.call("Hostile", "append_many", items[start : start + 100], key="k")
                == start + 100
            )
        assert (await engine.state("Hostile", "k"))["n"] == items


async def test_ten_thousand_items_read_with_last(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "long.db") as engine:
        for start in range(0, 10_000, 2_500):
            await engine.call("Hostile", "append_many", list(range(start, start + 2_500)), key="k")
        inv_id = await engine.send("Hostile", "exclusive_last", 3, key="k")
        assert await engine.attach(inv_id) == [9_997, 9_998, 9_999]
        assert journal(engine, inv_id) == [("list_items", '{"v":4,"last":3}')]
        shared = await engine.send("Hostile", "shared_last", 2, key="k")
        assert await engine.attach(shared) == [9_998, 9_999]
        assert journal(engine, shared)[0] == ("list_items", "[9998,9999]")  # a copy of 2 items only
        assert await engine.call("Hostile", "shared_last", 20_000, key="k") == list(range(10_000))
        view = await engine.call("Hostile", "view", "n", key="k")
        assert view["length"] == 10_000 and view["items"] == list(range(10_000))


# ----------------------------------------------------------------- semantics


async def test_every_change_in_one_invocation_replays_what_the_first_attempt_saw(tmp_path: Path) -> None:
    attempts.clear()
    first_runs.clear()
    async with agentdur.Engine(APP, path=tmp_path / "e.db") as engine:
        await engine.call("Hostile", "list_op", "append", key="other")  # another key stays apart
        engine_state_before = await engine.state("Hostile", "other")
        await engine.call("Hostile", "set_plain", ["a", "b", "c"], key="k")
        inv_id = await engine.send("Hostile", "everything", "L", key="k")
        result = await engine.attach(inv_id)
        assert attempts[inv_id] == 2
        assert result == first_runs[inv_id]
        assert result == {
            "before": ["a", "b", "c"],
            "popped": "c",
            "kept": ["L1", "L2"],
            "cleared": {"items": [], "length": 0, "keys": []},
            "after_clear": ["L3"],
            "get_plain": ["plain1", "plain2"],
            "as_list": ["plain2"],
            "converted": ["plain1", "plain2", "L4"],
            "after_clear_all": {"items": [], "keys": []},
            "popped_last": "L5",
            "final": {"items": ["L6", "L7"], "get": ["L6", "L7"], "keys": ["n"]},
        }
        assert await engine.state("Hostile", "k") == {"n": ["L6", "L7"]}
        assert [(k, v) for k, _, v in items_rows(engine) if k == "k"] == [("k", '"L6"'), ("k", '"L7"')]
        assert await engine.state("Hostile", "other") == engine_state_before
        # and the next invocation continues the list
        assert await engine.call("Hostile", "view", "n", key="k") == {
            "items": ["L6", "L7"],
            "length": 2,
            "get": ["L6", "L7"],
        }


async def test_a_workflow_keeps_a_list_until_its_run_is_purged(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "wf.db") as engine:
        run_id = await engine.send("Flow", "flow_run", ["a", "b"], key="w")
        await wait_until(lambda: items_rows(engine) != [])
        assert await engine.call("Flow", "flow_view", key="w") == {"items": ["a", "b"], "keys": ["log"]}
        await engine.call("Flow", "flow_go", key="w")
        assert await engine.attach(run_id) == ["a", "b", "done"]
        assert await engine.call("Flow", "flow_view", key="w") == {
            "items": ["a", "b", "done"],
            "keys": ["log"],
        }
        await engine.purge(run_id)
        assert items_rows(engine) == []
        assert engine.store.read("SELECT * FROM state_lists") == []
        assert await engine.call("Flow", "flow_view", key="w") == {"items": [], "keys": []}


async def test_purging_completed_invocations_keeps_the_items(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "purge.db") as engine:
        await engine.call("Hostile", "set_plain", [0], key="k")
        for n in range(1, 4):
            await engine.call("Hostile", "append_many", [n], key="k")
        await engine.call("Hostile", "list_op", "pop", key="k")
        assert await engine.purge_completed(time.time() + 60) >= 5
        assert engine.store.read("SELECT * FROM journal") == []
        assert await engine.state("Hostile", "k") == {"n": [0, 1, 2]}
        assert await engine.call("Hostile", "append_many", [3], key="k") == 4
        assert await engine.call("Hostile", "view", "n", key="k") == {
            "items": [0, 1, 2, 3],
            "length": 4,
            "get": [0, 1, 2, 3],
        }


async def test_a_workflow_list_survives_a_restart_of_the_engine(tmp_path: Path) -> None:
    """A run waiting across an engine restart continues its list; other keys' lists stay."""
    db = tmp_path / "restart.db"
    async with agentdur.Engine(APP, path=db) as engine:
        await engine.call("Hostile", "append_many", [1, 2, 3], key="k")
        run_id = await engine.send("Flow", "flow_run", ["a"], key="w")
        await wait_until(lambda: len(items_rows(engine)) == 4)
    async with agentdur.Engine(APP, path=db) as engine:
        await engine.call("Flow", "flow_go", key="w")
        assert await engine.attach(run_id) == ["a", "done"]
        assert await engine.state("Hostile", "k") == {"n": [1, 2, 3]}


# ----------------------------------------------------------------- an older database file


async def test_a_file_from_before_list_state_opens_and_its_arrays_become_lists(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    async with agentdur.Engine(APP, path=db) as engine:
        await engine.call("Hostile", "set_plain", ["old1", "old2"], key="k")
        await engine.call("Hostile", "set_plain", {"not": "a list"}, key="j")
    with sqlite3.connect(db) as conn:  # the schema before list state had none of these
        conn.execute("DROP INDEX state_items_removed")
        conn.execute("DROP TABLE state_items")
        conn.execute("DROP TABLE state_lists")
    async with agentdur.Engine(APP, path=db) as engine:
        assert await engine.call("Hostile", "view", "n", key="k") == {
            "items": ["old1", "old2"],
            "length": 2,
            "get": ["old1", "old2"],
        }
        assert await engine.call("Hostile", "append_many", [3], key="k") == 3
        assert await engine.state("Hostile", "k") == {"n": ["old1", "old2", 3]}
        assert engine.store.read("SELECT name FROM state WHERE obj_key='k'") == []
        with pytest.raises(agentdur.TerminalError, match="state 'n' holds a JSON object, not a list"):
            await engine.call("Hostile", "list_op", "append", key="j")
        assert await engine.object_keys("Hostile") == ["j", "k"]
