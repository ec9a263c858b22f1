"""Chat: an agent per user, its ADK sessions in the virtual object's state.

``DurableSessionService`` is ADK's session service on object state: the key is the user, each
session keeps its events and state across restarts, and messages to one user are answered one at a
time, in order. ``get_history`` is a shared handler: it reads while a message is being answered.

    agentdur serve examples.google_adk.chat:app
    curl localhost:8080/Chat/user123/message --json '{"message": "Make a poem about durable execution.", "session_id": "s1"}'
    curl localhost:8080/Chat/user123/message --json '{"message": "Shorten it to 2 lines.", "session_id": "s1"}'
    curl localhost:8080/Chat/user123/get_history --json '"s1"'
"""

from __future__ import annotations

from google.adk.agents import LlmAgent

import agentdur
from agentdur.integrations.adk import DurableSessionService

from .utils import Prompt, model, run_agent

assistant = LlmAgent(name="assistant", model=model(), instruction="You are a helpful assistant.")

chat = agentdur.VirtualObject("Chat")


@chat.handler()
async def message(ctx: agentdur.ObjectContext, prompt: Prompt) -> str:
    return await run_agent(ctx, assistant, prompt.message, session_id=prompt.session_id)


@chat.handler(kind="shared")
async def get_history(ctx: agentdur.ObjectSharedContext, session_id: str) -> list[str]:
    session = await DurableSessionService().get_session(
        app_name="agents", user_id=ctx.key(), session_id=session_id
    )
    if session is None:
        return []
    return [
        f"{event.author}: {''.join(part.text or '' for part in event.content.parts)}"
        for event in session.events
        if event.content and event.content.parts
    ]


app = agentdur.App([chat])
