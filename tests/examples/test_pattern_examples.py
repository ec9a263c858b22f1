"""examples/patterns over HTTP: each pattern's README request, served together (``examples.patterns:app``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentdur.testing import ScriptedModelServer
from examples._model import BASE_URL_ENV
from examples.patterns.sagas.app import BOOKINGS_ENV

from ..harness import EngineUnderTest, wait_for
from ._served import start_example


@pytest.fixture(scope="module")
def served(
    example_model_server: ScriptedModelServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EngineUnderTest]:
    workdir = tmp_path_factory.mktemp("patterns")
    env = {
        BASE_URL_ENV: example_model_server.openai_base_url,
        BOOKINGS_ENV: str(workdir / "bookings.jsonl"),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    server = start_example("patterns", workdir, env)
    try:
        yield server
    finally:
        server.client.close()
        server.close()


def journal(served: EngineUnderTest, invocation_id: str) -> list[dict[str, Any]]:
    body = served.client.get(f"{served.admin_url}/invocations/{invocation_id}").json()
    return list(body["journal"])


def names(served: EngineUnderTest, invocation_id: str) -> list[str]:
    return [str(e["name"]) for e in journal(served, invocation_id)]


def test_routing_sends_billing_questions_to_the_tool(served: EngineUnderTest) -> None:
    response = served.post("/SupportRouter/ask", {"customer": "c-42", "question": "Why is my billing wrong?"})
    assert response.status_code == 200, response.text
    assert response.json()["route"] == "billing"
    assert response.json()["answer"] == "invoice 2026-11: 49.00 EUR, paid"
    assert names(served, response.headers["x-restate-id"]) == ["Choose route", "billing"]


def test_routing_to_the_remote_agent_and_to_the_local_handler(served: EngineUnderTest) -> None:
    response = served.post(
        "/SupportRouter/ask", {"customer": "c-7", "question": "The app shows a technical error"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["route"] == "technical"
    assert response.json()["answer"].startswith("Echo: You are technical support.")
    response = served.post(
        "/SupportRouter/ask", {"customer": "c-7", "question": "I forgot my account password"}
    )
    assert response.json()["route"] == "account", response.text
    assert names(served, response.headers["x-restate-id"]) == [
        "Choose route",
        "Account status",
        "Account answer",
    ]


def test_routing_rejects_invalid_input(served: EngineUnderTest) -> None:
    response = served.post("/SupportRouter/ask", {"customer": "c-7"})
    assert response.status_code == 400 and "question" in response.json()["message"]


def test_parallel_reviews_in_input_order(
    served: EngineUnderTest, example_model_server: ScriptedModelServer
) -> None:
    draft = "Our new lamp are bright and cheap."
    response = served.post("/DraftReview/review", {"draft": draft})
    assert response.status_code == 200, response.text
    reviews = response.json()
    assert [r["reviewer"] for r in reviews] == ["grammar", "tone", "claims", "statistics"]
    assert all(r["ok"] for r in reviews)
    assert reviews[0]["text"] == f"Echo: List the grammar mistakes in this text: {draft}"
    assert reviews[3]["text"] == "7 words, 1 sentences"


def test_racing_cancels_the_thorough_agent_which_releases_its_gpu(served: EngineUnderTest) -> None:
    response = served.post("/FastestAnswer/ask", {"question": "What is durable execution?"})
    assert response.status_code == 200, response.text
    assert response.json()["agent"] == "quick"
    assert "race winner" in names(served, response.headers["x-restate-id"])

    def loser() -> dict[str, Any] | None:
        found = served.client.get(
            f"{served.admin_url}/invocations", params={"service": "ThoroughAgent"}
        ).json()
        done = [i for i in found["invocations"] if i["status"] == "completed"]
        return done[0] if done else None

    cancelled = wait_for(loser, what="the thorough agent finished")
    steps = names(served, cancelled["id"])
    assert "compensate: Release GPU" in steps and "Thorough answer" not in steps


def test_sagas_book_or_cancel_everything(served: EngineUnderTest) -> None:
    ledger = Path(served.env[BOOKINGS_ENV])
    response = served.post("/TravelAgent/book", {"traveler": "Ada", "destination": "Lisbon"})
    assert response.status_code == 200, response.text
    assert response.json()["bookings"] == ["flight:Ada:Lisbon", "hotel:Ada:Lisbon", "car:Ada:Lisbon"]
    response = served.post(
        "/TravelAgent/book", {"traveler": "Bob", "destination": "Oslo", "card": "declined"}
    )
    assert response.status_code == 402 and response.json()["message"] == "the card was declined"
    events = [json.loads(line) for line in ledger.read_text().splitlines()]
    bob = [(e["event"], e["booking"].split(":")[0]) for e in events if ":Bob:" in e["booking"]]
    assert bob == [
        ("booked", "flight"),
        ("booked", "hotel"),
        ("booked", "car"),
        ("cancelled", "car"),
        ("cancelled", "hotel"),
        ("cancelled", "flight"),
    ]
    assert not [e for e in events if ":Ada:" in e["booking"] and e["event"] == "cancelled"]


def test_orchestrator_plans_works_and_synthesizes(served: EngineUnderTest) -> None:
    response = served.post("/Research/report", {"topic": "heat pumps for old houses"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["plan"]["subtasks"] and len(body["results"]) == len(body["plan"]["subtasks"])
    assert body["answer"].startswith("Echo: Combine these results")
    steps = names(served, response.headers["x-restate-id"])
    assert steps[0] == "Plan" and steps[-1] == "Synthesize" and steps[1].startswith("Worker 0: ")


def test_evaluator_returns_every_round(served: EngineUnderTest) -> None:
    response = served.post("/Copywriter/write", {"brief": "a slogan for a bakery that opens at 5 am"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["accepted"] is True and len(body["rounds"]) == 1  # the scripted evaluator accepts
    assert body["answer"] == "Echo: Complete this task: a slogan for a bakery that opens at 5 am"
    assert names(served, response.headers["x-restate-id"]) == ["Generate 1", "Evaluate 1"]
    response = served.post("/Copywriter/write", {"brief": "x", "max_rounds": 0})
    assert response.status_code == 400 and "max_rounds" in response.json()["message"]
