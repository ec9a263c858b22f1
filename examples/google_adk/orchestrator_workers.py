"""Orchestrator-workers: a planner agent decides which checks a claim needs, one worker agent per
check runs at the same time, and a decision agent decides from their findings.

The plan is the planner's structured output (``output_schema``). Each planned check goes to a
worker, the virtual object ``ClaimCheckWorker`` keyed by the user and the check's number, which
runs the check's specialist agent with its lookup tool; the orchestrator starts every worker's
invocation at once and gathers them (``agentdur.gather``), then gives the findings to the decision
agent. Every model call and tool call is a journaled step and every worker call a journaled call,
so after a crash the plan and the finished workers come from the journal: nothing is asked of the
model twice and no lookup runs again.

    agentdur serve examples.google_adk.orchestrator_workers:app
    curl localhost:8080/ClaimOrchestrator/user123/run --json '{"date": "2024-10-01", "category": "medical", "reason": "hospital bill for a broken leg", "amount": 3000, "placeOfService": "General Hospital"}'
"""

from __future__ import annotations

from typing import Literal

from google.adk.agents import LlmAgent
from pydantic import BaseModel, Field, ValidationError

import agentdur

from .utils import InsuranceClaim, log, model, run_agent

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

WORKERS = {
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


class Assignment(BaseModel):
    """What the orchestrator hands a worker: one check of one claim."""

    check: Check
    claim: str


worker_service = agentdur.VirtualObject("ClaimCheckWorker")


@worker_service.handler()
async def check(ctx: agentdur.ObjectContext, assignment: Assignment) -> str:
    """Run the check's specialist agent on the claim: the worker's finding."""
    specialist = assignment.check.specialist
    message = f"Check the {specialist} of this claim: {assignment.claim}. {assignment.check.question}"
    return await run_agent(ctx, WORKERS[specialist], message, session_id=specialist)


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
    calls = [
        ctx.object_call(check, f"{ctx.key()}:{index}", Assignment(check=planned, claim=described))
        for index, planned in enumerate(checks)
    ]
    await agentdur.gather(*calls)  # all at once; then each one's finding
    findings = [await call for call in calls]
    report = "; ".join(f"{c.specialist}: {found}" for c, found in zip(checks, findings, strict=True))
    return await run_agent(ctx, decision_agent, f"Decide about this claim: {described}. Findings: {report}")


app = agentdur.App([agent_service, worker_service])
