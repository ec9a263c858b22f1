"""Specialist agents, each in a virtual object of its own (keyed by the user): the remote agents that
``remote_agents`` and ``parallel_agents`` call durably over the engine, like any other handler.

    agentdur serve examples.google_adk.sub_agents:app
    curl localhost:8080/FraudAgent/user123/run --json '"Claim of 3000 USD for a broken leg"'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.adk.agents import LlmAgent

import agentdur

from .utils import model, run_agent


def specialist(service: str, topic: str) -> tuple[agentdur.VirtualObject, Callable[..., Any]]:
    """A virtual object ``service`` running an agent that assesses ``topic``, and its handler."""
    agent = LlmAgent(
        name=f"{topic.replace(' ', '_')}_agent",
        model=model(),
        instruction=f"Assess the {topic} of the claim in one sentence.",
    )
    obj = agentdur.VirtualObject(service)

    @obj.handler(name="run")
    async def run(ctx: agentdur.ObjectContext, claim: str) -> str:
        return await run_agent(ctx, agent, f"Assess the {topic} of this claim: {claim}", session_id=topic)

    return obj, run


eligibility_agent, run_eligibility_agent = specialist("EligibilityAgent", "eligibility")
rate_comparison_agent, run_rate_comparison_agent = specialist("RateComparisonAgent", "cost")
fraud_agent, run_fraud_agent = specialist("FraudAgent", "fraud risk")

services = [eligibility_agent, rate_comparison_agent, fraud_agent]
app = agentdur.App(services)
