"""Durable tools: one journaled step per call by default, run in parallel with a deterministic journal.

:func:`durable_function_tool` takes the options of the SDK's ``function_tool``. A tool that does not
take the run context is journaled as **one step**: it runs once, its result is journaled, and a
replay returns that result without running it. A tool that takes the run context
(``RunContextWrapper[agentdur.Context]``, ``ToolContext``, ...), or whose code calls
``agentdur.current_context()`` (``restate_context()`` in code written for restate-sdk), makes its
own durable steps (``ctx.run_typed``, awakeables, calls) and is **not wrapped again**. Only the
tool's own code is looked at: a tool reaching the context through a helper needs ``as_step=False``.

Errors: a :class:`~agentdur.TerminalError` (a cancellation included) fails the run instead of being
shown to the model, and engine control flow passes through untouched; ordinary errors go back to the
model as the SDK does (after the step's retries, and journaled, so a replay shows the same text).
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import functools
import inspect
import typing
from collections.abc import Awaitable, Callable
from typing import Any, Literal, overload

from agents import AgentBase, AgentsException, FunctionTool, RunContextWrapper, function_tool
from agents.function_schema import DocstringStyle
from agents.tool import (
    FunctionToolCustomDataExtractor,
    ToolErrorFunction,
    ToolFunction,
    default_tool_error_function,
    resolve_function_tool_failure_error_function,
    set_function_tool_failure_error_function,
)
from agents.tool_context import ToolContext
from agents.tool_guardrails import ToolInputGuardrail, ToolOutputGuardrail
from agents.util._types import MaybeAwaitable

from agentdur import AgentdurError, InvocationCancelledError, RunOptions, TerminalError, current_context

from ..kit import ToolSlot, current_tool_turns, journaled_tool_call

__all__ = [
    "DurableInvoker",
    "ToolAttemptFailed",
    "ToolCancelledError",
    "ToolTerminalError",
    "durable_function_tool",
    "carried",
    "durable_tool",
    "propagating",
]

ToolInvoker = Callable[[ToolContext[Any], str], Awaitable[Any]]
NeedsApproval = bool | Callable[[RunContextWrapper[Any], dict[str, Any], str], Awaitable[bool]]
IsEnabled = bool | Callable[[RunContextWrapper[Any], AgentBase], MaybeAwaitable[bool]]

# The slot of the tool call running in this task, for the step the tool body creates.
_SLOT: contextvars.ContextVar[ToolSlot | None] = contextvars.ContextVar("agentdur_tool_slot", default=None)
_UNSET: Any = object()


class ToolTerminalError(AgentsException, TerminalError):
    """A TerminalError raised in a tool, on its way out of the Agents SDK's run loop.

    The SDK wraps any error leaving a tool that is not one of its own in its ``UserError``; this
    one is both, so it crosses the run loop as it is and still fails the invocation terminally.
    ``DurableRunner`` re-raises the original ``error``.
    """

    def __init__(self, error: TerminalError) -> None:
        TerminalError.__init__(self, error.message, error.status_code)
        self.run_data = None
        self.error = error


class ToolCancelledError(AgentsException, InvocationCancelledError):
    """The invocation was cancelled while a tool ran; carried out of the run loop like
    :class:`ToolTerminalError`, so compensation code around the run sees a cancellation."""

    def __init__(self, error: TerminalError) -> None:
        InvocationCancelledError.__init__(self, error.message, error.status_code)
        self.run_data = None
        self.error = error


class ToolAttemptFailed(AgentsException, AgentdurError):
    """An ordinary error of a tool declared with ``errors_to_model=False``: it crosses the SDK's run
    loop untouched and fails the handler attempt, which the engine retries (replaying the journal, so
    only the failed tool runs again)."""

    def __init__(self, error: Exception) -> None:
        AgentdurError.__init__(self, f"{type(error).__name__}: {error}")
        self.run_data = None
        self.error = error


def propagating(format_error: ToolErrorFunction | None) -> ToolErrorFunction:
    """A tool failure function that lets agentdur's errors through and formats the others.

    Args:
        format_error: turns an ordinary error into the text the model sees; ``None`` re-raises it
            (the SDK's meaning of ``failure_error_function=None``).
    """

    def on_tool_error(context: RunContextWrapper[Any], error: Exception) -> MaybeAwaitable[str]:
        if isinstance(error, TerminalError) and not isinstance(error, AgentsException):
            raise carried(error) from error
        if isinstance(error, AgentdurError) or format_error is None:  # carried ones included
            raise error
        return format_error(context, error)

    return on_tool_error


def carried(error: TerminalError) -> TerminalError:
    """``error`` wrapped so that it crosses the SDK's run loop unchanged."""
    if isinstance(error, InvocationCancelledError):
        return ToolCancelledError(error)
    return ToolTerminalError(error)


class DurableInvoker:
    """A FunctionTool's ``on_invoke_tool`` that runs the call in its model turn.

    Args:
        invoke: the tool's own invoker (parses the arguments, calls the function).
        alone: the tool makes its own steps, so it runs alone in turn order; otherwise its body
            creates one step, in turn order, and the steps of the turn run concurrently.
    """

    def __init__(self, invoke: ToolInvoker, *, alone: bool) -> None:
        self.invoke = invoke
        self.alone = alone

    async def __call__(self, ctx: ToolContext[Any], input: str) -> Any:
        turns = current_tool_turns()
        slot = turns.slot(ctx.tool_call_id) if turns is not None else None
        try:
            if slot is None:  # not part of a durable run's turn: run as is
                return await self.invoke(ctx, input)
            execution = ctx.run_config.tool_execution if ctx.run_config is not None else None
            if execution is not None and execution.max_function_tool_concurrency is not None:
                slot.turn.run_one_at_a_time()
            if self.alone:
                return await slot.alone(lambda: self.invoke(ctx, input))
            token = _SLOT.set(slot)
            try:
                return await self.invoke(ctx, input)
            finally:
                _SLOT.reset(token)
                slot.release()  # also when the arguments did not parse and no step was created
        except TerminalError as error:  # a tool whose invoker has no failure function of ours
            if isinstance(error, AgentsException):
                raise  # already carried
            raise carried(error) from error


def durable_tool(tool: FunctionTool) -> FunctionTool:
    """A copy of any FunctionTool (plain ``function_tool``, ``agent.as_tool()``, ...) that runs alone
    in turn order and lets agentdur's errors through; durable tools are returned as they are."""
    if isinstance(tool.on_invoke_tool, DurableInvoker):
        return tool
    durable = copy.copy(tool)  # the copy's invoker resolves the failure function against the copy

    def format_error(context: RunContextWrapper[Any], error: Exception) -> MaybeAwaitable[str]:
        original = resolve_function_tool_failure_error_function(tool, context)
        if original is None:
            raise error
        return original(context, error)

    set_function_tool_failure_error_function(durable, propagating(format_error))
    durable.on_invoke_tool = DurableInvoker(durable.on_invoke_tool, alone=True)
    return durable


@overload
def durable_function_tool(
    func: ToolFunction[...],
    *,
    name_override: str | None = None,
    description_override: str | None = None,
    docstring_style: DocstringStyle | None = None,
    use_docstring_info: bool = True,
    failure_error_function: ToolErrorFunction | None = ...,
    strict_mode: bool = True,
    is_enabled: IsEnabled = True,
    needs_approval: NeedsApproval = False,
    tool_input_guardrails: list[ToolInputGuardrail[Any]] | None = None,
    tool_output_guardrails: list[ToolOutputGuardrail[Any]] | None = None,
    timeout: float | None = None,
    timeout_behavior: Literal["error_as_result", "raise_exception"] = "error_as_result",
    timeout_error_function: ToolErrorFunction | None = None,
    defer_loading: bool = False,
    custom_data_extractor: FunctionToolCustomDataExtractor | None = None,
    allowed_callers: list[Literal["direct", "programmatic"]] | None = None,
    output_type: Any | None = None,
    output_json_schema: dict[str, Any] | None = None,
    as_step: bool | None = None,
    step_name: str | None = None,
    run_options: RunOptions[Any] | None = None,
    errors_to_model: bool = True,
) -> FunctionTool: ...


@overload
def durable_function_tool(
    *,
    name_override: str | None = None,
    description_override: str | None = None,
    docstring_style: DocstringStyle | None = None,
    use_docstring_info: bool = True,
    failure_error_function: ToolErrorFunction | None = ...,
    strict_mode: bool = True,
    is_enabled: IsEnabled = True,
    needs_approval: NeedsApproval = False,
    tool_input_guardrails: list[ToolInputGuardrail[Any]] | None = None,
    tool_output_guardrails: list[ToolOutputGuardrail[Any]] | None = None,
    timeout: float | None = None,
    timeout_behavior: Literal["error_as_result", "raise_exception"] = "error_as_result",
    timeout_error_function: ToolErrorFunction | None = None,
    defer_loading: bool = False,
    custom_data_extractor: FunctionToolCustomDataExtractor | None = None,
    allowed_callers: list[Literal["direct", "programmatic"]] | None = None,
    output_type: Any | None = None,
    output_json_schema: dict[str, Any] | None = None,
    as_step: bool | None = None,
    step_name: str | None = None,
    run_options: RunOptions[Any] | None = None,
    errors_to_model: bool = True,
) -> Callable[[ToolFunction[...]], FunctionTool]: ...


def durable_function_tool(
    func: ToolFunction[...] | None = None,
    *,
    name_override: str | None = None,
    description_override: str | None = None,
    docstring_style: DocstringStyle | None = None,
    use_docstring_info: bool = True,
    failure_error_function: ToolErrorFunction | None = _UNSET,
    strict_mode: bool = True,
    is_enabled: IsEnabled = True,
    needs_approval: NeedsApproval = False,
    tool_input_guardrails: list[ToolInputGuardrail[Any]] | None = None,
    tool_output_guardrails: list[ToolOutputGuardrail[Any]] | None = None,
    timeout: float | None = None,
    timeout_behavior: Literal["error_as_result", "raise_exception"] = "error_as_result",
    timeout_error_function: ToolErrorFunction | None = None,
    defer_loading: bool = False,
    custom_data_extractor: FunctionToolCustomDataExtractor | None = None,
    allowed_callers: list[Literal["direct", "programmatic"]] | None = None,
    output_type: Any | None = None,
    output_json_schema: dict[str, Any] | None = None,
    as_step: bool | None = None,
    step_name: str | None = None,
    run_options: RunOptions[Any] | None = None,
    errors_to_model: bool = True,
) -> FunctionTool | Callable[[ToolFunction[...]], FunctionTool]:
    """The SDK's ``function_tool``, made durable. Use it as ``@durable_function_tool`` or with options.

    The SDK's options keep their meaning; ``failure_error_function`` formats ordinary errors only
    (agentdur's errors always propagate). The extra options:

    Args:
        as_step: journal the whole call as one step. Default: yes, unless the function takes the
            run context as its first parameter or calls ``agentdur.current_context()`` (then it
            makes its own steps and runs alone, in turn order).
        step_name: the step's name in the journal (default ``Tool: <tool name>``).
        run_options: retries of ordinary errors inside the step before the error goes to the model
            (default: 3 attempts, 0.5 s then 1 s apart).
        errors_to_model: show an ordinary error to the model, as the Agents SDK does (default).
            False: retry the step instead, per ``run_options`` or else the invocation retry policy,
            as restate-sdk's integration does; the model never sees the error (a tool journaled as
            one step only).

    Note:
        ``needs_approval`` becomes a durable approval in a ``DurableRunner`` run (see its
        ``approvals`` argument). ``tool_input_guardrails`` is accepted for signature parity, but
        ``DurableRunner`` refuses tools that use it: a call a guardrail holds back would keep the
        later calls of its turn waiting.
    """
    format_error = default_tool_error_function if failure_error_function is _UNSET else failure_error_function

    def create(real: ToolFunction[...]) -> FunctionTool:
        alone = not as_step if as_step is not None else _takes_run_context(real) or _calls_context(real)
        name = name_override or getattr(real, "__name__", "tool")
        target: Any = real
        if not alone:
            result_type = output_type if output_type is not None else _return_type(real)
            target = _journaled(real, step_name or f"Tool: {name}", result_type, run_options, errors_to_model)
        tool = function_tool(
            target,
            name_override=name_override,
            description_override=description_override,
            docstring_style=docstring_style,
            use_docstring_info=use_docstring_info,
            failure_error_function=propagating(format_error),
            strict_mode=strict_mode,
            is_enabled=is_enabled,
            needs_approval=needs_approval,
            tool_input_guardrails=tool_input_guardrails,
            tool_output_guardrails=tool_output_guardrails,
            timeout=timeout,
            timeout_behavior=timeout_behavior,
            timeout_error_function=timeout_error_function,
            defer_loading=defer_loading,
            custom_data_extractor=custom_data_extractor,
            allowed_callers=allowed_callers,
            output_type=output_type,
            output_json_schema=output_json_schema,
        )
        tool.on_invoke_tool = DurableInvoker(tool.on_invoke_tool, alone=alone)
        return tool

    if func is not None:
        return create(func)
    return create


def _journaled(
    func: Callable[..., Any],
    name: str,
    result_type: Any,
    options: RunOptions[Any] | None,
    errors_to_model: bool = True,
) -> Any:
    """``func`` with the same signature, running as one journaled step in its turn."""
    is_async = inspect.iscoroutinefunction(func)

    @functools.wraps(func)
    async def run_as_step(*args: Any, **kwargs: Any) -> Any:
        async def once() -> Any:
            if is_async:
                return await func(*args, **kwargs)
            return await asyncio.to_thread(func, *args, **kwargs)

        try:
            return await journaled_tool_call(
                name,
                once,
                output_type=result_type,
                run_options=options,
                slot=_SLOT.get(),
                errors_to_model=errors_to_model,
            )
        except AgentdurError:
            raise
        except Exception as error:
            if errors_to_model:
                raise
            raise ToolAttemptFailed(error) from error

    return run_as_step


def _first_parameter_type(func: Callable[..., Any]) -> Any:
    parameters = list(inspect.signature(func).parameters.values())
    if not parameters:
        return None
    try:
        return typing.get_type_hints(func).get(parameters[0].name, parameters[0].annotation)
    except Exception:
        return parameters[0].annotation


def _takes_run_context(func: Callable[..., Any]) -> bool:
    """True when the function's first parameter is the SDK's run context (as ``function_tool`` decides)."""
    annotation = _first_parameter_type(func)
    if isinstance(annotation, str):
        return annotation.split("[")[0].split(".")[-1] in ("RunContextWrapper", "ToolContext")
    origin = typing.get_origin(annotation) or annotation
    return isinstance(origin, type) and issubclass(origin, RunContextWrapper)


# How code written for restate-sdk (and for agentdur) reaches the context without a parameter.
CONTEXT_FUNCTIONS = frozenset(("current_context", "restate_context"))


def _calls_context(func: Callable[..., Any]) -> bool:
    """True when the function's code (nested functions included) names a context function, or a
    global bound to ``agentdur.current_context`` under another name."""
    real = inspect.unwrap(func)
    code = getattr(real, "__code__", None)
    if code is None:
        return False
    scope = getattr(real, "__globals__", {})
    pending = [code]
    while pending:
        current = pending.pop()
        for name in current.co_names:
            if name in CONTEXT_FUNCTIONS or scope.get(name) is current_context:
                return True
        pending.extend(c for c in current.co_consts if inspect.iscode(c))
    return False


def _return_type(func: Callable[..., Any]) -> Any:
    try:
        return typing.get_type_hints(func).get("return", Any)
    except Exception:
        return Any
