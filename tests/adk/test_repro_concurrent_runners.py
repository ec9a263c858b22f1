"""Concurrent ADK runs inside one handler, SIGKILLed mid-run, recover on Restate (they once did not).

Both apps are earlier shapes of ``examples/google_adk/orchestrator_workers.py`` (which now fans out to
worker objects instead): a planner, then three workers at once, each a model call that asks for a
lookup tool, the tool (one step), and a second model call; then a decision. The run is stopped with
the planner and the fraud worker answered and the other two workers' second model calls held back,
the deployment is SIGKILLed and started again, and the run must finish with the uninterrupted result:

- ``repro_gather_orchestrator`` (``asyncio.gather`` of three ``Runner.run_async``, each with
  ``DurableSessionService``) failed its replay with restate-sdk's journal mismatch (570): "previous
  execution recorded 'run' (index 38); current execution attempts 'set state'";
- ``repro_parallel_orchestrator`` (an ADK ``ParallelAgent`` of the three workers in one runner) hung
  on replay.

Both had one cause: the Restate waiter took a turn of the loop in which only done-callbacks were
pending (ADK's tasks resume through ``gather``/``wait``) for quiescence, and woke the next await
before the resumed task issued its commands; on replay, with every completion there at once, the
commands then came in another order (see docs/engines.md, "Concurrency inside handlers on
Restate"; tests/restate/test_task_pump.py pins the same case without ADK). In the ``ParallelAgent``
case two ``run`` commands (a tool step and an event step) swapped places, which restate-sdk does
not detect, so the steps took each other's results and the run stalled; it failed in about one
run of three before the fix. About 40 s in all.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentdur.testing import ScriptedModelServer
from examples._model import BASE_URL_ENV

from ..harness import EngineUnderTest, start_engine
from .test_both_engines import journaled
from .test_workflow_examples import LLM_CALL, after_a_lookup, crash_and_recover, uninterrupted
from .test_workflow_examples import model_server as model_server  # the module fixture


@pytest.fixture(
    params=["tests.adk.repro_gather_orchestrator:app", "tests.adk.repro_parallel_orchestrator:app"]
)
def served(
    request: pytest.FixtureRequest,
    model_server: ScriptedModelServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[EngineUnderTest]:
    env = {BASE_URL_ENV: model_server.openai_base_url, "GOOGLE_API_KEY": ""}
    engine = start_engine("restate", tmp_path_factory.mktemp("repro"), request.param, env)
    try:
        yield engine
    finally:
        engine.close()


def test_concurrent_adk_runs_recover_from_a_sigkill_on_restate(
    served: EngineUnderTest, model_server: ScriptedModelServer
) -> None:
    path = "/ClaimOrchestrator/user-{run}/run"
    expected, reference = uninterrupted(served, path)
    result, run, _, _ = crash_and_recover(
        served,
        model_server,
        path,
        lambda request: after_a_lookup(request, "check_eligibility", "compare_rates"),
        passing=5,
        holding=2,
        settled=lambda _, invocation: journaled(served, invocation, LLM_CALL) == 5,
    )
    assert result == expected.replace(reference, run)
