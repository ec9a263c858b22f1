"""An OpenAI Agents service written for restate-sdk's ``restate.ext.openai``; only the imports changed
(``restate`` -> ``agentdur.compat.restate``, ``restate.ext.openai`` -> ``agentdur.compat.restate.ext.openai``)."""

from __future__ import annotations

import os

import agents
import openai

import agentdur.compat.restate as restate
from agentdur.compat.restate.ext.openai import DurableRunner, durable_function_tool, restate_context

from ..effects import record

MODEL_URL_ENV = "PORTED_MODEL_URL"

agents.set_tracing_disabled(True)


def fetch_weather(city: str) -> str:
    record(f"weather {city}")
    return f"sunny in {city}"


@durable_function_tool
async def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return await restate_context().run_typed("Get weather", fetch_weather, restate.RunOptions(), city)


agent_service = restate.Service("WeatherAgent")


@agent_service.handler()
async def run(ctx: restate.Context, message: str) -> str:
    client = openai.AsyncOpenAI(base_url=os.environ[MODEL_URL_ENV], api_key="test")
    model = agents.OpenAIResponsesModel(model="gpt-4o", openai_client=client)
    agent = agents.Agent(
        name="WeatherAgent", instructions="Answer weather questions.", model=model, tools=[get_weather]
    )
    result = await DurableRunner.run(agent, message)
    return str(result.final_output)


app = restate.app(services=[agent_service])
