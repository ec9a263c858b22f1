"""The app the console tests serve: an agent that calls a model, uses a tool, retries a flaky step and
waits for a human's approval; and an object with state.

The model is the scripted model server (its URL in ``CONSOLE_MODEL_URL``), reached through the litellm
integration, so the journal holds a real chat completion.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

import agentdur
from agentdur import RunOptions
from agentdur.integrations.litellm import acompletion
from agentdur.patterns.approval import request_approval

MODEL_URL_ENV = "CONSOLE_MODEL_URL"
MODEL = "openai/gpt-4o"
FLAKY_FAILURES = 2  # the flaky step fails this many times per invocation, then succeeds

agent = agentdur.Service("Agent", description="Answers a question once a human approves it.")
memory = agentdur.VirtualObject("Memory")

_flaky_attempts: dict[str, int] = {}


@agent.handler()
async def answer(ctx: agentdur.Context, question: str) -> str:
    reply = await acompletion(
        MODEL,
        [{"role": "user", "content": question}],
        api_base=os.environ[MODEL_URL_ENV],
        api_key="test",
    )
    text = str(reply.choices[0].message.content)

    def lookup(topic: str) -> dict[str, Any]:
        return {"topic": topic, "sources": ["handbook", "wiki"]}

    found = await ctx.run_typed("Tool: lookup", lookup, RunOptions(type_hint=dict[str, Any]), question)

    def flaky() -> str:
        attempts = _flaky_attempts[question] = _flaky_attempts.get(question, 0) + 1
        if attempts <= FLAKY_FAILURES:
            raise ConnectionError(f"the mail server hung up (attempt {attempts})")
        return "drafted"

    draft = await ctx.run_typed(
        "Draft email",
        flaky,
        RunOptions(max_attempts=5, initial_retry_interval=timedelta(milliseconds=20)),
    )
    decision = await request_approval(ctx, f"Send the answer to {question!r}?")
    if not decision.approved:
        return f"not sent ({decision.comment or 'rejected'})"
    return f"{text} [{draft}, {len(found['sources'])} sources, approved by {decision.by}]"


class Budget(BaseModel):
    """A typed approval value: the page builds its form from this schema."""

    amount: int = Field(ge=1, le=1000)
    currency: Literal["EUR", "USD"] = "EUR"


@agent.handler()
async def spend(ctx: agentdur.Context, purpose: str) -> str:
    _, budget = ctx.awakeable(Budget, description=f"Budget for {purpose}")
    granted = await budget
    return f"{granted.amount} {granted.currency} for {purpose}"


@agent.handler()
async def crash(ctx: agentdur.Context, reason: str) -> str:
    raise agentdur.TerminalError(f"refusing: {reason}", 422)


@memory.handler()
async def remember(ctx: agentdur.ObjectContext, note: str) -> int:
    notes = await ctx.get("notes", type_hint=list[str]) or []
    notes.append(note)
    ctx.set("notes", notes)
    return len(notes)


app = agentdur.App([agent, memory])
