"""The same served app on both engines: ingress ``traceparent`` joined, calls between handlers carry
the trace, and a SIGKILL of the process running the handlers leaves no duplicated model-call span."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentdur.testing import ScriptedModelServer

from ..harness import EngineUnderTest, start_engine, wait_for
from .served_app import BASE_ENV, SPANS_ENV, WORK_ENV
from .test_crash import read_spans

APP = "tests.observability.served_app:app"


@pytest.fixture(params=["embedded", "restate"])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, model_server: ScriptedModelServer
) -> Iterator[EngineUnderTest]:
    env = {
        SPANS_ENV: str(tmp_path / "spans.jsonl"),
        BASE_ENV: model_server.openai_base_url,
        WORK_ENV: str(tmp_path),
    }
    under_test = start_engine(request.param, tmp_path / request.param, APP, env)
    try:
        yield under_test
    finally:
        under_test.close()


def traceparent() -> tuple[str, str, str]:
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, span_id, f"00-{trace_id}-{span_id}-01"


def test_a_call_between_handlers_stays_in_the_callers_trace(engine: EngineUnderTest, tmp_path: Path) -> None:
    trace_id, _, header = traceparent()
    answer = engine.post("/Agent/relay", "ann", headers={"traceparent": header})
    assert answer.status_code == 200 and answer.json() == "hello ann"
    wait_for(lambda: any(s["name"] == "invocation Agent/greet" for s in read_spans(tmp_path / "spans.jsonl")))
    spans = read_spans(tmp_path / "spans.jsonl")
    names = {s["name"] for s in spans}
    assert {"invocation Agent/relay", "invocation Agent/greet", "call Agent/greet"} <= names
    assert {s["trace_id"] for s in spans} == {trace_id}


def test_sigkill_between_model_calls_leaves_one_span_per_model_request(
    engine: EngineUnderTest, tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    trace_id, _, header = traceparent()
    inv = engine.send("/Agent/three_calls", "k1", headers={"traceparent": header})
    wait_for(lambda: (tmp_path / "holding-k1").exists(), within=60, what="held after two calls")
    killed_pid = int((tmp_path / "holding-k1").read_text())
    engine.kill()
    (tmp_path / "release-k1").touch()
    engine.start()
    assert engine.attach(inv).status_code == 200
    assert model_server.count() == 3
    spans = read_spans(tmp_path / "spans.jsonl")
    assert {s["trace_id"] for s in spans} == {trace_id}
    chats = [s for s in spans if s["attributes"].get("gen_ai.operation.name") == "chat"]
    assert sorted(s["attributes"]["agentdur.step.name"] for s in chats) == [
        "LLM call 0",
        "LLM call 1",
        "LLM call 2",
    ]
    after = [s for s in spans if s["pid"] != killed_pid]
    replayed = {
        s["attributes"]["agentdur.step.name"] for s in after if s["attributes"].get("agentdur.replayed")
    }
    assert {"LLM call 0", "LLM call 1"} <= replayed
    assert "LLM call 2" not in replayed
