"""Multi-agent claim approval: an intake agent hands claims off to specialists.

Handoffs run in one durable run (every model call journaled). The object's state remembers the last
agent per key, so the user's next message goes straight back to that specialist.

    agentdur serve examples.openai_agents.multi_agent:app
    curl localhost:8080/MultiAgentClaimApproval/session123/run --json '{
        "date": "2024-10-01", "category": "medical", "reason": "hospital bill for a broken leg",
        "amount": 3000, "placeOfService": "General Hospital"}'
"""

from __future__ import annotations

from agents import Agent, handoff

import agentdur
from agentdur.integrations.openai_agents import DurableRunner, DurableSession

from .utils import InsuranceClaim, run_config

medical_specialist = Agent[agentdur.ObjectContext](
    name="MedicalSpecialist",
    handoff_description="I handle medical insurance claims, hospital bills included, from intake to final decision.",
    instructions="Review medical claims for coverage and necessity. Approve/deny up to $50,000.",
)
auto_specialist = Agent[agentdur.ObjectContext](
    name="AutoSpecialist",
    handoff_description="I handle auto insurance claims from intake to final decision.",
    instructions="Assess auto claims for liability and damage. Approve/deny up to $25,000.",
)
intake_agent = Agent[agentdur.ObjectContext](
    name="IntakeAgent",
    instructions="Route insurance claims to the appropriate specialist: medical or auto.",
    handoffs=[
        handoff(medical_specialist, tool_name_override="transfer_to_medical_specialist"),
        handoff(auto_specialist, tool_name_override="transfer_to_auto_specialist"),
    ],
)
agents_by_name = {agent.name: agent for agent in (intake_agent, medical_specialist, auto_specialist)}

agent_service = agentdur.VirtualObject("MultiAgentClaimApproval")


@agent_service.handler()
async def run(ctx: agentdur.ObjectContext, claim: InsuranceClaim) -> str:
    last_agent_name = await ctx.get("last_agent_name", type_hint=str) or intake_agent.name
    result = await DurableRunner.run(
        agents_by_name.get(last_agent_name, intake_agent),
        f"Claim: {claim.model_dump_json(by_alias=True)}",
        session=DurableSession(),
        run_config=run_config(),
    )
    ctx.set("last_agent_name", result.last_agent.name)
    return str(result.final_output)


app = agentdur.App([agent_service])
