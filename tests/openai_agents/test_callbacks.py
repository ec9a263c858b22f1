"""SDK callbacks that make durable steps, on both engines: dynamic instructions, an input guardrail,
run hooks, an ``on_handoff`` callback and two output guardrails running concurrently.

The handler process is SIGKILLed twice: while a tool holds (the callbacks before it must replay in
the same order, or the journal would not match), and while one output guardrail holds in a step as
the other runs beside it (held outside a step, the guardrail's next step would land at a place in
Restate's journal that depends on timing: docs/engines.md, "Limits"). Every callback step ran
exactly once per journal entry, and no model request was sent twice.
"""

from __future__ import annotations

import uuid

import pytest

from agentdur.testing import ScriptedModelServer

from ..conformance._journal import journal, journaled
from ..harness import EngineUnderTest, wait_for
from .test_approvals import assert_no_request_twice

CALLBACK_STEPS = ("instructions ", "guard in", "guard a ", "guard b ", "hook ", "on handoff")


@pytest.mark.timeout(600)  # two restarts of a process that imports the Agents SDK, on a busy machine
def test_callback_steps_replay_in_order_across_two_sigkills(
    engine: EngineUnderTest, shared_model_server: ScriptedModelServer
) -> None:
    run = f"cb{uuid.uuid4().hex[:8]}"
    invocation = engine.send("/Agents/callbacks", run)

    wait_for(lambda: engine.count(f"hold {run}") == 1, what="the tool holding")
    engine.kill()  # in the middle of the run: after the handoff, during a tool
    engine.release(run)
    engine.start()

    # After a restart Restate retries the invocation with a backoff: allow for it on a busy machine.
    wait_for(lambda: engine.count(f"hold {run}-out") == 1, within=120, what="an output guardrail holding")
    wait_for(
        lambda: journaled(engine, invocation, "guard b second"), within=60, what="the other guardrail done"
    )
    engine.kill()  # while one output guardrail holds and the other has finished beside it
    engine.release(f"{run}-out")
    engine.start()

    # Restate retries the invocation with a growing backoff while the deployment restarts (tens of
    # seconds on a busy machine): the attach gets more than the client's default minute.
    result = engine.client.get(f"{engine.ingress_url}/restate/invocation/{invocation}/attach", timeout=240)
    assert result.status_code == 200, result.text
    assert result.json() == f"done {run}: sunny in Paris; released {run}"
    assert_no_request_twice(shared_model_server, run)
    names = [name for _, name in journal(engine, invocation)]
    steps = sorted({name for name in names if name.startswith(CALLBACK_STEPS)})
    for expected in (
        "instructions Triage",
        "instructions Specialist",
        "guard in",
        "hook start Triage",
        "hook start Specialist",
        "hook tool get_weather",
        "on handoff",
        "guard a first",
        "guard a second",
        "guard b first",
        "guard b second",
    ):
        assert expected in steps, (expected, names)
    for step in steps:
        assert engine.count(f"{step} {run}") == names.count(step), f"{step} ran again on replay"
    assert engine.count(f"weather {run}") == 1
