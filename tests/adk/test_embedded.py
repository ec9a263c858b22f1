"""The Google ADK integration in process, on the embedded engine: what replay rebuilds, in what order.

Each test runs real ADK code (``Runner`` + ``App`` + ``DurablePlugin`` + ``DurableSessionService``)
against the scripted model server's Gemini API. A handler that must be replayed waits on a gate (an
awakeable) after its agent run; the test closes the engine while it waits and opens a new one on the
same file, which replays the journal.
"""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before litellm is first imported

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from google.adk.agents import BaseAgent, LlmAgent, LoopAgent, ParallelAgent, SequentialAgent
from google.adk.agents.callback_context import CallbackContext
from google.adk.agents.run_config import RunConfig
from google.adk.apps import App
from google.adk.models import BaseLlm, Gemini
from google.adk.models.lite_llm import LiteLlm
from google.adk.models.llm_response import LlmResponse
from google.adk.runners import Runner
from google.adk.tools.agent_tool import AgentTool
from google.adk.tools.function_tool import FunctionTool
from google.adk.tools.tool_context import ToolContext
from google.genai import types
from pydantic import BaseModel

import agentdur
from agentdur.integrations.adk import (
    DurableLlm,
    DurablePlugin,
    DurableSessionService,
    durable_tool,
    own_steps,
    responses_from_json,
    responses_to_json,
)
from agentdur.testing import ModelReply, ModelRequest, ModelToolCall, ScriptedModelServer

from ..engine.helpers import wait_until

MODEL = "gemini-2.5-flash"
server_url: dict[str, str] = {}
gates: dict[str, str] = {}
effects: list[str] = []
responses: list[LlmResponse] = []
delays: dict[str, float] = {}


def gemini() -> Gemini:
    return Gemini(model=MODEL, base_url=server_url["url"], client_kwargs={"api_key": "test"})


def model_of(kind: str) -> BaseLlm:
    if kind == "litellm":
        return LiteLlm(model="openai/gpt-4o", api_base=server_url["openai"], api_key="test")
    return gemini()


async def record_response(callback_context: CallbackContext, llm_response: LlmResponse) -> None:
    responses.append(llm_response.model_copy(deep=True))


async def gate(ctx: agentdur.Context, name: str) -> None:
    gate_id, opened = ctx.awakeable()
    await ctx.run_typed("publish gate", gates.__setitem__, agentdur.RunOptions(), name, gate_id)
    await opened


def not_journaled(city: str) -> str:
    """Look the city up on the map (opted out of journaling)."""
    effects.append(f"map {city}")
    return f"{city} is on the map"


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
    model: str = "gemini"


async def run_agent(
    ctx: agentdur.ObjectContext, agent: BaseAgent, msg: Message, plugin: DurablePlugin | None = None
) -> str:
    app = App(name="tests", root_agent=agent, plugins=[plugin or DurablePlugin()])
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
        model=model_of(msg.model),
        instruction="Weather.",
        tools=[get_weather, durable_tool(not_journaled, as_step=False)],
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


def forecast(city: str, tool_context: ToolContext) -> dict[str, Any]:
    """The forecast for a city."""
    effects.append(f"forecast {city}")
    tool_context.state["last_city"] = city
    return {"city": city, "temperature": 21}


def flaky(city: str) -> str:
    """Look the city up in the flaky registry."""
    effects.append("flaky")
    raise ValueError(f"registry down for {city}")


async def with_own_steps(ctx: agentdur.Context, city: str) -> str:
    """Look the city up in two steps."""
    first = await ctx.run_typed("lookup", lambda: f"found {city}")
    second = await ctx.run_typed("confirm", lambda: "confirmed")
    return f"{first}, {second}"


@own_steps
async def marked_own_steps(city: str) -> str:
    """Check the city in the registry."""
    ctx = agentdur.current_context()
    return await ctx.run_typed("registry", lambda: f"{city} registered")


def refuse_claim(claim: str) -> str:
    """Check the claim against the fraud list."""
    effects.append(f"refuse {claim}")
    raise agentdur.TerminalError(f"claim {claim} is on the fraud list", 422)


@users.handler()
async def tools(ctx: agentdur.ObjectContext, msg: Message) -> dict[str, Any]:
    agent = LlmAgent(
        name="tools",
        model=gemini(),
        instruction="Use tools.",
        tools=[forecast, FunctionTool(flaky), with_own_steps, marked_own_steps],
    )
    output = await run_agent(ctx, agent, msg, DurablePlugin(tool_run_options=TWO_ATTEMPTS))
    session = await DurableSessionService().get_session(
        app_name="tests", user_id=ctx.key(), session_id=msg.session
    )
    await gate(ctx, "tools")
    assert session is not None
    return {"output": output, "last_city": session.state.get("last_city")}


@users.handler()
async def fail(ctx: agentdur.ObjectContext, msg: Message) -> str:
    agent = LlmAgent(name="claims", model=gemini(), instruction="Check.", tools=[refuse_claim])
    return await run_agent(ctx, agent, msg)


@users.handler()
async def plain(ctx: agentdur.ObjectContext, msg: Message) -> str:
    agent = LlmAgent(name="plain", model=gemini(), instruction="Answer.")
    return await run_agent(ctx, agent, msg, DurablePlugin(run_options=FAST))


REUSED: dict[str, LlmAgent] = {}


@users.handler()
async def reused(ctx: agentdur.ObjectContext, msg: Message) -> str:
    """One agent object for every call, run by plugins with different retries."""
    agent = REUSED.setdefault("agent", LlmAgent(name="reused", model=gemini(), instruction="Answer."))
    attempts = agentdur.RunOptions(
        max_attempts=int(msg.session), initial_retry_interval=timedelta(milliseconds=10)
    )
    return await run_agent(ctx, agent, msg, DurablePlugin(run_options=attempts))


@users.handler()
async def stream(ctx: agentdur.ObjectContext, msg: Message) -> str:
    agent = LlmAgent(name="weather", model=gemini(), instruction="Weather.", tools=[get_weather])
    app = App(name="tests", root_agent=agent, plugins=[DurablePlugin()])
    runner = Runner(app=app, session_service=DurableSessionService(), auto_create_session=True)
    final = ""
    async for event in runner.run_async(
        user_id=ctx.key(),
        session_id=msg.session,
        new_message=types.Content(role="user", parts=[types.Part(text=msg.text)]),
        run_config=RunConfig.model_validate({"streaming_mode": "sse"}),
    ):
        effects.append("partial" if event.partial else "complete")
        if event.is_final_response() and event.content and event.content.parts:
            final = "".join(part.text or "" for part in event.content.parts)
    await gate(ctx, "stream")
    return final


@users.handler()
async def team(ctx: agentdur.ObjectContext, msg: Message) -> str:
    """Every way ADK composes agents: a sequence of a parallel pair, a loop and an agent as a tool."""
    helper = LlmAgent(name="helper", model=gemini(), instruction="Help.", tools=[get_weather])
    root = SequentialAgent(
        name="pipeline",
        sub_agents=[
            ParallelAgent(
                name="both",
                sub_agents=[
                    LlmAgent(name="left", model=gemini(), instruction="Left.", output_key="left"),
                    LlmAgent(name="right", model=gemini(), instruction="Right.", output_key="right"),
                ],
            ),
            LoopAgent(
                name="loop",
                max_iterations=2,
                sub_agents=[LlmAgent(name="looped", model=gemini(), instruction="Again.")],
            ),
            LlmAgent(
                name="lead",
                model=gemini(),
                instruction="Ask the helper.",
                tools=[AgentTool(agent=helper)],
            ),
        ],
    )
    output = await run_agent(ctx, root, msg)
    await gate(ctx, "team")
    return output


FAST = agentdur.RunOptions(max_attempts=3, initial_retry_interval=timedelta(milliseconds=10))
TWO_ATTEMPTS = agentdur.RunOptions(max_attempts=2, initial_retry_interval=timedelta(milliseconds=10))
APP = agentdur.App([users])


@pytest.fixture(autouse=True)
def point_at(model_server: ScriptedModelServer) -> None:
    server_url["url"] = model_server.gemini_base_url
    server_url["openai"] = model_server.openai_base_url
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


@pytest.mark.parametrize("model", ["gemini", "litellm"])
async def test_replay_rebuilds_equal_responses_without_requests(
    tmp_path: Path, model_server: ScriptedModelServer, model: str
) -> None:
    result, _, _ = await run_and_replay(
        tmp_path / "r.db", "weather", {"text": "What is the weather in Paris?", "model": model}, "weather"
    )
    assert result == "Based on get_weather: sunny in Paris"
    assert model_server.count() == 2 and effects == ["weather Paris"]  # replay: no request, no tool run
    first, replayed = responses[:2], responses[2:]
    assert replayed == first
    content = first[0].content
    assert content is not None and content.parts is not None
    (call,) = content.parts
    assert call.function_call is not None and call.function_call.id  # journaled, the same on replay
    assert responses_from_json(responses_to_json(first)) == first


async def test_parallel_tools_run_concurrently_and_replay_in_any_order(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    calls = [("eligibility", {"claim": "c1"}), ("cost", {"claim": "c1"}), ("fraud", {"claim": "c1"})]
    journals: list[list[tuple[str, str]]] = []
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


async def test_tool_results_errors_state_and_own_steps_are_journaled(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    model_server.script.tool_calls(
        ("forecast", {"city": "Oslo"}),
        ("flaky", {"city": "Oslo"}),
        ("with_own_steps", {"city": "Oslo"}),
        ("marked_own_steps", {"city": "Oslo"}),
    )
    answers: list[str] = []

    def answer(request: ModelRequest) -> str:
        answers.append(" | ".join(r.content for r in request.tool_results))
        return "ok"

    model_server.script.respond_with(answer)
    result, inv, _ = await run_and_replay(tmp_path / "t.db", "tools", {"text": "Forecast for Oslo"}, "tools")
    assert result == {"output": "ok", "last_city": "Oslo"}  # the state change survived the replay
    assert (
        effects.count("forecast Oslo") == 1 and effects.count("flaky") == 2
    )  # two attempts (the plugin's), then the model
    assert len(answers) == 1 and model_server.count() == 2
    assert "ValueError: registry down for Oslo" in answers[0]
    assert "found Oslo, confirmed" in answers[0] and "Oslo registered" in answers[0]
    async with agentdur.Engine(APP, path=tmp_path / "t.db") as engine:
        names = [e.name for e in (await engine.invocation(inv)).journal]
    for name in ("Tool: forecast", "Tool: flaky", "lookup", "confirm", "registry"):
        assert names.count(name) == 1, (name, names)
    assert not any(name in names for name in ("Tool: with_own_steps", "Tool: marked_own_steps"))


async def test_terminal_error_in_a_tool_ends_the_run(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    model_server.script.tool_call("refuse_claim", {"claim": "c9"})
    async with agentdur.Engine(APP, path=tmp_path / "f.db") as engine:
        with pytest.raises(agentdur.TerminalError, match="claim c9 is on the fraud list") as failed:
            await engine.call("Users", "fail", {"text": "Check the claim c9"}, key="ann")
    assert failed.value.status_code == 422
    assert effects == ["refuse c9"] and model_server.count() == 1  # not retried, never shown to the model


async def test_model_retries_honour_retry_after_and_stop_on_auth_errors(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "m.db") as engine:
        model_server.faults.fail_next(1, status=429, retry_after=0.2)
        assert (
            await engine.call("Users", "plain", {"text": "hello", "session": "a"}, key="ann") == "Echo: hello"
        )
        assert model_server.count() == 2
        model_server.faults.fail_next(1, status=401)
        with pytest.raises(agentdur.TerminalError) as failed:
            await engine.call("Users", "plain", {"text": "hello", "session": "b"}, key="ann")
        assert failed.value.status_code == 401 and model_server.count() == 3
        model_server.faults.fail_next(3, status=503)
        with pytest.raises(agentdur.TerminalError, match="after 3 attempt"):
            await engine.call("Users", "plain", {"text": "hello", "session": "c"}, key="ann")


async def test_streamed_run_streams_live_then_replays_the_journaled_responses(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    result, _, split = await run_and_replay(
        tmp_path / "s.db", "stream", {"text": "What is the weather in Paris?"}, "stream"
    )
    assert result == "Based on get_weather: sunny in Paris"
    assert model_server.count() == 2 and all(
        r.request is not None and r.request.stream for r in model_server.requests
    )
    live, replayed = effects[:split], effects[split:]
    assert "partial" in live
    assert "partial" not in replayed and replayed.count("complete") == live.count("complete")
    assert effects.count("weather Paris") == 1


async def test_every_model_call_of_composed_agents_is_journaled(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    def steer(request: ModelRequest) -> ModelReply | None:
        if "helper" in request.tool_names and not request.tool_results:
            return ModelReply(
                tool_calls=(ModelToolCall("helper", {"request": "What is the weather in Paris?"}),)
            )
        return None

    model_server.script.respond_with(steer)
    # The parallel pair's "left" answers late, so its events reach the runner after "right"'s: the
    # other order than the sub-agents were created in, which a replay must follow.
    held: list[ModelRequest] = []

    def left(request: ModelRequest) -> bool:
        if any("Left." in message.content for message in request.messages):
            held.append(request)
        return request in held

    model_server.faults.hold(1.0, left)
    result, inv, _ = await run_and_replay(
        tmp_path / "c.db", "team", {"text": "What is the weather in Paris?"}, "team"
    )
    first = model_server.count()
    assert len(held) == 1  # the hold met "left"'s call
    # left, right, looped twice, lead (calls the helper), helper (tool call and answer), lead's answer
    assert first == 8
    assert effects.count("weather Paris") == 1
    assert result == "Based on helper: Based on get_weather: sunny in Paris"
    async with agentdur.Engine(APP, path=tmp_path / "c.db") as engine:
        names = [e.name for e in (await engine.invocation(inv)).journal]
    assert names.count(f"LLM call: {MODEL}") == first and names.count("Tool: get_weather") == 1


async def test_a_tool_opted_out_runs_again_on_replay(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    model_server.script.tool_call("not_journaled", {"city": "Oslo"})
    result, _, _ = await run_and_replay(
        tmp_path / "o.db", "weather", {"text": "Is Oslo on the map?"}, "weather"
    )
    assert result == "Based on not_journaled: Oslo is on the map"
    assert effects == ["map Oslo", "map Oslo"] and model_server.count() == 2  # ran again, model replayed


async def test_a_reused_agent_gets_the_retries_of_the_plugin_running_it(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    REUSED.clear()
    async with agentdur.Engine(APP, path=tmp_path / "u.db") as engine:
        model_server.faults.fail_next(1, status=503)
        with pytest.raises(agentdur.TerminalError, match="after 1 attempt"):
            await engine.call("Users", "reused", {"text": "hello", "session": "1"}, key="ann")
        model_server.faults.fail_next(1, status=503)
        assert (
            await engine.call("Users", "reused", {"text": "hello", "session": "2"}, key="bob")
            == "Echo: hello"
        )
    assert model_server.count() == 3
