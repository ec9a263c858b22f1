"""Machinery every integration shares, framework-free (it imports only the agentdur core).

- :func:`journaled_model_call`: one model request as one journaled step, with retries that honour
  ``retry-after`` and stop at once on errors that retrying cannot fix (auth, bad request).
- :class:`ToolTurns` / :class:`ToolSlot`: the tool calls of one model response run concurrently
  while their journal entries are created in the response's order, so replay is deterministic.
- :func:`journaled_tool_call`: one tool execution as one journaled step; ordinary errors are
  journaled as the tool's answer (:class:`ToolStepFailed`), terminal errors propagate.
- :class:`ObjectStateList`: a session store on virtual-object state, keyed by the object key.
- :func:`call_from_worker_thread`: the blocking form of an async durable call, for sync agent code.
"""

from ._model_step import (
    DEFAULT_MODEL_OPTIONS,
    credentials_error,
    is_credentials_error,
    is_terminal_model_error,
    journaled_model_call,
    model_call_with_retries,
    retry_after_seconds,
)
from ._retry import RetriesExhausted, call_with_retries
from ._state_list import ObjectStateList
from ._thread_hop import call_from_worker_thread
from ._tool_step import DEFAULT_TOOL_OPTIONS, ToolStepFailed, journaled_tool_call
from ._tool_turn import ToolSlot, ToolTurn, ToolTurns, current_tool_turns, tool_turns_scope

__all__ = [
    "DEFAULT_MODEL_OPTIONS",
    "DEFAULT_TOOL_OPTIONS",
    "ObjectStateList",
    "RetriesExhausted",
    "ToolSlot",
    "ToolStepFailed",
    "ToolTurn",
    "ToolTurns",
    "call_from_worker_thread",
    "call_with_retries",
    "credentials_error",
    "current_tool_turns",
    "is_credentials_error",
    "is_terminal_model_error",
    "journaled_model_call",
    "journaled_tool_call",
    "model_call_with_retries",
    "retry_after_seconds",
    "tool_turns_scope",
]
