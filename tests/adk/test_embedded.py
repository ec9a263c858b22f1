"""The Google ADK integration in process, on the embedded engine: what replay rebuilds, in what order.

Each test runs real ADK code (``Runner`` + ``App`` + ``DurablePlugin`` + ``DurableSessionService``)
against the scripted model server's Gemini API. A handler that must be replayed waits on a gate (an
awakeable) after its agent run; the test closes the engine while it waits and opens a new one on the
same file, which replays the journal.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from agentdur.integrations.adk import (
    DurableLlm,
    DurablePlugin,
    DurableSessionService,
    responses_from_json,
    responses_to_json,
)
from google.adk.agents import LlmAgent
from google.adk.agents.callback_context import CallbackContext
from google.adk.apps import App
from google.adk.models import Gemini
from google.adk.models.llm_response import LlmResponse
from google.adk.runners import Runner
from google.genai import types
from pydantic import BaseModel

import agentdur
from agentdur.testing import ScriptedModelServer

from ..engine.helpers import wait_until

MODEL = "gemini-2.5-flash"
server_url: dict[str, str] = {}
gates: dict[str, str] = {}
effects: list[str] = []
responses: list[LlmResponse] = []
delays: dict[str, float] = {}


def gemini() -> Gemini:
    return Gemini(model=MODEL, base_url=server_url["url"], client_kwargs={"api_key": "test"})


async def record_response(callback_context: CallbackContext, llm_response: LlmResponse) -> None:
    responses.append(llm_response.model_copy(deep=True))


async def gate(ctx: agentdur.Context, name: str) -> None:
    gate_id, opened = ctx.awakeable()
    await ctx.run_typed("publish gate", gates.__setitem__, agentdur.RunOptions(), name, gate_id)
    await opened


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    effects.append(f"weather {city}")
    return f"sunny in {city}"


def analysis(name: str) -> Any:
    async def run_analysis(claim: str) -> str:
        effects.append(f"start {name}")
        await asyncio.sleep(delays.get(name, 0.0))
        effects.append(f"done {name}")
        return f"{name} ok"

    run_analysis.__name__ = name
    run_analysis.__doc__ = f"The {name} analysis of a claim."
    return run_analysis


ANALYSES = [analysis(name) for name in ("eligibility", "cost", "fraud")]


class Message(BaseModel):
    text: str
    session: str = "s1"


async def run_agent(ctx: agentdur.ObjectContext, agent: LlmAgent, msg: Message) -> str:
    app = App(name="tests", root_agent=agent, plugins=[DurablePlugin()])
    runner = Runner(app=app, session_service=DurableSessionService(), auto_create_session=True)
    final = ""
    async for event in runner.run_async(
        user_id=ctx.key(),
        session_id=msg.session,
        new_message=types.Content(role="user", parts=[types.Part(text=msg.text)]),
    ):
        if event.is_final_response() and event.content and event.content.parts:
            final = "".join(part.text or "" for part in event.content.parts)
    return final


users = agentdur.VirtualObject("Users")


@users.handler()
async def weather(ctx: agentdur.ObjectContext, msg: Message) -> str:
    agent = LlmAgent(
        name="weather",
        model=gemini(),
        instruction="Weather.",
        tools=[get_weather],
        after_model_callback=record_response,
    )
    output = await run_agent(ctx, agent, msg)
    await gate(ctx, "weather")
    return output


@users.handler()
async def analyze(ctx: agentdur.ObjectContext, msg: Message) -> str:
    agent = LlmAgent(name="claims", model=gemini(), instruction="Analyze.", tools=ANALYSES)
    output = await run_agent(ctx, agent, msg)
    await gate(ctx, "analyze")
    return output


APP = agentdur.App([users])


@pytest.fixture(autouse=True)
def point_at(model_server: ScriptedModelServer) -> None:
    server_url["url"] = model_server.gemini_base_url
    for kept in (gates, responses, effects, delays):
        kept.clear()


async def run_and_replay(db: Path, handler: str, arg: Any, gate_name: str) -> tuple[Any, str, int]:
    """Run ``handler`` up to its gate, restart the engine (replay), open the gate."""
    async with agentdur.Engine(APP, path=db) as engine:
        inv = await engine.send("Users", handler, arg, key="ann")
        await wait_until(lambda: gate_name in gates, what="gate published")
        first_execution = len(effects)
    async with agentdur.Engine(APP, path=db) as engine:
        await engine.resolve_awakeable(gates[gate_name], None)
        return await engine.attach(inv), inv, first_execution


async def test_replay_rebuilds_equal_responses_without_requests(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    result, _, _ = await run_and_replay(
        tmp_path / "r.db", "weather", {"text": "What is the weather in Paris?"}, "weather"
    )
    assert result == "Based on get_weather: sunny in Paris"
    assert model_server.count() == 2 and effects == ["weather Paris"]  # replay: no request, no tool run
    first, replayed = responses[:2], responses[2:]
    assert replayed == first
    (call,) = first[0].content.parts  # type: ignore[union-attr]
    assert call.function_call is not None and call.function_call.id.startswith("adk-")  # type: ignore[union-attr]
    assert responses_from_json(responses_to_json(first)) == first


async def test_parallel_tools_run_concurrently_and_replay_in_any_order(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    calls = [("eligibility", {"claim": "c1"}), ("cost", {"claim": "c1"}), ("fraud", {"claim": "c1"})]
    journals = []
    for order in ((0.3, 0.2, 0.1), (0.1, 0.2, 0.3)):
        for (name, _), delay in zip(calls, order, strict=True):
            delays[name] = delay
        model_server.script.tool_calls(*calls)
        gates.clear()
        effects.clear()
        db = tmp_path / f"p{len(journals)}.db"
        result, inv, _ = await run_and_replay(db, "analyze", {"text": "Check claim c1"}, "analyze")
        assert result == "Based on eligibility: eligibility ok; cost: cost ok; fraud: fraud ok"
        assert [e for e in effects if e.startswith("start")] == [
            "start eligibility",
            "start cost",
            "start fraud",
        ]
        assert effects.index("done eligibility") > effects.index("start fraud")  # they overlapped
        async with agentdur.Engine(APP, path=db) as engine:
            journals.append([(e.kind, e.name) for e in (await engine.invocation(inv)).journal])
    names = [name for _, name in journals[0]]
    assert sorted(n for n in names if n.startswith("Tool:")) == [
        "Tool: cost",
        "Tool: eligibility",
        "Tool: fraud",
    ]
    assert names.count("LLM call: gemini-2.5-flash") == 2


def test_durable_llm_is_a_base_llm() -> None:
    server_url["url"] = "http://127.0.0.1:1/"
    wrapped = DurableLlm(gemini())
    assert wrapped.model == MODEL and wrapped.step_name == f"LLM call: {MODEL}"
