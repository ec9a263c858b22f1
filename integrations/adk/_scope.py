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

from agentdur import RunOptions

from ._approvals import Approvals

__all__ = ["PluginOptions", "attach_to_request", "options_of_request", "plugin_options", "use_plugin_options"]


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
