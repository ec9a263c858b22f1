"""Remote agents as tools: the claim agent's tool calls the fraud agent, which runs in another
virtual object (its own invocation, journal and retries), durably with ``ctx.object_call``.

    agentdur serve examples.google_adk.remote_agents:app
    curl localhost:8080/RemoteMultiAgentClaimApproval/user123/run --json '{"date": "2024-10-01", "category": "medical", "reason": "hospital bill for a broken leg", "amount": 3000, "placeOfService": "General Hospital"}'
"""

from __future__ import annotations

from google.adk.agents import LlmAgent

import agentdur

from .sub_agents import run_fraud_agent, services
from .utils import InsuranceClaim, model, run_agent


async def check_fraud(ctx: agentdur.ObjectContext, claim: str) -> str:
    """Ask the fraud agent to check the claim."""
    answer: str = await ctx.object_call(run_fraud_agent, ctx.key(), claim)
    return answer


claim_agent = LlmAgent(
    name="claim_agent",
    model=model(),
    instruction="Check every claim for fraud with your tool, then decide.",
    tools=[check_fraud],
)

agent_service = agentdur.VirtualObject("RemoteMultiAgentClaimApproval")


@agent_service.handler()
async def run(ctx: agentdur.ObjectContext, claim: InsuranceClaim) -> str:
    return await run_agent(ctx, claim_agent, f"Check the fraud of this claim: {claim.describe()}")


app = agentdur.App([agent_service, *services])
