"""The app the OpenAI Agents tests serve on both engines: real Agents SDK runs, several kinds of model.

Model calls go to the scripted model server whose OpenAI base URL is in ``AGENTDUR_TEST_OPENAI_BASE``;
the tests steer it with a reply function that reads the ``[label]`` in each conversation.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import re
import sys
import time
from typing import Any

import agents
from agents.mcp import MCPServerStdio, MCPServerStdioParams, MCPServerStreamableHttp
from openai import AsyncOpenAI
from pydantic import BaseModel

import agentdur
from agentdur.integrations.kit import ToolTurns
from agentdur.integrations.openai_agents import (
    INTERRUPT,
    Approvals,
    DurableRunner,
    DurableSession,
    WaitNotice,
    durable_function_tool,
)
from agentdur.patterns.approval import ApprovalNotice, Decision, request_approval

from ..effects import LOG_ENV, record, record_interval

BASE_ENV = "AGENTDUR_TEST_OPENAI_BASE"
BASE_URL = os.environ.get(BASE_ENV, "http://127.0.0.1:1/v1")

agents.set_tracing_disabled(True)
agents.set_default_openai_client(AsyncOpenAI(base_url=BASE_URL, api_key="test"), use_for_tracing=False)
agents.set_default_openai_api("responses")


def client() -> AsyncOpenAI:
    return AsyncOpenAI(base_url=BASE_URL, api_key="test")


# --------------------------------------------------------------------------------- tools


@durable_function_tool
def get_weather(city: str, label: str) -> str:
    """Get the current weather for a city."""
    record(f"weather {label}")
    return f"sunny in {city}"


@durable_function_tool
async def hold(label: str) -> str:
    """Wait for the operator (a crash test kills the process meanwhile)."""
    record(f"hold {label}")
    release = os.environ.get(LOG_ENV, "") + f".release-{label}"
    # Polls on the event loop: a tool blocking a worker thread per held call would starve the
    # default executor the HTTP clients resolve host names with.
    while not os.path.exists(release):  # noqa: ASYNC110, ASYNC240 - a file written by another process
        await asyncio.sleep(0.01)
    return f"released {label}"


def slow_tool(name: str) -> agents.FunctionTool:
    async def slow(label: str) -> str:
        record(f"start {name} {label} {time.time()}")
        await asyncio.sleep(1.0)
        record(f"end {name} {label} {time.time()}")
        return f"{name} done"

    slow.__name__ = name
    slow.__doc__ = f"The {name} analysis (takes a second)."
    return durable_function_tool(slow)


SLOW_TOOLS: list[agents.Tool] = [slow_tool(name) for name in ("slow_a", "slow_b", "slow_c")]


@durable_function_tool
async def refuse_claim(label: str) -> str:
    """Check the claim against the fraud list."""
    record(f"refuse {label}")
    raise agentdur.TerminalError(f"claim {label} is on the fraud list", 422)


async def publish(notice: ApprovalNotice) -> None:
    record(f"awakeable {notice.description.split()[-1]} {notice.awakeable_id}")


@durable_function_tool
async def ask_approval(wrapper: agents.RunContextWrapper[agentdur.Context], label: str) -> str:
    """Ask a human to approve the claim."""
    decision = await request_approval(
        wrapper.context, f"approve {label}", notify=publish, decision_type=Decision
    )
    return f"approved={decision.approved} by {decision.by}"


# --------------------------------------------------------------------- the SDK's own approvals


@durable_function_tool(needs_approval=True)
async def pay(label: str, amount: int) -> str:
    """Pay out the claim (needs a human's approval)."""
    record(f"pay {label}")
    return f"paid {amount}"


async def over_100(context: Any, arguments: dict[str, Any], call_id: str) -> bool:
    return int(arguments.get("amount", 0)) > 100


@agents.function_tool(needs_approval=over_100)
def pay_plain(label: str, amount: int) -> str:
    """Pay out the claim (amounts over 100 need approval)."""
    record(f"pay {label}")
    return f"paid {amount}"


def notify(notice: WaitNotice) -> None:
    found = re.search(r"label='(\w+)'|\[(\w+)\]", notice.description)  # a tool's or an agent's input
    run = next(group for group in found.groups() if group) if found else notice.description
    record(f"awakeable {run} {notice.awakeable_id}")
    record(f"notified {run}")


APPROVALS = Approvals(notify=notify)


def payer(kind: str) -> agents.Agent[Any]:
    """The agent whose pay tool needs approval: a durable tool, a plain one with a needs_approval
    function, an agent used as a tool that needs approval, or a nested agent's tool."""
    if kind == "durable":
        return agents.Agent(name="Payer", instructions="Pay.", model="gpt-4o", tools=[get_weather, pay])
    if kind == "function":
        return agents.Agent(name="Payer", instructions="Pay.", model="gpt-4o", tools=[get_weather, pay_plain])
    if kind == "agent_tool":  # the cashier's own tool needs no approval for small amounts
        cashier = agents.Agent(name="Cashier", instructions="Pay.", model="gpt-4o", tools=[pay_plain])
        ask = cashier.as_tool("ask_cashier", "Ask the cashier to pay.", needs_approval=True)
        return agents.Agent(name="Payer", instructions="Pay.", model="gpt-4o", tools=[get_weather, ask])
    if kind == "nested":
        cashier = agents.Agent(name="Cashier", instructions="Pay.", model="gpt-4o", tools=[pay])
        ask = cashier.as_tool("ask_cashier", "Ask the cashier to pay.")
        return agents.Agent(name="Payer", instructions="Pay.", model="gpt-4o", tools=[get_weather, ask])
    raise agentdur.TerminalError(f"unknown kind {kind}", 400)


# --------------------------------------------------------------------------------- agents


def responses_model() -> agents.Model:
    return agents.OpenAIResponsesModel(model="gpt-4o", openai_client=client())


def specialist(model: str | agents.Model | None) -> agents.Agent[Any]:
    return agents.Agent(
        name="Specialist", instructions="Check and hold.", model=model, tools=[get_weather, hold]
    )


def starting_agent(kind: str) -> tuple[agents.Agent[Any], agents.RunConfig | None]:
    tools: list[agents.Tool] = [get_weather, hold]
    if kind == "name":
        return agents.Agent(name="Weather", instructions="Weather.", model="gpt-4o", tools=tools), None
    if kind == "instance":
        return agents.Agent(
            name="Weather", instructions="Weather.", model=responses_model(), tools=tools
        ), None
    if kind == "run_config":
        model = agents.OpenAIChatCompletionsModel(model="gpt-4o", openai_client=client())
        return agents.Agent(name="Weather", instructions="Weather.", tools=tools), agents.RunConfig(
            model=model
        )
    if kind == "handoff":
        triage = agents.Agent(name="Triage", instructions="Route.", handoffs=[specialist(responses_model())])
        return triage, None
    if kind == "parallel":
        return agents.Agent(
            name="Parallel", instructions="Analyze.", model="gpt-4o", tools=[*SLOW_TOOLS, hold]
        ), None
    if kind == "agent_tool":
        nested = specialist(responses_model()).as_tool("ask_specialist", "Ask the specialist.")
        return agents.Agent(name="Orchestrator", instructions="Delegate.", tools=[nested]), None
    raise agentdur.TerminalError(f"unknown kind {kind}", 400)


class RunRequest(BaseModel):
    kind: str
    label: str


service = agentdur.Service("Agents")


@service.handler()
async def run(ctx: agentdur.Context, req: RunRequest) -> str:
    agent, run_config = starting_agent(req.kind)
    result = await DurableRunner.run(agent, f"[{req.label}] How is the weather?", run_config=run_config)
    return f"{result.last_agent.name}: {result.final_output}"


@service.handler()
async def stream(ctx: agentdur.Context, label: str) -> str:
    agent, _ = starting_agent("name")
    result = DurableRunner.run_streamed(agent, f"[{label}] How is the weather?")
    kinds = [event.data.type async for event in result.stream_events() if event.type == "raw_response_event"]
    record(f"stream {label} {len(kinds)} {kinds.count('response.output_text.delta')}")
    return str(result.final_output)


@service.handler()
async def parallel(ctx: agentdur.Context, label: str) -> str:
    agent = agents.Agent(name="Parallel", instructions="Analyze.", model="gpt-4o", tools=SLOW_TOOLS)
    result = await DurableRunner.run(agent, f"[{label}] Run all three analyses.")
    return str(result.final_output)


@service.handler()
async def fail(ctx: agentdur.Context, label: str) -> str:
    agent = agents.Agent(name="Claims", instructions="Check.", model="gpt-4o", tools=[refuse_claim])
    result = await DurableRunner.run(agent, f"[{label}] Check my claim.")
    return str(result.final_output)


@service.handler()
async def approve(ctx: agentdur.Context, label: str) -> str:
    agent = agents.Agent(name="Claims", instructions="Approve.", model="gpt-4o", tools=[ask_approval])
    result = await DurableRunner.run(agent, f"[{label}] Approve my claim.")
    return str(result.final_output)


@service.handler()
async def gated(ctx: agentdur.Context, req: RunRequest) -> str:
    """A run whose pay tool needs approval: the call waits durably for the decision."""
    result = await DurableRunner.run(payer(req.kind), f"[{req.label}] Pay my claim.", approvals=APPROVALS)
    return str(result.final_output)


@service.handler()
async def interrupted(ctx: agentdur.Context, req: RunRequest) -> str:
    """The SDK's own flow: interruptions, a state saved as JSON in the journal, approve, resume."""
    agent = payer(req.kind)
    result = await DurableRunner.run(agent, f"[{req.label}] Pay my claim.", approvals=INTERRUPT)
    rounds = 0
    while result.interruptions:
        rounds += 1
        state = result.to_state()
        saved = await ctx.run_typed(
            "Save run state", _state_json, agentdur.RunOptions(type_hint=dict[str, Any]), state
        )
        restored = await agents.RunState.from_json(
            agent, saved, context_override=agents.RunContextWrapper(ctx)
        )
        for item in result.interruptions:
            decision = await request_approval(
                ctx, f"approve {item.tool_name} {req.label}", notify=publish, decision_type=Decision
            )
            if decision.approved:
                restored.approve(item)
            else:
                restored.reject(item, rejection_message=f"rejected by {decision.by}")
        result = await DurableRunner.run(agent, restored, approvals=INTERRUPT)
    return f"{rounds} {result.final_output}"


async def _state_json(state: agents.RunState[Any]) -> dict[str, Any]:
    return state.to_json()


MCP_SERVER = os.path.join(os.path.dirname(__file__), "mcp_server.py")


@service.handler()
async def mcp(ctx: agentdur.Context, label: str) -> str:
    """An agent with an MCP server over stdio (the ``mcp`` package's own server, in a child process)."""
    params: MCPServerStdioParams = {
        "command": sys.executable,
        "args": [MCP_SERVER],
        "env": {LOG_ENV: os.environ.get(LOG_ENV, "")},
    }
    async with MCPServerStdio(params, name="bookings", client_session_timeout_seconds=60) as server:
        agent = agents.Agent(
            name="Booker", instructions="Book.", model="gpt-4o", tools=[hold], mcp_servers=[server]
        )
        result = await DurableRunner.run(agent, f"[{label}] Book my trip.")
    return str(result.final_output)


# ------------------------------------------- guardrails, hooks, on_handoff, instructions with steps


async def effect(name: str, label: str) -> str:
    """One journaled step recording ``<name> <label>``: made by SDK callbacks, not by tools."""

    async def once() -> str:
        record(f"{name} {label}")
        return name

    return await agentdur.current_context().run_typed(name, once, agentdur.RunOptions())


async def held(point: str) -> None:
    """A step body waiting for the operator (a crash test kills the process meanwhile)."""
    release = os.environ.get(LOG_ENV, "") + f".release-{point}"
    record(f"hold {point}")
    while not os.path.exists(release):  # noqa: ASYNC110, ASYNC240 - a file written by another process
        await asyncio.sleep(0.01)


CALLBACK_LABEL: contextvars.ContextVar[str] = contextvars.ContextVar("callback_label", default="?")


async def instructions(context: agents.RunContextWrapper[Any], agent: agents.Agent[Any]) -> str:
    await effect(f"instructions {agent.name}", CALLBACK_LABEL.get())
    return "Check and hold."


@agents.input_guardrail
async def guard_in(
    context: agents.RunContextWrapper[Any], agent: agents.Agent[Any], input: Any
) -> agents.GuardrailFunctionOutput:
    await effect("guard in", CALLBACK_LABEL.get())
    return agents.GuardrailFunctionOutput(output_info=None, tripwire_triggered=False)


def guard_out(name: str, holds: bool) -> agents.OutputGuardrail[Any]:
    async def check(
        context: agents.RunContextWrapper[Any], agent: agents.Agent[Any], output: Any
    ) -> agents.GuardrailFunctionOutput:
        label = CALLBACK_LABEL.get()
        await effect(f"guard {name} first", label)
        if holds:
            # In a step: a wait outside one (on a file, a timer, the network) while the other
            # guardrail makes steps would put this guardrail's next step at a place in Restate's
            # journal that depends on timing (docs/engines.md, "Limits").
            await agentdur.current_context().run_typed(
                "hold out", held, agentdur.RunOptions(), f"{label}-out"
            )
        await effect(f"guard {name} second", label)
        return agents.GuardrailFunctionOutput(output_info=None, tripwire_triggered=False)

    return agents.OutputGuardrail(guardrail_function=check, name=f"guard_{name}")


class StepHooks(agents.RunHooks[Any]):
    """Hooks that make durable steps."""

    async def on_agent_start(self, context: agents.RunContextWrapper[Any], agent: agents.Agent[Any]) -> None:
        await effect(f"hook start {agent.name}", CALLBACK_LABEL.get())

    async def on_tool_start(
        self, context: agents.RunContextWrapper[Any], agent: agents.Agent[Any], tool: agents.Tool
    ) -> None:
        await effect(f"hook tool {tool.name}", CALLBACK_LABEL.get())


async def on_handoff(context: agents.RunContextWrapper[Any]) -> None:
    await effect("on handoff", CALLBACK_LABEL.get())


@service.handler()
async def callbacks(ctx: agentdur.Context, label: str) -> str:
    """A run whose SDK callbacks all make durable steps: dynamic instructions, an input guardrail,
    hooks, an on_handoff callback and two concurrent output guardrails (one holds)."""
    CALLBACK_LABEL.set(label)
    specialist = agents.Agent(
        name="Specialist",
        instructions=instructions,
        model="gpt-4o",
        tools=[get_weather, hold],
        output_guardrails=[guard_out("a", holds=True), guard_out("b", holds=False)],
    )
    triage = agents.Agent(
        name="Triage",
        instructions=instructions,
        model="gpt-4o",
        handoffs=[agents.handoff(specialist, on_handoff=on_handoff)],
        input_guardrails=[guard_in],
    )
    result = await DurableRunner.run(triage, f"[{label}] How is the weather?", hooks=StepHooks())
    return str(result.final_output)


class McpOverHttp(BaseModel):
    label: str
    url: str


@service.handler()
async def mcp_http(ctx: agentdur.Context, req: McpOverHttp) -> str:
    """An agent with an MCP server over streamable HTTP (a process the test started)."""
    async with MCPServerStreamableHttp({"url": req.url}, name="bookings") as server:
        agent = agents.Agent(
            name="Booker", instructions="Book.", model="gpt-4o", tools=[hold], mcp_servers=[server]
        )
        result = await DurableRunner.run(agent, f"[{req.label}] Book my trip.")
    return str(result.final_output)


async def pause(name: str, seconds: float) -> str:
    record_interval(name, "start")
    await asyncio.sleep(seconds)
    record_interval(name, "end")
    return name


@service.handler()
async def turn(ctx: agentdur.Context, arrival: list[int]) -> list[str]:
    """A tool turn without a model: one-step calls at 0, 1, 3, 4 and, at 2, one that runs alone;
    the calls start in ``arrival`` order."""
    turns = ToolTurns()
    turns.begin([f"call{i}" for i in range(5)])

    async def call(i: int) -> str:
        slot = turns.slot(f"call{i}")
        assert slot is not None
        if i == 2:

            async def alone() -> str:
                first = await ctx.run_typed("alone a", pause, agentdur.RunOptions(), "alone a", 0.05)
                return (
                    first + " " + await ctx.run_typed("alone b", pause, agentdur.RunOptions(), "alone b", 0.0)
                )

            return await slot.alone(alone)
        return await slot.step(
            lambda: ctx.run_typed(f"step {i}", pause, agentdur.RunOptions(), f"step {i}", 0.5)
        )

    tasks = {i: asyncio.create_task(call(i)) for i in arrival}
    return [await tasks[i] for i in range(5)]


chat = agentdur.VirtualObject("Chat")


@chat.handler()
async def message(ctx: agentdur.ObjectContext, text: str) -> str:
    assistant = agents.Agent(name="Assistant", instructions="Chat.", model="gpt-4o")
    result = await DurableRunner.run(assistant, text, session=DurableSession())
    return str(result.final_output)


@chat.handler(kind="shared")
async def get_history(ctx: agentdur.ObjectSharedContext) -> list[Any]:
    return await ctx.get("items", type_hint=list[Any]) or []


app = agentdur.App([service, chat])
