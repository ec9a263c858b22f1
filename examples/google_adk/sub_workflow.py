"""An agent whose approval tool is a separate durable workflow, called like any other handler.

``HumanApprovalWorkflow/requestApproval`` waits for a reviewer on its own (its own journal, its own
retries); the agent's tool takes the handler's context and calls it with ``ctx.service_call``.

    agentdur serve examples.google_adk.sub_workflow:app
    curl localhost:8080/SubWorkflowClaimApprovalAgent/user123/run/send --json '{"message": "Ask a human to approve my hospital bill of 3000 USD."}'
    curl localhost:8080/restate/awakeables/<awakeable-id>/resolve --json 'true'
"""

from __future__ import annotations

from google.adk.agents import LlmAgent

import agentdur

from .utils import Prompt, log, model, run_agent

human_approval_workflow = agentdur.Service("HumanApprovalWorkflow")


@human_approval_workflow.handler(name="requestApproval")
async def request_approval(ctx: agentdur.Context, claim: str) -> str:
    """Ask a reviewer about ``claim`` and wait for the answer (true or false), durably."""
    approval_id, approval = ctx.awakeable(type_hint=bool, description=f"review claim: {claim}")
    await ctx.run_typed(
        "Request review", log.info, agentdur.RunOptions(), "review %s: resolve %s", claim, approval_id
    )
    return "approved" if await approval else "rejected"


async def human_approval(ctx: agentdur.Context, claim: str) -> str:
    """Ask a human to approve a high-value claim, such as a large hospital bill."""
    return await ctx.service_call(request_approval, claim)


claim_agent = LlmAgent(
    name="claim_agent",
    model=model(),
    instruction="You evaluate insurance claims. Ask a human to approve claims above 1000 USD.",
    tools=[human_approval],
)

agent_service = agentdur.VirtualObject("SubWorkflowClaimApprovalAgent")


@agent_service.handler()
async def run(ctx: agentdur.ObjectContext, prompt: Prompt) -> str:
    return await run_agent(ctx, claim_agent, prompt.message, session_id=prompt.session_id)


app = agentdur.App([human_approval_workflow, agent_service])
