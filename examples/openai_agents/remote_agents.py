"""Remote agents as tools: the coordinator's tools call specialist agents that run as their own services.

Each call is a durable ``ctx.service_call``: persisted, retried, and waited for without holding a
worker (on Restate the coordinator can suspend until the specialist answers). The specialists can be
deployed and scaled on their own; share context with them through the call's input.

    agentdur serve examples.openai_agents.remote_agents:app
    curl localhost:8080/RemoteMultiAgentClaimApproval/run --json '{"date": "2024-10-01", "category": "medical",
        "reason": "hospital bill for a broken leg", "amount": 3000, "placeOfService": "General Hospital"}'
"""

from __future__ import annotations

from agents import Agent, RunContextWrapper

import agentdur
from agentdur.integrations.openai_agents import DurableRunner, durable_function_tool

from .sub_agents import run_eligibility_agent, run_fraud_agent, services
from .utils import InsuranceClaim, run_config


@durable_function_tool
async def check_fraud(wrapper: RunContextWrapper[agentdur.Context], claim: InsuranceClaim) -> str:
    """Analyze the probability that the claim is fraudulent."""
    return await wrapper.context.service_call(run_fraud_agent, claim)


@durable_function_tool
async def check_eligibility(wrapper: RunContextWrapper[agentdur.Context], claim: InsuranceClaim) -> str:
    """Analyze whether the claim is eligible under the policy."""
    return await wrapper.context.service_call(run_eligibility_agent, claim)


claim_approval_coordinator = Agent[agentdur.Context](
    name="ClaimApprovalCoordinator",
    instructions="You are a claim approval engine. Analyze the claim and use your tools to decide whether to approve it.",
    tools=[check_fraud, check_eligibility],
)

agent_service = agentdur.Service("RemoteMultiAgentClaimApproval")


@agent_service.handler()
async def run(ctx: agentdur.Context, claim: InsuranceClaim) -> str:
    result = await DurableRunner.run(
        claim_approval_coordinator, f"Claim: {claim.model_dump_json(by_alias=True)}", run_config=run_config()
    )
    return str(result.final_output)


app = agentdur.App([agent_service, *services])
