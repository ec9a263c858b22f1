"""The OpenAI Agents SDK (Responses API model) against the scripted model server."""

from __future__ import annotations

from typing import Any

import agents
import openai
import pytest
from pydantic import BaseModel

from agentdur.testing import ScriptedModelServer

from .helpers import WEATHER_ANSWER, WEATHER_QUESTION, weather

agents.set_tracing_disabled(True)


@agents.function_tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return weather(city)


def model(server: ScriptedModelServer, **options: Any) -> Any:
    client = openai.AsyncOpenAI(base_url=server.openai_base_url, api_key="test", **options)
    return agents.OpenAIResponsesModel(model="gpt-4o", openai_client=client)


def weather_agent(server: ScriptedModelServer, **options: Any) -> Any:
    return agents.Agent(
        name="Weather",
        instructions="Answer weather questions.",
        model=model(server, **options),
        tools=[get_weather],
    )


async def test_agent_calls_the_tool_and_answers_from_its_result(model_server: ScriptedModelServer) -> None:
    result = await agents.Runner.run(weather_agent(model_server), WEATHER_QUESTION)
    assert result.final_output == WEATHER_ANSWER
    assert model_server.count(api="responses") == 2
    first, second = model_server.model_requests()
    assert first.tool_names == ("get_weather",) and first.system == "Answer weather questions."
    assert [m.content for m in second.tool_results] == [weather("Paris")]


async def test_streamed_run_gets_the_same_answer(model_server: ScriptedModelServer) -> None:
    run = agents.Runner.run_streamed(weather_agent(model_server), WEATHER_QUESTION)
    deltas = [
        event.data.delta
        async for event in run.stream_events()
        if event.type == "raw_response_event" and event.data.type == "response.output_text.delta"
    ]
    assert run.final_output == WEATHER_ANSWER
    assert "".join(deltas) == WEATHER_ANSWER
    assert all(r.request is not None and r.request.stream for r in model_server.requests)
    assert model_server.count(api="responses") == 2


async def test_scripted_tool_call_and_reply(model_server: ScriptedModelServer) -> None:
    model_server.script.tool_call("get_weather", {"city": "Lima"}).reply("Scripted: it is sunny in Lima")
    result = await agents.Runner.run(weather_agent(model_server), "anything")
    assert result.final_output == "Scripted: it is sunny in Lima"
    assert model_server.model_requests()[1].tool_results[0].content == weather("Lima")
    assert model_server.script.pending == 0


async def test_runs_are_deterministic(model_server: ScriptedModelServer) -> None:
    await agents.Runner.run(weather_agent(model_server), WEATHER_QUESTION)
    await agents.Runner.run(weather_agent(model_server), WEATHER_QUESTION)
    replies = [r.reply for r in model_server.requests]
    assert replies[:2] == replies[2:]


async def test_handoff_routes_to_the_named_agent(model_server: ScriptedModelServer) -> None:
    spanish = agents.Agent(name="Spanish agent", instructions="Answer in Spanish.", model=model(model_server))
    triage = agents.Agent(
        name="Triage", instructions="Route the user.", model=model(model_server), handoffs=[spanish]
    )
    result = await agents.Runner.run(triage, "Please answer me in Spanish")
    assert result.last_agent.name == "Spanish agent"
    assert result.final_output == "Echo: Please answer me in Spanish"


class Forecast(BaseModel):
    city: str
    temperature: int


async def test_structured_output_fills_the_schema_from_the_message(model_server: ScriptedModelServer) -> None:
    agent = agents.Agent(name="Forecaster", model=model(model_server), output_type=Forecast)
    result = await agents.Runner.run(agent, "Forecast for Berlin at 21 degrees")
    assert result.final_output == Forecast(city="Berlin", temperature=21)


async def test_rate_limit_surfaces_from_the_runner(model_server: ScriptedModelServer) -> None:
    model_server.faults.fail_next(1, status=429)
    with pytest.raises(openai.RateLimitError):
        await agents.Runner.run(weather_agent(model_server, max_retries=0), WEATHER_QUESTION)
    result = await agents.Runner.run(weather_agent(model_server, max_retries=0), WEATHER_QUESTION)
    assert result.final_output == WEATHER_ANSWER
