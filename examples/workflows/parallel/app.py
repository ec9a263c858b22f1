"""Parallel execution: after creating the user, three independent steps run at the same time.

``agentdur.gather`` waits for all of them; each is journaled on its own, so after a crash only the
ones that had not completed run again. (The tour's timers example is the other form: racing a
promise against two timers with ``agentdur.select``.)
"""

from __future__ import annotations

import agentdur
from agentdur import WorkflowContext

from ..utils import User, activate_user, create_user, send_welcome_email, subscribe_to_paid_plan

signup_in_parallel = agentdur.Workflow("SignupInParallelWorkflow")


@signup_in_parallel.main()
async def run(ctx: WorkflowContext, user: User) -> list[str]:
    user_id = ctx.key()
    await ctx.run_typed("create", create_user, user_id=user_id, user=user)

    # Three steps at once; the workflow continues when all three completed.
    await agentdur.gather(
        ctx.run_typed("activate", activate_user, user_id=user_id),
        ctx.run_typed("welcome", send_welcome_email, user=user),
        ctx.run_typed("subscribe", subscribe_to_paid_plan, user=user),
    )
    return ["activated", "welcomed", "subscribed"]


app = agentdur.App([signup_in_parallel])
