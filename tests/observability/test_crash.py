"""``agentdur serve`` killed with SIGKILL between model calls: the trace and the ledger after recovery.

The server process exports each span to a file as it ends (``served_app.py``); the test SIGKILLs it
while a step holds after the second of three model calls, starts a new process on the same file, and
reads the spans of both processes, the admin API's ``/usage`` and ``agentdur usage``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentdur.testing import ScriptedModelServer, ServedApp, wait_for

from .served_app import BASE_ENV, SPANS_ENV, WORK_ENV

ROOT = Path(__file__).resolve().parents[2]
APP = "tests.observability.served_app:app"


def read_spans(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


@pytest.fixture
def served(tmp_path: Path, model_server: ScriptedModelServer) -> Iterator[ServedApp]:
    env = {
        SPANS_ENV: str(tmp_path / "spans.jsonl"),
        BASE_ENV: model_server.openai_base_url,
        WORK_ENV: str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    app = ServedApp(APP, db=tmp_path / "agentdur.db", env=env, cwd=ROOT, startup_within=120)
    app.start()
    try:
        yield app
    finally:
        app.close()


def test_after_sigkill_the_trace_has_each_model_call_once_and_the_ledger_counts_the_replays(
    tmp_path: Path, served: ServedApp, model_server: ScriptedModelServer
) -> None:
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    with httpx.Client(timeout=60) as http:
        sent = http.post(
            f"{served.ingress_url}/Agent/three_calls/send",
            json="c1",
            headers={"traceparent": f"00-{trace_id}-{caller_span}-01"},
        )
        assert sent.status_code == 202, sent.text
        inv = sent.json()["invocationId"]
        wait_for(lambda: (tmp_path / "holding-c1").exists(), within=60, what="held after two calls")
        first_pid = int((tmp_path / "holding-c1").read_text())
        assert model_server.count() == 2
        served.kill()
        (tmp_path / "release-c1").touch()
        served.restart()
        attached = http.get(f"{served.ingress_url}/restate/invocation/{inv}/attach")
        assert attached.status_code == 200, attached.text
        assert model_server.count() == 3  # the two journaled calls were not sent again
        usage = http.get(f"{served.admin_url}/usage", params={"by": "invocation"}).json()
        bad = http.get(f"{served.admin_url}/usage", params={"by": "colour"})
        future = http.get(f"{served.admin_url}/usage", params={"since": "2999-01-01T00:00:00Z"}).json()

    spans = read_spans(tmp_path / "spans.jsonl")
    # every span of both processes joined the caller's trace
    assert {s["trace_id"] for s in spans} == {trace_id}
    assert {s["pid"] for s in spans} == {first_pid, served.pid}
    chats = [s for s in spans if s["attributes"].get("gen_ai.operation.name") == "chat"]
    assert sorted(s["attributes"]["agentdur.step.name"] for s in chats) == [
        "LLM call 0",
        "LLM call 1",
        "LLM call 2",
    ]
    assert all(s["name"] == "chat openai/gpt-4o" for s in chats)
    after = [s for s in spans if s["pid"] == served.pid]
    replayed = sorted(
        s["attributes"]["agentdur.step.name"] for s in after if s["attributes"].get("agentdur.replayed")
    )
    assert replayed == ["LLM call 0", "LLM call 1"]
    [execution] = [s for s in after if s["name"] == "invocation Agent/three_calls"]
    assert execution["attributes"]["agentdur.execution.reason"] == "recovery"
    assert execution["parent_id"] == caller_span
    assert [s["name"] for s in after if s["name"] == "run hold"] == ["run hold"]  # re-run: never journaled

    [row] = usage["rows"]
    assert row["group"] == inv
    assert row["model_calls"] == 3 and row["saved_model_calls"] == 2
    tokens = {
        s["attributes"]["agentdur.step.name"]: s["attributes"]["gen_ai.usage.input_tokens"] for s in chats
    }
    assert row["input_tokens"] == sum(tokens.values())
    assert row["saved_input_tokens"] == tokens["LLM call 0"] + tokens["LLM call 1"]
    assert 0 < row["saved_cost_usd"] < row["cost_usd"]
    assert usage["total"] == {k: v for k, v in row.items() if k != "group"}
    assert bad.status_code == 400 and "by" in bad.json()["message"]
    assert future["rows"] == [] and future["total"]["model_calls"] == 0

    cli = subprocess.run(
        [sys.executable, "-m", "agentdur", "usage", "--by", "service", "--admin-url", served.admin_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert re.search(r"^Agent\s+1\s+3\s+", cli.stdout, re.MULTILINE), cli.stdout
    assert re.search(r"^TOTAL\s+1\s+3\s+", cli.stdout, re.MULTILINE), cli.stdout


def test_serve_honours_otel_traces_exporter_console(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    env = {
        "OTEL_TRACES_EXPORTER": "console",
        BASE_ENV: model_server.openai_base_url,
        WORK_ENV: str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    (tmp_path / "release-c2").touch()
    with ServedApp(APP, db=tmp_path / "agentdur.db", env=env, cwd=ROOT, startup_within=120) as served:
        answer = httpx.post(f"{served.ingress_url}/Agent/three_calls", json="c2", timeout=60)
        assert answer.status_code == 200, answer.text
        log = served.log_path
        wait_for(
            lambda: '"name": "invocation Agent/three_calls"' in log.read_text(),
            within=30,
            what="span printed",
        )
    text = log.read_text()
    assert text.count('"name": "chat openai/gpt-4o"') == 3
    assert "Bearer" not in text and "api_key" not in text  # no credential reaches a log or a span
