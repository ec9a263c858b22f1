"""The options of the ``DurablePlugin`` whose run is in progress, for the model and tools it prepared.

An agent is prepared once, in place, and may later run under another ``DurablePlugin`` (another app,
other retry options). So the wrappers do not keep the options of the plugin that prepared them: the
plugin hands its options to the call at hand: to a tool call through the task that makes it (its
``before_tool`` callback runs in the tool call's task and context), to a model call with its
``LlmRequest`` (ADK drives the model in another context than its ``before_model`` callback).
"""

from __future__ import annotations

import contextvars
import weakref
from dataclasses import dataclass
from typing import Any

from agentdur import RunOptions, UserError, current_context

from ._approvals import Approvals

__all__ = [
    "PluginOptions",
    "attach_to_request",
    "is_journaled_call",
    "mark_journaled_call",
    "options_of_request",
    "plugin_options",
    "use_plugin_options",
]


@dataclass(frozen=True)
class PluginOptions:
    """What a ``DurablePlugin`` was configured with."""

    run_options: RunOptions[Any] | None = None
    tool_run_options: RunOptions[Any] | None = None
    approvals: Approvals = Approvals()


_OPTIONS: contextvars.ContextVar[PluginOptions | None] = contextvars.ContextVar(
    "agentdur_adk_plugin_options", default=None
)


def plugin_options() -> PluginOptions:
    """The options of the plugin running the current call (the defaults outside one)."""
    return _OPTIONS.get() or PluginOptions()


def use_plugin_options(options: PluginOptions) -> None:
    """Make ``options`` those of the calls this task makes next."""
    _OPTIONS.set(options)


# A model call's options travel with its LlmRequest: ADK drives the model's response generator in
# another context than the one its before-model callbacks ran in.
_BY_REQUEST: dict[int, PluginOptions] = {}


def attach_to_request(request: object, options: PluginOptions) -> None:
    """Give the model call of ``request`` the options ``options``."""
    key = id(request)
    if key not in _BY_REQUEST:
        weakref.finalize(request, _BY_REQUEST.pop, key, None)
    _BY_REQUEST[key] = options


def options_of_request(request: object) -> PluginOptions:
    """The options of the plugin that saw ``request`` (the defaults when none did)."""
    return _BY_REQUEST.get(id(request)) or plugin_options()


# The function calls of the running handler invocation that a journaled tool step answers: a replay
# gives their responses again as they were, so the session service need not journal them again.
_JOURNALED_CALLS: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def _calls() -> set[str] | None:
    try:
        return _JOURNALED_CALLS.setdefault(current_context(), set())
    except (UserError, TypeError):  # not in a handler, or a context that cannot be weakly referenced
        return None


def mark_journaled_call(call_id: str | None) -> None:
    """The function call ``call_id`` of this invocation is answered by a journaled tool step."""
    calls = _calls()
    if call_id and calls is not None:
        calls.add(call_id)


def is_journaled_call(call_id: str | None) -> bool:
    """True when :func:`mark_journaled_call` marked ``call_id`` in this invocation."""
    calls = _calls()
    return bool(call_id) and calls is not None and call_id in calls
