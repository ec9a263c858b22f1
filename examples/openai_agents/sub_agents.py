"""Specialist agents, each a service of its own: other agents call them durably, one by one or in parallel.

agentdur serve examples.openai_agents.sub_agents:app
curl localhost:8080/FraudCheckAgent/run --json '{"date": "2024-10-01", "category": "medical",
    "reason": "hospital bill for a broken leg", "amount": 3000, "placeOfService": "General Hospital"}'
"""

from __future__ import annotations

from agents import Agent

import agentdur
from agentdur.integrations.openai_agents import DurableRunner

from .utils import InsuranceClaim, run_config

eligibility_agent = Agent(
    name="EligibilityAgent",
    instructions="Decide whether the claim is eligible under a standard health policy.",
)
rate_comparison_agent = Agent(
    name="RateComparisonAgent",
    instructions="Compare the claimed amount to the standard rates for the treatment.",
)
fraud_agent = Agent(
    name="FraudCheckAgent", instructions="Estimate the probability that the claim is fraudulent."
)

eligibility_service = agentdur.Service("EligibilityAgent")
rate_comparison_service = agentdur.Service("RateComparisonAgent")
fraud_service = agentdur.Service("FraudCheckAgent")


async def ask(agent: Agent[agentdur.Context], claim: InsuranceClaim) -> str:
    result = await DurableRunner.run(
        agent, f"Claim: {claim.model_dump_json(by_alias=True)}", run_config=run_config()
    )
    return str(result.final_output)


@eligibility_service.handler(name="run")
async def run_eligibility_agent(ctx: agentdur.Context, claim: InsuranceClaim) -> str:
    return await ask(eligibility_agent, claim)


@rate_comparison_service.handler(name="run")
async def run_rate_comparison_agent(ctx: agentdur.Context, claim: InsuranceClaim) -> str:
    return await ask(rate_comparison_agent, claim)


@fraud_service.handler(name="run")
async def run_fraud_agent(ctx: agentdur.Context, claim: InsuranceClaim) -> str:
    return await ask(fraud_agent, claim)


services = [eligibility_service, rate_comparison_service, fraud_service]
app = agentdur.App(services)
