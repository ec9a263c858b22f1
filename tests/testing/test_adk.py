"""A Google ADK agent (``LlmAgent`` + ``Runner``) against the scripted model server."""

from __future__ import annotations

from typing import Any

import google.adk  # noqa: F401 - the SDK under test
import pytest
from google.adk.agents import LlmAgent, RunConfig
from google.adk.agents.run_config import (  # type: ignore[attr-defined]  # documented path, not in its __all__
    StreamingMode,
)
from google.adk.models import Gemini
from google.adk.runners import Runner
from google.adk.sessions import InMemorySessionService
from google.genai import errors, types

from agentdur.testing import ScriptedModelServer

from .helpers import WEATHER_QUESTION, weather

MODEL = "gemini-2.5-flash"
ANSWER = 'Based on get_weather: {"status": "success", "report": "Sunny, 22C in Paris"}'


def get_weather(city: str) -> dict[str, str]:
    """Get the current weather for a city."""
    return {"status": "success", "report": weather(city)}


def gemini(server: ScriptedModelServer) -> Gemini:
    return Gemini(model=MODEL, base_url=server.gemini_base_url, client_kwargs={"api_key": "test"})


async def run(agent: LlmAgent, message: str, config: RunConfig | None = None) -> list[Any]:
    sessions = InMemorySessionService()
    runner = Runner(agent=agent, app_name="test", session_service=sessions)
    session = await sessions.create_session(app_name="test", user_id="user")
    content = types.Content(role="user", parts=[types.Part(text=message)])
    return [
        event
        async for event in runner.run_async(
            user_id="user", session_id=session.id, new_message=content, run_config=config or RunConfig()
        )
    ]


def final_text(events: list[Any]) -> str:
    final = [e for e in events if e.is_final_response() and e.content and e.content.parts]
    return "".join(p.text or "" for p in final[-1].content.parts)


async def test_agent_calls_the_tool_and_answers(model_server: ScriptedModelServer) -> None:
    agent = LlmAgent(
        name="weather",
        model=gemini(model_server),
        instruction="Answer weather questions.",
        tools=[get_weather],
    )
    events = await run(agent, WEATHER_QUESTION)
    calls = [c for e in events for c in e.get_function_calls()]
    assert [(c.name, c.args) for c in calls] == [("get_weather", {"city": "Paris"})]
    assert final_text(events) == ANSWER
    assert model_server.count(api="gemini", model=MODEL) == 2
    first, second = model_server.model_requests()
    assert "Answer weather questions." in first.system and first.tool_names == ("get_weather",)
    assert second.tool_results[0].name == "get_weather"


async def test_streaming_mode_sse(model_server: ScriptedModelServer) -> None:
    agent = LlmAgent(name="weather", model=gemini(model_server), tools=[get_weather])
    events = await run(agent, WEATHER_QUESTION, RunConfig(streaming_mode=StreamingMode.SSE))
    assert any(e.partial for e in events)
    assert final_text(events) == ANSWER
    assert all(r.path.endswith(":streamGenerateContent") for r in model_server.requests)


async def test_scripted_replies_drive_the_agent(model_server: ScriptedModelServer) -> None:
    model_server.script.tool_call("get_weather", {"city": "Kyoto"}).reply("Scripted answer for Kyoto")
    agent = LlmAgent(name="weather", model=gemini(model_server), tools=[get_weather])
    events = await run(agent, "anything")
    assert final_text(events) == "Scripted answer for Kyoto"
    assert "Kyoto" in model_server.model_requests()[1].tool_results[0].content


async def test_rate_limit_surfaces_as_a_client_error(model_server: ScriptedModelServer) -> None:
    model_server.faults.fail_next(1, status=429)
    agent = LlmAgent(name="weather", model=gemini(model_server), tools=[get_weather])
    with pytest.raises(errors.ClientError) as raised:
        await run(agent, WEATHER_QUESTION)
    assert raised.value.code == 429


async def test_env_points_a_plain_model_name_at_the_server(model_server_env: ScriptedModelServer) -> None:
    agent = LlmAgent(name="weather", model=MODEL, tools=[get_weather])
    events = await run(agent, WEATHER_QUESTION)
    assert final_text(events) == ANSWER
    assert model_server_env.count(api="gemini") == 2


async def test_transfer_to_the_sub_agent_the_message_names(model_server: ScriptedModelServer) -> None:
    spanish = LlmAgent(name="spanish_agent", model=gemini(model_server), description="Answers in Spanish")
    triage = LlmAgent(
        name="triage", model=gemini(model_server), instruction="Route the user.", sub_agents=[spanish]
    )
    events = await run(triage, "Please answer in Spanish")
    transfers = [c.args for e in events for c in e.get_function_calls() if c.name == "transfer_to_agent"]
    assert transfers == [{"agent_name": "spanish_agent"}]
    assert events[-1].author == "spanish_agent"
    assert final_text(events) == "Echo: Please answer in Spanish"
