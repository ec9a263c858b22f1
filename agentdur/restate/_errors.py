"""Terminal errors cross between agentdur and restate-sdk in both directions."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import restate

from .._context import enter_step
from .._exceptions import TerminalError, error_for_status


def to_restate(error: TerminalError) -> restate.TerminalError:
    """The restate-sdk form of an agentdur TerminalError (message and code kept)."""
    return restate.TerminalError(error.message, error.status_code)


def from_restate(error: restate.TerminalError) -> TerminalError:
    """The agentdur form of a restate-sdk TerminalError, with the most specific subclass.

    restate-sdk journals no cancellation flag: a cancellation is recognized by its exact code and
    wording only, so a handler's own ``TerminalError("cannot cancel order", 409)`` stays a conflict.
    """
    return error_for_status(error.status_code, error.message)


def raising_restate_errors(name: str, action: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap step ``name`` so an agentdur TerminalError it raises reaches restate-sdk as a terminal
    failure, and context operations inside its body are refused (as on the embedded engine).

    The wrapper keeps the action sync or async, so restate-sdk still runs sync actions in a thread.
    """
    if inspect.iscoroutinefunction(action):

        @functools.wraps(action)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            enter_step(name)
            try:
                return await action(*args, **kwargs)
            except TerminalError as error:
                raise to_restate(error) from error

        return run_async

    @functools.wraps(action)
    def run_sync(*args: Any, **kwargs: Any) -> Any:
        enter_step(name)
        try:
            return action(*args, **kwargs)
        except TerminalError as error:
            raise to_restate(error) from error

    return run_sync
