"""Insurance-claim agents that ask a human before approving a high-value claim.

The tool waits on an awakeable (``agentdur.patterns.approval``): the wait survives restarts and costs
nothing while it lasts. The reviewer answers over HTTP with the ``curl`` the service logs.

    agentdur serve examples.openai_agents.human_approval:app
    curl localhost:8080/HumanClaimApprovalAgent/run/send --json '{"message": "Process my hospital bill of 3000USD for a broken leg."}'
    curl localhost:8080/restate/awakeables/<id from the log>/resolve --json '{"approved": true, "by": "alice"}'

``HumanClaimApprovalWithTimeoutsAgent`` gives the reviewer ``APPROVAL_TIMEOUT_SECONDS`` (3 hours by
default); after that the tool answers that the approval timed out and the agent decides on its own.
"""

from __future__ import annotations

import os
from datetime import timedelta

from agents import Agent, RunContextWrapper

import agentdur
from agentdur.integrations.openai_agents import DurableRunner, durable_function_tool
from agentdur.patterns.approval import ApprovalNotice, ApprovalRejected, ApprovalTimedOut, request_approval

from .utils import ClaimPrompt, InsuranceClaim, log, run_config

INSTRUCTIONS = (
    "You are an insurance claim evaluation agent. Ask for human approval for claims above 1000 USD "
    "and base your decision on the outcome."
)


def approval_timeout() -> timedelta:
    return timedelta(seconds=float(os.environ.get("APPROVAL_TIMEOUT_SECONDS", 3 * 3600)))


async def notify_reviewer(notice: ApprovalNotice) -> None:
    """Tell a human what to decide and how (a real app would open a ticket or post to a chat)."""
    log.info(
        '%s -> curl %s --json \'{"approved": true, "by": "you"}\'', notice.description, notice.resolve_url
    )


async def ask_reviewer(ctx: agentdur.Context, claim: InsuranceClaim, sla: timedelta | None) -> str:
    description = f"Approve claim: {claim.reason} ({claim.amount:g})"
    try:
        decision = await request_approval(ctx, description, notify=notify_reviewer, timeout=sla)
    except ApprovalRejected as rejected:
        return f"Rejected: {rejected.message}"
    except ApprovalTimedOut:
        return "Approval timed out - Evaluate with AI"
    return f"{'Approved' if decision.approved else 'Rejected'} by {decision.by or 'the reviewer'}"


@durable_function_tool
async def human_approval(wrapper: RunContextWrapper[agentdur.Context], claim: InsuranceClaim) -> str:
    """Ask a human to approve a high-value claim, such as a large hospital bill."""
    return await ask_reviewer(wrapper.context, claim, sla=None)


@durable_function_tool(name_override="human_approval")
async def human_approval_with_timeout(
    wrapper: RunContextWrapper[agentdur.Context], claim: InsuranceClaim
) -> str:
    """Ask a human to approve a high-value claim, such as a large hospital bill (waits at most the approval SLA)."""
    return await ask_reviewer(wrapper.context, claim, sla=approval_timeout())


claim_agent = Agent[agentdur.Context](
    name="HumanClaimApprovalAgent", instructions=INSTRUCTIONS, tools=[human_approval]
)
claim_agent_with_timeout = claim_agent.clone(
    name="HumanClaimApprovalWithTimeoutsAgent", tools=[human_approval_with_timeout]
)

approval_service = agentdur.Service("HumanClaimApprovalAgent")
approval_with_timeout_service = agentdur.Service("HumanClaimApprovalWithTimeoutsAgent")


@approval_service.handler()
async def run(ctx: agentdur.Context, prompt: ClaimPrompt) -> str:
    result = await DurableRunner.run(claim_agent, prompt.message, run_config=run_config())
    return str(result.final_output)


@approval_with_timeout_service.handler(name="run")
async def run_with_timeout(ctx: agentdur.Context, prompt: ClaimPrompt) -> str:
    result = await DurableRunner.run(claim_agent_with_timeout, prompt.message, run_config=run_config())
    return str(result.final_output)


app = agentdur.App([approval_service, approval_with_timeout_service])
