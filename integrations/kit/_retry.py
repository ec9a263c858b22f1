"""Retries inside one journaled step: backoff per ``RunOptions``, a server's ``retry-after`` honoured.

Model calls and tool calls both retry inside their step rather than through the engine, so that what
happens when the retries run out is theirs to decide: a model step fails terminally, a tool step
hands the error to the model as text.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from agentdur import RunOptions, TerminalError

R = TypeVar("R")

log = logging.getLogger("agentdur.integrations")

# The longest retry-after we honour inside one step; longer waits fail the attempt instead.
MAX_RETRY_AFTER = 120.0


class RetriesExhausted(Exception):
    """Every attempt failed with a retryable error; ``error`` is the last one.

    Args:
        attempts: how many attempts were made.
        error: the error of the last attempt.
    """

    def __init__(self, attempts: int, error: Exception) -> None:
        super().__init__(f"failed after {attempts} attempt(s): {type(error).__name__}: {error}")
        self.attempts = attempts
        self.error = error


def retry_after_seconds(error: BaseException) -> float | None:
    """The ``retry-after`` an error's response carried (seconds or an HTTP date), if any."""
    headers: Any = None
    response = getattr(error, "response", None)
    if response is not None:
        headers = getattr(response, "headers", None)
    if headers is None:
        headers = getattr(error, "litellm_response_headers", None) or getattr(error, "headers", None)
    if not isinstance(headers, Mapping) and not hasattr(headers, "get"):
        return None
    for name in ("retry-after-ms", "retry-after"):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            seconds = float(raw)
            return seconds / 1000 if name == "retry-after-ms" else seconds
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(str(raw))
            return max(0.0, parsed.timestamp() - time.time())
    return None


async def call_with_retries(
    call: Callable[[], Awaitable[R]],
    options: RunOptions[Any],
    *,
    is_terminal: Callable[[Exception], bool],
    default_attempts: int,
) -> R:
    """Call ``call`` until it succeeds, a terminal error occurs, or ``options`` runs out.

    Args:
        call: one attempt.
        options: ``max_attempts`` (``default_attempts`` when unset), ``max_duration``, the backoff
            intervals and ``timeout`` (of each call: a call past it is cancelled and retried). A
            ``retry-after`` on the error is honoured when it is longer than the backoff.
        is_terminal: errors for which retrying is pointless; they are raised at once, as they are.
        default_attempts: the attempts when ``options.max_attempts`` is unset.

    Raises:
        TerminalError: raised by ``call``, as it is.
        RetriesExhausted: the last attempt failed with a retryable error.
    """
    max_attempts = options.max_attempts or default_attempts
    deadline = time.monotonic() + options.max_duration.total_seconds() if options.max_duration else None
    attempt = 0
    while True:
        attempt += 1
        try:
            return await _bounded(call, options.timeout_seconds)
        except TerminalError:
            raise
        except Exception as error:
            if is_terminal(error):
                raise
            delay = max(options.delay_after(attempt), min(retry_after_seconds(error) or 0.0, MAX_RETRY_AFTER))
            out_of_time = deadline is not None and time.monotonic() + delay > deadline
            if attempt >= max_attempts or out_of_time:
                raise RetriesExhausted(attempt, error) from error
            log.info(
                "attempt %d of %d failed, retrying in %.1fs: %s: %s",
                attempt,
                max_attempts,
                delay,
                type(error).__name__,
                error,
            )
            await asyncio.sleep(delay)


async def _bounded(call: Callable[[], Awaitable[R]], seconds: float | None) -> R:
    """One attempt, cancelled after ``seconds`` (a ``TimeoutError`` saying so)."""
    deadline = asyncio.timeout(seconds)
    try:
        async with deadline:
            return await call()
    except TimeoutError:
        if deadline.expired():
            raise TimeoutError(f"no answer within {seconds:g}s") from None
        raise
