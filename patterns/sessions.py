"""Chat sessions keyed by user or session id: a virtual object with durable history.

Each key is one conversation. ``message`` is exclusive, so concurrent messages to one key are answered
one at a time in arrival order and none is lost; different keys run in parallel. The history lives in
a state list of the object (:meth:`agentdur.ObjectSharedContext.state_list`), committed with the
journal of the turn that produced it, and survives restarts; a turn journals what it adds, not the
whole history.

Example::

    async def respond(history: list[ChatTurn]) -> str:
        return await my_model(history)          # any provider, any SDK

    chat = chat_session("Chat", respond, max_history=40)
    app = agentdur.App([chat])

    # POST /Chat/alice/message  {"message": "hi"}   ->  {"reply": "...", "turns": 2}
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field

from agentdur import (
    MODEL_CALL_OPTIONS,
    ObjectContext,
    ObjectSharedContext,
    RunOptions,
    UserError,
    VirtualObject,
)

__all__ = ["ChatMessage", "ChatReply", "ChatTurn", "Responder", "chat_session"]

HISTORY = "history"


class ChatTurn(BaseModel):
    """One message of the history."""

    role: Literal["system", "user", "assistant"]
    content: str


class ChatMessage(BaseModel):
    """What a user sends: ``{"message": "..."}``, the request shape of every chat in agentdur (the
    OpenAI Agents and ADK examples too). ``{"text": "..."}`` is still accepted."""

    message: str = Field(min_length=1, validation_alias=AliasChoices("message", "text"))


class ChatReply(BaseModel):
    """What the session answers: the model's reply and the history length after this turn."""

    reply: str
    turns: int


Responder = Callable[[list[ChatTurn]], Awaitable[str]]


def chat_session(
    name: str,
    respond: Responder,
    *,
    max_history: int = 50,
    system_prompt: str | None = None,
    journal_model_call: bool = True,
    model_options: RunOptions[str] | None = None,
) -> VirtualObject:
    """A chat-session virtual object named ``name``.

    Args:
        respond: given the history (system prompt first, the new user message last), returns the
            reply text.
        max_history: the most turns kept (oldest dropped first; the system prompt is not stored).
        system_prompt: prepended to the history given to ``respond``.
        journal_model_call: run ``respond`` as one journaled step (default). Set False when
            ``respond`` journals its own steps, e.g. it calls ``agentdur.integrations.litellm``.
        model_options: retries of the journaled model call (default: :data:`agentdur.MODEL_CALL_OPTIONS`).

    Handlers: ``message`` (exclusive) takes a :class:`ChatMessage` and returns a :class:`ChatReply`;
    ``get_history`` (shared) returns the stored turns; ``clear`` (exclusive) forgets them.
    """
    if max_history < 2:
        raise UserError("max_history must keep at least one user message and one reply (2)")
    session = VirtualObject(name, description="a chat session per key, with durable history")
    options = model_options or MODEL_CALL_OPTIONS

    @session.handler()
    async def message(ctx: ObjectContext, msg: ChatMessage) -> ChatReply:
        # A state list: this turn journals a reference to the history and the two turns it adds,
        # not the whole history.
        history = ctx.state_list(HISTORY, ChatTurn)
        stored = await history.items(last=max_history)
        asked = ChatTurn(role="user", content=msg.message)
        prompt = _with_system(system_prompt, [*stored, asked])
        if journal_model_call:
            reply = await ctx.run_typed("Model reply", respond, options, prompt)
        else:
            reply = await respond(prompt)
        history.append(asked, ChatTurn(role="assistant", content=reply))
        turns = len(stored) + 2
        if turns > max_history:
            history.keep_last(max_history)
            turns = max_history
        return ChatReply(reply=reply, turns=turns)

    @session.handler(kind="shared")
    async def get_history(ctx: ObjectSharedContext) -> list[ChatTurn]:
        stored: list[ChatTurn] | None = await ctx.get(HISTORY, type_hint=list[ChatTurn])
        return stored or []

    @session.handler()
    async def clear(ctx: ObjectContext) -> None:
        ctx.clear(HISTORY)

    return session


def _with_system(system_prompt: str | None, history: Sequence[ChatTurn]) -> list[ChatTurn]:
    turns = list(history)
    if system_prompt:
        turns.insert(0, ChatTurn(role="system", content=system_prompt))
    return turns
