"""A tool without a run-context parameter that reaches the context itself (as tools written for
restate-sdk do with ``restate_context()``) runs its own durable steps, and replays them."""

from __future__ import annotations

import os
from pathlib import Path

import agents
import openai
from agentdur.integrations.openai_agents import DurableRunner, durable_function_tool, restate_context
from agentdur.integrations.openai_agents._tools import _calls_context

import agentdur
from agentdur import current_context as context_now
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


def aliased(city: str) -> str:
    def inner() -> object:
        return context_now()

    return city if inner else ""


def test_the_tools_code_decides_whether_it_makes_its_own_steps() -> None:
    assert not _calls_context(plain)
    assert _calls_context(aliased)  # in a nested function, under another name
    assert _calls_context(lambda: agentdur.current_context())


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
