"""The SDK's own human-in-the-loop (``needs_approval``) in a durable run, on both engines, over HTTP.

A call that needs approval waits on an awakeable; the process running the handlers is SIGKILLed
while it waits; after the restart the decision is sent over HTTP and the run finishes without
repeating a model request or a finished tool.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from agentdur.testing import ScriptedModelServer

from ..conformance._journal import journaled
from ..harness import EngineUnderTest, wait_for
from .test_both_engines import conversations


def label(prefix: str = "") -> str:
    return prefix + uuid.uuid4().hex[:8]


def assert_no_request_twice(server: ScriptedModelServer, run: str) -> None:
    sent = conversations(server, run)
    assert sent, f"no model request for {run}"
    assert len(sent) == len(set(sent)), f"{run}: a model request was sent twice"


def wait_until_notified(engine: EngineUnderTest, invocation: str) -> None:
    """The approver's notice is journaled: from here on the invocation only waits for the human."""
    wait_for(lambda: journaled(engine, invocation, "Notify approver (1)"), what="the notice journaled")


@pytest.mark.parametrize(
    ("kind", "prefix", "decision", "paid"),
    [
        ("durable", "", True, True),
        ("durable", "", {"approved": False, "by": "ann", "comment": "too much"}, False),
        ("function", "big", {"approved": True, "by": "ann"}, True),
        ("agent_tool", "", False, False),
        ("nested", "", True, True),
    ],
)
def test_approval_waits_across_a_sigkill_and_nothing_repeats(
    engine: EngineUnderTest,
    shared_model_server: ScriptedModelServer,
    kind: str,
    prefix: str,
    decision: Any,
    paid: bool,
) -> None:
    run = label(prefix)
    invocation = engine.send("/Agents/gated", {"kind": kind, "label": run})
    awakeable = engine.awakeable(run)
    wait_until_notified(engine, invocation)
    requests_before = len(conversations(shared_model_server, run))
    engine.kill()  # while the approval waits
    engine.start()
    assert engine.resolve(awakeable, decision).status_code in (200, 202)

    result = engine.attach(invocation)
    assert result.status_code == 200, result.text
    text = result.json()
    assert text.startswith(f"done {run}: sunny in Paris; "), text
    if paid:
        assert "paid 250" in text or "paid 50" in text, text
    else:
        assert "Tool execution was not approved." in text, text
    if isinstance(decision, dict) and decision.get("comment"):
        assert f"Reason: {decision['comment']}" in text
    assert_no_request_twice(shared_model_server, run)
    assert len(conversations(shared_model_server, run)) > requests_before  # the run went on after
    assert engine.count(f"weather {run}") == 1  # before the approval: journaled, not run again
    assert engine.count(f"pay {run}") == (1 if paid else 0)
    assert engine.count(f"notified {run}") == 1  # the notify hook is a journaled step


def test_a_call_below_the_threshold_runs_without_asking(
    engine: EngineUnderTest, shared_model_server: ScriptedModelServer
) -> None:
    run = label("small")
    response = engine.post("/Agents/gated", {"kind": "function", "label": run})
    assert response.status_code == 200, response.text
    assert response.json() == f"done {run}: sunny in Paris; paid 50"
    assert engine.count(f"notified {run}") == 0
    assert engine.count(f"pay {run}") == 1


@pytest.mark.parametrize("approved", [True, False])
def test_the_sdk_interruption_flow_with_the_state_journaled(
    engine: EngineUnderTest, shared_model_server: ScriptedModelServer, approved: bool
) -> None:
    """``approvals=INTERRUPT``: result.interruptions, to_state, to_json/from_json, approve/reject and
    a resumed run, with a SIGKILL while the handler waits for the human."""
    run = label()
    invocation = engine.send("/Agents/interrupted", {"kind": "durable", "label": run})
    awakeable = engine.awakeable(run)
    wait_until_notified(engine, invocation)
    engine.kill()
    engine.start()
    decision = {"approved": approved, "by": "bob"}
    assert engine.resolve(awakeable, decision).status_code in (200, 202)

    result = engine.attach(invocation)
    assert result.status_code == 200, result.text
    expected = "paid 250" if approved else "rejected by bob"
    assert result.json() == f"1 done {run}: sunny in Paris; {expected}", result.text
    assert_no_request_twice(shared_model_server, run)
    assert engine.count(f"weather {run}") == 1
    assert engine.count(f"pay {run}") == (1 if approved else 0)


# Embedded only: Restate has no approvals inbox and checks no value at resolve time (docs/engines.md).
@pytest.mark.parametrize("engine", ["embedded"], indirect=True)
def test_approval_is_listed_and_a_wrong_decision_is_refused(engine: EngineUnderTest) -> None:
    """On the embedded engine the approval is in the inbox with its schema; ``true``/``false`` and the
    ``{"approved": ...}`` shape are accepted, anything else is refused naming the field."""
    run = label()
    invocation = engine.send("/Agents/gated", {"kind": "durable", "label": run})
    awakeable = engine.awakeable(run)
    listed = wait_for(
        lambda: [
            a
            for a in engine.client.get(f"{engine.admin_url}/awakeables").json()["awakeables"]
            if a["id"] == awakeable
        ],
        what="the approval listed",
    )
    assert f"label='{run}'" in listed[0]["description"]
    refused = engine.resolve(awakeable, {"approved": "maybe"})
    assert refused.status_code == 400, refused.text
    assert engine.resolve(awakeable, True).status_code in (200, 202)
    assert engine.attach(invocation).json() == f"done {run}: sunny in Paris; paid 250"
