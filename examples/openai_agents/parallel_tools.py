"""Parallel tool work, two ways, both deterministic on replay.

``ParallelToolClaimAgent``: one tool runs three durable steps at once with ``agentdur.gather``.

``ParallelToolCallsAgent``: the model asks for three tools in one response and they run
concurrently (three one-second checks take about one second). Each tool is one journaled step,
created in the order of the model's response, so a replay finds every result at its place whatever
order the tools finished in.

    agentdur serve examples.openai_agents.parallel_tools:app
    curl localhost:8080/ParallelToolClaimAgent/run --json '{"date": "2024-10-01", "category": "medical",
        "reason": "hospital bill for a broken leg", "amount": 3000, "placeOfService": "General Hospital"}'
    curl localhost:8080/ParallelToolCallsAgent/run --json '{"date": "2024-10-01", "category": "medical",
        "reason": "hospital bill for a broken leg", "amount": 3000, "placeOfService": "General Hospital"}'
"""

from __future__ import annotations

import asyncio

from agents import Agent, RunContextWrapper

import agentdur
from agentdur.integrations.openai_agents import DurableRunner, durable_function_tool

from .utils import InsuranceClaim, check_eligibility, check_fraud, compare_to_standard_rates, run_config

CHECK_SECONDS = 1.0  # how long each check of ParallelToolCallsAgent takes


@durable_function_tool
async def calculate_metrics(wrapper: RunContextWrapper[agentdur.Context], claim: InsuranceClaim) -> list[str]:
    """Calculate the metrics of a claim."""
    ctx = wrapper.context
    done = await agentdur.gather(
        ctx.run_typed("eligibility", check_eligibility, claim=claim),
        ctx.run_typed("cost", compare_to_standard_rates, claim=claim),
        ctx.run_typed("fraud", check_fraud, claim=claim),
    )
    return [await result for result in done]


# One journaled step each (no run context): the model may call all three in one turn.
@durable_function_tool
async def claim_eligibility(claim: InsuranceClaim) -> str:
    """Check whether the claim is eligible."""
    await asyncio.sleep(CHECK_SECONDS)
    return check_eligibility(claim)


@durable_function_tool
async def claim_cost(claim: InsuranceClaim) -> str:
    """Compare the claim to the standard rates."""
    await asyncio.sleep(CHECK_SECONDS)
    return compare_to_standard_rates(claim)


@durable_function_tool
async def claim_fraud(claim: InsuranceClaim) -> str:
    """Estimate the fraud risk of the claim."""
    await asyncio.sleep(CHECK_SECONDS)
    return check_fraud(claim)


metrics_agent = Agent[agentdur.Context](
    name="ParallelToolClaimAgent",
    instructions="Calculate the claim metrics with your tool, then decide whether to approve the claim.",
    tools=[calculate_metrics],
)
checks_agent = Agent[agentdur.Context](
    name="ParallelToolCallsAgent",
    instructions="Run all three claim checks at once, then decide whether to approve the claim.",
    tools=[claim_eligibility, claim_cost, claim_fraud],
)

metrics_service = agentdur.Service("ParallelToolClaimAgent")
checks_service = agentdur.Service("ParallelToolCallsAgent")


@metrics_service.handler(name="run")
async def run_metrics(ctx: agentdur.Context, claim: InsuranceClaim) -> str:
    message = f"Claim: {claim.model_dump_json(by_alias=True)}"
    result = await DurableRunner.run(metrics_agent, message, run_config=run_config())
    return str(result.final_output)


@checks_service.handler(name="run")
async def run_checks(ctx: agentdur.Context, claim: InsuranceClaim) -> str:
    message = f"Claim: {claim.model_dump_json(by_alias=True)}"
    result = await DurableRunner.run(checks_agent, message, run_config=run_config(parallel_tool_calls=True))
    return str(result.final_output)


app = agentdur.App([metrics_service, checks_service])
