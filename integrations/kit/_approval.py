"""A durable wait for a human's decision on a tool call, for the integrations' own approval features.

An agent SDK that holds a tool call back until someone approves it (the OpenAI Agents SDK's
``needs_approval``) expects the process to stay up or the run to be resumed by hand. Inside a durable
run the call waits on an awakeable instead, the way ``agentdur.patterns.approval`` waits: the wait
survives restarts and costs no memory while it lasts, the approval is listed by the embedded engine's
``GET /awakeables`` and ``agentdur approvals``, and whoever decides resolves it over HTTP with ``true``,
``false`` or ``{"approved": ..., "by": ..., "comment": ...}``; a rejection of the awakeable (``.../reject``
with a text body) is a "no" whose comment is that text.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from agentdur import Context, InvocationCancelledError, RunOptions, TerminalError, select

__all__ = [
    "Approvals",
    "HumanRejected",
    "HumanTimedOut",
    "Notify",
    "StepNames",
    "ToolDecision",
    "WaitNotice",
    "wait_for_decision",
    "wait_for_human",
]

INGRESS_ENV = "AGENTDUR_INGRESS_URL"
DEFAULT_INGRESS = "http://127.0.0.1:8080"


class ToolDecision(BaseModel):
    """A human's decision on a tool call (the awakeable also takes a bare ``true`` / ``false``)."""

    approved: bool
    by: str | None = None
    comment: str | None = None


class WaitNotice(BaseModel):
    """What the ``notify`` hook hears of a wait: what is to be decided and exactly how to answer."""

    awakeable_id: str
    description: str
    resolve_url: str
    reject_url: str
    attempt: int  # 1 for the first notice, 2 and up for escalations


Notify = Callable[[WaitNotice], Awaitable[None] | None]


@dataclass(frozen=True)
class Approvals:
    """How the durable approvals of a run are announced and bounded.

    Attributes:
        notify: called (as a journaled step) with the awakeable id and resolve URL of each wait.
        timeout: how long to wait; ``None`` waits forever. A call nobody decided on in time does not
            run: the model is told so.
        escalate: called when the timeout expires, with a new awakeable; the wait starts again.
        ingress_url: the public ingress URL used in the notices (default ``AGENTDUR_INGRESS_URL``).
    """

    notify: Notify | None = None
    timeout: timedelta | None = None
    escalate: Notify | None = None
    ingress_url: str | None = None


class HumanRejected(Exception):
    """The awakeable of a human wait was rejected (``.../reject``); ``message`` is its text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class HumanTimedOut(Exception):
    """Nobody answered a human wait within the timeout, escalations included."""


@dataclass(frozen=True)
class StepNames:
    """The journal names of a wait's notify step and timer (``" ({attempt})"`` is appended).

    They are part of the journal: an integration keeps its names so runs waiting across an upgrade
    still replay.
    """

    notify: str = "Notify approver"
    timeout: str = "Approval timeout"


async def wait_for_human(
    ctx: Context, description: str, type_hint: Any, approvals: Approvals, names: StepNames = StepNames()
) -> Any:
    """Wait durably on an awakeable for a value of ``type_hint``: announced by ``notify`` (a journaled
    step), bounded by the timeout, and started again once for ``escalate``.

    Raises:
        HumanRejected: the awakeable was rejected.
        HumanTimedOut: no answer within the timeout (after the escalation too).
        InvocationCancelledError: the invocation was cancelled while it waited.
    """
    hooks = [approvals.notify] + ([approvals.escalate] if approvals.escalate is not None else [])
    for attempt, hook in enumerate(hooks, start=1):
        label = description if attempt == 1 else f"{description} (escalation {attempt - 1})"
        awakeable_id, answer = ctx.awakeable(type_hint, description=label)
        if hook is not None:
            await ctx.run_typed(
                f"{names.notify} ({attempt})",
                _notify,
                RunOptions(max_attempts=5),
                hook,
                _notice(awakeable_id, label, attempt, approvals.ingress_url),
            )
        try:
            if approvals.timeout is None:
                return await answer
            match await select(
                answer=answer, timeout=ctx.sleep(approvals.timeout, name=f"{names.timeout} ({attempt})")
            ):
                case ["answer", value]:
                    return value
        except InvocationCancelledError:
            raise
        except TerminalError as error:  # the awakeable was rejected
            raise HumanRejected(error.message) from None
    raise HumanTimedOut(description)


async def wait_for_decision(
    ctx: Context, description: str, approvals: Approvals, names: StepNames = StepNames()
) -> ToolDecision | None:
    """Wait durably for a decision on ``description``.

    Returns:
        The decision (a rejected awakeable is a "no" with its message as the comment), or ``None``
        when nobody decided within the timeout, escalation included.

    Raises:
        InvocationCancelledError: the invocation was cancelled while it waited.
    """
    try:
        return _decision(await wait_for_human(ctx, description, bool | ToolDecision, approvals, names))
    except HumanRejected as rejected:
        return ToolDecision(approved=False, comment=rejected.message)
    except HumanTimedOut:
        return None


def _decision(value: bool | ToolDecision) -> ToolDecision:
    return value if isinstance(value, ToolDecision) else ToolDecision(approved=value)


def _notice(awakeable_id: str, description: str, attempt: int, ingress_url: str | None) -> WaitNotice:
    base = (ingress_url or os.environ.get(INGRESS_ENV) or DEFAULT_INGRESS).rstrip("/")
    return WaitNotice(
        awakeable_id=awakeable_id,
        description=description,
        resolve_url=f"{base}/restate/awakeables/{awakeable_id}/resolve",
        reject_url=f"{base}/restate/awakeables/{awakeable_id}/reject",
        attempt=attempt,
    )


async def _notify(hook: Notify, notice: WaitNotice) -> None:
    result = hook(notice)
    if inspect.isawaitable(result):
        await result
