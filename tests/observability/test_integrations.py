"""A three-call agent per integration: its GenAI spans, its replay, and its usage ledger.

Each handler runs a real agent SDK against the scripted model server (three model requests), then
waits on a gate. The test closes the engine while the handler waits and opens a new one on the same
file: the replay answers all three model calls from the journal.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import agents
import openai
from google.adk.agents import LlmAgent
from google.adk.apps import App as AdkApp
from google.adk.models import Gemini
from google.adk.runners import Runner
from google.genai import types
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import agentdur
from agentdur.integrations.adk import DurablePlugin, DurableSessionService
from agentdur.integrations.litellm import acompletion
from agentdur.integrations.openai_agents import DurableRunner, durable_function_tool
from agentdur.testing import ScriptedModelServer

from ..engine.helpers import wait_until
from ._tree import span_tree

agents.set_tracing_disabled(True)

urls: dict[str, str] = {}
gates: dict[str, str] = {}


async def gate(ctx: agentdur.Context, name: str) -> None:
    gate_id, opened = ctx.awakeable()
    await ctx.run_typed("publish gate", gates.__setitem__, agentdur.RunOptions(), name, gate_id)
    await opened


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"sunny in {city}"


def get_time(city: str) -> str:
    """Get the local time in a city."""
    return f"noon in {city}"


llm = agentdur.Service("Llm")


@llm.handler()
async def three_calls(ctx: agentdur.Context, topic: str) -> list[str]:
    answers = []
    for i in range(3):
        response = await acompletion(
            model="openai/gpt-4o",
            messages=[{"role": "user", "content": f"{topic} part {i}"}],
            api_base=urls["openai"],
            api_key="test",
            name=f"LLM call {i}",
        )
        answers.append(str(response.choices[0].message.content))
    await gate(ctx, "litellm")
    return answers


openai_agents = agentdur.Service("OpenAIAgents")


@openai_agents.handler()
async def weather(ctx: agentdur.Context, message: str) -> str:
    client = openai.AsyncOpenAI(base_url=urls["openai"], api_key="test")
    agent = agents.Agent(
        name="Weather",
        instructions="Answer with the tools.",
        model=agents.OpenAIResponsesModel(model="gpt-4o", openai_client=client),
        tools=[durable_function_tool(get_weather), durable_function_tool(get_time)],
    )
    output = (await DurableRunner.run(agent, message)).final_output
    await gate(ctx, "openai")
    return str(output)


users = agentdur.VirtualObject("AdkUsers")


@users.handler()
async def adk_weather(ctx: agentdur.ObjectContext, message: str) -> str:
    model = Gemini(model="gemini-2.5-flash", base_url=urls["gemini"], client_kwargs={"api_key": "test"})
    agent = LlmAgent(name="weather", model=model, instruction="Weather.", tools=[get_weather, get_time])
    app = AdkApp(name="tests", root_agent=agent, plugins=[DurablePlugin()])
    runner = Runner(app=app, session_service=DurableSessionService(), auto_create_session=True)
    final = ""
    async for event in runner.run_async(
        user_id=ctx.key(),
        session_id="s1",
        new_message=types.Content(role="user", parts=[types.Part(text=message)]),
    ):
        if event.is_final_response() and event.content and event.content.parts:
            final = "".join(part.text or "" for part in event.content.parts)
    await gate(ctx, "adk")
    return final


APP = agentdur.App([llm, openai_agents, users])


def attribute(span: ReadableSpan, name: str) -> Any:
    return (span.attributes or {}).get(name)


def of_operation(spans: Sequence[ReadableSpan], operation: str) -> list[ReadableSpan]:
    return [s for s in spans if attribute(s, "gen_ai.operation.name") == operation]


def by_id(spans: Sequence[ReadableSpan]) -> dict[int, ReadableSpan]:
    return {s.context.span_id: s for s in spans if s.context is not None}


def parent_of(span: ReadableSpan, spans: Sequence[ReadableSpan]) -> ReadableSpan:
    assert span.parent is not None, span.name
    return by_id(spans)[span.parent.span_id]


async def run_then_replay(
    tmp_path: Path,
    spans: InMemorySpanExporter,
    server: ScriptedModelServer,
    target: tuple[str, str, str | None],
    arg: str,
    gate_name: str,
) -> tuple[list[ReadableSpan], list[ReadableSpan], dict[str, Any], Any]:
    """The spans of the first execution (up to the gate), those of the replay, the usage report by
    invocation, and the result."""
    urls.update(openai=server.openai_base_url, gemini=server.gemini_base_url)
    gates.clear()
    db = tmp_path / "traced.db"
    service, handler, key = target
    async with agentdur.Engine(APP, path=db) as engine:
        inv = await engine.send(service, handler, arg, key=key)
        await wait_until(lambda: gate_name in gates, what="the agent run reached its gate")
    first = list(spans.get_finished_spans())
    spans.clear()
    requests_before = server.count()
    async with agentdur.Engine(APP, path=db) as engine:
        await engine.resolve_awakeable(gates[gate_name], None)
        result = await engine.attach(inv)
        report = await engine.usage("invocation")
    assert server.count() == requests_before  # the replay sent no model request
    return first, list(spans.get_finished_spans()), report, result


def check_model_spans(chats: list[ReadableSpan], provider: str, model: str) -> None:
    assert len(chats) == 3
    for chat in chats:
        assert chat.name == f"chat {model}"
        assert attribute(chat, "gen_ai.provider.name") == provider
        assert attribute(chat, "gen_ai.request.model") == model
        assert attribute(chat, "gen_ai.response.model")
        assert attribute(chat, "gen_ai.usage.input_tokens") > 0
        assert attribute(chat, "gen_ai.usage.output_tokens") > 0
        assert attribute(chat, "gen_ai.response.finish_reasons")


def check_replay(
    first: list[ReadableSpan], second: list[ReadableSpan], report: dict[str, Any], step_prefix: str
) -> None:
    """No model or tool span again; every model step marked replayed; the same trace; the ledger
    counts three calls spent and three saved."""
    assert of_operation(second, "chat") == []
    assert of_operation(second, "execute_tool") == []
    replayed = [s for s in second if attribute(s, "agentdur.replayed") is True]
    model_steps = [s for s in replayed if str(attribute(s, "agentdur.step.name")).startswith(step_prefix)]
    assert len(model_steps) == 3
    assert all(s.start_time == s.end_time for s in replayed)
    executions = [s for s in second if s.name.startswith("invocation ")]
    assert len(executions) == 1
    assert attribute(executions[0], "agentdur.execution.reason") == "recovery"
    first_trace = {s.context.trace_id for s in first if s.context is not None}
    assert {s.context.trace_id for s in second if s.context is not None} == first_trace
    assert len(first_trace) == 1

    [row] = report["rows"]
    chats = of_operation(first, "chat")
    assert row["model_calls"] == 3 and row["saved_model_calls"] == 3
    spent_in = sum(attribute(c, "gen_ai.usage.input_tokens") for c in chats)
    assert row["input_tokens"] == spent_in == row["saved_input_tokens"]
    assert row["output_tokens"] == row["saved_output_tokens"] > 0
    assert row["cost_usd"] > 0 and row["saved_cost_usd"] == row["cost_usd"]
    assert report["total"]["model_calls"] == 3


async def test_litellm_three_calls(
    tmp_path: Path, spans: InMemorySpanExporter, model_server: ScriptedModelServer
) -> None:
    first, second, report, result = await run_then_replay(
        tmp_path, spans, model_server, ("Llm", "three_calls", None), "claims", "litellm"
    )
    chats = of_operation(first, "chat")
    check_model_spans(chats, "openai", "openai/gpt-4o")
    for i, chat in enumerate(sorted(chats, key=lambda s: s.start_time or 0)):
        step = parent_of(chat, first)
        assert step.name == f"run LLM call {i}"
        assert attribute(step, "agentdur.step.index") == i
        assert attribute(step, "agentdur.step.outcome") == "completed"
        assert parent_of(step, first).name == "invocation Llm/three_calls"
    check_replay(first, second, report, "LLM call")
    assert len(result) == 3


async def test_openai_agents_three_calls(
    tmp_path: Path, spans: InMemorySpanExporter, model_server: ScriptedModelServer
) -> None:
    model_server.script.tool_call("get_weather", {"city": "Paris"}).tool_call(
        "get_time", {"city": "Paris"}
    ).reply(text="Sunny at noon in Paris")
    first, second, report, result = await run_then_replay(
        tmp_path, spans, model_server, ("OpenAIAgents", "weather", None), "Weather in Paris?", "openai"
    )
    print(span_tree(first), "\n--- after recovery ---\n", span_tree(second), sep="")
    check_model_spans(of_operation(first, "chat"), "openai", "gpt-4o")
    tools = of_operation(first, "execute_tool")
    assert sorted(t.name for t in tools) == ["execute_tool get_time", "execute_tool get_weather"]
    [agent] = of_operation(first, "invoke_agent")
    assert agent.name == "invoke_agent Weather"
    assert all(parent_of(parent_of(c, first), first) is agent for c in of_operation(first, "chat"))
    check_replay(first, second, report, "LLM call")
    assert result == "Sunny at noon in Paris"


async def test_adk_three_calls(
    tmp_path: Path, spans: InMemorySpanExporter, model_server: ScriptedModelServer
) -> None:
    model_server.script.tool_call("get_weather", {"city": "Paris"}).tool_call(
        "get_time", {"city": "Paris"}
    ).reply(text="Sunny at noon in Paris")
    first, second, report, result = await run_then_replay(
        tmp_path, spans, model_server, ("AdkUsers", "adk_weather", "ann"), "Weather in Paris?", "adk"
    )
    check_model_spans(of_operation(first, "chat"), "gcp.gemini", "gemini-2.5-flash")
    assert sorted(t.name for t in of_operation(first, "execute_tool")) == [
        "execute_tool get_time",
        "execute_tool get_weather",
    ]
    assert [a.name for a in of_operation(first, "invoke_agent")] == ["invoke_agent weather"]
    check_replay(first, second, report, "LLM call")
    assert result == "Sunny at noon in Paris"


class SdkSpans(agents.TracingProcessor):
    """The OpenAI Agents SDK's own traces and spans, kept in memory (nothing is exported)."""

    def __init__(self) -> None:
        self.traces: list[str] = []
        self.spans: list[Any] = []

    def on_trace_start(self, trace: Any) -> None:
        self.traces.append(trace.trace_id)

    def on_trace_end(self, trace: Any) -> None:
        pass

    def on_span_start(self, span: Any) -> None:
        pass

    def on_span_end(self, span: Any) -> None:
        self.spans.append(span.span_data)

    def shutdown(self) -> None:
        pass

    def force_flush(self) -> None:
        pass


async def test_the_openai_agents_sdk_own_tracing_does_not_repeat_on_replay(
    tmp_path: Path, spans: InMemorySpanExporter, model_server: ScriptedModelServer
) -> None:
    sdk = SdkSpans()
    agents.set_trace_processors([sdk])
    agents.set_tracing_disabled(False)
    try:
        model_server.script.tool_call("get_weather", {"city": "Paris"}).tool_call(
            "get_time", {"city": "Paris"}
        ).reply(text="Sunny at noon in Paris")
        await run_then_replay(
            tmp_path, spans, model_server, ("OpenAIAgents", "weather", None), "Weather in Paris?", "openai"
        )
    finally:
        agents.set_tracing_disabled(True)
        agents.set_trace_processors([])
    functions = sorted(d.name for d in sdk.spans if d.type == "function")
    assert functions == ["get_time", "get_weather"]  # once each: the replay reported none again
    assert len(sdk.traces) == 1
    assert len([d for d in sdk.spans if d.type == "response"]) == 3
