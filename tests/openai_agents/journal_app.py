"""Chat objects whose journal size per turn ``test_chat_journal.py`` measures on both engines.

``Chat`` runs an OpenAI Agents turn with ``DurableSession`` against the scripted model server;
``Talk`` is ``patterns.sessions.chat_session`` with a scripted responder. ``Chat/seed`` makes a
history long fast: the turn measured after it is the turn that history length would be.
"""

from __future__ import annotations

import os
from typing import Any

import agents
from openai import AsyncOpenAI

import agentdur
from agentdur.integrations.openai_agents import DurableRunner, DurableSession
from agentdur.patterns.sessions import ChatTurn, chat_session

BASE_URL = os.environ.get("AGENTDUR_TEST_OPENAI_BASE", "http://127.0.0.1:1/v1")
agents.set_tracing_disabled(True)
agents.set_default_openai_client(AsyncOpenAI(base_url=BASE_URL, api_key="test"), use_for_tracing=False)
agents.set_default_openai_api("responses")

chat = agentdur.VirtualObject("Chat")


@chat.handler()
async def message(ctx: agentdur.ObjectContext, text: str) -> str:
    assistant = agents.Agent(name="Assistant", instructions="Chat.", model="gpt-4o")
    result = await DurableRunner.run(assistant, text, session=DurableSession())
    return str(result.final_output)


@chat.handler(kind="shared")
async def get_history(ctx: agentdur.ObjectSharedContext) -> list[Any]:
    return await ctx.get("items", type_hint=list[Any]) or []


@chat.handler()
async def seed(ctx: agentdur.ObjectContext, length: int) -> int:
    """Grow the history to ``length`` items by repeating its newest turn (a long chat, made fast)."""
    items = ctx.state_list("items", Any)
    history = await items.items()
    turn = history[-2:]
    while len(history) + len(turn) <= length:
        items.append(*turn)
        history.extend(turn)
    return len(history)


async def echo(history: list[ChatTurn]) -> str:
    return f"you said: {history[-1].content}"


app = agentdur.App([chat, chat_session("Talk", echo, max_history=50)])
