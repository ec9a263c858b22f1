"""The OpenAI Agents SDK made durable: wrap an existing agent run in one line.

Inside an agentdur handler, replace ``Runner.run(agent, input, ...)`` with
``DurableRunner.run(agent, input, ...)``. Every model call of the run becomes one journaled step
(replayed after a crash without a request), tools declared with :func:`durable_function_tool` are
journaled and run in parallel with a deterministic journal, a tool's ``needs_approval`` becomes a
durable approval (:class:`Approvals`), and :class:`DurableSession` keeps the conversation in
virtual-object state. Runs on the embedded engine and on Restate alike.

Errors a tool raises, as the run sees them::

    TerminalError (a cancellation included)   -> ends the run; DurableRunner re-raises it as raised
        carried through the SDK's run loop as ToolTerminalError / ToolCancelledError
        (both AgentsException and TerminalError, so the SDK neither wraps nor formats them)
    EngineControl (suspension, shutdown)      -> passes through untouched
    any other exception                       -> text for the model, as the SDK does
                                                 (journaled after the step's retries)

Needs the ``openai`` extra: ``pip install "agentdur[openai]"``. See docs/openai-agents.md.
"""

from __future__ import annotations

try:
    import agents  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        'agentdur.integrations.openai_agents needs the OpenAI Agents SDK: pip install "agentdur[openai]"'
    ) from error

from agentdur import current_context as restate_context

from ..kit import Approvals, ToolDecision, WaitNotice
from ._model import DurableModel, DurableModelProvider, response_from_json, response_to_json
from ._runner import INTERRUPT, DurableRunner, RunnerOptions
from ._session import DurableSession
from ._tools import (
    DurableInvoker,
    ToolAttemptFailed,
    ToolCancelledError,
    ToolTerminalError,
    durable_function_tool,
    durable_tool,
    propagating,
)

RestateSession = DurableSession  # restate-sdk's name for the session in a virtual object's state

__all__ = [
    "INTERRUPT",
    "Approvals",
    "DurableInvoker",
    "DurableModel",
    "DurableModelProvider",
    "DurableRunner",
    "DurableSession",
    "RestateSession",
    "RunnerOptions",
    "ToolAttemptFailed",
    "ToolCancelledError",
    "ToolDecision",
    "ToolTerminalError",
    "WaitNotice",
    "durable_function_tool",
    "durable_tool",
    "propagating",
    "response_from_json",
    "restate_context",
    "response_to_json",
]
