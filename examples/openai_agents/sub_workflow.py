"""An agent whose approval tool is a separate durable workflow, called like any other handler.

``HumanApprovalWorkflow/requestApproval`` waits for a reviewer on its own (its own journal, its own
retries); the agent's tool calls it durably with ``ctx.service_call`` and waits for the answer.

    agentdur serve examples.openai_agents.sub_workflow:app
    curl localhost:8080/SubWorkflowClaimApprovalAgent/run/send --json '{"message": "Process my hospital bill of 3000USD for a broken leg."}'
    curl localhost:8080/restate/awakeables/<id from the log>/resolve --json 'true'
"""

from __future__ import annotations

from agents import Agent, RunContextWrapper

import agentdur
from agentdur.integrations.openai_agents import DurableRunner, durable_function_tool

from .utils import ClaimPrompt, InsuranceClaim, request_human_review, run_config

human_approval_workflow = agentdur.Service("HumanApprovalWorkflow")


@human_approval_workflow.handler(name="requestApproval")
async def request_approval(ctx: agentdur.Context, claim: InsuranceClaim) -> str:
    """Ask a reviewer about ``claim`` and wait for the answer (true or false), durably."""
    approval_id, approval = ctx.awakeable(type_hint=bool, description=f"review claim: {claim.reason}")
    await ctx.run_typed("Request review", request_human_review, claim=claim.reason, awakeable_id=approval_id)
    return "approved" if await approval else "rejected"


@durable_function_tool
async def human_approval(wrapper: RunContextWrapper[agentdur.Context], claim: InsuranceClaim) -> str:
    """Ask a human to approve a high-value claim, such as a large hospital bill."""
    return await wrapper.context.service_call(request_approval, claim)


claim_agent = Agent[agentdur.Context](
    name="SubWorkflowClaimApprovalAgent",
    instructions="You are an insurance claim evaluation agent. Ask for human approval for claims above 1000 USD.",
    tools=[human_approval],
)

agent_service = agentdur.Service("SubWorkflowClaimApprovalAgent")


@agent_service.handler()
async def run(ctx: agentdur.Context, prompt: ClaimPrompt) -> str:
    result = await DurableRunner.run(claim_agent, prompt.message, run_config=run_config())
    return str(result.final_output)


app = agentdur.App([human_approval_workflow, agent_service])
