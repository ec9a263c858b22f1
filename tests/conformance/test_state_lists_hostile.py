"""State lists on both engines used the way a hostile or careless user would: SIGKILLs of the
process running the handler at every stage of an invocation changing a list every way, at random
moments of a long one, and during the conversion of a plain array; odd names."""

from __future__ import annotations

import random
from typing import Any

import pytest

from ..harness import EngineUnderTest, engine_fixture, wait_for
from .lists_hostile_app import churn_model
from .test_state_lists import call, key

engine = engine_fixture("tests.conformance.lists_hostile_app:app")


def attach_ok(engine: EngineUnderTest, inv: str) -> Any:
    response = engine.attach(inv)
    assert response.status_code == 200, response.text
    return response.json()


def expected_stages(label: str) -> dict[str, Any]:
    return {
        "before": ["a", "b", "c", "d"],
        "popped": "d",
        "kept": ["c", f"{label}-a", f"{label}-b"],
        "after_clear": [f"{label}-z"],
        "converted": ["p1", "p2", f"{label}-q"],
        "last": [f"{label}-r"],
        "length": 1,
        "keys": ["n"],
    }


@pytest.mark.parametrize("block_at", [0, 1, 3, 4, 6, 7, 9])
def test_sigkill_at_each_stage_of_every_change_replays_what_the_first_run_saw(
    engine: EngineUnderTest, block_at: int
) -> None:
    k, label = key(), key()
    call(engine, f"/ListX/{k}/fill", {"items": ["a", "b", "c", "d"]})
    inv = engine.send(f"/ListX/{k}/stages", {"label": label, "block_at": block_at})
    wait_for(lambda: engine.count(f"stage {label} {block_at}") == 1, what=f"the handler at stage {block_at}")
    engine.kill()
    engine.release(label)
    engine.start()
    assert attach_ok(engine, inv) == expected_stages(label)
    counts = [engine.count(f"stage {label} {stage}") for stage in range(10)]
    assert counts == [2 if stage == block_at else 1 for stage in range(10)]
    assert call(engine, f"/ListX/{k}/view", "n") == {
        "items": [f"{label}-r"],
        "length": 1,
        "get": [f"{label}-r"],
        "keys": ["n"],
    }


def test_sigkills_at_random_moments_of_a_long_churn(engine: EngineUnderTest) -> None:
    k, label, rounds = key(), key(), 30
    inv = engine.send(f"/ListX/{k}/churn", {"label": label, "rounds": rounds})
    chance = random.Random(label)
    for kill_after in sorted(chance.sample(range(2, rounds - 2), 3)):
        wait_for(lambda n=kill_after: engine.count(f"tick {label} ") >= n, what=f"{kill_after} ticks")
        engine.kill()
        engine.start()
    expected = churn_model(rounds)
    assert attach_ok(engine, inv) == expected
    assert call(engine, f"/ListX/{k}/view", "c") == {
        "items": expected["final"],
        "length": expected["length"],
        "get": expected["final"],
        "keys": ["c"],
    }
    ticks = [line for line in engine.lines() if line.startswith(f"tick {label} ")]
    assert {int(line.split()[-1]) for line in ticks} == set(range(rounds))  # every round ran once at least


def test_sigkill_right_after_the_conversion_of_a_plain_array(engine: EngineUnderTest) -> None:
    k, label = key(), key()
    call(engine, f"/ListX/{k}/set_name", {"name": "n", "value": ["old1", "old2"]})
    inv = engine.send(f"/ListX/{k}/convert_then_block", label)
    wait_for(lambda: engine.count(f"stage {label} 0") == 1, what="the conversion")
    engine.kill()
    engine.release(label)
    engine.start()
    assert attach_ok(engine, inv) == {
        "before": ["old1", "old2"],
        "after": ["old1", "old2", label],
        "popped": label,
        "final": ["old1", "old2"],
    }
    assert call(engine, f"/ListX/{k}/view", "n") == {
        "items": ["old1", "old2"],
        "length": 2,
        "get": ["old1", "old2"],
        "keys": ["n"],
    }


@pytest.mark.parametrize("name", ["", " ", "a/b c", "ünï 🙂", "x" * 2_000])
def test_odd_names(engine: EngineUnderTest, name: str) -> None:
    k = key()
    assert call(engine, f"/ListX/{k}/named", name) == {"items": [1, 2], "get": [1, 2], "keys": [name]}
    assert call(engine, f"/ListX/{k}/view", name) == {
        "items": [1, 2],
        "length": 2,
        "get": [1, 2],
        "keys": [name],
    }


def test_last_beyond_twice_the_length_and_last_zero(engine: EngineUnderTest) -> None:
    k = key()
    call(engine, f"/ListX/{k}/fill", {"items": [1, 2, 3]})
    assert call(engine, f"/ListX/{k}/newest", 100) == [1, 2, 3]
    assert call(engine, f"/ListX/{k}/newest", 0) == []


def test_purging_the_invocations_that_built_a_list_keeps_its_items(engine: EngineUnderTest) -> None:
    k = key()
    ids = []
    for items in (["a", "b"], ["c"], ["d"]):
        inv = engine.send(f"/ListX/{k}/fill", {"items": items})
        attach_ok(engine, inv)
        ids.append(inv)
    for inv in ids:
        response = engine.client.patch(f"{engine.admin_url}/invocations/{inv}/purge")
        assert response.status_code in (200, 202), response.text
    wait_for(lambda: engine.attach(ids[0]).status_code == 404, what="the purge")
    assert call(engine, f"/ListX/{k}/view", "n") == {
        "items": ["a", "b", "c", "d"],
        "length": 4,
        "get": ["a", "b", "c", "d"],
        "keys": ["n"],
    }
    call(engine, f"/ListX/{k}/fill", {"items": ["e"]})
    assert call(engine, f"/ListX/{k}/view", "n")["items"] == ["a", "b", "c", "d", "e"]
