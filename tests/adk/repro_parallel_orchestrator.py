"""Regression app of a fixed Restate-only bug (see test_repro_concurrent_runners.py): an ADK ParallelAgent built in the handler, of three LlmAgents each with a one-step function tool.

An earlier shape of ``examples/google_adk/orchestrator_workers.py``; it passes on the embedded engine."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Literal

from google.adk.agents import LlmAgent, ParallelAgent
from pydantic import BaseModel, Field, ValidationError

import agentdur
from agentdur.integrations.adk import DurableSessionService
from examples.google_adk.utils import APP_NAME, InsuranceClaim, log, model, run_agent

MAX_CHECKS = 5
WORK_SESSION = "checks"

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

TOOLS: dict[str, Callable[..., str]] = {
    "eligibility": check_eligibility,
    "cost": compare_rates,
    "fraud": check_fraud_history,
}


def workers(checks: list[Check]) -> ParallelAgent:
    """One worker agent per check, run at the same time; each leaves its finding in the session
    state (``finding_<i>``)."""
    with warnings.catch_warnings():  # ADK 2 prefers its Workflow, which cannot be a sub-agent yet
        warnings.simplefilter("ignore", DeprecationWarning)
        return ParallelAgent(
            name="workers",
            sub_agents=[
                LlmAgent(
                    name=f"{check.specialist}_worker_{index}",
                    model=model(),
                    instruction=(
                        f"You check the {check.specialist} of insurance claims with your tool; answer in one "
                        f"sentence. The question: {check.question}"
                    ),
                    tools=[TOOLS[check.specialist]],
                    output_key=f"finding_{index}",
                )
                for index, check in enumerate(checks)
            ],
        )


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
    await run_agent(ctx, workers(checks), f"Check this claim: {described}", session_id=WORK_SESSION)
    work = await DurableSessionService().get_session(
        app_name=APP_NAME, user_id=ctx.key(), session_id=WORK_SESSION
    )
    assert work is not None  # run_agent stored it
    report = "; ".join(f"{check.specialist}: {work.state[f'finding_{i}']}" for i, check in enumerate(checks))
    return await run_agent(ctx, decision_agent, f"Decide about this claim: {described}. Findings: {report}")


app = agentdur.App([agent_service])
