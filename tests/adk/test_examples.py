"""The ADK tour's examples, driven by the ``curl`` commands of their README against ``agentdur serve``.

Every ``curl`` of ``examples/google_adk/README.md`` runs in order against the whole tour
(``examples.google_adk.tour:app``) on both engines, talking to the scripted model server's
Gemini API with its default policy; a ``# -> text`` line after a command is an answer the response
must contain. A resolve URL with ``<awakeable-id>`` gets the awakeable the examples logged last.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agentdur.testing import ScriptedModelServer
from examples._model import BASE_URL_ENV, GEMINI_BASE_URL_ENV

from ..harness import EngineUnderTest, start_engine, wait_for
from ..readme_curls import readme_commands

README = Path(__file__).resolve().parents[2] / "examples" / "google_adk" / "README.md"
PLACEHOLDER = "<awakeable-id>"


@pytest.fixture(scope="module", params=["embedded", "restate"])
def tour(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EngineUnderTest]:
    with ScriptedModelServer() as server:
        env = {
            BASE_URL_ENV: server.openai_base_url,
            GEMINI_BASE_URL_ENV: server.gemini_base_url,
            "GOOGLE_API_KEY": "",
            "APPROVAL_TIMEOUT_SECONDS": "0.2",
        }
        workdir = tmp_path_factory.mktemp(request.param)
        served = start_engine(request.param, workdir, "examples.google_adk.tour:app", env)
        try:
            yield served
        finally:
            served.close()


AWAKEABLE = re.compile(r"(?:/restate/awakeables/|: resolve )([A-Za-z0-9_-]+)")


def process_log(tour: EngineUnderTest) -> str:
    path = tour.workdir / f"{tour.name}-process.log"
    return path.read_text() if path.exists() else ""


def awakeable_of(tour: EngineUnderTest, seen: set[str]) -> str:
    """The awakeable whose resolve URL the examples logged last (approvals and reviews log it)."""

    def logged() -> list[str]:
        return [found for found in AWAKEABLE.findall(process_log(tour)) if found not in seen]

    found = str(wait_for(logged, what="an approval requested in the log")[-1])
    seen.add(found)
    return found


def test_every_curl_of_the_readme_answers(tour: EngineUnderTest) -> None:
    commands = readme_commands(README, PLACEHOLDER)
    assert len(commands) >= 8
    sent: str | None = None
    seen: set[str] = set(AWAKEABLE.findall(process_log(tour)))
    for command in commands:
        if command.path.endswith("/send"):
            sent = tour.send(command.path.removesuffix("/send"), command.body)
            continue
        if PLACEHOLDER in command.path:
            assert sent is not None
            resolved = tour.post(command.path.replace(PLACEHOLDER, awakeable_of(tour, seen)), command.body)
            assert resolved.status_code in (200, 202), resolved.text
            response: httpx.Response = tour.attach(sent)
        else:
            response = tour.post(command.path, command.body)
        assert response.status_code == 200, (command.path, response.text)
        for expected in command.expected:
            assert expected in response.text, (command.path, response.text)


def test_a_rejected_and_an_unanswered_reimbursement_never_run(tour: EngineUnderTest) -> None:
    message = {"message": 'Reimburse claim "c7": a hospital bill of 3000 USD.'}
    seen = set(AWAKEABLE.findall(process_log(tour)))
    sent = tour.send("/ClaimApprovalAgent/user7/run", message)
    assert tour.resolve(awakeable_of(tour, seen), {"approved": False, "by": "bob"}).status_code in (200, 202)
    assert "This tool call is rejected." in tour.attach(sent).text
    timed_out = tour.post("/ClaimApprovalWithTimeoutAgent/user7/run_with_timeout", message)
    assert timed_out.status_code == 200 and "was not approved within 0:00:00.200000" in timed_out.text
    assert "reimbursed 3000 USD for c7" not in process_log(tour)
