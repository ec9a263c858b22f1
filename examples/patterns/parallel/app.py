"""DraftReview: reviewers work on a draft in parallel, at most two at a time; results in input order.

    agentdur serve examples.patterns.parallel:app
    curl localhost:8080/DraftReview/review --json '{"draft": "Our new lamp are bright and cheap."}'

Three model reviewers are steps and the statistics are a call to another service (a remote agent);
a reviewer that fails for good is reported next to the others' results instead of failing the review.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

import agentdur
from agentdur.patterns.parallel import call, run_settled, step

from .._llm import complete

ASPECTS = {
    "grammar": "List the grammar mistakes in this text",
    "tone": "Describe the tone of this text in one sentence",
    "claims": "List the claims in this text that need a source",
}
MAX_AT_ONCE = 2


class Draft(BaseModel):
    """The text to review."""

    draft: str = Field(min_length=1)


class Review(BaseModel):
    """One reviewer's result, or why it failed."""

    reviewer: str
    ok: bool
    text: str


stats = agentdur.Service("DraftStats", description="a remote agent: statistics of a text")


@stats.handler()
async def count(ctx: agentdur.Context, draft: Draft) -> str:
    """Word and sentence counts."""
    words = len(draft.draft.split())
    sentences = max(1, sum(draft.draft.count(mark) for mark in ".!?"))
    return f"{words} words, {sentences} sentences"


draft_review = agentdur.Service(
    "DraftReview", description="parallelization: reviewers fan out, results fan in"
)


@draft_review.handler()
async def review(ctx: agentdur.Context, draft: Draft) -> list[Review]:
    """Run every reviewer (at most two at a time) and return their results in a fixed order."""
    branches = [
        step(aspect, complete, f"{ask}: {draft.draft}", options=agentdur.RunOptions(max_attempts=3))
        for aspect, ask in ASPECTS.items()
    ]
    branches.append(call("statistics", count, draft))
    results = await run_settled(ctx, branches, limit=MAX_AT_ONCE)
    return [
        Review(reviewer=r.name, ok=r.ok, text=str(r.value) if r.ok else (r.error.message if r.error else ""))
        for r in results
    ]


app = agentdur.App([draft_review, stats])
