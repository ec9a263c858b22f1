"""Chat: one durable chat session per user, the model called through LiteLLM.

``agentdur.patterns.sessions.chat_session`` makes a virtual object: the key (here the user name)
names the conversation, its history lives in the object's state, and messages to one key are
answered one at a time in arrival order. The model call is journaled by
``agentdur.integrations.litellm.acompletion`` itself, so the session does not wrap it in another
step (``journal_model_call=False``).

    agentdur serve examples.chat:app
    curl localhost:8080/Chat/alice/message --json '{"message": "Hi, I am Alice"}'
"""

from __future__ import annotations

import agentdur
from agentdur.integrations.litellm import acompletion
from agentdur.patterns.sessions import ChatTurn, chat_session

from .._model import choose_model, text_of

SYSTEM_PROMPT = "You are a friendly assistant. Keep answers short."
MAX_HISTORY = 40


async def respond(history: list[ChatTurn]) -> str:
    """The model's reply to the conversation so far (system prompt first, newest message last)."""
    response = await acompletion(
        messages=[{"role": turn.role, "content": turn.content} for turn in history],
        name="Chat reply",
        **choose_model().kwargs(),
    )
    return text_of(response)


chat = chat_session(
    "Chat", respond, max_history=MAX_HISTORY, system_prompt=SYSTEM_PROMPT, journal_model_call=False
)

app = agentdur.App([chat])
