"""One tool execution = one journaled step, with the tool's outcome journaled for the model.

A tool's ordinary errors are part of the conversation: agent SDKs show them to the model, which may
retry or answer differently. So the step retries a failing tool a few times and then journals the
*error* as its result; a replay shows the model the same error text without running the tool. A
:class:`~agentdur.TerminalError` raised by the tool is not an answer: it is journaled as the step's
failure and propagates (the integration makes sure the SDK does not turn it into text).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from pydantic import TypeAdapter

from agentdur import AgentdurError, RunOptions, TerminalError, current_context

from ._genai import traced_tool
from ._retry import RetriesExhausted, call_with_retries
from ._tool_turn import ToolSlot

__all__ = ["DEFAULT_TOOL_OPTIONS", "ToolStepFailed", "journaled_tool_call"]

# Tools get three attempts, 0.5 s then 1 s apart, before the error goes to the model.
DEFAULT_TOOL_OPTIONS: RunOptions[Any] = RunOptions(
    max_attempts=3,
    initial_retry_interval=timedelta(milliseconds=500),
    max_retry_interval=timedelta(seconds=10),
    retry_interval_factor=2.0,
)


class ToolStepFailed(Exception):
    """A journaled tool step failed with an ordinary error on every attempt.

    Its message is the last error's message, as journaled, so the model sees the same text on the
    first execution and on every replay.

    Args:
        message: the error's message.
        error_type: the class name of the error the tool raised.
    """

    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.error_type = error_type


async def journaled_tool_call(
    name: str,
    call: Callable[[], Awaitable[Any]],
    *,
    output_type: Any = Any,
    run_options: RunOptions[Any] | None = None,
    slot: ToolSlot | None = None,
    errors_to_model: bool = True,
    tool_name: str | None = None,
) -> Any:
    """Run ``call`` as the journaled step ``name`` and return its result (rebuilt from JSON).

    Args:
        call: runs the tool once (called again on each retry).
        output_type: the tool's return type; the result is journaled as its JSON form and rebuilt
            with it, on the first execution as on replay.
        run_options: retries of ordinary errors (default :data:`DEFAULT_TOOL_OPTIONS`).
        slot: the call's place in its model turn; the step is created in turn order and awaited
            with the turn's other steps. Without one, the step is created and awaited at once.
        errors_to_model: journal an ordinary error, after the retries, as the tool's answer (the
            default). False: the step retries it like any step, per ``run_options`` or else the
            invocation retry policy (as restate-sdk's integrations do), and the model never sees it.
        tool_name: the tool's name in its ``execute_tool {name}`` span (default: ``name``).

    Raises:
        ToolStepFailed: the tool failed on every attempt (journaled: the same on replay).
        TerminalError: the tool raised one (journaled).
    """
    ctx = current_context()
    options = run_options or DEFAULT_TOOL_OPTIONS
    adapter: TypeAdapter[Any] = TypeAdapter(output_type)
    label = tool_name or name.removeprefix("Tool: ").removeprefix("Tool call: ")

    async def once() -> Any:
        return await traced_tool(label, name, call)

    async def attempt() -> dict[str, Any]:
        try:
            value = await call_with_retries(
                once,
                options,
                is_terminal=lambda error: isinstance(error, AgentdurError),
                default_attempts=DEFAULT_TOOL_OPTIONS.max_attempts or 1,
            )
        except RetriesExhausted as exhausted:
            return {"error": str(exhausted.error), "error_type": type(exhausted.error).__name__}
        return {"output": _dump(adapter, name, value)}

    async def retried_by_the_engine() -> dict[str, Any]:
        return {"output": _dump(adapter, name, await once())}

    def create() -> Any:
        if errors_to_model:
            return ctx.run_typed(name, attempt, RunOptions(type_hint=dict[str, Any]))
        step_options = dataclasses.replace(run_options or RunOptions(), type_hint=dict[str, Any])
        return ctx.run_typed(name, retried_by_the_engine, step_options)

    envelope: dict[str, Any] = await (slot.step(create) if slot is not None else create())
    if "error" in envelope:
        raise ToolStepFailed(str(envelope["error"]), str(envelope.get("error_type", "Exception")))
    return adapter.validate_python(envelope["output"])


def _dump(adapter: TypeAdapter[Any], name: str, value: Any) -> Any:
    """``value`` as JSON data, or a TerminalError saying that the tool's result cannot be journaled."""
    try:
        return adapter.dump_python(value, mode="json")
    except Exception as error:
        raise TerminalError(
            f"the result of {name!r} cannot be journaled as JSON ({error}); return JSON-compatible "
            "data or a pydantic model, and annotate the tool's return type"
        ) from error
