"""Signaling: the run waits on the durable promise ``email-verified``, ``verifyEmail`` resolves it."""

from __future__ import annotations

import agentdur
from agentdur import WorkflowContext, WorkflowSharedContext

from ..utils import User, VerifyEmailRequest, send_verification_email

signup_with_signals = agentdur.Workflow("SignupWithSignalsWorkflow")


@signup_with_signals.main()
async def run(ctx: WorkflowContext, user: User) -> bool:
    user_id = ctx.key()

    # Generate verification secret and send email
    secret = str(ctx.uuid())
    await ctx.run_typed(
        "verify",
        send_verification_email,
        user_id=user_id,
        user=user,
        verification_secret=secret,
    )

    # Wait for user to click verification link
    clicked_secret = await ctx.promise("email-verified", type_hint=str).value()
    return clicked_secret == secret


@signup_with_signals.handler("verifyEmail")
async def verify_email(ctx: WorkflowSharedContext, req: VerifyEmailRequest) -> None:
    # Resolve the promise to continue the main workflow
    await ctx.promise("email-verified", type_hint=str).resolve(req.secret)


app = agentdur.App([signup_with_signals])
