"""Code written for restate-sdk's OpenAI Agents integration runs with its own spellings: tools that
call ``restate_context()`` inside, ``RestateSession`` and ``use_restate_session=True``."""

from __future__ import annotations

import os
from pathlib import Path

import agents
import openai
import pytest

import agentdur
from agentdur import current_context as context_now
from agentdur.integrations.openai_agents import (
    DurableRunner,
    DurableSession,
    RestateSession,
    durable_function_tool,
    restate_context,
)
from agentdur.integrations.openai_agents._tools import _calls_context
from agentdur.testing import ScriptedModelServer

from ..engine.helpers import wait_until

agents.set_tracing_disabled(True)
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

ran: list[str] = []
url: dict[str, str] = {}
gate: dict[str, str] = {}


@durable_function_tool
async def book_table(guests: int) -> str:
    """Book a table for the guests."""
    ctx = restate_context()
    table = await ctx.run_typed("reserve table", reserve_table, agentdur.RunOptions(), guests)
    confirmation = await ctx.run_typed("confirm table", confirm_table)
    return f"{table}, {confirmation}"


def reserve_table(guests: int) -> str:
    ran.append("reserve")
    return f"table for {guests}"


def confirm_table() -> str:
    ran.append("confirm")
    return "confirmed"


def plain(city: str) -> str:
    return city


def aliased(city: str) -> object:
    def inner() -> object:
        return context_now()

    return inner


def test_the_tools_code_decides_whether_it_makes_its_own_steps() -> None:
    assert not _calls_context(plain)
    assert _calls_context(aliased)  # in a nested function, under another name
    assert _calls_context(lambda: agentdur.current_context())
    assert RestateSession is DurableSession and restate_context is agentdur.current_context


svc = agentdur.Service("Restaurant")


@svc.handler()
async def reserve(ctx: agentdur.Context, message: str) -> str:
    client = openai.AsyncOpenAI(base_url=url["url"], api_key="test")
    model = agents.OpenAIResponsesModel(model="gpt-4o", openai_client=client)
    agent = agents.Agent(name="Host", instructions="Book.", model=model, tools=[book_table])
    result = await DurableRunner.run(agent, message)
    gate_id, opened = ctx.awakeable()
    gate["id"] = gate_id
    await opened
    return str(result.final_output)


async def test_a_tool_calling_the_context_inside_runs_its_own_steps_and_replays(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    url["url"] = model_server.openai_base_url
    model_server.script.tool_call("book_table", {"guests": 4}).reply(text="Booked.")
    app = agentdur.App([svc])
    async with agentdur.Engine(app, path=tmp_path / "r.db") as engine:
        inv = await engine.send("Restaurant", "reserve", "A table for 4")
        await wait_until(lambda: "id" in gate, what="run finished")
    async with agentdur.Engine(app, path=tmp_path / "r.db") as engine:  # replays the run
        await engine.resolve_awakeable(gate["id"], None)
        assert await engine.attach(inv) == "Booked."
        names = [e.name for e in (await engine.invocation(inv)).journal]
    assert "reserve table" in names and "confirm table" in names
    assert not any(name.startswith("Tool: book_table") for name in names)  # not one step around them
    assert ran == ["reserve", "confirm"]  # the replay took the steps' results from the journal
    assert model_server.count() == 2


chat = agentdur.VirtualObject("RestateStyleChat")


@chat.handler()
async def message(ctx: agentdur.ObjectContext, text: str) -> str:
    client = openai.AsyncOpenAI(base_url=url["url"], api_key="test")
    model = agents.OpenAIResponsesModel(model="gpt-4o", openai_client=client)
    agent = agents.Agent(name="Chat", instructions="Chat.", model=model)
    result = await DurableRunner.run(agent, text, use_restate_session=True)
    return str(result.final_output)


@chat.handler()
async def misspelled(ctx: agentdur.ObjectContext, text: str) -> str:
    agent = agents.Agent(name="Chat", instructions="Chat.")
    result = await DurableRunner.run(agent, text, max_turn=3)  # type: ignore[call-arg]
    return str(result.final_output)


async def test_use_restate_session_keeps_the_history_in_the_object(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    url["url"] = model_server.openai_base_url
    async with agentdur.Engine(agentdur.App([chat]), path=tmp_path / "c.db") as engine:
        assert await engine.call("RestateStyleChat", "message", "my name is Ada", key="ada") == (
            "Echo: my name is Ada"
        )
        await engine.call("RestateStyleChat", "message", "what is my name?", key="ada")
        second = model_server.model_requests()[-1]
        assert "my name is Ada" in [m.content for m in second.messages]  # the first turn, from state
        assert await engine.call("RestateStyleChat", "message", "hello", key="bob") == "Echo: hello"
        assert "my name is Ada" not in [m.content for m in model_server.model_requests()[-1].messages]


async def test_an_argument_runner_does_not_take_fails_at_once(tmp_path: Path) -> None:
    async with agentdur.Engine(agentdur.App([chat]), path=tmp_path / "m.db") as engine:
        with pytest.raises(agentdur.TerminalError, match="does not take: max_turn"):
            await engine.call("RestateStyleChat", "misspelled", "hi", key="k")


attempts: list[str] = []


@durable_function_tool(errors_to_model=False)
def unstable_lookup(city: str) -> str:
    """Look the city up (the registry fails twice first)."""
    attempts.append(city)
    if len(attempts) < 3:
        raise ConnectionError(f"registry down ({len(attempts)})")
    return f"{city}: open"


tools_svc = agentdur.Service("RetriedTools")


@tools_svc.handler()
async def look_up(ctx: agentdur.Context, text: str) -> str:
    client = openai.AsyncOpenAI(base_url=url["url"], api_key="test")
    model = agents.OpenAIResponsesModel(model="gpt-4o", openai_client=client)
    agent = agents.Agent(name="Lookup", instructions="Look up.", model=model, tools=[unstable_lookup])
    return str((await DurableRunner.run(agent, text)).final_output)


async def test_errors_to_model_false_retries_the_tool_instead_of_showing_the_error(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    url["url"] = model_server.openai_base_url
    attempts.clear()
    model_server.script.tool_call("unstable_lookup", {"city": "Oslo"})
    async with agentdur.Engine(agentdur.App([tools_svc]), path=tmp_path / "t.db") as engine:
        result = await engine.call("RetriedTools", "look_up", "Is Oslo open?")
    assert attempts == ["Oslo", "Oslo", "Oslo"]  # the invocation retried the tool until it worked
    assert result == "Based on unstable_lookup: Oslo: open"
    results = [r.content for request in model_server.model_requests() for r in request.tool_results]
    assert results == ["Oslo: open"]  # the model never saw the errors
    assert model_server.count() == 2  # the first model call was replayed, not repeated, on each retry
