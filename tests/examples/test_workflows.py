"""examples/workflows: every README's curl commands, unchanged, against ``agentdur serve`` of its app.

Each section's app is served on its own (as its README says), and the commands run in README order:
a ``send`` remembers the invocation it started, the cancellation README's invocation id is replaced
by that one, ``-X`` and the admin port are honoured, and every ``# ->`` text must be in the answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agentdur.testing import ScriptedModelServer
from examples._model import BASE_URL_ENV

from ..harness import EngineUnderTest, start_engine, wait_for
from ..readme_curls import Command, readme_commands
from ._served import start_example

ROOT = Path(__file__).resolve().parents[2] / "examples" / "workflows"
PLACEHOLDER = "inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz"  # the tour's invocation id, copied from a log
SECTIONS = [
    "submit",
    "activities",
    "queries",
    "signals",
    "events",
    "timers",
    "parallel",
    "retries",
    "sagas",
    "cancellation",
    "agent",
]


@pytest.fixture
def served(
    request: pytest.FixtureRequest,
    example_model_server: ScriptedModelServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[EngineUnderTest]:
    section = request.param
    env = {BASE_URL_ENV: example_model_server.openai_base_url}
    server = start_example(f"workflows.{section}", tmp_path_factory.mktemp(section), env)
    try:
        yield server
    finally:
        server.client.close()
        server.close()


def answer(served: EngineUnderTest, command: Command, sent: str | None) -> httpx.Response:
    base = served.admin_url if command.admin else served.ingress_url
    path = command.path
    if PLACEHOLDER in path:
        assert sent is not None, "the README cancels an invocation before starting one"
        path = path.replace(PLACEHOLDER, sent)
    method = command.method or ("POST" if command.body is not None else "GET")
    return served.client.request(method, base + path, json=command.body)


@pytest.mark.parametrize("served", SECTIONS, indirect=True)
def test_every_curl_of_the_readme_answers(served: EngineUnderTest) -> None:
    section = served.app.removeprefix("examples.workflows.").removesuffix(":app")
    commands = readme_commands(ROOT / section / "README.md", PLACEHOLDER)
    assert commands, f"{section}/README.md has no curl command"
    sent: str | None = None
    for command in commands:
        response = answer(served, command, sent)
        text = response.text
        for expected in command.expected:
            assert expected in text, (command.path, response.status_code, text)
        if not command.expected:
            assert response.status_code < 300, (command.path, text)
        elif response.status_code >= 300:
            assert response.status_code in (409,) or "cancelled" in text, (command.path, text)
        if response.status_code == 202 and response.content and "invocationId" in response.json():
            sent = str(response.json()["invocationId"])


def test_the_tour_app_serves_every_workflow() -> None:
    from examples.workflows.app import app

    assert {
        "SignupWorkflow",
        "SignupWithActivitiesWorkflow",
        "UserService",
        "SignupWithQueriesWorkflow",
        "SignupWithSignalsWorkflow",
        "SignupWithEventsWorkflow",
        "SignupWithTimersWorkflow",
        "SignupInParallelWorkflow",
        "SignupWithRetriesWorkflow",
        "SignupWithSagasWorkflow",
    } == set(app.services)


@pytest.mark.parametrize("served", ["signals"], indirect=True)
def test_the_secret_from_the_log_verifies_the_signup(served: EngineUnderTest) -> None:
    """What the README tells the reader to do: copy the secret the verification e-mail logged."""
    sent = served.post("/restate/send/SignupWithSignalsWorkflow/maria/run", {"name": "Maria", "email": "m@x"})
    assert sent.status_code == 202, sent.text
    log = served.workdir / f"{served.name}-process.log"

    def secret() -> str | None:
        for line in log.read_text().splitlines():
            if line.strip().startswith('--json \'{"secret":'):
                return line.strip().removeprefix("--json '").removesuffix("'")
        return None

    body = wait_for(secret, what="the verification e-mail logged")
    verified = served.client.post(
        f"{served.ingress_url}/restate/call/SignupWithSignalsWorkflow/maria/verifyEmail",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert verified.status_code == 200, verified.text
    attached = served.client.get(
        f"{served.ingress_url}/restate/workflow/SignupWithSignalsWorkflow/maria/attach"
    )
    assert attached.json() is True


def test_the_tour_readmes_against_restate_server(tmp_path: Path) -> None:
    """The same commands against restate-server and the deployment of the tour's app (all sections
    but the agent, whose model server the other tests share)."""
    restate = start_engine("restate", tmp_path, "examples.workflows.app:app")
    try:
        for section in SECTIONS[:-1]:
            sent: str | None = None
            for command in readme_commands(ROOT / section / "README.md", PLACEHOLDER):
                response = answer(restate, command, sent)
                for expected in command.expected:
                    assert expected in response.text, (
                        section,
                        command.path,
                        response.status_code,
                        response.text,
                    )
                if response.status_code == 202 and response.content and "invocationId" in response.json():
                    sent = str(response.json()["invocationId"])
    finally:
        restate.close()


@pytest.mark.parametrize("served", ["agent"], indirect=True)
def test_the_agent_waits_through_a_sigkill_without_drafting_again(
    served: EngineUnderTest, example_model_server: ScriptedModelServer
) -> None:
    topic = "crash-safe drafts"
    sent = served.post("/restate/send/DraftAgent/crash/run", {"topic": topic})
    assert sent.status_code == 202, sent.text

    def waiting() -> bool:
        answer = served.client.get(f"{served.ingress_url}/restate/call/DraftAgent/crash/getDraft").json()
        return bool(answer["status"] == "waiting for review")

    wait_for(waiting, what="the draft waiting for its review")
    served.kill()
    served.start()
    reviewed = served.post("/restate/call/DraftAgent/crash/review", {"approved": True})
    assert reviewed.status_code == 200, reviewed.text
    published = served.client.get(f"{served.ingress_url}/restate/workflow/DraftAgent/crash/attach").json()
    assert published["reviewed"] is True and published["revised"] is False
    assert published["text"] == published["draft"] and topic in published["draft"]
    drafts = [r for r in example_model_server.model_requests() if topic in (r.last_user_message or "")]
    assert len(drafts) == 1  # journaled before the crash: replayed, not requested again
