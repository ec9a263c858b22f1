"""Parallel agents: three specialist agents (in their own virtual objects) assess a claim at once,
then a decision agent decides from their findings.

The three calls are started together and gathered (``agentdur.gather``): each is its own durable
invocation, and a replay finds their results in the journal whatever order they finished in.

    agentdur serve examples.google_adk.parallel_agents:app
    curl localhost:8080/ParallelAgentClaimApproval/user123/run --json '{"date": "2024-10-01", "category": "medical", "reason": "hospital bill for a broken leg", "amount": 3000, "placeOfService": "General Hospital"}'
"""

from __future__ import annotations

from google.adk.agents import LlmAgent

import agentdur

from .sub_agents import run_eligibility_agent, run_fraud_agent, run_rate_comparison_agent, services
from .utils import InsuranceClaim, model, run_agent

decision_agent = LlmAgent(
    name="decision_agent", model=model(), instruction="You are a claim decision engine."
)

agent_service = agentdur.VirtualObject("ParallelAgentClaimApproval")


@agent_service.handler()
async def run(ctx: agentdur.ObjectContext, claim: InsuranceClaim) -> str:
    described = claim.describe()
    eligibility = ctx.object_call(run_eligibility_agent, ctx.key(), described)
    cost = ctx.object_call(run_rate_comparison_agent, ctx.key(), described)
    fraud = ctx.object_call(run_fraud_agent, ctx.key(), described)
    await agentdur.gather(eligibility, cost, fraud)
    return await run_agent(
        ctx,
        decision_agent,
        f"Decide about the claim: {described}. Eligibility: {await eligibility} Cost: {await cost} "
        f"Fraud: {await fraud}",
    )


app = agentdur.App([agent_service, *services])
