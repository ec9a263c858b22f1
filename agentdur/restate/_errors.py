"""Terminal errors cross between agentdur and restate-sdk in both directions."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import restate

from .._context import enter_step
from .._exceptions import TerminalError, error_for_status
from .._step_body import run_body


def to_restate(error: TerminalError) -> restate.TerminalError:
    """The restate-sdk form of an agentdur TerminalError (message and code kept)."""
    return restate.TerminalError(error.message, error.status_code)


def from_restate(error: restate.TerminalError) -> TerminalError:
    """The agentdur form of a restate-sdk TerminalError, with the most specific subclass.

    restate-sdk journals no cancellation flag: a cancellation is recognized by its exact code and
    wording only, so a handler's own ``TerminalError("cannot cancel order", 409)`` stays a conflict.
    """
    return error_for_status(error.status_code, error.message)


def raising_restate_errors(
    name: str, action: Callable[..., Any], timeout: float | None = None
) -> Callable[..., Any]:
    """Wrap step ``name`` so an agentdur TerminalError it raises reaches restate-sdk as a terminal
    failure, and context operations inside its body are refused (as on the embedded engine).

    The wrapper is always async: a sync action runs on agentdur's step threads (not restate-sdk's
    executor), so a hung one can be abandoned at ``timeout`` or at shutdown. As on the embedded
    engine, a BaseException that is not control flow (``SystemExit``, a ``StopIteration`` out of a
    sync function, ...) becomes a retryable :class:`~agentdur.StepAbortedError`, and an attempt past
    ``timeout`` seconds a retryable :class:`~agentdur.StepTimeoutError`.
    """
    is_async = inspect.iscoroutinefunction(action)

    @functools.wraps(action)
    async def run(*args: Any, **kwargs: Any) -> Any:
        enter_step(name)
        try:
            return await run_body(name, action, is_async, args, kwargs, timeout)
        except TerminalError as error:
            raise to_restate(error) from error

    return run
