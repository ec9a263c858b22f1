"""The ADK tour's agentic workflows (orchestrator-workers, evaluator-optimizer, and the sequential
and parallel agents of ``workflows``), served by ``agentdur serve`` on both engines, SIGKILLed mid-run.

The scripted model server answers with its default policy, except that the planner plans three
checks and the critic accepts the second draft (``steer``). To stop a run at a known point the
model server holds back the requests a predicate picks (``ModelFaults.hold``), whatever order the
concurrent ones arrive in; the process is killed while those wait, and the run must then finish
with the uninterrupted run's result, no answered model request sent again and no lookup
(tests/effects.py) run again."""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from agentdur.testing import ModelReply, ModelRequest, ModelToolCall, ScriptedModelServer
from examples._model import BASE_URL_ENV

from ..harness import EngineUnderTest, start_engine, wait_for
from .test_both_engines import journaled

HOLD_SECONDS = 300.0
LABEL = re.compile(r"broken leg (\w+) \(")
LLM_CALL = "LLM call: gemini-2.5-flash"
CHECKS = ("eligibility", "cost", "fraud")
LOOKUPS = {
    "eligibility": "policy database queried",
    "cost": "rate table queried",
    "fraud": "fraud register searched",
}


def label_of(request: ModelRequest) -> str | None:
    for message in request.messages:
        if found := LABEL.search(message.content):
            return found.group(1)
    return None


def steer(request: ModelRequest) -> ModelReply | None:
    """Three checks in every plan; the critic accepts the second draft; else the default policy."""
    schema = request.output_schema or {}
    if "checks" in (schema.get("properties") or {}):
        checks = [{"specialist": name, "question": f"Is the {name} in order?"} for name in CHECKS]
        return ModelReply(text=json.dumps({"checks": checks}))
    if "exit_loop" in request.tool_names:
        reviewed = sum(m.role == "assistant" and bool(m.content) for m in request.messages)
        if reviewed >= 1 and not any(m.role == "tool" for m in request.messages):
            return ModelReply(tool_calls=(ModelToolCall("exit_loop", {}),))
    return None


@pytest.fixture(scope="module")
def model_server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        server.script.respond_with(steer)
        yield server


@pytest.fixture(scope="module", params=["embedded", "restate"])
def served(
    request: pytest.FixtureRequest,
    model_server: ScriptedModelServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[EngineUnderTest]:
    env = {BASE_URL_ENV: model_server.openai_base_url, "GOOGLE_API_KEY": ""}
    engine = start_engine(
        request.param, tmp_path_factory.mktemp(request.param), "tests.adk.workflow_app:app", env
    )
    try:
        yield engine
    finally:
        engine.close()


def claim(run: str) -> dict[str, object]:
    return {
        "date": "2024-10-01",
        "category": "medical",
        "reason": f"hospital bill for a broken leg {run}",
        "amount": 3000,
        "placeOfService": "General Hospital",
    }


def answered(server: ScriptedModelServer, run: str) -> list[str]:
    """The bodies of the answered model requests of ``run`` (a held one that was never answered is not)."""
    return [
        json.dumps(r.request.body, sort_keys=True)
        for r in server.requests
        if r.request is not None and r.reply is not None and label_of(r.request) == run
    ]


def held(server: ScriptedModelServer, run: str) -> int:
    """How many model requests of ``run`` are held back now."""
    return sum(
        1
        for r in server.requests
        if r.request is not None and not r.done and r.delay == HOLD_SECONDS and label_of(r.request) == run
    )


def lookups(engine: EngineUnderTest) -> Counter[str]:
    """How often each fake service was called, by what it logged (``rate table queried``, ...)."""
    return Counter(line.split(" for ")[0] for line in engine.lines())


def uninterrupted(engine: EngineUnderTest, path: str) -> tuple[str, str]:
    run = uuid.uuid4().hex[:8]
    response = engine.post(path.format(run=run), claim(run))
    assert response.status_code == 200, response.text
    return str(response.json()), run


def crash_and_recover(
    engine: EngineUnderTest,
    server: ScriptedModelServer,
    path: str,
    hold: Callable[[ModelRequest], bool],
    passing: int,
    holding: int,
    settled: Callable[[str, str], bool],
) -> tuple[str, str, list[str], Counter[str]]:
    """Run ``path`` with the model requests ``hold`` picks held back until ``passing`` were answered,
    ``holding`` are held and ``settled(run, invocation)`` (the answered calls are journaled); SIGKILL
    the serving process and start it again. The result, the run's label, the requests answered
    before the kill and the lookups that had run by then."""
    run = uuid.uuid4().hex[:8]
    server.faults.hold(HOLD_SECONDS, lambda request: label_of(request) == run and hold(request))
    try:
        invocation = engine.send(path.format(run=run), claim(run))
        wait_for(lambda: held(server, run) == holding, within=60, what=f"{holding} model requests held back")
        wait_for(lambda: settled(run, invocation), within=60, what="the answered calls journaled")
        before = answered(server, run)
        assert len(before) == passing
        ran = lookups(engine)
        engine.kill()
    finally:
        server.faults.hold(0, None)
    engine.start()
    result = engine.attach(invocation)
    assert result.status_code == 200, result.text
    return str(result.json()), run, before, ran


def invocation_of(engine: EngineUnderTest, service: str, key: str) -> str | None:
    """The id of the invocation of ``service`` for ``key``, once there is one."""
    if engine.name == "embedded":
        found = engine.client.get(f"{engine.admin_url}/invocations", params={"service": service, "key": key})
        listed = found.json()["invocations"]
        return str(listed[0]["id"]) if listed else None
    response = engine.client.post(
        f"{engine.admin_url}/query",
        json={
            "query": f"SELECT id FROM sys_invocation WHERE target_service_name = '{service}' "
            f"AND target_service_key = '{key}'"
        },
        headers={"accept": "application/json"},
    )
    rows = response.json()["rows"]
    return str(rows[0]["id"]) if rows else None


def calls_journaled(engine: EngineUnderTest, service: str, key: str) -> int:
    found = invocation_of(engine, service, key)
    return journaled(engine, found, LLM_CALL) if found else 0


def after_a_lookup(request: ModelRequest, *tools: str) -> bool:
    return any(m.role == "tool" and m.name in tools for m in request.messages)


def test_orchestrator_workers_survive_a_sigkill_with_the_workers_mid_run(
    served: EngineUnderTest, model_server: ScriptedModelServer
) -> None:
    path = "/ClaimOrchestrator/user-{run}/run"
    expected, reference = uninterrupted(served, path)
    assert "Findings: eligibility: Based on check_eligibility: medical claims are covered; cost: " in expected
    assert "cost: Based on compare_rates: within standard rates; fraud: Based" in expected  # (cut short)
    assert len(answered(model_server, reference)) == 8  # plan, 3 x (tool call, answer), decision

    # the plan and the fraud worker answered; the other two workers did their lookups, their answers held
    before_lookups = lookups(served)
    result, run, before, at_kill = crash_and_recover(
        served,
        model_server,
        path,
        lambda request: after_a_lookup(request, "check_eligibility", "compare_rates"),
        passing=5,
        holding=2,
        settled=lambda run, _: (
            calls_journaled(served, "ClaimOrchestrator", f"user-{run}") == 1
            and calls_journaled(served, "ClaimCheckWorker", f"user-{run}:2") == 2
        ),
    )

    assert result == expected.replace(reference, run)
    after = answered(model_server, run)
    assert len(after) == 8 and len(set(after)) == 8, "a model request was answered twice"
    assert after[:5] == before
    ran = lookups(served) - before_lookups
    assert ran == Counter({LOOKUPS[name]: 1 for name in CHECKS}), ran  # each lookup once, none again
    assert at_kill - before_lookups == ran  # they had all run before the kill


def test_evaluator_optimizer_survives_a_sigkill_between_rounds(
    served: EngineUnderTest, model_server: ScriptedModelServer
) -> None:
    path = "/ClaimLetter/user-{run}/write"
    expected, reference = uninterrupted(served, path)
    assert (
        expected
        == "Based on get_policy_terms: medical treatment is reimbursed in full up to 10000 USD a year"
    )
    # round 1: writer (tool call, draft), critic (feedback); round 2: writer, critic (exit_loop)
    assert len(answered(model_server, reference)) == 5

    before_lookups = lookups(served)
    # round 1 done (the lookup too); the second draft held
    result, run, before, at_kill = crash_and_recover(
        served,
        model_server,
        path,
        lambda request: "[critic] said" in str(request.body),
        passing=3,
        holding=1,
        settled=lambda _, invocation: journaled(served, invocation, LLM_CALL) == 3,
    )

    assert result == expected.replace(reference, run)
    after = answered(model_server, run)
    assert len(after) == 5 and len(set(after)) == 5, "a model request was answered twice"
    assert after[:3] == before
    assert lookups(served) - before_lookups == Counter({"policy terms looked up": 1})
    assert at_kill - before_lookups == Counter({"policy terms looked up": 1})


def test_parallel_analysts_survive_a_sigkill_with_one_of_three_done(
    served: EngineUnderTest, model_server: ScriptedModelServer
) -> None:
    """The ``workflows`` example: a ``SequentialAgent`` whose first stage is a ``ParallelAgent``."""
    path = "/ClaimWorkflow/user-{run}/run"
    expected, reference = uninterrupted(served, path)
    assert expected.startswith("Echo: Decide about this claim")
    assert len(answered(model_server, reference)) == 4  # three analysts, the decider

    result, run, before, _ = crash_and_recover(
        served,
        model_server,
        path,
        lambda request: "Assess the cost" in request.system or "Assess the fraud" in request.system,
        passing=1,
        holding=2,
        settled=lambda _, invocation: journaled(served, invocation, LLM_CALL) == 1,
    )

    assert result == expected.replace(reference, run)
    after = answered(model_server, run)
    assert len(after) == 4 and len(set(after)) == 4, "a model request was answered twice"
    assert after[0] == before[0]
