"""Sagas and rollback: each step registers its undo; a terminal failure runs them in reverse."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import agentdur
from agentdur import TerminalError, WorkflowContext

from ..utils import (
    User,
    activate_user,
    cancel_subscription,
    create_user,
    deactivate_user,
    delete_user,
    subscribe_to_paid_plan,
)

signup_with_sagas = agentdur.Workflow("SignupWithSagasWorkflow")


@signup_with_sagas.main()
async def run(ctx: WorkflowContext, user: User) -> bool:
    user_id = ctx.key()
    compensations: list[Callable[[], Awaitable[Any]]] = []

    try:
        compensations.append(lambda: ctx.run_typed("delete", delete_user, user_id=user_id))
        await ctx.run_typed("create", create_user, user_id=user_id, user=user)

        compensations.append(lambda: ctx.run_typed("deactivate", deactivate_user, user_id=user_id))
        await ctx.run_typed("activate", activate_user, user_id=user_id)

        compensations.append(lambda: ctx.run_typed("unsubscribe", cancel_subscription, user=user))
        await ctx.run_typed("subscribe", subscribe_to_paid_plan, user=user)
    except TerminalError:
        # Run compensations in reverse order
        for compensation in reversed(compensations):
            await compensation()
        return False

    return True


app = agentdur.App([signup_with_sagas])
