"""Regression app of a fixed Restate-only bug (see test_repro_concurrent_runners.py): asyncio.gather of three ADK runs (each its own Runner and DurableSessionService session) in one handler.

An earlier shape of ``examples/google_adk/orchestrator_workers.py``; it passes on the embedded engine."""

from __future__ import annotations

import asyncio
from typing import Literal

from google.adk.agents import LlmAgent
from pydantic import BaseModel, Field, ValidationError

import agentdur
from examples.google_adk.utils import InsuranceClaim, log, model, run_agent

MAX_CHECKS = 5

Specialist = Literal["eligibility", "cost", "fraud"]


class Check(BaseModel):
    """One check of the plan: which specialist runs it, and what to look at."""

    specialist: Specialist
    question: str = Field(min_length=1)


class ClaimPlan(BaseModel):
    """The planner's answer: the checks the claim needs."""

    checks: list[Check]


# ----------------------------------------------------------------------------- the workers' tools


def check_eligibility(category: Literal["medical", "dental", "travel"]) -> str:
    """Look up in the policy database whether the customer's policy covers claims of a category."""
    log.info("policy database queried for %s", category)
    return f"{category} claims are covered"


def compare_rates(amount: float) -> str:
    """Compare the cost of a claim with the standard rates for the treatment."""
    log.info("rate table queried for %.0f USD", amount)
    return "within standard rates" if amount <= 5000 else "above standard rates"


def check_fraud_history(amount: float) -> str:
    """Search the fraud register for earlier claims like this one."""
    log.info("fraud register searched for %.0f USD", amount)
    return "no similar claims on record: low fraud risk"


planner = LlmAgent(
    name="planner",
    model=model(),
    instruction=(
        "You plan the checks of an insurance claim. The specialists: eligibility (is it covered), "
        f"cost (is the amount reasonable), fraud (is it suspicious). Plan at most {MAX_CHECKS} checks, "
        "each with the specialist and the question to answer. Answer in JSON."
    ),
    output_schema=ClaimPlan,
)

WORKERS: dict[str, LlmAgent] = {
    specialist: LlmAgent(
        name=f"{specialist}_worker",
        model=model(),
        instruction=f"You check the {specialist} of insurance claims with your tool; answer in one sentence.",
        tools=[tool],
    )
    for specialist, tool in (
        ("eligibility", check_eligibility),
        ("cost", compare_rates),
        ("fraud", check_fraud_history),
    )
}

decision_agent = LlmAgent(
    name="decision_agent",
    model=model(),
    instruction="You decide about insurance claims from the findings of the checks; answer in one sentence.",
)

agent_service = agentdur.VirtualObject("ClaimOrchestrator")


async def plan_checks(ctx: agentdur.ObjectContext, described: str) -> list[Check]:
    """The planner's checks for the claim (a plan that does not parse ends the run)."""
    answer = await run_agent(
        ctx, planner, f"Plan the checks of this claim: {described}", session_id="planner"
    )
    try:
        checks = ClaimPlan.model_validate_json(answer).checks
    except ValidationError as invalid:
        raise agentdur.TerminalError(f"the planner's answer is not a plan: {invalid}") from invalid
    if not checks:
        raise agentdur.TerminalError("the planner planned no checks")
    return checks[:MAX_CHECKS]


@agent_service.handler()
async def run(ctx: agentdur.ObjectContext, claim: InsuranceClaim) -> str:
    described = claim.describe()
    checks = await plan_checks(ctx, described)
    findings = await asyncio.gather(
        *(
            run_agent(
                ctx,
                WORKERS[check.specialist],
                f"Check the {check.specialist} of this claim: {described}. {check.question}",
                session_id=f"check-{index}",
            )
            for index, check in enumerate(checks)
        )
    )
    report = "; ".join(f"{check.specialist}: {found}" for check, found in zip(checks, findings, strict=True))
    return await run_agent(ctx, decision_agent, f"Decide about this claim: {described}. Findings: {report}")


app = agentdur.App([agent_service])
