"""Regression tests of list-state bugs the hostile tests found, on both engines (each failed before
its fix; most were Restate's queued changes, its header format and the item keys of cleared lists)."""

from __future__ import annotations

import sqlite3
from typing import Any

from ..harness import EngineUnderTest, engine_fixture, wait_for
from .test_state_lists import call, key
from .test_state_lists_hostile import attach_ok

engine = engine_fixture("tests.conformance.lists_hostile_app:app")


def stored_keys(engine: EngineUnderTest, k: str) -> list[str]:
    """The state entries the engine stores for ListX/``k``, as its storage names them."""
    if engine.name == "embedded":
        with sqlite3.connect(f"file:{engine.workdir / 'agentdur.db'}?mode=ro", uri=True) as conn:
            rows = conn.execute(
                "SELECT name FROM state WHERE service='ListX' AND obj_key=?"
                " UNION ALL SELECT name || ' item ' || seq FROM state_items WHERE service='ListX' AND obj_key=?",
                (k, k),
            ).fetchall()
        return sorted(str(row[0]) for row in rows)
    query = f"SELECT key FROM state WHERE service_name = 'ListX' AND service_key = '{k}'"
    response = engine.client.post(
        f"{engine.admin_url}/query", json={"query": query}, headers={"accept": "application/json"}
    )
    assert response.status_code == 200, response.text
    return sorted(str(row["key"]) for row in response.json()["rows"])


def test_last_between_the_length_and_twice_it_returns_every_item(engine: EngineUnderTest) -> None:
    """``items(last=7)`` of 5 items is all 5: ``texts[len - last:]`` (embedded ``_lists.newest``,
    Restate ``Lists.items`` of a plain array) starts at a negative index, the newest 2."""
    k = key()
    call(engine, f"/ListX/{k}/set_name", {"name": "n", "value": [1, 2, 3, 4, 5]})
    assert call(engine, f"/ListX/{k}/newest", 7) == [1, 2, 3, 4, 5]  # a plain array read as a list
    call(engine, f"/ListX/{k}/fill", {"items": [6]})
    assert call(engine, f"/ListX/{k}/newest", 10) == [1, 2, 3, 4, 5, 6]  # a list


def test_a_pop_issued_before_clear_all_returns_the_item_it_removed(engine: EngineUnderTest) -> None:
    """On Restate a pop waiting for the list's header is dropped by ``clear_all``: it returns None."""
    k = key()
    call(engine, f"/ListX/{k}/fill", {"items": ["a", "b"]})
    assert call(engine, f"/ListX/{k}/pop_then_clear_all") == "b"
    assert call(engine, f"/ListX/{k}/get_plain", "n") == {"get": None, "keys": []}


def test_a_get_issued_before_an_append_does_not_see_the_append(engine: EngineUnderTest) -> None:
    """On Restate the get's future settles the list's queued changes (the later append) first."""
    k = key()
    call(engine, f"/ListX/{k}/fill", {"items": ["a"]})
    assert call(engine, f"/ListX/{k}/get_then_append", "x") == ["a"]
    assert call(engine, f"/ListX/{k}/get_plain", "n") == {"get": ["a", "x"], "keys": ["n"]}


def test_a_plain_value_shaped_like_a_list_header_reads_back_as_itself(engine: EngineUnderTest) -> None:
    """On Restate a list's header is a plain JSON object (``{"$list": [first, next]}``): a user's
    value of that shape reads back as a list of nulls."""
    k = key()
    value: dict[str, Any] = {"$list": [0, 2]}
    call(engine, f"/ListX/{k}/set_name", {"name": "n", "value": value})
    assert call(engine, f"/ListX/{k}/get_plain", "n") == {"get": value, "keys": ["n"]}


def test_a_state_name_holding_the_item_separator_cannot_reach_into_a_list(engine: EngineUnderTest) -> None:
    """On Restate item 0 of list ``n`` is the state key ``n\\x1f0``: ``ctx.set("n\\x1f0", ...)``
    replaced it (and ``state_keys`` hid that name). Both engines refuse such names now, at once
    (a terminal error naming the character), and the list keeps its items."""
    k = key()
    call(engine, f"/ListX/{k}/fill", {"items": ["a", "b"]})
    refused = engine.post(f"/ListX/{k}/set_name", {"name": "n\x1f0", "value": "evil"})
    assert refused.status_code != 200 and "U+001F" in refused.text, refused.text
    assert call(engine, f"/ListX/{k}/view", "n")["items"] == ["a", "b"]


def test_clearing_or_replacing_a_list_not_used_before_in_the_invocation_removes_its_items(
    engine: EngineUnderTest,
) -> None:
    """On Restate ``ctx.clear(name)``/``ctx.set(name, ...)``/``StateList.clear()`` as the first
    operation on a list of the invocation clear or replace only its header: the item keys stay in
    restate-server for ever (invisible, never reclaimed)."""
    for how, left in [("clear", []), ("set", ["n"]), ("list clear", [])]:
        k = key()
        call(engine, f"/ListX/{k}/fill", {"items": ["a", "b", "c"]})
        call(engine, f"/ListX/{k}/clear_untouched", how)
        assert stored_keys(engine, k) == left, how


def test_reads_issued_before_an_append_do_not_see_it(engine: EngineUnderTest) -> None:
    """On Restate ``items()``/``length()`` compute their result at the first await (ListFuture),
    so an append issued between the call and the await is included."""
    k = key()
    call(engine, f"/ListX/{k}/fill", {"items": ["a"]})
    assert call(engine, f"/ListX/{k}/read_then_change", "x") == [["a"], 1]


def test_two_pops_awaited_together_remove_two_items(engine: EngineUnderTest) -> None:
    k = key()
    call(engine, f"/ListX/{k}/fill", {"items": ["a", "b", "c"]})
    assert call(engine, f"/ListX/{k}/pops_together") == [["c", "b"], ["a"]]
    assert call(engine, f"/ListX/{k}/get_plain", "n") == {"get": ["a"], "keys": ["n"]}


def test_a_workflow_run_waiting_on_a_promise_has_written_its_appends(engine: EngineUnderTest) -> None:
    """On Restate list changes made before the list's first read wait (for its header) until a
    read of that list or the handler's return: a run waiting on a promise for days has not written
    its appends, and its shared handlers (and a chat's get_history) do not see them; ``ctx.set``
    is seen at once on both engines, and list changes are on the embedded engine."""
    k = key()
    response = engine.post(f"/ListFlow/{k}/flow_run/send", ["a", "b"])
    assert response.status_code == 202, response.text
    inv = str(response.json()["invocationId"])
    wait_for(lambda: call(engine, f"/ListFlow/{k}/flow_view")["length"] == 2, what="the run's appends")
    assert call(engine, f"/ListFlow/{k}/flow_view") == {"items": ["a", "b"], "length": 2, "keys": ["log"]}
    engine.kill()
    engine.start()
    call(engine, f"/ListFlow/{k}/flow_go")
    assert attach_ok(engine, inv) == {"popped": "b", "items": ["a", "approved=True"]}
    assert call(engine, f"/ListFlow/{k}/flow_view") == {
        "items": ["a", "approved=True"],
        "length": 2,
        "keys": ["log"],
    }
