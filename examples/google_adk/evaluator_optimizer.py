"""Evaluator-optimizer: a writer agent drafts the letter about a claim, a critic agent reviews it, and
the writer improves it with the critic's feedback, until the critic is satisfied or three rounds
have passed.

ADK's own loop: a ``LoopAgent`` of the writer (``output_key="draft"``) and the critic
(``output_key="feedback"``), which ends the loop with ADK's ``exit_loop`` tool. Every model call,
the writer's policy lookup and the critic's ``exit_loop`` (its ``escalate`` included) are journaled
steps: after a crash the finished rounds come from the journal and the loop goes on where it was.

    agentdur serve examples.google_adk.evaluator_optimizer:app
    curl localhost:8080/ClaimLetter/user123/write --json '{"date": "2024-10-01", "category": "medical", "reason": "hospital bill for a broken leg", "amount": 3000, "placeOfService": "General Hospital"}'
"""

from __future__ import annotations

import warnings
from typing import Literal

from google.adk.agents import LlmAgent, LoopAgent
from google.adk.tools.exit_loop_tool import exit_loop

import agentdur
from agentdur.integrations.adk import DurableSessionService

from .utils import APP_NAME, InsuranceClaim, log, model, run_agent

MAX_ROUNDS = 3
SESSION = "letter"


def get_policy_terms(category: Literal["medical", "dental", "travel"]) -> str:
    """Look up the policy terms for claims of a category, to quote them in a letter."""
    log.info("policy terms looked up for %s", category)
    return f"{category} treatment is reimbursed in full up to 10000 USD a year"


writer = LlmAgent(
    name="writer",
    model=model(),
    instruction=(
        "Write a short, polite letter to the customer about their claim, quoting the policy terms "
        "(look them up with your tool). If there is feedback on your last draft, improve the draft "
        "with it. Feedback: {feedback?}"
    ),
    tools=[get_policy_terms],
    output_key="draft",
)

critic = LlmAgent(
    name="critic",
    model=model(),
    instruction=(
        "Review this draft of a letter to a customer: {draft}\n"
        "If it is clear, polite and accurate, call exit_loop and say nothing else. Otherwise say in "
        "one sentence what to improve."
    ),
    tools=[exit_loop],
    output_key="feedback",
)

with warnings.catch_warnings():  # ADK 2 prefers its Workflow, which cannot be a sub-agent yet
    warnings.simplefilter("ignore", DeprecationWarning)
    refinement = LoopAgent(name="refinement", sub_agents=[writer, critic], max_iterations=MAX_ROUNDS)

agent_service = agentdur.VirtualObject("ClaimLetter")


@agent_service.handler()
async def write(ctx: agentdur.ObjectContext, claim: InsuranceClaim) -> str:
    """The last draft of the letter about ``claim``, once the critic accepted it or the rounds ran out."""
    await run_agent(
        ctx, refinement, f"Write the letter about this claim: {claim.describe()}", session_id=SESSION
    )
    session = await DurableSessionService().get_session(
        app_name=APP_NAME, user_id=ctx.key(), session_id=SESSION
    )
    assert session is not None  # run_agent stored it
    return str(session.state["draft"])


app = agentdur.App([agent_service])
