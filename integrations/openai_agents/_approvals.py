"""The SDK's ``needs_approval``, made durable: a tool call that needs approval waits on an awakeable.

The SDK holds such a call back and ends the run with an interruption, expecting the caller to resume
it from a ``RunState``. In a durable run (the default, ``approvals=Approvals(...)``) the prepared copy
of the tool asks instead, in its model turn, and waits durably (``kit.wait_for_decision``): the run
suspends while it waits, resumes after a restart by replay (no model call or approved tool repeated),
and then

- approved: the tool runs (journaled as it would be without approval);
- rejected: the model gets the SDK's rejection text (plus the approver's comment), the tool does not run;
- no decision within the timeout: the model is told so, the tool does not run.

A ``needs_approval`` function is evaluated once, as a journaled step, so a replay asks the same
questions. The call runs alone in its turn: the tools after it wait for the decision.
"""

from __future__ import annotations

import copy
import inspect
import json
from collections.abc import Callable
from typing import Any

import agents.run_context as sdk_run_context
from agents import Agent, FunctionTool
from agents.run_state import RunState
from agents.tool import DEFAULT_APPROVAL_REJECTION_MESSAGE
from agents.tool_context import ToolContext

from agentdur import RunOptions, current_context

from ..kit import Approvals, wait_for_decision
from ._tools import DurableInvoker, ToolInvoker, durable_tool

__all__ = ["approval_gated", "owned_decisions", "restore_owned_decisions"]


def approval_gated(tool: FunctionTool, approvals: Approvals) -> FunctionTool:
    """A durable copy of ``tool`` (whose ``needs_approval`` is set) that asks for approval durably."""
    durable = durable_tool(tool)
    invoker = durable.on_invoke_tool
    inner: ToolInvoker = invoker.invoke if isinstance(invoker, DurableInvoker) else invoker
    gated = copy.copy(durable)
    gated.needs_approval = False  # the SDK must not hold the call back: the gate asks instead
    gated.on_invoke_tool = DurableInvoker(_Gate(inner, tool, approvals), alone=True)
    return gated


class _Gate:
    """The invoker of a gated tool: decide whether to ask, ask, then run the tool or answer without it."""

    def __init__(self, invoke: ToolInvoker, tool: FunctionTool, approvals: Approvals) -> None:
        self.invoke = invoke
        self.tool = tool
        self.approvals = approvals

    async def __call__(self, context: ToolContext[Any], input: str) -> Any:
        if not await self._needs_approval(context, input):
            return await self.invoke(context, input)
        description = f"Approve {self.tool.name}({_arguments(input)})?"
        decision = await wait_for_decision(current_context(), description, self.approvals)
        if decision is None:
            return f"Tool execution was not approved within {self.approvals.timeout}; it did not run."
        if not decision.approved:
            reason = f" Reason: {decision.comment}" if decision.comment else ""
            return DEFAULT_APPROVAL_REJECTION_MESSAGE + reason
        return await self.invoke(context, input)

    async def _needs_approval(self, context: ToolContext[Any], input: str) -> bool:
        setting = self.tool.needs_approval
        if isinstance(setting, bool):
            return setting

        async def evaluate() -> bool:
            try:
                parsed = json.loads(input) if input else {}
            except ValueError:
                return True  # as the SDK does: arguments it cannot read need approval
            answer: Any = setting(context, parsed, context.tool_call_id)
            return bool(await answer if inspect.isawaitable(answer) else answer)

        # Journaled: a replay asks exactly the questions the first execution asked.
        return await current_context().run_typed(
            f"Needs approval: {self.tool.name}", evaluate, RunOptions(type_hint=bool)
        )


def _arguments(input: str) -> str:
    """The call's arguments as ``name=value, ...`` for the approver (the raw text if not an object)."""
    try:
        parsed = json.loads(input) if input else {}
    except ValueError:
        return input
    if not isinstance(parsed, dict):
        return input
    return ", ".join(f"{name}={value!r}" for name, value in parsed.items())


# Newer SDKs (0.24) bind a function tool's approval decision to the agent that owns the tool: a
# decision is found again only for that very agent object.
_OWNED_KEY: Any = getattr(sdk_run_context, "_FunctionToolApprovalKey", None)

OwnedDecision = tuple[Agent[Any], str, Any]
"""A function tool's approval decision: the user's agent owning the tool, the tool's key, the record."""


def owned_decisions(
    state: RunState[Any], original: Callable[[Agent[Any]], Agent[Any]]
) -> list[OwnedDecision]:
    """The agent-owned approval decisions of ``state``, each with the user's agent as its owner.

    ``state.approve(item)`` binds the decision to ``item.agent``: with an item of a durable run's
    result that is the run's durable copy of the agent, which the next run does not use (each run
    prepares copies of its own), so the SDK would ask again. ``original`` maps a copy to the user's
    agent it was made of.
    """
    if _OWNED_KEY is None or state._context is None:
        return []
    decisions: list[OwnedDecision] = []
    for key, record in state._context._approvals.items():
        owned: Any = key
        owner = owned.agent if isinstance(owned, _OWNED_KEY) else None
        if isinstance(owner, Agent):
            decisions.append((original(owner), owned.tool_key, record))
    return decisions


def restore_owned_decisions(
    state: RunState[Any], decisions: list[OwnedDecision], prepared: Callable[[Agent[Any]], Agent[Any]]
) -> None:
    """Bind ``decisions`` to the durable copies (``prepared``) of their agents in ``state``.

    A decision the state already holds for the copy (rebuilt from its JSON) is kept.
    """
    if _OWNED_KEY is None or state._context is None:
        return
    for owner, tool_key, record in decisions:
        state._context._approvals.setdefault(_OWNED_KEY(prepared(owner), tool_key), record)
