"""Error handling: bounded retries for model calls and tool steps, terminal errors handled in the handler.

- Model calls retry per ``DurablePlugin(run_options=...)`` (here 2 attempts), honouring a provider's
  ``retry-after``; authentication and bad-request errors fail at once. Then the run fails with a
  TerminalError.
- The tool's step retries the weather API 3 times; then it fails terminally, and the terminal error
  ends the run instead of being shown to the model.
- Ordinary errors of a plain function tool go back to the model as ``{"error": ...}``.

    agentdur serve examples.google_adk.error_handling:app
    curl localhost:8080/ErrorHandlingAgent/user123/run --json '{"message": "What is the weather like in Denver?"}'
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from google.adk.agents import LlmAgent

import agentdur
from agentdur.integrations.adk import DurablePlugin

from .utils import Prompt, fetch_weather, model, run_agent

WEATHER_API_RETRIES = agentdur.RunOptions[dict[str, Any]](
    max_attempts=3, initial_retry_interval=timedelta(milliseconds=200)
)


async def get_weather(ctx: agentdur.Context, city: str) -> dict[str, Any]:
    """Get the current weather for a given city."""
    # After the third failed attempt the step fails terminally: the run stops, the model is not asked.
    return await ctx.run_typed("Get weather", fetch_weather, WEATHER_API_RETRIES, city=city)


weather_agent = LlmAgent(
    name="weather_agent",
    model=model(),
    instruction="You are a helpful agent that provides weather updates.",
    tools=[get_weather],
)

agent_service = agentdur.VirtualObject("ErrorHandlingAgent")


@agent_service.handler()
async def run(ctx: agentdur.ObjectContext, prompt: Prompt) -> str:
    plugin = DurablePlugin(run_options=agentdur.RunOptions(max_attempts=2))
    try:
        return await run_agent(
            ctx, weather_agent, prompt.message, session_id=prompt.session_id, plugin=plugin
        )
    except agentdur.TerminalError as error:
        return f"The agent couldn't complete the request: {error.message}"


app = agentdur.App([agent_service])
