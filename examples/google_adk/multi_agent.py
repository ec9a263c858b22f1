"""Multi-agent: an intake agent hands medical claims to a specialist (ADK sub-agents), and asks a
fraud checker (an agent used as a tool, ``AgentTool``). All in one process, all durable.

Every model call of every agent is one journaled step, and the transfer to the specialist is part of
the session the object keeps for the user, so a replay takes the same path.

    agentdur serve examples.google_adk.multi_agent:app
    curl localhost:8080/MultiAgentClaimApproval/user123/run --json '{"date": "2024-10-01", "category": "medical", "reason": "hospital bill for a broken leg", "amount": 3000, "placeOfService": "General Hospital"}'
"""

from __future__ import annotations

from google.adk.agents import LlmAgent
from google.adk.tools.agent_tool import AgentTool

import agentdur

from .utils import InsuranceClaim, model, run_agent


def check_fraud(reason: str, amount: float) -> str:
    """Check a claim against the fraud database."""
    return "low fraud risk" if amount < 10_000 else "high fraud risk"


fraud_checker = LlmAgent(
    name="fraud_checker",
    model=model(),
    description="Checks claims for fraud.",
    instruction="Check the claim for fraud with your tool.",
    tools=[check_fraud],
)

medical_specialist = LlmAgent(
    name="medical_specialist",
    model=model(),
    description="Reviews medical claims.",
    instruction="Review the medical claim; ask the fraud checker first.",
    tools=[AgentTool(agent=fraud_checker)],
)

intake_agent = LlmAgent(
    name="intake_agent",
    model=model(),
    instruction="Route each claim to the specialist for its category.",
    sub_agents=[medical_specialist],
)

agent_service = agentdur.VirtualObject("MultiAgentClaimApproval")


@agent_service.handler()
async def run(ctx: agentdur.ObjectContext, claim: InsuranceClaim) -> str:
    return await run_agent(ctx, intake_agent, f"For the medical specialist: {claim.describe()}")


app = agentdur.App([agent_service])
