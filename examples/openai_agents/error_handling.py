"""Error handling: bounded retries for model calls and tool steps, terminal errors handled in the handler.

- Model calls retry per ``run_options`` (here 2 attempts), honouring a provider's ``retry-after``;
  authentication and bad-request errors fail at once. Then the run fails with a TerminalError.
- The tool's step retries the weather API 3 times; then it fails terminally, and the terminal error
  propagates out of the run instead of being shown to the model as text.
- Ordinary tool errors (not terminal) go back to the model, as the Agents SDK does.

    agentdur serve examples.openai_agents.error_handling:app
    curl localhost:8080/ErrorHandlingAgent/run --json '{"message": "What is the weather like in Denver?"}'
"""

from __future__ import annotations

from datetime import timedelta

from agents import Agent, RunContextWrapper

import agentdur
from agentdur.integrations.openai_agents import DurableRunner, durable_function_tool

from .utils import Prompt, WeatherRequest, WeatherResponse, fetch_weather, run_config

WEATHER_API_RETRIES = agentdur.RunOptions[WeatherResponse](
    max_attempts=3, initial_retry_interval=timedelta(milliseconds=200)
)


@durable_function_tool
async def get_weather(wrapper: RunContextWrapper[agentdur.Context], req: WeatherRequest) -> WeatherResponse:
    """Get the current weather for a given city."""
    # After the third failed attempt the step fails terminally: the run stops, the model is not asked.
    return await wrapper.context.run_typed("Get weather", fetch_weather, WEATHER_API_RETRIES, city=req.city)


weather_agent = Agent[agentdur.Context](
    name="WeatherAgent",
    instructions="You are a helpful agent that provides weather updates.",
    tools=[get_weather],
)

agent_service = agentdur.Service("ErrorHandlingAgent")


@agent_service.handler()
async def run(ctx: agentdur.Context, prompt: Prompt) -> str:
    try:
        result = await DurableRunner.run(
            weather_agent,
            prompt.message,
            run_config=run_config(),
            run_options=agentdur.RunOptions(max_attempts=2),
        )
    except agentdur.TerminalError as error:
        return f"The agent couldn't complete the request: {error.message}"
    return str(result.final_output)


app = agentdur.App([agent_service])
