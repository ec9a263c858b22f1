"""WeatherAgent: an ADK agent made durable by one plugin.

``DurablePlugin`` journals every model call; the tool makes its API call a durable step with the
handler's context (it takes ``agentdur.Context``), so a crash after the call never repeats it.

    agentdur serve examples.google_adk.durable_agent:app
    curl localhost:8080/WeatherAgent/user123/run --json '{"message": "What is the weather like in San Francisco?"}'

Ask about Denver and the (fake) weather API fails: the invocation retries, and the journal keeps the
model call that asked for the weather. Set ``WEATHER_API_FIXED=1``, restart, and it finishes.
"""

from __future__ import annotations

from typing import Any

from google.adk.agents import LlmAgent

import agentdur

from .utils import Prompt, fetch_weather, model, run_agent


async def get_weather(ctx: agentdur.Context, city: str) -> dict[str, Any]:
    """Get the current weather for a given city."""
    # A durable step with the handler's context: journaled, retried, never repeated once done.
    return await ctx.run_typed("Get weather", fetch_weather, city=city)


weather_agent = LlmAgent(
    name="weather_agent",
    model=model(),
    instruction="You are a helpful agent that provides weather updates.",
    tools=[get_weather],
)

agent_service = agentdur.VirtualObject("WeatherAgent")


@agent_service.handler()
async def run(ctx: agentdur.ObjectContext, prompt: Prompt) -> str:
    return await run_agent(ctx, weather_agent, prompt.message, session_id=prompt.session_id)


app = agentdur.App([agent_service])
