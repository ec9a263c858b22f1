"""Human approval from inside a handler: ask, wait durably (a day if need be), get a typed decision.

The wait is an awakeable, so it survives restarts and costs no memory while it lasts (the invocation
is released and resumed by replay). Whoever decides resolves it over HTTP — on either engine::

    curl -X POST http://127.0.0.1:8080/restate/awakeables/<id>/resolve \\
         -H 'content-type: application/json' -d '{"approved": true, "by": "alice"}'

or rejects it (``.../reject`` with a text body), which raises :class:`ApprovalRejected`. Pending
approvals are listed by the embedded engine's admin API (``GET /awakeables``) and ``agentdur approvals``,
each with the JSON schema of its decision type and an example body; a resolution that does not match
is refused there with a 400 naming the field.

Example::

    decision = await request_approval(
        ctx, f"Pay out {claim.amount} EUR for claim {claim.id}?",
        notify=send_to_reviewer, timeout=timedelta(hours=24), escalate=send_to_manager,
    )
    if not decision.approved: ...
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar, overload

from pydantic import BaseModel

from agentdur import Context, InvocationCancelledError, RunOptions, TerminalError, select
from agentdur.client import DEFAULT_INGRESS_URL

__all__ = [
    "ApprovalNotice",
    "ApprovalRejected",
    "ApprovalTimedOut",
    "Decision",
    "request_approval",
    "resolve_url",
]

INGRESS_ENV = "AGENTDUR_INGRESS_URL"
HTTP_TIMEOUT = 408

D = TypeVar("D")


class Decision(BaseModel):
    """The default decision type: approved or not, by whom, and why."""

    approved: bool
    by: str | None = None
    comment: str | None = None


class ApprovalNotice(BaseModel):
    """What the ``notify`` hook receives: what to decide and exactly how to answer."""

    awakeable_id: str
    description: str
    resolve_url: str
    reject_url: str
    attempt: int  # 1 for the first request, 2 and up for escalations


class ApprovalRejected(TerminalError):
    """The approver rejected the request (``POST .../reject``); the message is theirs."""


class ApprovalTimedOut(TerminalError):
    """Nobody decided within the timeout and there was no escalation (or it timed out too)."""

    default_status = HTTP_TIMEOUT


Notify = Callable[[ApprovalNotice], Awaitable[None] | None]


def resolve_url(awakeable_id: str, ingress_url: str | None = None) -> str:
    """The URL that resolves ``awakeable_id`` (``AGENTDUR_INGRESS_URL`` or 127.0.0.1:8080 by default)."""
    base = (ingress_url or os.environ.get(INGRESS_ENV) or DEFAULT_INGRESS_URL).rstrip("/")
    return f"{base}/restate/awakeables/{awakeable_id}/resolve"


@overload
async def request_approval(
    ctx: Context,
    description: str,
    *,
    notify: Notify | None = None,
    timeout: timedelta | None = None,  # noqa: ASYNC109 - a durable timer, not an asyncio timeout
    escalate: Notify | None = None,
    ingress_url: str | None = None,
) -> Decision: ...


@overload
async def request_approval(
    ctx: Context,
    description: str,
    *,
    notify: Notify | None = None,
    timeout: timedelta | None = None,  # noqa: ASYNC109 - a durable timer, not an asyncio timeout
    escalate: Notify | None = None,
    decision_type: type[D],
    ingress_url: str | None = None,
) -> D: ...


async def request_approval(
    ctx: Context,
    description: str,
    *,
    notify: Notify | None = None,
    timeout: timedelta | None = None,  # noqa: ASYNC109 - a durable timer, not an asyncio timeout
    escalate: Notify | None = None,
    decision_type: type[Any] = Decision,
    ingress_url: str | None = None,
) -> Any:
    """Ask a human to decide and wait for the answer durably.

    Args:
        description: what is to be decided; shown in the pending-approvals list.
        notify: called once (as a journaled step) with the awakeable id and the exact resolve URL.
        timeout: how long to wait; ``None`` waits forever.
        escalate: called when the timeout expires, with a new awakeable; the wait starts again with
            the same timeout. Without it, an expired wait raises :class:`ApprovalTimedOut`.
        decision_type: the type the resolution is validated as (default :class:`Decision`). Its
            JSON schema is recorded with the approval: ``agentdur serve`` refuses a resolution that
            does not match (400 naming the field; the approval stays pending) and ``agentdur
            approvals`` shows an example body.
        ingress_url: the public ingress URL used in the notice (default from ``AGENTDUR_INGRESS_URL``).

    Raises:
        ApprovalRejected: the approver rejected the request (also, on Restate, which checks nothing
            at resolve time: the resolution did not match ``decision_type``; the message names the field).
        ApprovalTimedOut: the wait expired with no (further) escalation.
    """
    hooks = [notify] + ([escalate] if escalate is not None else [])
    for attempt, hook in enumerate(hooks, start=1):
        label = description if attempt == 1 else f"{description} (escalation {attempt - 1})"
        awakeable_id, decision = ctx.awakeable(decision_type, description=label)
        if hook is not None:
            notice = ApprovalNotice(
                awakeable_id=awakeable_id,
                description=label,
                resolve_url=resolve_url(awakeable_id, ingress_url),
                reject_url=resolve_url(awakeable_id, ingress_url).removesuffix("resolve") + "reject",
                attempt=attempt,
            )
            await ctx.run_typed(
                f"Notify approver ({attempt})", _call_hook, RunOptions(max_attempts=5), hook, notice
            )
        try:
            if timeout is None:
                return await decision
            match await select(
                decision=decision, timeout=ctx.sleep(timeout, name=f"Approval timeout ({attempt})")
            ):
                case ["decision", value]:
                    return value
        except (InvocationCancelledError, ApprovalTimedOut):
            raise
        except TerminalError as error:  # the approver rejected it
            raise ApprovalRejected(error.message, error.status_code) from None
    raise ApprovalTimedOut(f"no decision on {description!r} within {timeout}")


async def _call_hook(hook: Notify, notice: ApprovalNotice) -> None:
    result: Any = hook(notice)
    if isinstance(result, Awaitable):
        await result
