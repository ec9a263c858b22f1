"""Chat: a stateful agent per session key, its history in the virtual object's state.

``DurableSession`` is the Agents SDK's ``Session`` on object state: the key names the conversation,
the history survives restarts, and messages to one key are answered one at a time, in order.

    agentdur serve examples.openai_agents.chat:app
    curl localhost:8080/Chat/session123/message --json '{"message": "Make a poem about durable execution."}'
    curl localhost:8080/Chat/session123/message --json '{"message": "Shorten it to 2 lines."}'
    curl localhost:8080/Chat/session123/get_history
"""

from __future__ import annotations

from typing import Any

from agents import Agent

import agentdur
from agentdur.integrations.openai_agents import DurableRunner, DurableSession

from .utils import Prompt, run_config

assistant = Agent(name="Assistant", instructions="You are a helpful assistant.")

chat = agentdur.VirtualObject("Chat")


@chat.handler()
async def message(ctx: agentdur.ObjectContext, chat_message: Prompt) -> str:
    result = await DurableRunner.run(
        assistant, chat_message.message, session=DurableSession(), run_config=run_config()
    )
    return str(result.final_output)


@chat.handler(kind="shared")
async def get_history(ctx: agentdur.ObjectSharedContext) -> list[dict[str, Any]]:
    return await ctx.get("items", type_hint=list[dict[str, Any]]) or []


app = agentdur.App([chat])
