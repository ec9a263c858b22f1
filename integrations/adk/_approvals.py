"""Human approval in ADK terms, made durable: ``require_confirmation`` and long-running tools.

ADK pauses a run whose tool needs confirmation (``FunctionTool(func, require_confirmation=...)``) and
expects the client to send the decision in a new message; a long-running tool
(``LongRunningFunctionTool``) ends the turn and expects its final result the same way. Inside a
durable run both become durable waits instead (an awakeable, the way ``agentdur.patterns.approval``
waits, which integrations do not import):

- a call that needs confirmation waits for a :class:`Decision` (``{"approved": true, "by": ...}``, or a
  bare ``true`` / ``false``) before it runs: approved, the tool runs (once, journaled); rejected, the model gets ADK's rejection; no
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
from typing import Any

from google.adk.tools.base_tool import BaseTool
from google.adk.tools.function_tool import FunctionTool
from google.adk.tools.tool_confirmation import ToolConfirmation
from google.adk.tools.tool_context import ToolContext

from agentdur import TerminalError, current_context

from ..kit import (
    Approvals,
    HumanRejected,
    HumanTimedOut,
    Notify,
    StepNames,
    WaitNotice,
    wait_for_decision,
    wait_for_human,
)
from ..kit import ToolDecision as Decision

__all__ = [
    "Approvals",
    "Decision",
    "Notify",
    "WaitNotice",
    "confirm_call",
    "raise_pending",
    "wait_for_result",
]

# The journal names ADK waits have always used: runs waiting across an upgrade still replay.
_NAMES = StepNames(notify="Notify", timeout="Wait timeout")


# A TerminalError met while waiting in a plugin callback, raised by the tool instead: ADK turns an
# exception leaving a plugin callback into a RuntimeError, which would make it retryable.
_PENDING: contextvars.ContextVar[TerminalError | None] = contextvars.ContextVar(
    "agentdur_adk_pending_error", default=None
)


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
        decision = await wait_for_decision(current_context(), description, approvals, _NAMES)
    except TerminalError as error:  # a cancellation: the tool raises it
        _PENDING.set(error)
        decision = Decision(approved=True)
    if decision is None:
        return {
            "error": f"The call {_describe(tool, args)} was not approved within {approvals.timeout}; it did not run."
        }
    tool_context.tool_confirmation = ToolConfirmation(
        hint=description, confirmed=decision.approved, payload=decision.model_dump(mode="json")
    )
    return None


async def wait_for_result(tool: BaseTool, started: Any, args: dict[str, Any], approvals: Approvals) -> Any:
    """The final result of a long-running call whose function returned ``started``."""
    description = f"Result of {_describe(tool, args)} (started: {started!r})"
    try:
        return await wait_for_human(current_context(), description, Any, approvals, _NAMES)
    except HumanRejected as rejected:
        return {"error": f"{tool.name} failed: {rejected.message}"}
    except HumanTimedOut:
        return {"error": f"{tool.name} gave no result within {approvals.timeout}"}
