"""The OpenAI Agents SDK agent of ``bench agents`` made durable by agentdur: plain, and in a virtual object.

``run`` runs the bench agent (3 model calls, 2 tools declared with ``durable_function_tool``) with
``DurableRunner`` and no session, so every run journals what the agent does and nothing else;
``chat`` runs one chat turn (one model call) with ``DurableSession`` on the object's key. Served by
``agentdur serve bench._openai_agent:app`` (on either backend) with the model server's OpenAI base URL
in ``AGENTDUR_BENCH_OPENAI_BASE``; the bench also calls it in process on an ``Engine``.
"""

from __future__ import annotations

import os
from typing import Any

import agents

import agentdur
from agentdur.integrations.openai_agents import DurableRunner, DurableSession, durable_function_tool

from ._openai_model import BASE_ENV, INSTRUCTIONS, MODEL, configure_openai, tool_a, tool_b

OBJECT = "BenchOpenAI"

configure_openai(os.environ.get(BASE_ENV, "http://127.0.0.1:1/v1"))


def tools_agent(tools: list[Any]) -> agents.Agent[Any]:
    """The bench agent with ``tools`` (``tool_a`` and ``tool_b``, as each column declares them)."""
    return agents.Agent(name="bench_tools", instructions=INSTRUCTIONS, model=MODEL, tools=tools)


def chat_agent() -> agents.Agent[Any]:
    """The chat agent: no tool, one model call per turn."""
    return agents.Agent(name="bench_chat", instructions="Chat.", model=MODEL)


def plain_agent() -> agents.Agent[Any]:
    """The bench agent with the SDK's own function tools (no durability)."""
    return tools_agent([agents.function_tool(tool_a), agents.function_tool(tool_b)])


_durable_agent = tools_agent([durable_function_tool(tool_a), durable_function_tool(tool_b)])
_chat_agent = chat_agent()

users = agentdur.VirtualObject(OBJECT)


@users.handler()
async def run(ctx: agentdur.ObjectContext, prompt: str) -> str:
    """One run of the bench agent."""
    result = await DurableRunner.run(_durable_agent, prompt)
    return str(result.final_output)


@users.handler()
async def chat(ctx: agentdur.ObjectContext, text: str) -> str:
    """One chat turn on the key's session."""
    result = await DurableRunner.run(_chat_agent, text, session=DurableSession())
    return str(result.final_output)


app = agentdur.App([users])
