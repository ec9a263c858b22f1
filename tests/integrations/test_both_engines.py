"""LiteLLM, chat sessions and approvals over HTTP on both engines, with crashes and restarts."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from agentdur.testing import ScriptedModelServer

from ..harness import EngineUnderTest, wait_for


def label() -> str:
    return uuid.uuid4().hex[:8]


def test_crash_after_the_second_of_three_llm_calls(
    engine: EngineUnderTest, shared_model_server: ScriptedModelServer
) -> None:
    run = label()
    before = shared_model_server.count()
    inv = engine.send("/Llm/three_calls", run)
    wait_for(lambda: engine.count(f"hold {run}") == 1, what="held after the second call")
    assert shared_model_server.count() - before == 2
    engine.kill()
    engine.release(run)
    engine.start()
    result = engine.attach(inv)
    assert result.status_code == 200, result.text
    assert shared_model_server.count() - before == 3  # the two completed calls were not sent again
    # an uninterrupted run of the same workflow answers the same
    again = label()
    engine.release(again)
    assert engine.post("/Llm/three_calls", again).json() == result.json()


def test_fifty_concurrent_messages_to_one_key_and_twenty_keys(engine: EngineUnderTest) -> None:
    user = f"user-{label()}"
    ids = [engine.send(f"/Chat/{user}/message", {"text": f"message {i}"}) for i in range(50)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda inv: engine.attach(inv).json(), ids))
    assert [a["turns"] for a in answers] == [2 * (i + 1) for i in range(50)]
    history = engine.client.get(f"{engine.ingress_url}/Chat/{user}/get_history").json()
    assert [t["content"] for t in history if t["role"] == "user"] == [f"message {i}" for i in range(50)]

    keys = [f"k{i}-{label()}" for i in range(20)]
    with ThreadPoolExecutor(20) as pool:
        replies = list(pool.map(lambda k: engine.post(f"/Chat/{k}/message", {"text": "hello"}), keys))
    assert all(r.status_code == 200 and r.json()["turns"] == 2 for r in replies)


def test_approval_before_and_after_restart_reject_and_twice(engine: EngineUnderTest) -> None:
    first, second, third = label(), label(), label()
    before = engine.send("/Approvals/approve", first)
    assert engine.resolve(engine.awakeable(first), {"approved": True, "by": "ann"}).status_code in (200, 202)
    assert engine.attach(before).json() == "approved=True by ann"

    after = engine.send("/Approvals/approve", second)
    aid = engine.awakeable(second)
    engine.restart_engine()
    assert engine.resolve(aid, {"approved": False, "by": "bob"}).status_code in (200, 202)
    assert engine.attach(after).json() == "approved=False by bob"
    again = engine.resolve(aid, {"approved": True, "by": "eve"})
    # a second decision changes nothing; the embedded engine says so (409), Restate accepts and ignores it
    assert again.status_code == (409 if engine.name == "embedded" else 202)
    assert engine.attach(after).json() == "approved=False by bob"

    rejected = engine.send("/Approvals/approve", third)
    assert engine.reject(engine.awakeable(third), "no budget").status_code in (200, 202)
    assert engine.attach(rejected).json() == "rejected: no budget"


def test_approval_timeout_path(engine: EngineUnderTest) -> None:
    assert engine.post("/Approvals/approve_quickly", label()).json() == "timed out (408)"
