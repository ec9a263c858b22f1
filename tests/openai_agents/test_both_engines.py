"""The OpenAI Agents integration over HTTP on both engines: crashes, restarts, parallel tools, sessions."""

from __future__ import annotations

import json
import uuid

from agentdur.testing import ScriptedModelServer

from ..effects import intervals
from ..harness import EngineUnderTest, wait_for
from .conftest import assert_turn_overlaps, label_of

KINDS = (
    "name",
    "instance",
    "run_config",
    "handoff",
    "agent_tool",
    "parallel",
)  # LitellmModel: test_embedded.py
LAST_AGENT = {"handoff": "Specialist", "agent_tool": "Orchestrator", "parallel": "Parallel"}


def label() -> str:
    return uuid.uuid4().hex[:8]


def conversations(server: ScriptedModelServer, run: str) -> list[str]:
    """The body of each model request of run ``run``: a repeated request repeats its body."""
    return [
        json.dumps(r.request.body, sort_keys=True)
        for r in server.requests
        if r.request is not None and label_of(r.request) == run
    ]


def test_crash_after_model_calls_and_tools_repeats_no_request(
    engine: EngineUnderTest, shared_model_server: ScriptedModelServer
) -> None:
    """Every kind of model, a handoff, an agent as a tool, parallel tools and a stream, killed while
    a tool holds: after recovery no model request is sent twice and no finished tool runs again."""
    runs = {kind: f"{kind.replace('_', '')}{label()}" for kind in (*KINDS, "stream")}
    invocations = {
        kind: engine.send("/Agents/run", {"kind": kind, "label": run})
        for kind, run in runs.items()
        if kind != "stream"
    }
    invocations["stream"] = engine.send("/Agents/stream", runs["stream"])
    for run in runs.values():
        wait_for(lambda run=run: engine.count(f"hold {run}") == 1, what=f"{run} holding")
    engine.kill()
    for run in runs.values():
        engine.release(run)
    engine.start()

    for kind, run in runs.items():
        result = engine.attach(invocations[kind])
        assert result.status_code == 200, (kind, result.text)
        if kind != "stream":
            assert result.json().startswith(f"{LAST_AGENT.get(kind, 'Weather')}: done {run}"), result.text
        sent = conversations(shared_model_server, run)
        assert len(sent) == len(set(sent)), f"{kind}: a model request was sent twice"
        assert engine.count(f"weather {run}") == (0 if kind == "parallel" else 1), kind  # journaled: ran once
        assert engine.count(f"hold {run}") == 2, kind  # in flight at the crash: ran again
    assert engine.count(f"start slow_a {runs['parallel']}") == 1
    streamed = [line for line in engine.lines() if line.startswith(f"stream {runs['stream']}")]
    assert len(streamed) == 1 and int(streamed[0].split()[2]) > 0


def test_parallel_tool_calls_run_concurrently(engine: EngineUnderTest) -> None:
    run = label()
    response = engine.post("/Agents/parallel", run)
    assert response.status_code == 200, response.text
    assert response.json().startswith(f"done {run}: slow_a done; slow_b done; slow_c done")
    starts = [
        float(line.split()[-1]) for line in engine.lines() if line.startswith("start ") and f" {run} " in line
    ]
    ends = [
        float(line.split()[-1]) for line in engine.lines() if line.startswith("end ") and f" {run} " in line
    ]
    assert len(starts) == len(ends) == 3
    assert max(starts) < min(ends), "the three tools did not overlap"


def test_a_turn_mixing_one_step_calls_and_a_call_alone(engine: EngineUnderTest) -> None:
    """Journal order by position whatever order the calls start in; the one-step calls overlap."""
    for arrival in ([4, 3, 2, 1, 0], [0, 1, 2, 3, 4]):
        before = len(engine.lines())
        response = engine.post("/Agents/turn", arrival)
        assert response.status_code == 200, response.text
        assert response.json() == ["step 0", "step 1", "alone a alone b", "step 3", "step 4"]
        assert_turn_overlaps(intervals(engine.lines()[before:]))


def test_terminal_error_in_a_tool_fails_the_invocation(
    engine: EngineUnderTest, shared_model_server: ScriptedModelServer
) -> None:
    run = label()
    response = engine.post("/Agents/fail", run)
    assert response.status_code == 422, response.text
    assert f"claim {run} is on the fraud list" in response.json()["message"]
    assert len(conversations(shared_model_server, run)) == 1  # the error never went to the model
    assert engine.count(f"refuse {run}") == 1  # journaled as terminal: not retried


def test_approval_inside_a_tool_waits_across_a_restart(engine: EngineUnderTest) -> None:
    run = label()
    invocation = engine.send("/Agents/approve", run)
    awakeable = engine.awakeable(run)
    engine.restart_engine()
    assert engine.resolve(awakeable, {"approved": True, "by": "ann"}).status_code in (200, 202)
    result = engine.attach(invocation)
    assert result.status_code == 200, result.text
    assert result.json() == f"done {run}: approved=True by ann"


def test_session_history_survives_restarts_and_concurrent_messages(
    engine: EngineUnderTest, shared_model_server: ScriptedModelServer
) -> None:
    key = f"user-{label()}"
    sent = [engine.send(f"/Chat/{key}/message", f"{key} message {i}") for i in range(5)]
    assert [engine.attach(inv).json() for inv in sent] == [f"Echo: {key} message {i}" for i in range(5)]
    engine.restart_engine()
    assert engine.post(f"/Chat/{key}/message", f"{key} after").json() == f"Echo: {key} after"

    history = engine.client.get(f"{engine.ingress_url}/Chat/{key}/get_history").json()
    said = [item["content"] for item in history if item.get("role") == "user"]
    assert said == [f"{key} message {i}" for i in range(5)] + [f"{key} after"]
    last = [
        r.request
        for r in shared_model_server.requests
        if r.request and r.request.last_user_message == f"{key} after"
    ]
    assert len(last) == 1 and sum(m.role == "user" for m in last[0].messages) == 6  # the whole history
