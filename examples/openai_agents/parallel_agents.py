"""Parallel agents: three specialist agents analyze a claim at once, then a decision agent decides.

Each specialist runs as its own invocation (``ctx.service_call``, retried and recovered on its own);
``agentdur.gather`` waits for all three, and a replay finds their answers in the journal.

    agentdur serve examples.openai_agents.parallel_agents:app
    curl localhost:8080/ParallelAgentClaimApproval/run --json '{"date": "2024-10-01", "category": "medical",
        "reason": "hospital bill for a broken leg", "amount": 3000, "placeOfService": "General Hospital"}'
"""

from __future__ import annotations

from agents import Agent

import agentdur
from agentdur.integrations.openai_agents import DurableRunner

from .sub_agents import run_eligibility_agent, run_fraud_agent, run_rate_comparison_agent, services
from .utils import InsuranceClaim, run_config

decision_agent = Agent(name="ClaimApprovalAgent", instructions="You are a claim decision engine.")

agent_service = agentdur.Service("ParallelAgentClaimApproval")


@agent_service.handler()
async def run(ctx: agentdur.Context, claim: InsuranceClaim) -> str:
    # Start the three agents at once; each is its own durable invocation.
    eligibility = ctx.service_call(run_eligibility_agent, claim)
    cost = ctx.service_call(run_rate_comparison_agent, claim)
    fraud = ctx.service_call(run_fraud_agent, claim)
    await agentdur.gather(eligibility, cost, fraud)

    result = await DurableRunner.run(
        decision_agent,
        f"Decide about claim: {claim.model_dump_json(by_alias=True)}. Base your decision on the following "
        f"analyses: Eligibility: {await eligibility} Cost: {await cost} Fraud: {await fraud}",
        run_config=run_config(),
    )
    return str(result.final_output)


app = agentdur.App([agent_service, *services])
