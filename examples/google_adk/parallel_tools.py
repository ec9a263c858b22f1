"""Parallel tools: the model asks for three checks in one response; they run at once, durably.

Each check is a plain function tool, so each call is one journaled step; ADK runs the calls of one
response concurrently and they stay concurrent (three one-second checks take about a second). A
replay finds each check's step again whatever order they finished in, and a crash with two of the
three done runs only the third again.

    agentdur serve examples.google_adk.parallel_tools:app
    curl localhost:8080/ParallelToolClaimAgent/user123/run --json '{"date": "2024-10-01", "category": "medical", "reason": "hospital bill for a broken leg", "amount": 3000, "placeOfService": "General Hospital"}'
"""

from __future__ import annotations

import asyncio

from google.adk.agents import LlmAgent

import agentdur

from .utils import InsuranceClaim, log, model, run_agent


async def claim_eligibility(amount: float) -> str:
    """Check the eligibility of the insurance claim."""
    await asyncio.sleep(1)
    log.info("eligibility checked")
    return "eligible" if amount < 50_000 else "not eligible: above the policy limit"


async def claim_cost(amount: float) -> str:
    """Compare the cost of the insurance claim to standard rates."""
    await asyncio.sleep(1)
    log.info("cost checked")
    return "within standard rates" if amount <= 5_000 else "above standard rates"


async def claim_fraud(amount: float) -> str:
    """Check the insurance claim for fraud."""
    await asyncio.sleep(1)
    log.info("fraud checked")
    return "low fraud risk" if amount < 10_000 else "high fraud risk"


claim_agent = LlmAgent(
    name="claim_agent",
    model=model(),
    instruction="Check the claim's eligibility, cost and fraud risk, all at once, then decide.",
    tools=[claim_eligibility, claim_cost, claim_fraud],
)

agent_service = agentdur.VirtualObject("ParallelToolClaimAgent")


@agent_service.handler()
async def run(ctx: agentdur.ObjectContext, claim: InsuranceClaim) -> str:
    return await run_agent(
        ctx, claim_agent, f"Check the claim eligibility, cost and fraud: {claim.describe()}"
    )


app = agentdur.App([agent_service])
