"""Reproducers of two Restate-only bugs with concurrent ADK runs inside one handler, SIGKILLed mid-run.

Both apps are earlier shapes of ``examples/google_adk/orchestrator_workers.py`` (which now fans out to
worker objects instead): a planner, then three workers at once, each a model call that asks for a
lookup tool, the tool (one step), and a second model call; then a decision. The run is stopped with
the planner and the fraud worker answered and the other two workers' second model calls held back,
the deployment is SIGKILLed and started again. On the embedded engine both runs finish with the
uninterrupted result; on Restate:

- ``repro_gather_orchestrator`` (``asyncio.gather`` of three ``Runner.run_async``, each with
  ``DurableSessionService``): the replay fails with restate-sdk's journal mismatch (570): "the previous
  execution ran and recorded 'run' (index 38); the current execution attempts 'set state'": the
  session writes (``ctx.set``, not awaited) of the concurrent runners reach the journal in another
  order than in the first execution;
- ``repro_parallel_orchestrator`` (an ADK ``ParallelAgent`` of the three workers in one runner): the
  replay hangs: the deployment logs the plugin registration and nothing else, no model request is
  sent, the attach times out. (The ``workflows`` example's ``ParallelAgent`` of tool-less analysts
  recovers: tests/adk/test_workflow_examples.py.)

They take about 90 s each and fail today on Restate, so this file is not part of the suite (its name
does not start with ``test_``); run it by naming it: ``.venv/bin/python -m pytest
tests/adk/repro_concurrent_runners.py``. Once both pass, rename it ``test_...`` so they guard the fix.
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
