"""Durable ADK tools: a plain function tool is one journaled step; a tool that makes its own steps is not.

:class:`~agentdur.integrations.adk.DurablePlugin` applies :func:`durable_tool` to every tool of every
``LlmAgent`` it sees, so nothing needs declaring. By kind:

- a plain function (or ``FunctionTool``): each call runs once as the step ``Tool: <name>``; its
  result is journaled and a replay returns it without running the function. What the function did
  to ``tool_context`` (state changes, ``transfer_to_agent``, ``escalate``, ``skip_summarization``)
  is journaled with the result and applied again on replay.
- a function taking the agentdur context (a parameter annotated ``agentdur.Context`` or one of its
  subclasses): it gets the running handler's context and makes its own durable steps; it is not
  wrapped. Mark a function that calls ``agentdur.current_context()`` itself with :func:`own_steps`.
- any other tool (``AgentTool``, toolsets, built-in tools): left as it is; the model calls of an
  ``AgentTool``'s agent are journaled by the plugin like any other.

Errors: a :class:`~agentdur.TerminalError` ends the run (it crosses ADK and the handler re-raises it);
any other error is retried inside the step, then journaled and given to the model as
``{"error": "<type>: <message>"}``, the same text on every replay.
"""

from __future__ import annotations

import copy
import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any, TypeVar

from google.adk.tools.base_tool import BaseTool
from google.adk.tools.base_toolset import BaseToolset
from google.adk.tools.function_tool import FunctionTool

from agentdur import Context, RunOptions, UserError, current_context

from ..kit import ToolStepFailed, journaled_tool_call
from ._approvals import Approvals, raise_pending, wait_for_result
from ._scope import plugin_options

__all__ = ["durable_tool", "own_steps"]

F = TypeVar("F", bound=Callable[..., Any])

_OWN_STEPS = "__agentdur_own_steps__"
_DURABLE = "_agentdur_durable"
_ONE_STEP = "__agentdur_one_step__"
_ACTION_FLAGS = ("transfer_to_agent", "escalate", "skip_summarization")


def own_steps(func: F) -> F:
    """Mark a tool function that makes its own durable steps (``agentdur.current_context()``):
    the plugin runs it as it is instead of journaling the whole call as one step."""
    setattr(func, _OWN_STEPS, True)
    return func


def context_parameter(func: Callable[..., Any]) -> str | None:
    """The name of ``func``'s parameter annotated with an agentdur context type, if any."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    try:
        hints = typing.get_type_hints(func)
    except Exception:
        hints = {}
    for name, parameter in signature.parameters.items():
        annotation = hints.get(name, parameter.annotation)
        origin = typing.get_origin(annotation) or annotation
        if isinstance(origin, type) and issubclass(origin, Context):
            return name
    return None


def _with_context(func: Callable[..., Any], name: str) -> Callable[..., Any]:
    """``func`` without its context parameter ``name``, which it gets from the running handler."""

    @functools.wraps(func)
    async def with_context(*args: Any, **kwargs: Any) -> Any:
        kwargs[name] = current_context()
        result = func(*args, **kwargs)
        return await result if inspect.isawaitable(result) else result

    signature = inspect.signature(func)
    try:
        hints = typing.get_type_hints(func)
    except Exception:
        hints = dict(getattr(func, "__annotations__", {}))
    with_context.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p for p in signature.parameters.values() if p.name != name]
    )
    with_context.__annotations__ = {key: value for key, value in hints.items() if key != name}
    setattr(with_context, _OWN_STEPS, True)
    return with_context


def _tool_context_of(tool: FunctionTool, kwargs: dict[str, Any]) -> Any:
    name = getattr(tool, "_context_param_name", "tool_context")
    return kwargs.get(name)


def _actions_of(tool_context: Any, state_before: dict[str, Any]) -> dict[str, Any]:
    """What the tool did to its ``tool_context``: changed state and the flags ADK acts on."""
    if tool_context is None:
        return {}
    actions = tool_context.actions
    changed = {
        key: value
        for key, value in actions.state_delta.items()
        if key not in state_before or state_before[key] != value
    }
    flags = {
        flag: getattr(actions, flag) for flag in _ACTION_FLAGS if getattr(actions, flag, None) is not None
    }
    return {"state": changed, **flags}


def _apply_actions(tool_context: Any, recorded: dict[str, Any]) -> None:
    """Apply journaled ``actions`` to ``tool_context`` again (idempotent on the first execution)."""
    if tool_context is None or not recorded:
        return
    for key, value in recorded.get("state", {}).items():
        tool_context.state[key] = value
    for flag in _ACTION_FLAGS:
        if flag in recorded:
            setattr(tool_context.actions, flag, recorded[flag])


def _journaled(
    tool: FunctionTool,
    func: Callable[..., Any],
    name: str,
    options: RunOptions[Any] | None,
    approvals: Approvals | None = None,
    *,
    long_running: bool = False,
) -> Any:
    """``func`` with the same signature, running as the journaled step ``name`` inside a handler;
    ``long_running``: its final result is then awaited durably (per ``approvals``, or the running
    plugin's)."""

    async def run(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        result = func(*args, **kwargs)
        return await result if inspect.isawaitable(result) else result

    @functools.wraps(func)
    async def as_step(*args: Any, **kwargs: Any) -> Any:
        try:
            current_context()
        except UserError:  # not in a handler: an ordinary tool
            return await run(args, kwargs)
        raise_pending()
        tool_context = _tool_context_of(tool, kwargs)
        before = dict(tool_context.actions.state_delta) if tool_context is not None else {}

        async def once() -> dict[str, Any]:
            value = await run(args, kwargs)
            return {"result": value, "actions": _actions_of(tool_context, before)}

        try:
            retries = options if options is not None else plugin_options().tool_run_options
            envelope = await journaled_tool_call(name, once, run_options=retries)
        except ToolStepFailed as failed:
            return {"error": f"{failed.error_type}: {failed}"}
        _apply_actions(tool_context, envelope.get("actions") or {})
        if long_running:  # its result comes later
            waits = approvals if approvals is not None else plugin_options().approvals
            return await wait_for_result(tool, envelope["result"], _arguments(tool, kwargs), waits)
        return envelope["result"]

    setattr(as_step, _ONE_STEP, True)
    return as_step


def is_one_step(tool: BaseTool) -> bool:
    """True for a tool whose calls are journaled as one step each (see :func:`durable_tool`)."""
    return isinstance(tool, FunctionTool) and getattr(tool.func, _ONE_STEP, False) is True


def _guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` as it is, raising first what a wait for its confirmation met."""

    @functools.wraps(func)
    async def guarded(*args: Any, **kwargs: Any) -> Any:
        raise_pending()
        result = func(*args, **kwargs)
        return await result if inspect.isawaitable(result) else result

    return guarded


def _arguments(tool: FunctionTool, kwargs: dict[str, Any]) -> dict[str, Any]:
    context = getattr(tool, "_context_param_name", "tool_context")
    return {name: value for name, value in kwargs.items() if name not in (context, "input_stream")}


def durable_tool(
    tool: BaseTool | BaseToolset | Callable[..., Any],
    *,
    as_step: bool | None = None,
    step_name: str | None = None,
    run_options: RunOptions[Any] | None = None,
    approvals: Approvals | None = None,
) -> Any:
    """A durable version of ``tool`` (a function or an ADK tool); the original is not modified.

    Args:
        tool: a plain function, a ``FunctionTool`` (``LongRunningFunctionTool`` included) or any
            other ADK tool (returned as it is).
        as_step: journal each call as one step. Default: yes, unless the function takes the
            agentdur context or is marked with :func:`own_steps`.
        step_name: the step's name in the journal (default ``Tool: <tool name>``).
        run_options: retries of ordinary errors inside the step before the error goes to the model
            (default: the running ``DurablePlugin``'s ``tool_run_options``, else 3 attempts, 0.5 s
            then 1 s apart).
        approvals: how a long-running tool's wait for its final result is announced and bounded
            (default: the running ``DurablePlugin``'s).

    Returns:
        A ``FunctionTool`` for functions and function tools; any other tool unchanged.
    """
    if getattr(tool, _DURABLE, False):
        return tool
    if isinstance(tool, FunctionTool):
        durable = _durable_function_tool(tool, as_step, step_name, run_options, approvals)
    elif isinstance(tool, (BaseTool, BaseToolset)) or not callable(tool):
        return tool
    else:
        context_name = context_parameter(tool)
        func = _with_context(tool, context_name) if context_name else tool
        durable = _durable_function_tool(FunctionTool(func), as_step, step_name, run_options, approvals)
    setattr(durable, _DURABLE, True)
    return durable


def _durable_function_tool(
    tool: FunctionTool,
    as_step: bool | None,
    step_name: str | None,
    run_options: RunOptions[Any] | None,
    approvals: Approvals | None,
) -> FunctionTool:
    func = tool.func
    durable = copy.copy(tool)
    context_name = context_parameter(func) if not getattr(func, _OWN_STEPS, False) else None
    if context_name is not None:  # its declaration must not offer the context to the model
        FunctionTool.__init__(
            durable, _with_context(func, context_name), require_confirmation=tool._require_confirmation
        )
        durable.is_long_running = tool.is_long_running
        durable.description = tool.description
        func = durable.func
    if inspect.isasyncgenfunction(func) or inspect.isgeneratorfunction(func):
        return durable  # a streaming tool: ADK runs it as a node of its own; not journaled
    own = getattr(func, _OWN_STEPS, False)
    if as_step if as_step is not None else not own:
        durable.func = _journaled(
            durable,
            func,
            step_name or f"Tool: {tool.name}",
            run_options,
            approvals,
            long_running=tool.is_long_running,
        )
        durable.is_long_running = False  # the final result is awaited durably: the turn goes on
    else:
        durable.func = _guarded(func)
    return durable
