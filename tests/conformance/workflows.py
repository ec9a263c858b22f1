"""The workflows of the conformance app: a signup with a signal and an event, and a timed one.

Every real side effect is one line in the effects log (``wf-<step> <key>``), so tests count how often
a step ran across processes and crashes.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel

import agentdur

from ..effects import record

signup = agentdur.Workflow("WfSignup")
timed = agentdur.Workflow("WfTimer")


class User(BaseModel):
    name: str
    email: str


def effect(line: str) -> str:
    record(line)
    return line


@signup.main()
async def run(ctx: agentdur.WorkflowContext, user: User) -> dict[str, str]:
    """Create the user, announce it (event), wait for the verification (signal), welcome."""
    key = ctx.key()
    ctx.set("status", "creating")
    await ctx.run_typed("create", effect, line=f"wf-create {key}")
    await ctx.promise("user-created", type_hint=str).resolve(f"created {user.name}")
    ctx.set("status", "waiting")
    try:
        secret = await ctx.promise("verified", type_hint=str).value()
    except agentdur.TerminalError:
        await ctx.run_typed("undo", effect, line=f"wf-undo {key}")
        ctx.set("status", "refused")
        raise
    await ctx.run_typed("welcome", effect, line=f"wf-welcome {key}")
    ctx.set("status", "done")
    return {"user": user.name, "secret": secret}


@signup.handler("verify")
async def verify(ctx: agentdur.WorkflowSharedContext, secret: str) -> None:
    await ctx.promise("verified", type_hint=str).resolve(secret)


@signup.handler("refuse")
async def refuse(ctx: agentdur.WorkflowSharedContext, reason: str) -> None:
    await ctx.promise("verified", type_hint=str).reject(reason, 422)


@signup.handler("verifyAny")
async def verify_any(ctx: agentdur.WorkflowSharedContext, value: int) -> None:
    """Resolves the str promise with an int: refused with a 400 naming the promise."""
    await ctx.promise("verified", type_hint=str).resolve(value)  # type: ignore[arg-type]


@signup.handler("waitForUserCreation")
async def wait_for_user_creation(ctx: agentdur.WorkflowSharedContext) -> str:
    return await ctx.promise("user-created", type_hint=str).value()


@signup.handler("peek")
async def peek(ctx: agentdur.WorkflowSharedContext) -> str | None:
    return await ctx.promise("verified", type_hint=str).peek()


@signup.handler("status")
async def status(ctx: agentdur.WorkflowSharedContext) -> str | None:
    return await ctx.get("status", type_hint=str)


@signup.handler("setStatus")
async def set_status(ctx: agentdur.WorkflowSharedContext, value: str) -> None:
    """Shared handlers only read state: this fails terminally."""
    ctx.set("status", value)  # type: ignore[attr-defined]


@timed.main("run")
async def sleep_then_finish(ctx: agentdur.WorkflowContext, seconds: float) -> str:
    key = ctx.key()
    await ctx.run_typed("before", effect, line=f"wft-before {key}")
    ctx.set("status", "sleeping")
    await ctx.sleep(timedelta(seconds=seconds))
    await ctx.run_typed("after", effect, line=f"wft-after {key}")
    return "woke"


@timed.handler("status")
async def timed_status(ctx: agentdur.WorkflowSharedContext) -> str | None:
    return await ctx.get("status", type_hint=str)


caller = agentdur.Service("WfCaller")


@caller.handler()
async def twice(ctx: agentdur.Context, key: str) -> list[object]:
    """Calls the run of WfTimer for ``key`` twice: the second call is refused with a 409."""
    first = await ctx.generic_call("WfTimer", "run", b"0", key=key)
    try:
        await ctx.generic_call("WfTimer", "run", b"0", key=key)
    except agentdur.TerminalError as error:
        return [first.decode(), error.status_code, error.message]
    return [first.decode(), "called twice"]
