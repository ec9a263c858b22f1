"""The app the integration tests serve on both engines: LiteLLM calls, a chat session, approvals.

Model calls go to the scripted model server whose OpenAI base URL is in ``AGENTDUR_TEST_OPENAI_BASE``.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import Any

import agentdur
from agentdur.integrations.litellm import acompletion
from agentdur.patterns.approval import ApprovalNotice, ApprovalRejected, ApprovalTimedOut, request_approval
from agentdur.patterns.sessions import ChatTurn, chat_session

from ..effects import LOG_ENV, record

BASE_ENV = "AGENTDUR_TEST_OPENAI_BASE"


def llm() -> dict[str, Any]:
    return {"model": "openai/gpt-4o", "api_base": os.environ[BASE_ENV], "api_key": "test"}


llm_service = agentdur.Service("Llm")


def hold(label: str) -> None:
    """Block a step until the test creates the release file (a crash test kills the server first)."""
    record(f"hold {label}")
    release = os.environ.get(LOG_ENV, "") + f".release-{label}"
    while not os.path.exists(release):
        time.sleep(0.01)


@llm_service.handler()
async def three_calls(ctx: agentdur.Context, label: str) -> list[str]:
    answers = []
    for i in range(3):
        response = await acompletion(
            messages=[{"role": "user", "content": f"Summarize part {i} of the claim."}],
            name=f"LLM call {i}",
            **llm(),
        )
        answers.append(str(response.choices[0].message.content))
        await ctx.run_typed(f"record {i}", record, agentdur.RunOptions(), f"llm {label} {i} done")
        if i == 1:
            await ctx.run_typed("hold", hold, agentdur.RunOptions(), label)
    return answers


async def respond(history: list[ChatTurn]) -> str:
    response = await acompletion(
        messages=[{"role": t.role, "content": t.content} for t in history], name="Chat model", **llm()
    )
    return str(response.choices[0].message.content)


chat = chat_session("Chat", respond, max_history=200, journal_model_call=False)

approvals = agentdur.Service("Approvals")


async def publish(notice: ApprovalNotice) -> None:
    record(f"awakeable {notice.description.split()[1]} {notice.awakeable_id}")


@approvals.handler()
async def approve(ctx: agentdur.Context, label: str) -> str:
    try:
        decision = await request_approval(ctx, f"approve {label}", notify=publish)
    except ApprovalRejected as error:
        return f"rejected: {error.message}"
    return f"approved={decision.approved} by {decision.by}"


@approvals.handler()
async def approve_quickly(ctx: agentdur.Context, label: str) -> str:
    try:
        await request_approval(ctx, f"approve {label}", notify=publish, timeout=timedelta(milliseconds=300))
    except ApprovalTimedOut as error:
        return f"timed out ({error.status_code})"
    return "decided"


app = agentdur.App([llm_service, chat, approvals])
