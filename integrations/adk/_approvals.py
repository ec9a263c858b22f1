"""Human approval in ADK terms, made durable: ``require_confirmation`` and long-running tools.

ADK pauses a run whose tool needs confirmation (``FunctionTool(func, require_confirmation=...)``) and
expects the client to send the decision in a new message; a long-running tool
(``LongRunningFunctionTool``) ends the turn and expects its final result the same way. Inside a
durable run both become durable waits instead (an awakeable, the way ``agentdur.patterns.approval``
waits, which integrations do not import):

- a call that needs confirmation waits for a :class:`Decision` (``{"approved": true, "by": ...}``) before
  it runs: approved, the tool runs (once, journaled); rejected, the model gets ADK's rejection; no
  decision within the timeout, the model gets ``{"error": "... not approved within ..."}``;
- a long-running tool runs its function (journaled), then waits for the final result, which the
  model gets as the tool's answer.

The wait survives restarts and costs no memory while it lasts. The ``notify`` hook hears of each wait
(the awakeable id and the exact URL that resolves it); pending waits are listed by the embedded
engine's ``GET /awakeables`` and ``agentdur approvals``. A confirmed call never runs twice: its
decision and its result are both journaled (ADK's own pause and resume would run it again after a
crash between the two).
"""

from __future__ import annotations

import contextvars
import inspect
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from google.adk.tools.base_tool import BaseTool
from google.adk.tools.function_tool import FunctionTool
from google.adk.tools.tool_confirmation import ToolConfirmation
from google.adk.tools.tool_context import ToolContext
from pydantic import BaseModel

from agentdur import Context, InvocationCancelledError, RunOptions, TerminalError, current_context, select

__all__ = [
    "Approvals",
    "Decision",
    "Notify",
    "WaitNotice",
    "confirm_call",
    "raise_pending",
    "wait_for_result",
]

INGRESS_ENV = "AGENTDUR_INGRESS_URL"
DEFAULT_INGRESS = "http://127.0.0.1:8080"


class Decision(BaseModel):
    """A human's decision on a call that needs confirmation (what its awakeable is resolved with)."""

    approved: bool
    by: str | None = None
    comment: str | None = None


class WaitNotice(BaseModel):
    """What the ``notify`` hook hears of a durable wait: what is awaited and exactly how to answer."""

    awakeable_id: str
    description: str
    resolve_url: str
    reject_url: str
    attempt: int  # 1 for the first notice, 2 and up for escalations


Notify = Callable[[WaitNotice], Awaitable[None] | None]


class _Rejected(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _TimedOut(Exception):
    pass


# A TerminalError met while waiting in a plugin callback, raised by the tool instead: ADK turns an
# exception leaving a plugin callback into a RuntimeError, which would make it retryable.
_PENDING: contextvars.ContextVar[TerminalError | None] = contextvars.ContextVar(
    "agentdur_adk_pending_error", default=None
)


@dataclass(frozen=True)
class Approvals:
    """How durable waits for a human are announced and bounded.

    Attributes:
        notify: called (as a journaled step) with the awakeable id and resolve URL of each wait.
        timeout: how long to wait; ``None`` waits forever.
        escalate: called when the timeout expires, with a new awakeable; the wait starts again.
        ingress_url: the public ingress URL used in the notices.
    """

    notify: Notify | None = None
    timeout: timedelta | None = None
    escalate: Notify | None = None
    ingress_url: str | None = None


def raise_pending() -> None:
    """Raise the TerminalError a wait of this tool call met (see :data:`_PENDING`), if any."""
    error = _PENDING.get()
    if error is not None:
        _PENDING.set(None)
        raise error


def _describe(tool: BaseTool, args: dict[str, Any]) -> str:
    arguments = ", ".join(f"{name}={value!r}" for name, value in args.items())
    return f"{tool.name}({arguments})"


async def confirm_call(
    tool: BaseTool, args: dict[str, Any], tool_context: ToolContext, approvals: Approvals
) -> dict[str, Any] | None:
    """Wait durably for the decision on a call that needs confirmation.

    Returns:
        ``None`` to let ADK go on (it runs the tool when confirmed, answers with its rejection
        otherwise), or the answer for the model when nobody decided in time.
    """
    if not isinstance(tool, FunctionTool) or tool_context.tool_confirmation is not None:
        return None
    if await tool.check_require_confirmation(args, tool_context) is not True:
        return None
    description = f"Approve {_describe(tool, args)}?"
    try:
        decision = Decision.model_validate(await _wait(current_context(), description, Decision, approvals))
    except _Rejected as rejected:
        decision = Decision(approved=False, comment=rejected.message)
    except _TimedOut:
        return {
            "error": f"The call {_describe(tool, args)} was not approved within {approvals.timeout}; it did not run."
        }
    except TerminalError as error:  # a cancellation: the tool raises it
        _PENDING.set(error)
        decision = Decision(approved=True)
    tool_context.tool_confirmation = ToolConfirmation(
        hint=description, confirmed=decision.approved, payload=decision.model_dump(mode="json")
    )
    return None


async def wait_for_result(tool: BaseTool, started: Any, args: dict[str, Any], approvals: Approvals) -> Any:
    """The final result of a long-running call whose function returned ``started``."""
    description = f"Result of {_describe(tool, args)} (started: {started!r})"
    try:
        return await _wait(current_context(), description, Any, approvals)
    except _Rejected as rejected:
        return {"error": f"{tool.name} failed: {rejected.message}"}
    except _TimedOut:
        return {"error": f"{tool.name} gave no result within {approvals.timeout}"}


def _urls(awakeable_id: str, ingress_url: str | None) -> tuple[str, str]:
    base = (ingress_url or os.environ.get(INGRESS_ENV) or DEFAULT_INGRESS).rstrip("/")
    return (
        f"{base}/restate/awakeables/{awakeable_id}/resolve",
        f"{base}/restate/awakeables/{awakeable_id}/reject",
    )


async def _wait(ctx: Context, description: str, type_hint: Any, approvals: Approvals) -> Any:
    """Wait on an awakeable for a value of ``type_hint``, announced by ``notify``, bounded by the timeout
    and escalated once per ``escalate``.

    Raises:
        _Rejected: the awakeable was rejected.
        _TimedOut: no answer within the timeout (after the escalation too).
        InvocationCancelledError: the invocation was cancelled meanwhile.
    """
    hooks = [approvals.notify] + ([approvals.escalate] if approvals.escalate is not None else [])
    for attempt, hook in enumerate(hooks, start=1):
        label = description if attempt == 1 else f"{description} (escalation {attempt - 1})"
        awakeable_id, answer = ctx.awakeable(type_hint, description=label)
        if hook is not None:
            resolve, reject = _urls(awakeable_id, approvals.ingress_url)
            notice = WaitNotice(
                awakeable_id=awakeable_id,
                description=label,
                resolve_url=resolve,
                reject_url=reject,
                attempt=attempt,
            )
            await ctx.run_typed(f"Notify ({attempt})", _notify, RunOptions(max_attempts=5), hook, notice)
        try:
            if approvals.timeout is None:
                return await answer
            match await select(
                answer=answer, timeout=ctx.sleep(approvals.timeout, name=f"Wait timeout ({attempt})")
            ):
                case ["answer", value]:
                    return value
        except InvocationCancelledError:
            raise
        except TerminalError as error:  # the awakeable was rejected
            raise _Rejected(error.message) from None
    raise _TimedOut(description)


async def _notify(hook: Notify, notice: WaitNotice) -> None:
    result = hook(notice)
    if inspect.isawaitable(result):
        await result
