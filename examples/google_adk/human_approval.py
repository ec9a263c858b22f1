"""Human approval in ADK terms: a tool with ``require_confirmation`` waits durably for a decision.

ADK would end the turn and expect the decision in the next message; with ``DurablePlugin`` the call
waits on an awakeable instead (restarts included, no memory used while it waits), runs once when
approved, and tells the model when it is rejected or nobody decided in time.

    agentdur serve examples.google_adk.human_approval:app
    curl localhost:8080/ClaimApprovalAgent/user123/run/send --json '{"message": "Reimburse my hospital bill of 3000 USD for claim c42."}'
    # the service logs the curl that approves; agentdur approvals lists the pending ones
    curl localhost:8080/restate/awakeables/<id>/resolve --json '{"approved": true, "by": "alice"}'

``ClaimApprovalWithTimeoutAgent`` waits at most ``APPROVAL_TIMEOUT_SECONDS`` (3 hours by default).
"""

from __future__ import annotations

import os
from datetime import timedelta

from google.adk.agents import LlmAgent
from google.adk.tools.function_tool import FunctionTool

import agentdur
from agentdur.integrations.adk import DurablePlugin

from .utils import Prompt, log, log_approval_request, model, run_agent


def reimburse_claim(claim_id: str, amount: int) -> str:
    """Reimburse an insurance claim."""
    log.info("reimbursed %s USD for %s", amount, claim_id)
    return f"reimbursed {amount} USD for {claim_id}"


def needs_approval(claim_id: str, amount: int) -> bool:
    return amount > 1000


def claims_agent() -> LlmAgent:
    return LlmAgent(
        name="claims_agent",
        model=model(),
        instruction="You reimburse insurance claims.",
        tools=[FunctionTool(reimburse_claim, require_confirmation=needs_approval)],
    )


approval_agent = agentdur.VirtualObject("ClaimApprovalAgent")


@approval_agent.handler()
async def run(ctx: agentdur.ObjectContext, prompt: Prompt) -> str:
    plugin = DurablePlugin(notify=log_approval_request)
    return await run_agent(ctx, claims_agent(), prompt.message, session_id=prompt.session_id, plugin=plugin)


timeout_agent = agentdur.VirtualObject("ClaimApprovalWithTimeoutAgent")


@timeout_agent.handler()
async def run_with_timeout(ctx: agentdur.ObjectContext, prompt: Prompt) -> str:
    seconds = float(os.environ.get("APPROVAL_TIMEOUT_SECONDS", 3 * 3600))
    plugin = DurablePlugin(notify=log_approval_request, approval_timeout=timedelta(seconds=seconds))
    return await run_agent(ctx, claims_agent(), prompt.message, session_id=prompt.session_id, plugin=plugin)


app = agentdur.App([approval_agent, timeout_agent])
