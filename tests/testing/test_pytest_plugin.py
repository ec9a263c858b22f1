"""The agentdur pytest plugin, as a user's test suite sees it: a small project run by pytest in a child process.

The project lives in a temporary directory with no conftest.py, so every fixture it uses can only come
from the plugin registered through the ``pytest11`` entry point.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from agentdur.testing import find_restate_server

USER_APP = """
import agentdur

greeter = agentdur.Service("Greeter")


@greeter.handler()
async def greet(ctx: agentdur.Context, name: str) -> str:
    return await ctx.run_typed("compose", lambda: f"hello {name}")


app = agentdur.App([greeter])
"""

USER_TESTS = """
import asyncio

import httpx
import openai

from user_app import app


def test_model_server(model_server):
    model_server.script.reply("scripted hello")
    client = openai.OpenAI(base_url=model_server.openai_base_url, api_key="test")
    answer = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "scripted hello"
    assert len(model_server.requests) == 1


def test_embedded_engine(agentdur_engine, agentdur_db):
    async def run():
        async with agentdur_engine(app) as engine:
            return await engine.call("Greeter", "greet", "ada")

    assert asyncio.run(run()) == "hello ada"
    assert agentdur_db.exists()


def test_served_app(agentdur_serve):
    served = agentdur_serve("user_app:app")
    assert httpx.post(f"{served.ingress_url}/Greeter/greet", json="bob").json() == "hello bob"
    pid = served.pid
    served.kill()
    served.start()
    assert served.pid != pid
    assert httpx.post(f"{served.ingress_url}/Greeter/greet", json="eve").json() == "hello eve"


def test_restate_deployment(restate_server, agentdur_restate_deployment):
    deployment = agentdur_restate_deployment("user_app:app")
    assert deployment.ingress_url == restate_server.ingress_url
    answer = httpx.post(f"{restate_server.ingress_url}/Greeter/greet", json="kim", timeout=30)
    assert answer.json() == "hello kim"
"""


def run_user_suite(tmp_path: Path, *pytest_args: str) -> subprocess.CompletedProcess[str]:
    project = tmp_path / "project"
    project.mkdir()
    (project / "user_app.py").write_text(USER_APP)
    (project / "test_user.py").write_text(USER_TESTS)
    env = {**os.environ, "AGENTDUR_RESTATE_SERVER": find_restate_server(), "PYTHONPATH": str(project)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args, "test_user.py"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_plugin_gives_a_user_suite_every_fixture(tmp_path: Path) -> None:
    result = run_user_suite(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


def test_the_fixtures_come_from_the_entry_point(tmp_path: Path) -> None:
    result = run_user_suite(tmp_path, "-p", "no:agentdur", "-k", "model_server or embedded")
    assert result.returncode != 0
    assert "fixture 'model_server' not found" in result.stdout
    assert "fixture 'agentdur_engine' not found" in result.stdout
