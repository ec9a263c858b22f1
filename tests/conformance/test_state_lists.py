"""State lists on both engines: the same results, replay after SIGKILL, plain state interplay."""

from __future__ import annotations

import uuid
from typing import Any

from ..harness import EngineUnderTest, engine_fixture, wait_for

engine = engine_fixture("tests.conformance.lists_app:app")


def key() -> str:
    return uuid.uuid4().hex[:8]


def call(engine: EngineUnderTest, path: str, body: Any = None) -> Any:
    response = engine.post(path, body)
    assert response.status_code == 200, response.text
    return response.json() if response.content else None


def test_appends_without_a_read_then_a_shared_view(engine: EngineUnderTest) -> None:
    k = key()
    call(engine, f"/Notes/{k}/add", ["a", "b"])
    call(engine, f"/Notes/{k}/add", ["c"])
    assert call(engine, f"/Notes/{k}/view") == {
        "items": ["a", "b", "c"],
        "last": ["c"],
        "length": 3,
        "get": ["a", "b", "c"],
        "keys": ["notes"],
    }


def test_changes_before_a_terminal_failure_stay(engine: EngineUnderTest) -> None:
    k = key()
    response = engine.post(f"/Notes/{k}/add_then_fail", ["a", "b"])
    assert response.status_code == 409, response.text
    assert call(engine, f"/Notes/{k}/view")["items"] == ["a", "b"]


def test_an_exclusive_handler_reads_its_own_changes(engine: EngineUnderTest) -> None:
    k = key()
    call(engine, f"/Notes/{k}/add", ["a"])
    assert call(engine, f"/Notes/{k}/append_then_get", "b") == {
        "get": ["a", "b"],
        "keys": ["notes"],
        "length": 2,
    }


def test_replay_after_sigkill_sees_what_the_first_run_read(engine: EngineUnderTest) -> None:
    k, run = key(), key()
    call(engine, f"/Notes/{k}/add", ["a", "b", "c", "d"])
    inv = engine.send(f"/Notes/{k}/turn", run)
    wait_for(lambda: engine.count(f"block {run} start") == 1, what="the turn blocked after its changes")
    engine.kill()
    engine.release(run)
    engine.start()
    result = engine.attach(inv)
    assert result.status_code == 200, result.text
    assert result.json() == {
        "before": ["a", "b", "c", "d"],
        "popped": "d",
        "after": [f"{run}-a", f"{run}-b"],
        "length": 3,
    }
    assert call(engine, f"/Notes/{k}/view")["items"] == ["c", f"{run}-a", f"{run}-b"]


def test_replay_after_sigkill_of_a_clear_then_append(engine: EngineUnderTest) -> None:
    k, run = key(), key()
    call(engine, f"/Notes/{k}/add", ["a", "b"])
    inv = engine.send(f"/Notes/{k}/restart", run)
    wait_for(lambda: engine.count(f"block {run} start") == 1, what="the handler blocked after its changes")
    engine.kill()
    engine.release(run)
    engine.start()
    result = engine.attach(inv)
    assert result.status_code == 200, result.text
    assert result.json() == {"before": ["a", "b"], "mid": [run], "keys": ["notes"]}
    assert call(engine, f"/Notes/{k}/view")["items"] == [run]


def test_set_clear_and_clear_all_replace_a_list(engine: EngineUnderTest) -> None:
    for how, expected in [
        ("set", {"get": {"plain": True}, "keys": ["notes"]}),
        ("clear", {"get": None, "keys": []}),
        ("clear_all", {"get": None, "keys": []}),
    ]:
        k = key()
        call(engine, f"/Notes/{k}/add", ["a", "b"])
        assert call(engine, f"/Notes/{k}/replace", how) == expected, how
        if how == "set":  # a plain value that is not an array is not a list
            response = engine.post(f"/Notes/{k}/view")
            assert response.status_code == 500 and "not a list" in response.text, response.text
            continue
        assert call(engine, f"/Notes/{k}/view")["keys"] == [], how
        call(engine, f"/Notes/{k}/add", ["z"])  # a new list over the name starts empty
        assert call(engine, f"/Notes/{k}/view")["items"] == ["z"], how


def test_a_plain_json_array_reads_as_the_list_and_converts_on_change(engine: EngineUnderTest) -> None:
    k = key()
    call(engine, f"/Notes/{k}/set_plain", ["old1", "old2"])
    assert call(engine, f"/Notes/{k}/view")["items"] == ["old1", "old2"]
    call(engine, f"/Notes/{k}/add", ["new"])
    assert call(engine, f"/Notes/{k}/view") == {
        "items": ["old1", "old2", "new"],
        "last": ["new"],
        "length": 3,
        "get": ["old1", "old2", "new"],
        "keys": ["notes", "other"],
    }


def test_a_shared_handler_cannot_change_a_list(engine: EngineUnderTest) -> None:
    response = engine.post(f"/Notes/{key()}/shared_append")
    assert response.status_code == 500, response.text
    assert "cannot change state" in response.text
