"""The OpenAI Agents integration in process, on the embedded engine: what replay rebuilds, in what order.

Each test runs real Agents SDK code against the scripted model server. A handler that must be replayed
waits on a gate (an awakeable) after its agent run; the test closes the engine while it waits and
opens a new one on the same file, which replays the journal.
"""

from __future__ import annotations

import asyncio
import operator
import os
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import agents
import openai
import pytest
from agents.items import ModelResponse
from agents.tool import default_tool_error_function
from pydantic import BaseModel

import agentdur
from agentdur.integrations.openai_agents import (
    Approvals,
    DurableModel,
    DurableRunner,
    DurableSession,
    WaitNotice,
    durable_function_tool,
    response_from_json,
    response_to_json,
)
from agentdur.testing import ModelReply, ModelRequest, ModelToolCall, ScriptedModelServer

from ..engine.helpers import wait_until

agents.set_tracing_disabled(True)
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before litellm is first imported

server_url: dict[str, str] = {}
gates: dict[str, str] = {}
responses: list[ModelResponse] = []
effects: list[str] = []
# Points a tool waits at until the test lets it pass ("arrive NAME", "run NAME"), and those it passed.
held: dict[str, asyncio.Event] = {}
passed: list[str] = []


async def hold(point: str) -> None:
    """Wait until the test releases ``point`` (at once when the test holds nothing there)."""
    if point in held:
        await held[point].wait()
    passed.append(point)


async def release_in_order(points: list[str]) -> None:
    """Release the held points one by one, each once the one before it was passed."""
    for point in points:
        held[point].set()
        await wait_until(partial(operator.contains, passed, point), what=f"{point} passed")


def client() -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server_url["url"], api_key="test")


def model(kind: str) -> Any:
    if kind == "responses":
        return agents.OpenAIResponsesModel(model="gpt-4o", openai_client=client())
    if kind == "chat":
        return agents.OpenAIChatCompletionsModel(model="gpt-4o", openai_client=client())
    from agents.extensions.models.litellm_model import LitellmModel

    return LitellmModel(model="openai/gpt-4o", base_url=server_url["url"], api_key="test")


class Recorder(agents.RunHooks[Any]):
    """Keeps every ModelResponse the runner got, and holds tools so they reach the journal out of order."""

    async def on_llm_end(self, context: Any, agent: Any, response: ModelResponse) -> None:
        responses.append(response)

    async def on_tool_start(self, context: Any, agent: Any, tool: Any) -> None:
        await hold(f"arrive {tool.name}")


async def gate(ctx: agentdur.Context, name: str) -> None:
    gate_id, opened = ctx.awakeable()
    await ctx.run_typed("publish gate", gates.__setitem__, agentdur.RunOptions(), name, gate_id)
    await opened


@durable_function_tool
async def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    effects.append(f"weather {city}")
    return f"sunny in {city}"


def analysis(name: str) -> agents.FunctionTool:
    async def run_analysis(claim: str) -> str:
        await hold(f"run {name}")
        effects.append(f"done {name}")
        return f"{name} ok"

    run_analysis.__name__ = name
    run_analysis.__doc__ = f"The {name} analysis of a claim."
    return durable_function_tool(run_analysis)


ANALYSES: list[agents.Tool] = [analysis(name) for name in ("eligibility", "cost", "fraud")]


class Forecast(BaseModel):
    city: str
    temperature: int


@durable_function_tool
def forecast(city: str) -> Forecast:
    """The forecast for a city."""
    effects.append(f"forecast {city}")
    return Forecast(city=city, temperature=21)


@durable_function_tool(
    run_options=agentdur.RunOptions(max_attempts=3, initial_retry_interval=timedelta(milliseconds=10))
)
async def flaky(city: str) -> str:
    """Look the city up in the flaky registry."""
    effects.append("flaky")
    raise ValueError(f"registry down for {city}")


@durable_function_tool
async def with_own_steps(wrapper: agents.RunContextWrapper[agentdur.Context], city: str) -> str:
    """Look the city up in two steps."""
    first = await wrapper.context.run_typed("lookup", lambda: f"found {city}")
    second = await wrapper.context.run_typed("confirm", lambda: "confirmed")
    return f"{first}, {second}"


class Run(BaseModel):
    kind: str = "responses"
    message: str = "What is the weather in Paris?"
    stream: bool = False


svc = agentdur.Service("Agents")


@svc.handler()
async def weather(ctx: agentdur.Context, run: Run) -> str:
    agent = agents.Agent(name="Weather", instructions="Weather.", model=model(run.kind), tools=[get_weather])
    if run.stream:
        streamed = DurableRunner.run_streamed(agent, run.message, hooks=Recorder())
        async for event in streamed.stream_events():
            if event.type == "raw_response_event":
                effects.append(f"event {event.data.type}")
        output = streamed.final_output
    else:
        output = (await DurableRunner.run(agent, run.message, hooks=Recorder())).final_output
    await gate(ctx, "weather")
    return str(output)


@svc.handler()
async def analyze(ctx: agentdur.Context, claim: str) -> str:
    agent = agents.Agent(name="Claims", instructions="Analyze.", model=model("responses"), tools=ANALYSES)
    result = await DurableRunner.run(agent, claim, hooks=Recorder())
    await gate(ctx, "analyze")
    return str(result.final_output)


@svc.handler()
async def tools(ctx: agentdur.Context, message: str) -> str:
    agent = agents.Agent(
        name="Tools",
        instructions="Use tools.",
        model=model("responses"),
        tools=[forecast, flaky, with_own_steps],
    )
    result = await DurableRunner.run(agent, message, run_options=agentdur.RunOptions(max_attempts=2))
    await gate(ctx, "tools")
    return str(result.final_output)


@svc.handler()
async def plain(ctx: agentdur.Context, message: str) -> str:
    agent = agents.Agent(name="Plain", instructions="Answer.", model=model("responses"))
    result = await DurableRunner.run(agent, message, run_options=agentdur.RunOptions(max_attempts=3))
    return str(result.final_output)


class InConversation(BaseModel):
    message: str
    conversation_id: str | None = None
    previous_response_id: str | None = None


@svc.handler()
async def in_conversation(ctx: agentdur.Context, req: InConversation) -> str:
    """A run on server-side conversation state (the scripted server ignores it: the point is retries)."""
    agent = agents.Agent(name="Plain", instructions="Answer.", model=model("responses"))
    result = await DurableRunner.run(
        agent,
        req.message,
        run_options=agentdur.RunOptions(max_attempts=3),
        conversation_id=req.conversation_id,
        previous_response_id=req.previous_response_id,
    )
    return str(result.final_output)


@svc.handler()
async def default_model(ctx: agentdur.Context, message: str) -> str:
    """The SDK's default provider builds its client from the environment's API key."""
    agent = agents.Agent(name="Default", instructions="Answer.", model="gpt-4o")
    return str((await DurableRunner.run(agent, message)).final_output)


@svc.handler()
async def session_in_a_service(ctx: agentdur.Context) -> str:
    DurableSession()
    return "unreachable"


APP = agentdur.App([svc])


@pytest.fixture(autouse=True)
def point_at(model_server: ScriptedModelServer) -> None:
    server_url["url"] = model_server.openai_base_url
    for kept in (gates, responses, effects, held, passed):
        kept.clear()


async def run_and_replay(db: Path, handler: str, arg: Any, gate_name: str) -> tuple[Any, str, int]:
    """Run ``handler`` up to its gate, restart the engine (replay), open the gate.

    Returns the result, the invocation id, and how many effects the first execution recorded.
    """
    async with agentdur.Engine(APP, path=db) as engine:
        inv = await engine.send("Agents", handler, arg)
        await wait_until(lambda: gate_name in gates, what="gate published")
        first_execution = len(effects)
    async with agentdur.Engine(APP, path=db) as engine:
        await engine.resolve_awakeable(gates[gate_name], None)
        return await engine.attach(inv), inv, first_execution


@pytest.mark.parametrize("kind", ["responses", "chat", "litellm"])
async def test_replay_rebuilds_equal_responses_without_requests(
    tmp_path: Path, model_server: ScriptedModelServer, kind: str
) -> None:
    result, _, _ = await run_and_replay(tmp_path / "r.db", "weather", {"kind": kind}, "weather")
    assert result == "Based on get_weather: sunny in Paris"
    assert model_server.count() == 2 and effects == ["weather Paris"]  # replay: no request, no tool run
    first, replayed = responses[:2], responses[2:]
    assert replayed == first and all(isinstance(r, ModelResponse) for r in replayed)
    assert response_from_json(response_to_json(first[0])) == first[0]


async def test_streamed_run_streams_live_then_replays_the_journaled_response(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    result, _, split = await run_and_replay(tmp_path / "s.db", "weather", {"stream": True}, "weather")
    assert result == "Based on get_weather: sunny in Paris"
    assert model_server.count() == 2 and all(
        r.request is not None and r.request.stream for r in model_server.requests
    )
    live, replayed = effects[:split], effects[split:]
    assert "event response.output_text.delta" in live and live.count("event response.completed") == 2
    assert replayed == ["event response.completed", "event response.completed"]  # one per journaled call
    assert responses[:2] == responses[2:]  # the runner built equal responses from the replayed events


async def test_parallel_tools_journal_in_response_order_whatever_order_they_run_in(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    calls = [("eligibility", {"claim": "c1"}), ("cost", {"claim": "c1"}), ("fraud", {"claim": "c1"})]
    journals: list[list[tuple[str, str, Any]]] = []
    # First the tools arrive and finish in the reverse of the response's order, then in its order.
    for order in (["fraud", "cost", "eligibility"], ["eligibility", "cost", "fraud"]):
        points = [f"arrive {name}" for name in order] + [f"run {name}" for name in order]
        held.clear()
        held.update((point, asyncio.Event()) for point in points)
        model_server.script.tool_calls(*calls)
        gates.clear()
        db = tmp_path / f"p{len(journals)}.db"
        releasing = asyncio.create_task(release_in_order(points))
        try:
            result, inv, _ = await run_and_replay(db, "analyze", "Check claim c1", "analyze")
            await releasing
        finally:
            releasing.cancel()
        assert result == "Based on eligibility: eligibility ok; cost: cost ok; fraud: fraud ok"
        async with agentdur.Engine(APP, path=db) as engine:
            journals.append([(e.kind, e.name, e.value) for e in (await engine.invocation(inv)).journal])
    assert effects == [
        "done fraud",
        "done cost",
        "done eligibility",
        "done eligibility",
        "done cost",
        "done fraud",
    ]
    assert journals[0] == journals[1]
    assert [name for _, name, _ in journals[0][1:4]] == ["Tool: eligibility", "Tool: cost", "Tool: fraud"]


async def test_tool_results_errors_and_own_steps_are_journaled(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    model_server.script.tool_calls(
        ("forecast", {"city": "Oslo"}), ("flaky", {"city": "Oslo"}), ("with_own_steps", {"city": "Oslo"})
    )
    answers: list[str] = []

    def answer(request: ModelRequest) -> str:
        answers.append(" | ".join(r.content for r in request.tool_results))
        return "ok"

    model_server.script.respond_with(answer)
    result, inv, _ = await run_and_replay(tmp_path / "t.db", "tools", "Forecast for Oslo", "tools")
    assert result == "ok"
    assert (
        effects.count("forecast Oslo") == 1 and effects.count("flaky") == 3
    )  # three attempts, then the model
    assert len(answers) == 1
    assert "city='Oslo' temperature=21" in answers[0]  # the SDK's text for a pydantic result
    # The SDK's text for a failed tool (since 0.24 without the error's message)
    failed = default_tool_error_function(agents.RunContextWrapper(None), ValueError("registry down for Oslo"))
    assert failed in answers[0]
    assert "found Oslo, confirmed" in answers[0]
    async with agentdur.Engine(APP, path=tmp_path / "t.db") as engine:
        journal = (await engine.invocation(inv)).journal
        names = [e.name for e in journal]
    # the failure is journaled with its error, whatever the SDK tells the model
    assert journal[2].value == {"error": "registry down for Oslo", "error_type": "ValueError"}
    assert names[1:5] == [
        "Tool: forecast",
        "Tool: flaky",
        "lookup",
        "confirm",
    ]  # the third tool: its own steps


async def test_model_retries_honour_retry_after_and_stop_on_auth_errors(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "m.db") as engine:
        model_server.faults.fail_next(1, status=429, retry_after=0.2)
        assert await engine.call("Agents", "plain", "hello") == "Echo: hello"
        assert model_server.count() == 2  # the client's own retries are off: the step retried once
        model_server.faults.fail_next(1, status=401)
        with pytest.raises(agentdur.TerminalError, match="AuthenticationError") as failed:
            await engine.call("Agents", "plain", "hello")
        assert failed.value.status_code == 401 and model_server.count() == 3
        model_server.faults.fail_next(3, status=503)
        with pytest.raises(agentdur.TerminalError, match="after 3 attempt"):
            await engine.call("Agents", "plain", "hello")


async def test_a_call_in_a_conversation_is_never_resent_after_it_may_have_been_applied(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    """With ``conversation_id`` a failure that may have reached the provider ends the run instead of
    resending the input into the conversation; a refused request (429) is still retried, and so is any
    failure with ``previous_response_id`` (responses are immutable)."""
    async with agentdur.Engine(APP, path=tmp_path / "c.db") as engine:
        conversation = {"message": "hello", "conversation_id": "conv_1"}
        model_server.faults.fail_next(1, status=500)
        with pytest.raises(agentdur.TerminalError, match="conversation 'conv_1'") as failed:
            await engine.call("Agents", "in_conversation", conversation)
        assert failed.value.status_code == 502 and model_server.count() == 1  # not resent
        model_server.faults.drop_next(1)
        with pytest.raises(agentdur.TerminalError, match="not retried"):
            await engine.call("Agents", "in_conversation", conversation)
        assert model_server.count() == 2
        model_server.faults.fail_next(1, status=429, retry_after=0.1)
        assert await engine.call("Agents", "in_conversation", conversation) == "Echo: hello"
        assert model_server.count() == 4  # refused before it was applied: retried
        model_server.faults.fail_next(1, status=500)
        chained = {"message": "again", "previous_response_id": "resp_1"}
        assert await engine.call("Agents", "in_conversation", chained) == "Echo: again"
        assert model_server.count() == 6
        sent = [r.request.body for r in model_server.requests if r.request is not None]
        assert sent[0].get("conversation") == "conv_1" and sent[-1].get("previous_response_id") == "resp_1"


async def test_an_approval_nobody_decides_in_time_tells_the_model_and_escalates_first(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    """``Approvals(timeout=..., escalate=...)``: after the timeout the escalation gets a new
    awakeable; when that one expires too, the tool does not run and the model is told why."""
    notices: list[WaitNotice] = []

    @durable_function_tool(needs_approval=True)
    def refund(amount: int) -> str:
        """Refund the customer."""
        effects.append(f"refund {amount}")
        return "refunded"

    def answer(request: ModelRequest) -> ModelReply:
        if not request.tool_results:
            return ModelReply(tool_calls=(ModelToolCall("refund", {"amount": 30}),))
        return ModelReply(text=request.tool_results[0].content)

    model_server.script.respond_with(answer)
    refunds = agentdur.Service("Refunds")

    @refunds.handler()
    async def run(ctx: agentdur.Context) -> str:
        agent = agents.Agent(name="Refunder", model=model("responses"), tools=[refund])
        approvals = Approvals(notify=notices.append, escalate=notices.append, timeout=timedelta(seconds=0.2))
        return str((await DurableRunner.run(agent, "refund 30", approvals=approvals)).final_output)

    async with agentdur.Engine(agentdur.App([refunds]), path=tmp_path / "a.db") as engine:
        output = await engine.call("Refunds", "run")
    assert output == "Tool execution was not approved within 0:00:00.200000; it did not run."
    assert [n.attempt for n in notices] == [1, 2] and notices[1].description.endswith("(escalation 1)")
    assert notices[0].description == "Approve refund(amount=30)?"
    assert notices[0].resolve_url.endswith(f"/restate/awakeables/{notices[0].awakeable_id}/resolve")
    assert not [e for e in effects if e.startswith("refund")]


async def test_a_missing_api_key_fails_at_once_without_a_retry(
    tmp_path: Path, model_server: ScriptedModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agents.models import _openai_shared

    monkeypatch.setattr(_openai_shared, "_default_openai_client", None)
    monkeypatch.setattr(_openai_shared, "_default_openai_key", None)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    async with agentdur.Engine(APP, path=tmp_path / "k.db") as engine:
        inv = await engine.send("Agents", "default_model", "hello")
        with pytest.raises(agentdur.TerminalError, match="credentials are missing or refused") as caught:
            await engine.attach(inv)
        info = await engine.invocation(inv)
    assert caught.value.status_code == 401 and "OpenAIError" in caught.value.message
    assert (info.outcome, info.attempts) == ("failed", 0)  # the engine did not retry it either
    assert model_server.count() == 0


async def test_misuse_is_reported_clearly(tmp_path: Path) -> None:
    with pytest.raises(agentdur.UserError, match="no agentdur handler is running"):
        await DurableRunner.run(agents.Agent(name="A"), "hi")

    @agents.tool_input_guardrail
    def allow(data: agents.ToolInputGuardrailData) -> agents.ToolGuardrailFunctionOutput:
        return agents.ToolGuardrailFunctionOutput.allow()

    @agents.function_tool(tool_input_guardrails=[allow])
    def pay(amount: int) -> str:
        """Pay."""
        return "paid"

    approving = agentdur.Service("Approving")

    @approving.handler()
    async def run(ctx: agentdur.Context) -> str:
        agent = agents.Agent(name="Payer", model=model("responses"), tools=[pay])
        return str((await DurableRunner.run(agent, "pay 3")).final_output)

    async with agentdur.Engine(agentdur.App([approving, svc]), path=tmp_path / "u.db") as engine:
        for service, handler, message in (
            ("Approving", "run", "uses tool_input_guardrails, which cannot run durably yet"),
            ("Agents", "session_in_a_service", "only virtual objects have a key"),
        ):
            inv = await engine.send(service, handler)

            async def reported(inv: str = inv, message: str = message) -> bool:
                error = (await engine.invocation(inv)).last_error
                return error is not None and message in error

            await wait_until(reported)


async def test_the_users_agents_are_not_modified(tmp_path: Path, model_server: ScriptedModelServer) -> None:
    original = agents.Agent(name="Weather", model=model("responses"), tools=[get_weather])
    tools_before, model_before = list(original.tools), original.model
    model_server.script.respond_with(lambda request: ModelReply(text="fine"))
    once = agentdur.Service("Once")

    @once.handler()
    async def run(ctx: agentdur.Context) -> str:
        result = await DurableRunner.run(original, "hi")
        assert result.last_agent is not original and result.last_agent.name == "Weather"
        assert isinstance(result.last_agent.model, DurableModel)
        return str(result.final_output)

    async with agentdur.Engine(agentdur.App([once]), path=tmp_path / "n.db") as engine:
        assert await engine.call("Once", "run") == "fine"
    assert original.tools == tools_before and original.model is model_before
    assert not isinstance(original.model, DurableModel)


@durable_function_tool
async def wait_for_reviewer(wrapper: agents.RunContextWrapper[agentdur.Context], claim: str) -> str:
    """Ask a reviewer about the claim and wait for the answer."""
    answer_id, answer = wrapper.context.awakeable(type_hint=str)
    await wrapper.context.run_typed(
        "publish reviewer", gates.__setitem__, agentdur.RunOptions(), "reviewer", answer_id
    )
    return f"reviewer says {await answer}"


reviewing = agentdur.Service("Reviewing")


@reviewing.handler()
async def review(ctx: agentdur.Context, claim: str) -> str:
    agent = agents.Agent(
        name="Reviewer", instructions="Review.", model=model("responses"), tools=[wait_for_reviewer]
    )
    try:
        result = await DurableRunner.run(agent, claim)
    except agentdur.InvocationCancelledError:
        await ctx.run_typed("compensate", effects.append, agentdur.RunOptions(), "compensated")
        raise
    return str(result.final_output)


async def test_a_tool_waiting_for_a_human_is_suspended_then_resumed(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    model_server.script.tool_call("wait_for_reviewer", {"claim": "c1"})
    async with agentdur.Engine(
        agentdur.App([reviewing]), path=tmp_path / "w.db", suspend_after=0.05
    ) as engine:
        inv = await engine.send("Reviewing", "review", "Review claim c1")
        await wait_until(lambda: "reviewer" in gates)

        async def suspended() -> bool:
            return (await engine.invocation(inv)).status == "suspended"

        await wait_until(suspended)
        await engine.resolve_awakeable(gates["reviewer"], "fine")
        assert await engine.attach(inv) == "Based on wait_for_reviewer: reviewer says fine"
    assert model_server.count() == 2  # the first call was replayed after the suspension


async def test_cancelling_a_run_in_a_tool_reaches_the_handler_not_the_model(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    model_server.script.tool_call("wait_for_reviewer", {"claim": "c2"})
    async with agentdur.Engine(agentdur.App([reviewing]), path=tmp_path / "c.db") as engine:
        inv = await engine.send("Reviewing", "review", "Review claim c2")
        await wait_until(lambda: "reviewer" in gates)
        await engine.cancel(inv)
        with pytest.raises(agentdur.InvocationCancelledError):
            await engine.attach(inv)
    assert effects == ["compensated"] and model_server.count() == 1
