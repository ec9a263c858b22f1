"""The tour's examples, driven by the ``curl`` commands of their README against ``agentdur serve``.

Every ``curl`` of ``examples/openai_agents/README.md`` runs in order against the whole tour
(``examples.openai_agents.tour:app``, its parallel checks timed by ``timed_tour.py``) on the embedded
engine, talking to the scripted model server with its default policy; a ``# -> text`` line after a
command is an answer the response must contain. A resolve URL with ``<id from the log>`` gets the
awakeable the last ``/send`` invocation waits on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agentdur.testing import ScriptedModelServer
from examples._model import BASE_URL_ENV

from ..effects import intervals, overlap
from ..harness import EngineUnderTest, start_engine, wait_for
from ..readme_curls import readme_commands

README = Path(__file__).resolve().parents[2] / "examples" / "openai_agents" / "README.md"
PLACEHOLDER = "<id from the log>"


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineUnderTest]:
    with ScriptedModelServer() as server:
        env = {BASE_URL_ENV: server.openai_base_url, "OPENAI_API_KEY": ""}
        served = start_engine(
            "embedded", tmp_path_factory.mktemp("tour"), "tests.openai_agents.timed_tour:app", env
        )
        try:
            yield served
        finally:
            served.client.close()
            served.close()


def awakeable_of(tour: EngineUnderTest, invocation: str) -> str:
    """The approval ``invocation`` waits for: its own awakeable, or one of an invocation it called
    (the sub-workflow example waits on a child's approval)."""

    def pending() -> list[str]:
        listed = tour.client.get(f"{tour.admin_url}/awakeables").json()["awakeables"]
        own = [a["id"] for a in listed if a["invocation_id"] == invocation]
        return own or [a["id"] for a in listed if a["invocation_id"] in children(tour, invocation)]

    return str(wait_for(pending, what=f"{invocation} waiting for an approval")[0])


def children(tour: EngineUnderTest, invocation: str) -> set[str]:
    journal = tour.client.get(f"{tour.admin_url}/invocations/{invocation}").json()["journal"]
    return {str(e["target"]) for e in journal if e["kind"] == "call" and e["target"]}


def test_every_curl_of_the_readme_answers(tour: EngineUnderTest) -> None:
    commands = readme_commands(README, PLACEHOLDER)
    assert len(commands) >= 13
    assert sum(PLACEHOLDER in command.path for command in commands) >= 2  # approvals are resolved too
    sent: str | None = None
    for command in commands:
        logged = len(tour.lines())
        if command.path.endswith("/send"):
            sent = tour.send(command.path.removesuffix("/send"), command.body)
            continue
        if PLACEHOLDER in command.path:
            assert sent is not None
            resolved = tour.post(command.path.replace(PLACEHOLDER, awakeable_of(tour, sent)), command.body)
            assert resolved.status_code in (200, 202), resolved.text
            response: httpx.Response = tour.attach(sent)
        elif command.body is None:
            response = tour.client.get(tour.ingress_url + command.path)
        else:
            response = tour.post(command.path, command.body)
        answer = response.text
        for expected in command.expected:
            assert expected in answer, (command.path, answer)
        if "rental car" not in " ".join(command.expected):
            assert response.status_code == 200, (command.path, answer)
        if command.path.startswith("/ParallelToolCallsAgent/"):
            checks = intervals(tour.lines()[logged:])
            assert len(checks) == 3 and overlap(checks.values()), (
                f"the three checks did not overlap: {checks}"
            )


def test_the_saga_cancelled_what_it_booked_in_reverse(tour: EngineUnderTest) -> None:
    response = tour.post(
        "/BookingWithRollbackAgent/book",
        {"booking_id": "b7", "message": "Book a hotel, a flight and a car for my trip to Oslo."},
    )
    assert response.status_code == 500 and "no rental car available" in response.json()["message"]
    listed = tour.client.get(
        f"{tour.admin_url}/invocations", params={"service": "BookingWithRollbackAgent"}
    ).json()
    latest = tour.client.get(f"{tour.admin_url}/invocations/{listed['invocations'][0]['id']}").json()
    steps = [entry["name"] for entry in latest["journal"]]
    assert steps[1:] == ["Book hotel", "Book flight", "Cancel flight", "Cancel hotel"]


def test_a_handoff_is_remembered_per_key(tour: EngineUnderTest) -> None:
    claim = {
        "date": "2024-10-01",
        "category": "medical",
        "reason": "x-ray",
        "amount": 90,
        "placeOfService": "Clinic",
    }
    assert tour.post("/MultiAgentClaimApproval/k9/run", claim).status_code == 200
    state = tour.client.get(f"{tour.admin_url}/state/MultiAgentClaimApproval/k9").json()["state"]
    assert state["last_agent_name"] == "MedicalSpecialist"
    history = state["items"]
    assert [item.get("role") for item in history if item.get("role")] == ["user", "assistant"]
