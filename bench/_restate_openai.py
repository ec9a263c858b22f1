"""restate-sdk's own OpenAI Agents integration (``restate.ext.openai``): a column of ``bench agents``.

A restate-sdk virtual object whose ``run`` handler runs the bench agent with restate-sdk's
``DurableRunner`` (it journals each model call). It leaves function tools unjournaled, so each tool
makes its own step with ``restate_context().run_typed``, as restate-sdk's examples write tools: the
column then journals what agentdur's ``run`` journals. ``chat`` runs one chat turn with
``use_restate_session=True`` (the session in the object's state). Served by ``python -m
bench._deployment restate_openai --port N`` with the model server's OpenAI base URL in
``AGENTDUR_BENCH_OPENAI_BASE``.

Written without ``from __future__ import annotations``, as :mod:`bench._plain_restate` is (restate-sdk
reads step signatures with ``eval_str=True``).
"""

import os
from typing import Any

import agents
import restate
from restate.ext.openai import DurableRunner, restate_context

from ._openai_model import BASE_ENV, INSTRUCTIONS, MODEL, configure_openai
from ._openai_model import tool_a as _a
from ._openai_model import tool_b as _b

# restate-server reserves service names starting with "restate".
SDK_OBJECT = "SdkOpenAIUsers"

configure_openai(os.environ.get(BASE_ENV, "http://127.0.0.1:1/v1"))


async def _run_a(x: str) -> str:
    return _a(x)


async def _run_b(x: str) -> str:
    return _b(x)


async def tool_a(x: str) -> str:
    """Tool a."""
    return await restate_context().run_typed("tool_a", _run_a, restate.RunOptions(), x=x)


async def tool_b(x: str) -> str:
    """Tool b."""
    return await restate_context().run_typed("tool_b", _run_b, restate.RunOptions(), x=x)


_agent: Any = agents.Agent(
    name="bench_tools",
    instructions=INSTRUCTIONS,
    model=MODEL,
    tools=[agents.function_tool(tool_a), agents.function_tool(tool_b)],
)
_chat_agent: Any = agents.Agent(name="bench_chat", instructions="Chat.", model=MODEL)

users = restate.VirtualObject(SDK_OBJECT)


@users.handler(name="run")
async def run(ctx: restate.ObjectContext, prompt: str) -> str:
    result = await DurableRunner.run(_agent, prompt)
    return str(result.final_output)


@users.handler(name="chat")
async def chat(ctx: restate.ObjectContext, text: str) -> str:
    result = await DurableRunner.run(_chat_agent, text, use_restate_session=True)
    return str(result.final_output)


def restate_openai_app() -> Any:
    """The ASGI app of the ``restate.ext.openai`` deployment."""
    return restate.app([users])
