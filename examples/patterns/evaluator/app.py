"""Copywriter: a generator writes a slogan, an evaluator judges it, the generator refines it.

    agentdur serve examples.patterns.evaluator:app
    curl localhost:8080/Copywriter/write --json '{"brief": "a slogan for a bakery that opens at 5 am", "max_rounds": 3}'

Every round is two journaled steps (``Generate n``, ``Evaluate n``); the loop stops at the first
accepted draft or after ``max_rounds``, and returns every round.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

import agentdur
from agentdur.patterns.evaluator import Optimized, optimize

from .._llm import complete, complete_json


class Brief(BaseModel):
    """What to write, and how many rounds at most."""

    brief: str = Field(min_length=1)
    max_rounds: int = Field(default=3, ge=1, le=10)


copywriter = agentdur.Service("Copywriter", description="evaluator-optimizer: write, judge, refine")


@copywriter.handler()
async def write(ctx: agentdur.Context, brief: Brief) -> Optimized:
    """Generate and refine until the evaluator accepts, or ``max_rounds`` rounds passed."""
    return await optimize(
        ctx, brief.brief, generate=complete, evaluate=complete_json, max_rounds=brief.max_rounds
    )


app = agentdur.App([copywriter])
