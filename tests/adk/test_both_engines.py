"""The Google ADK integration over HTTP on both engines: SIGKILL mid-run, parallel tools, sessions."""

from __future__ import annotations

import json
import uuid

from agentdur.testing import ScriptedModelServer

from ..harness import EngineUnderTest, wait_for
from .conftest import label_of

LLM_CALL = "LLM call: gemini-2.5-flash"


def label() -> str:
    return uuid.uuid4().hex[:8]


def conversations(server: ScriptedModelServer, run: str) -> list[str]:
    """The body of each model request of run ``run``: a repeated request repeats its body."""
    return [
        json.dumps(r.request.body, sort_keys=True)
        for r in server.requests
        if r.request is not None and label_of(r.request) == run
    ]


def journaled(engine: EngineUnderTest, invocation_id: str, step: str) -> int:
    """How many ``step`` entries have their result in the journal (a finished body may not be yet)."""
    if engine.name == "embedded":
        body = engine.client.get(f"{engine.admin_url}/invocations/{invocation_id}").json()
        return sum(e["name"] == step and e["status"] == "completed" for e in body["journal"])
    response = engine.client.post(
        f"{engine.admin_url}/query",
        json={"query": f"SELECT entry_type, name, entry_json FROM sys_journal WHERE id = '{invocation_id}'"},
        headers={"accept": "application/json"},
    )
    # Restate journals a run as a command (named) and, once done, a notification with the same id.
    entries = [
        (row["entry_type"], row.get("name"), json.loads(row["entry_json"])) for row in response.json()["rows"]
    ]
    ids = {
        e["Command"]["Run"]["completion_id"]
        for kind, name, e in entries
        if kind == "Command: Run" and name == step
    }
    return sum(
        kind == "Notification: Run" and e["Notification"]["Completion"]["Run"]["completion_id"] in ids
        for kind, _, e in entries
    )


def uninterrupted(engine: EngineUnderTest, kind: str) -> tuple[str, str]:
    """The result of a run of ``kind`` nobody interrupts (its hold released up front), and its label."""
    run = label()
    engine.release(run)
    response = engine.post(f"/Agents/{run}/run", {"kind": kind, "label": run})
    assert response.status_code == 200, response.text
    return str(response.json()), run


def test_sigkill_after_the_second_of_three_model_calls(
    engine: EngineUnderTest, shared_model_server: ScriptedModelServer
) -> None:
    """Model call 1 asks for get_weather, call 2 for hold; the process dies while hold runs."""
    expected, reference = uninterrupted(engine, "weather")
    run = label()
    invocation = engine.send(f"/Agents/{run}/run", {"kind": "weather", "label": run})
    wait_for(lambda: engine.count(f"hold {run}") == 1, what="holding")
    wait_for(lambda: journaled(engine, invocation, LLM_CALL) == 2, what="two model calls journaled")
    assert len(conversations(shared_model_server, run)) == 2
    engine.kill()
    engine.release(run)
    engine.start()

    result = engine.attach(invocation)
    assert result.status_code == 200, result.text
    assert result.json() == expected.replace(reference, run)
    sent = conversations(shared_model_server, run)
    assert len(sent) == 3 and len(set(sent)) == 3, "a model request was sent twice"
    assert engine.count(f"weather {run}") == 1  # journaled: did not run again
    assert engine.count(f"hold {run}") == 2  # in flight at the crash: ran again


def test_sigkill_with_two_of_three_parallel_tools_done(
    engine: EngineUnderTest, shared_model_server: ScriptedModelServer
) -> None:
    expected, reference = uninterrupted(engine, "two_done")
    run = label()
    invocation = engine.send(f"/Agents/{run}/run", {"kind": "two_done", "label": run})
    wait_for(
        lambda: (
            engine.count(f"hold {run}") == 1
            and engine.count(f"end quick_a {run}") == 1
            and engine.count(f"end quick_b {run}") == 1
        ),
        what="two tools done, the third holding",
    )
    for step in ("Tool: quick_a", "Tool: quick_b"):
        wait_for(lambda step=step: journaled(engine, invocation, step) == 1, what=f"{step} journaled")
    engine.kill()
    engine.release(run)
    engine.start()

    result = engine.attach(invocation)
    assert result.status_code == 200, result.text
    assert result.json() == expected.replace(reference, run)
    assert result.json().startswith(f"done {run}: quick_a done; quick_b done; released {run}")
    sent = conversations(shared_model_server, run)
    assert len(sent) == 2 and len(set(sent)) == 2, "a model request was sent twice"
    assert engine.count(f"start quick_a {run}") == 1 and engine.count(f"start quick_b {run}") == 1
    assert engine.count(f"hold {run}") == 2


def test_parallel_tool_calls_run_concurrently(engine: EngineUnderTest) -> None:
    result, run = uninterrupted(engine, "parallel")
    assert result.startswith(f"done {run}: slow_a done; slow_b done; slow_c done")
    lines = [line.split() for line in engine.lines() if len(line.split()) == 4 and line.split()[2] == run]
    starts = [float(parts[3]) for parts in lines if parts[0] == "start"]
    ends = [float(parts[3]) for parts in lines if parts[0] == "end"]
    assert len(starts) == len(ends) == 3
    assert max(starts) < min(ends), "the three tools did not overlap"


def test_thirty_concurrent_messages_to_one_user_are_answered_in_order(
    engine: EngineUnderTest, shared_model_server: ScriptedModelServer
) -> None:
    key = f"user-{label()}"
    sent = [engine.send(f"/Chat/{key}/message", f"{key} message {i}") for i in range(30)]
    assert [engine.attach(inv).json() for inv in sent] == [f"Echo: {key} message {i}" for i in range(30)]
    engine.restart_engine()
    assert engine.post(f"/Chat/{key}/message", f"{key} after").json() == f"Echo: {key} after"

    history = engine.client.get(f"{engine.ingress_url}/Chat/{key}/get_history").json()
    said = [line.removeprefix("user: ") for line in history if line.startswith("user: ")]
    assert said == [f"{key} message {i}" for i in range(30)] + [f"{key} after"]
    assert [line for line in history if not line.startswith("user: ")] == [
        f"assistant: Echo: {key} message {i}" for i in range(30)
    ] + [f"assistant: Echo: {key} after"]
    requests = [
        r.request
        for r in shared_model_server.requests
        if r.request and (r.request.last_user_message or "").startswith(key)
    ]
    # each turn saw the whole conversation before it, and was sent once
    assert [sum(m.role == "user" for m in request.messages) for request in requests] == list(range(1, 32))


def test_the_session_service_contract(engine: EngineUnderTest) -> None:
    key = f"user-{label()}"
    response = engine.post(f"/Sessions/{key}/contract")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "missing": None,
        "created_state": {"a": 1, "app:v": 2, "user:pref": "x"},  # temp: state is never stored
        "duplicate": 409,
        "generated_id": 36,
        "in_memory_temp": 1,  # temp: state lives for the invocation
        "stored_delta": {"b": 2, "user:pref": "y"},
        "loaded_state": {"a": 1, "b": 2, "app:v": 2, "user:pref": "y"},
        "loaded_texts": ["one", "more 0", "more 1", "more 2"],  # the partial event was not stored
        "recent": 2,
        "after": [13.0, 14.0],
        "listed": [
            [True, 0, "y"],
            [False, 0, "y"],
        ],  # without events, least recently updated first (s1: 14.0)
        "user_state": {"pref": "y"},
        "other_user": 400,
        "deleted": True,
        "append_to_deleted": 404,
        "left": 1,
        "created_on_get": True,  # the default: a missing session is a new one (the tour's way)
    }
    shared = engine.client.get(f"{engine.ingress_url}/Sessions/{key}/count")
    assert shared.status_code == 200 and shared.json() == 1  # readable from a shared handler


def test_a_session_stored_as_one_entry_reads_and_converts_on_its_first_change(
    engine: EngineUnderTest,
) -> None:
    key = f"user-{label()}"
    assert engine.post(f"/Sessions/{key}/store_old_format").status_code == 200
    response = engine.post(f"/Sessions/{key}/continue_old_format")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "loaded": [["one", "two"], {"a": 1}],
        "recent": ["two"],
        "listed": [["old", 11.0, 0]],
        "after": [["one", "two", "three"], {"a": 1, "b": 2}, 12.0],
        "header_keys": ["last_update_time", "state"],  # the events moved to their list
        "list": ["one", "two", "three"],
    }


def test_a_confirmation_waits_across_a_restart_and_the_call_runs_once(
    engine: EngineUnderTest, shared_model_server: ScriptedModelServer
) -> None:
    run = label()
    invocation = engine.send(f"/Agents/{run}/claim", run)
    awakeable = engine.awakeable(run)
    assert engine.count(f"paid {run}") == 0
    engine.restart_engine()
    assert engine.resolve(awakeable, {"approved": True, "by": "ann"}).status_code in (200, 202)
    result = engine.attach(invocation)
    assert result.status_code == 200, result.text
    assert result.json() == f"done {run}: paid 100"
    assert engine.count(f"paid {run}") == 1
    sent = conversations(shared_model_server, run)
    assert len(sent) == 2 and len(set(sent)) == 2
