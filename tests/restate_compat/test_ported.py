"""A file written for restate-sdk runs after swapping the import, on both engines.

``restate.app(services=[...])`` gives an ASGI app that an ASGI server (hypercorn, as restate-sdk's
docs run it) serves to a real restate-server; the same file runs on ``agentdur serve`` too.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx

import agentdur
from agentdur.testing import RestateDeployment, RestateServer, ScriptedModelServer

from ..effects import LOG_ENV
from ..harness import ROOT, start_engine
from .ported import app
from .ported_agent import MODEL_URL_ENV


def test_the_restate_sdk_names_are_agentdur_types() -> None:
    assert agentdur.RestateDurableCallFuture is agentdur.DurableCallFuture
    assert agentdur.RestateDurableFuture is agentdur.DurableFuture
    assert isinstance(app, agentdur.App) and list(app.services) == ["Greeter"]


@contextlib.contextmanager
def hypercorn_on_restate(tmp_path: Path, target: str, env: dict[str, str]) -> Iterator[RestateServer]:
    """restate-server, and ``hypercorn <target>`` registered with it."""

    def command(port: int) -> list[str]:
        return [sys.executable, "-m", "hypercorn", target, "--bind", f"127.0.0.1:{port}"]

    with RestateDeployment(
        workdir=tmp_path,
        command=command,
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        startup_within=60,
        log_path=tmp_path / "hypercorn.log",
    ) as deployment:
        yield deployment.server


def test_hypercorn_serves_the_ported_app_to_restate(tmp_path: Path) -> None:
    with hypercorn_on_restate(tmp_path, "tests.restate_compat.ported:app", {}) as server:
        response = httpx.post(f"{server.ingress_url}/Greeter/greet", json="ada", timeout=60)
    assert response.status_code == 200, response.text
    assert response.json() == "Hello ADA!"


QUESTION = "What is the weather in Paris?"
ANSWER = "Based on get_weather: sunny in Paris"


def test_a_ported_openai_agent_runs_on_restate(tmp_path: Path, model_server: ScriptedModelServer) -> None:
    log = tmp_path / "effects.log"
    env = {MODEL_URL_ENV: model_server.openai_base_url, LOG_ENV: str(log)}
    with hypercorn_on_restate(tmp_path, "tests.restate_compat.ported_agent:app", env) as server:
        response = httpx.post(f"{server.ingress_url}/WeatherAgent/run", json=QUESTION, timeout=60)
    assert response.status_code == 200, response.text
    assert response.json() == ANSWER
    assert log.read_text().splitlines() == ["weather Paris"]


def test_a_ported_openai_agent_runs_on_the_embedded_engine(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    engine = start_engine(
        "embedded",
        tmp_path,
        "tests.restate_compat.ported_agent:app",
        {MODEL_URL_ENV: model_server.openai_base_url},
    )
    try:
        response = engine.post("/WeatherAgent/run", QUESTION)
        assert response.status_code == 200, response.text
        assert response.json() == ANSWER
        journal = engine.client.get(
            f"{engine.admin_url}/invocations/{response.headers['x-restate-id']}"
        ).json()
        assert "Get weather" in [e["name"] for e in journal["journal"]]  # the tool's own step
        assert engine.lines() == ["weather Paris"]
    finally:
        engine.close()


def test_the_ported_file_runs_on_the_embedded_engine(tmp_path: Path) -> None:
    engine = start_engine("embedded", tmp_path, "tests.restate_compat.ported:app")
    try:
        response = engine.post("/Greeter/greet", "ada")
        assert response.status_code == 200 and response.json() == "Hello ADA!"
    finally:
        engine.close()
