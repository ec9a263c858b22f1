"""Research: a planner model splits a topic into subtasks, workers research them in parallel, a
synthesizer writes the report.

    agentdur serve examples.patterns.orchestrator:app
    curl localhost:8080/Research/report --json '{"topic": "heat pumps for old houses"}'

Plan, every worker and the synthesis are journaled steps: after a crash, the plan and the finished
workers come from the journal and only the missing work is asked of the model.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

import agentdur
from agentdur.patterns.orchestrator import Orchestrated, Orchestrator

from .._llm import complete, complete_json


class Topic(BaseModel):
    """What to research."""

    topic: str = Field(min_length=1)


orchestrator = Orchestrator(
    plan_with=complete_json, work_with=complete, synthesize_with=complete, max_subtasks=4, limit=2
)

research = agentdur.Service("Research", description="orchestrator-workers: plan, work in parallel, combine")


@research.handler()
async def report(ctx: agentdur.Context, topic: Topic) -> Orchestrated:
    """Plan, research and combine ``topic``."""
    return await orchestrator.run(ctx, f"Write a short research report on {topic.topic}")


app = agentdur.App([research])
