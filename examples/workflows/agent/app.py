"""An agent on a workflow: it drafts, waits for a human's review (with a timeout), and continues.

One workflow run per document key. The model calls are journaled steps
(``agentdur.integrations.litellm.acompletion``): after a crash the draft is replayed from the journal,
never requested (or paid for) again. The review is a durable promise: the reviewer may answer before
the draft is even done, the wait survives restarts, and ``getDraft`` shows the draft meanwhile.

    agentdur serve examples.workflows.agent:app
    curl localhost:8080/restate/send/DraftAgent/launch/run --json '{"topic": "our new durable agents"}'
    curl localhost:8080/restate/call/DraftAgent/launch/getDraft
    curl localhost:8080/restate/call/DraftAgent/launch/review --json '{"approved": false, "comment": "Shorter"}'
    curl localhost:8080/restate/workflow/DraftAgent/launch/attach
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field

import agentdur
from agentdur import WorkflowContext, WorkflowSharedContext
from agentdur.integrations.litellm import acompletion

from ..._model import choose_model, text_of

draft_agent = agentdur.Workflow("DraftAgent")


class Brief(BaseModel):
    """What to write, and how long the human has to review it."""

    topic: str = Field(min_length=1)
    review_within_seconds: float = Field(default=3600.0, gt=0)


class Review(BaseModel):
    """The human's decision on the draft."""

    approved: bool
    comment: str = ""


class Published(BaseModel):
    """What the agent published, and how it got there."""

    text: str
    draft: str
    reviewed: bool
    revised: bool


async def ask_model(step: str, prompt: str) -> str:
    response = await acompletion(
        messages=[{"role": "user", "content": prompt}], name=step, max_retries=0, **choose_model().kwargs()
    )
    return text_of(response)


@draft_agent.main()
async def run(ctx: WorkflowContext, brief: Brief) -> Published:
    ctx.set("status", "drafting")
    draft = await ask_model("draft", f"Write a two-sentence announcement about {brief.topic}.")
    ctx.set("draft", draft)
    ctx.set("status", "waiting for review")

    decision = await agentdur.select(
        review=ctx.promise("review", type_hint=Review).value(),
        timeout=ctx.sleep(timedelta(seconds=brief.review_within_seconds)),
    )
    match decision:
        case ["review", Review(approved=True)]:
            text, reviewed, revised = draft, True, False
        case ["review", Review(comment=comment)]:
            ctx.set("status", "revising")
            text = await ask_model("revise", f"Revise this announcement. Reviewer: {comment}\n\n{draft}")
            reviewed, revised = True, True
        case _:  # nobody reviewed in time: publish the draft as it is
            text, reviewed, revised = draft, False, False
    ctx.set("status", "published")
    return Published(text=text, draft=draft, reviewed=reviewed, revised=revised)


@draft_agent.handler("review")
async def review(ctx: WorkflowSharedContext, decision: Review) -> None:
    """The human's signal; a second review of the same document is refused (409)."""
    await ctx.promise("review", type_hint=Review).resolve(decision)


@draft_agent.handler("getDraft")
async def get_draft(ctx: WorkflowSharedContext) -> dict[str, str | None]:
    return {"status": await ctx.get("status", type_hint=str), "draft": await ctx.get("draft", type_hint=str)}


app = agentdur.App([draft_agent])
