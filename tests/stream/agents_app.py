"""The app the streaming integration tests serve: OpenAI Agents and ADK runs that stream.

Model calls go to the scripted model server whose base URLs are in ``AGENTDUR_TEST_OPENAI_BASE`` and
``AGENTDUR_TEST_GEMINI_BASE``; the tests script its answers.
"""

from __future__ import annotations

import os

import agents
from google.adk.agents import LlmAgent, RunConfig
from google.adk.agents.run_config import (  # type: ignore[attr-defined]  # documented path, not in its __all__
    StreamingMode,
)
from google.adk.apps import App
from google.adk.models import Gemini
from google.adk.runners import Runner
from google.genai import types
from openai import AsyncOpenAI

import agentdur
from agentdur.integrations.adk import DurablePlugin, DurableSessionService
from agentdur.integrations.openai_agents import DurableRunner, durable_function_tool

OPENAI_BASE = os.environ.get("AGENTDUR_TEST_OPENAI_BASE", "http://127.0.0.1:1/v1")
GEMINI_BASE = os.environ.get("AGENTDUR_TEST_GEMINI_BASE", "http://127.0.0.1:1/")

agents.set_tracing_disabled(True)
agents.set_default_openai_client(AsyncOpenAI(base_url=OPENAI_BASE, api_key="test"), use_for_tracing=False)
agents.set_default_openai_api("responses")

streaming = agentdur.Service("Streaming")
adk_streaming = agentdur.VirtualObject("AdkStreaming")


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"sunny in {city}"


@streaming.handler()
async def openai_agent(ctx: agentdur.Context, question: str) -> str:
    """``DurableRunner.run_streamed`` with a tool; the handler consumes the SDK's own stream."""
    agent = agents.Agent(
        name="Weather", instructions="Answer.", model="gpt-4o", tools=[durable_function_tool(get_weather)]
    )
    result = DurableRunner.run_streamed(agent, question)
    async for _ in result.stream_events():
        pass
    return str(result.final_output)


@adk_streaming.handler()
async def adk_agent(ctx: agentdur.ObjectContext, question: str) -> str:
    """An ADK run in SSE streaming mode with ``DurablePlugin``."""
    model = Gemini(model="gemini-2.5-flash", base_url=GEMINI_BASE, client_kwargs={"api_key": "test"})
    agent = LlmAgent(name="weather", model=model, instruction="Answer.", tools=[get_weather])
    app = App(name="streaming", root_agent=agent, plugins=[DurablePlugin()])
    runner = Runner(app=app, session_service=DurableSessionService(), auto_create_session=True)
    final = ""
    async for event in runner.run_async(
        user_id=ctx.key(),
        session_id="s1",
        new_message=types.Content(role="user", parts=[types.Part(text=question)]),
        run_config=RunConfig(streaming_mode=StreamingMode.SSE),
    ):
        if event.is_final_response() and event.content and event.content.parts and not event.partial:
            final = "".join(part.text or "" for part in event.content.parts)
    return final


app = agentdur.App([streaming, adk_streaming])
