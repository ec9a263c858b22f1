"""In-line steps vs. separate activities: creating the user is a call to a service of its own."""

from __future__ import annotations

import agentdur
from agentdur import Context, WorkflowContext

from ..utils import CreateUserRequest, User, activate_user, create_user, send_welcome_email

user_service = agentdur.Service("UserService")


@user_service.handler("createUser")
async def create_user_handler(ctx: Context, req: CreateUserRequest) -> bool:
    return await ctx.run_typed("create", create_user, user_id=req.user_id, user=req.user)


signup_with_activities = agentdur.Workflow("SignupWithActivitiesWorkflow")


@signup_with_activities.main()
async def run(ctx: WorkflowContext, user: User) -> bool:
    user_id = ctx.key()

    # Move user DB interaction to dedicated service
    success = await ctx.service_call(create_user_handler, arg=CreateUserRequest(user_id=user_id, user=user))
    if not success:
        return False

    # Execute other steps inline
    await ctx.run_typed("activate", activate_user, user_id=user_id)
    await ctx.run_typed("welcome", send_welcome_email, user=user)
    return True


app = agentdur.App([signup_with_activities, user_service])
