"""WeatherAgent: an existing OpenAI agent made durable with one line.

``DurableRunner.run`` journals every model call; the tool makes its API call a durable step with
the handler's context, so a crash after the call never repeats it.

    agentdur serve examples.openai_agents.durable_agent:app
    curl localhost:8080/WeatherAgent/run --json '{"message": "What is the weather like in San Francisco?"}'

Ask about Denver and the (fake) weather API fails: the invocation retries, and the journal keeps the
model call that asked for the weather. Set ``WEATHER_API_FIXED=1``, restart, and it finishes.
"""

from __future__ import annotations

from agents import Agent, RunContextWrapper

import agentdur
from agentdur.integrations.openai_agents import DurableRunner, durable_function_tool

from .utils import Prompt, WeatherRequest, WeatherResponse, fetch_weather, run_config


@durable_function_tool
async def get_weather(wrapper: RunContextWrapper[agentdur.Context], req: WeatherRequest) -> WeatherResponse:
    """Get the current weather for a given city."""
    # A durable step with the handler's context: journaled, retried, never repeated once done.
    return await wrapper.context.run_typed("Get weather", fetch_weather, city=req.city)


weather_agent = Agent[agentdur.Context](
    name="WeatherAgent",
    instructions="You are a helpful agent that provides weather updates.",
    tools=[get_weather],
)

agent_service = agentdur.Service("WeatherAgent")


@agent_service.handler()
async def run(ctx: agentdur.Context, prompt: Prompt) -> str:
    # The tools get the handler's context as their run context (RunContextWrapper[agentdur.Context]).
    result = await DurableRunner.run(weather_agent, prompt.message, run_config=run_config())
    return str(result.final_output)


app = agentdur.App([agent_service])
