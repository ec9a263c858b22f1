"""restate-sdk's ``restate.ext.openai`` on agentdur's OpenAI Agents integration.

``durable_function_tool`` keeps restate-sdk's default for an ordinary tool error: the tool is
retried (``errors_to_model=False``) instead of the error being shown to the model, as
``agentdur.integrations.openai_agents.durable_function_tool`` does.
"""

from __future__ import annotations

from typing import Any, cast

from agentdur import ObjectContext, current_context
from agentdur.integrations.openai_agents import (
    DurableRunner,
    RestateSession,
    propagating,
    restate_context,
)
from agentdur.integrations.openai_agents import (
    durable_function_tool as _durable_function_tool,
)

__all__ = [
    "DurableRunner",
    "RestateSession",
    "durable_function_tool",
    "propagate_cancellation",
    "raise_terminal_errors",
    "restate_context",
    "restate_object_context",
]


def restate_object_context() -> ObjectContext:
    """The context of the running virtual-object handler."""
    return cast(ObjectContext, current_context())


def durable_function_tool(func: Any = None, **options: Any) -> Any:
    """agentdur's ``durable_function_tool`` with restate-sdk's default: ordinary errors are retried."""
    options.setdefault("errors_to_model", False)
    return _durable_function_tool(func, **options)


def raise_terminal_errors(context: Any, error: Exception) -> str:
    """restate-sdk's tool failure function: terminal errors end the run, others become text."""
    from agents.tool import default_tool_error_function

    return cast(str, propagating(default_tool_error_function)(context, error))


def propagate_cancellation(failure_error_function: Any = None) -> Any:
    """restate-sdk's wrapper of a failure function that lets cancellations through (agentdur lets
    every terminal error through)."""
    from agents.tool import default_tool_error_function

    return propagating(failure_error_function or default_tool_error_function)
