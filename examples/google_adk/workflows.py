"""Agent workflows with ADK's own composition: a sequential pipeline whose first stage runs three
analysts in parallel (``ParallelAgent``) and whose last stage decides from their findings.

Every model call of every agent is one journaled step; the analysts' findings pass through the
session state (``output_key``), which the object keeps for the user.

    agentdur serve examples.google_adk.workflows:app
    curl localhost:8080/ClaimWorkflow/user123/run --json '{"date": "2024-10-01", "category": "medical", "reason": "hospital bill for a broken leg", "amount": 3000, "placeOfService": "General Hospital"}'
"""

from __future__ import annotations

import warnings

from google.adk.agents import LlmAgent, ParallelAgent, SequentialAgent

import agentdur

from .utils import InsuranceClaim, model, run_agent


def analyst(topic: str) -> LlmAgent:
    return LlmAgent(
        name=f"{topic}_analyst",
        model=model(),
        instruction=f"Assess the {topic} of the claim in one sentence.",
        output_key=f"{topic}_finding",
    )


with warnings.catch_warnings():  # ADK 2 prefers its Workflow, which cannot be a sub-agent yet
    warnings.simplefilter("ignore", DeprecationWarning)
    pipeline = SequentialAgent(
        name="claim_pipeline",
        sub_agents=[
            ParallelAgent(name="analysts", sub_agents=[analyst(t) for t in ("eligibility", "cost", "fraud")]),
            LlmAgent(
                name="decider",
                model=model(),
                instruction=(
                    "Decide about the claim from the findings: eligibility {eligibility_finding}, "
                    "cost {cost_finding}, fraud {fraud_finding}."
                ),
            ),
        ],
    )

agent_service = agentdur.VirtualObject("ClaimWorkflow")


@agent_service.handler()
async def run(ctx: agentdur.ObjectContext, claim: InsuranceClaim) -> str:
    return await run_agent(ctx, pipeline, f"Decide about this claim: {claim.describe()}")


app = agentdur.App([agent_service])
