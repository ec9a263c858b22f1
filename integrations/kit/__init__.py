"""What an integration may use beyond the public ``agentdur`` names: the one module for integrations.

Every integration (``integrations/README.md`` is the contract) imports its framework, public names from
``agentdur``, and this module; never a private core module. It holds the machinery itself:

- :func:`journaled_model_call`, :data:`DEFAULT_MODEL_OPTIONS`, :func:`is_terminal_model_error`:
  one model request as one journaled step, retried with ``retry-after`` honoured and stopped at once on
  errors retrying cannot fix (authentication, missing credentials, bad request);
  :func:`is_credentials_error` / :func:`credentials_error` tell and turn a provider's credential
  failure into a terminal error.
- :func:`journaled_tool_call`, :data:`DEFAULT_TOOL_OPTIONS`, :class:`ToolStepFailed`: one tool execution
  as one journaled step; ordinary errors become the tool's answer, terminal ones propagate.
- :class:`ToolTurns`, :class:`ToolTurn`, :class:`ToolSlot`, :func:`tool_turns_scope`,
  :func:`current_tool_turns`: the tool calls of one model response, concurrent, journaled in the
  response's order.
- :class:`ObjectStateList`: a session store on virtual-object state keyed by the object key.
- :class:`ModelInfo`, :class:`ModelFacts`, :func:`agent_span`: what a model call tells the GenAI
  spans and the usage ledger (provider, model, tokens), and the ``invoke_agent`` span of a run.
- :func:`publish_model_start`, :func:`publish_text_delta`, :func:`publish_tool_call`,
  :func:`publish_live`: the live output of a streamed model call (one
  vocabulary for every integration; not journaled).
- :func:`wait_for_decision`, :class:`Approvals`, :class:`ToolDecision`, :class:`WaitNotice`: a durable
  wait for a human's decision on a tool call (an SDK's own approval feature, made durable);
  :func:`wait_for_human` the same wait for any typed answer (a long-running tool's result).
- :func:`call_from_worker_thread`: the blocking form of an async durable call, for sync agent code a
  handler runs in a worker thread.
"""

from ._approval import (
    Approvals,
    HumanRejected,
    HumanTimedOut,
    Notify,
    StepNames,
    ToolDecision,
    WaitNotice,
    wait_for_decision,
    wait_for_human,
)
from ._genai import ModelFacts, ModelInfo, agent_span, start_agent_span
from ._live import (
    publish_live,
    publish_model_start,
    publish_text_delta,
    publish_tool_call,
)
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
    "Approvals",
    "DEFAULT_MODEL_OPTIONS",
    "DEFAULT_TOOL_OPTIONS",
    "HumanRejected",
    "HumanTimedOut",
    "ModelFacts",
    "ModelInfo",
    "Notify",
    "ObjectStateList",
    "RetriesExhausted",
    "StepNames",
    "ToolDecision",
    "ToolSlot",
    "ToolStepFailed",
    "ToolTurn",
    "ToolTurns",
    "agent_span",
    "WaitNotice",
    "call_from_worker_thread",
    "call_with_retries",
    "credentials_error",
    "current_tool_turns",
    "is_credentials_error",
    "is_terminal_model_error",
    "journaled_model_call",
    "journaled_tool_call",
    "model_call_with_retries",
    "publish_live",
    "publish_model_start",
    "publish_text_delta",
    "publish_tool_call",
    "retry_after_seconds",
    "start_agent_span",
    "tool_turns_scope",
    "wait_for_decision",
    "wait_for_human",
]
