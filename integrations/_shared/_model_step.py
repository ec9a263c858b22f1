"""One model request = one journaled step, whatever SDK makes it.

The first execution calls the model (retrying transient failures inside the step) and journals the
response as JSON; a replay rebuilds the response from the journal without a request. Errors that a
retry cannot fix (authentication, permission, bad request, not found) fail the step terminally at
once; exhausted retries fail it terminally too, so a broken call is never retried forever.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from agentdur import RunOptions, TerminalError, current_context

R = TypeVar("R")

# Model calls get a finite default: five attempts, backoff from 1 s doubling up to 30 s.
DEFAULT_MODEL_OPTIONS: RunOptions[Any] = RunOptions(
    max_attempts=5,
    initial_retry_interval=timedelta(seconds=1),
    max_retry_interval=timedelta(seconds=30),
    retry_interval_factor=2.0,
)
# HTTP statuses a retry cannot fix. 408 (timeout), 409, 429 and 5xx are retried.
TERMINAL_STATUSES = frozenset({400, 401, 402, 403, 404, 405, 413, 415, 422})
# The longest retry-after we honour inside one step; longer waits fail the attempt instead.
MAX_RETRY_AFTER = 120.0


def status_of(error: BaseException) -> int | None:
    """The HTTP status an SDK error carries (openai/litellm ``status_code``, google-genai ``code``)."""
    for attribute in ("status_code", "code", "status"):
        value = getattr(error, attribute, None)
        if isinstance(value, int) and 100 <= value <= 599:
            return value
    response = getattr(error, "response", None)
    value = getattr(response, "status_code", None)
    return value if isinstance(value, int) else None


def is_terminal_model_error(error: BaseException) -> bool:
    """True for errors a retry cannot fix: the request itself, or the credentials, are wrong."""
    if isinstance(error, TerminalError):
        return True
    status = status_of(error)
    return status is not None and status in TERMINAL_STATUSES


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


async def journaled_model_call(
    name: str,
    call: Callable[[], Awaitable[R]],
    *,
    dump: Callable[[R], Any],
    load: Callable[[Any], R],
    run_options: RunOptions[Any] | None = None,
) -> R:
    """Run ``call`` as the journaled step ``name`` and return its response.

    Args:
        call: makes the model request (called again on each retry).
        dump: the response as JSON-compatible data, as journaled.
        load: rebuilds an equal response from that data (used on the first run too, so both paths
            return the same kind of object).
        run_options: retries; ``max_attempts`` and the intervals apply, a server's ``retry-after``
            is honoured when longer. Defaults to :data:`DEFAULT_MODEL_OPTIONS`.

    Raises:
        UserError: outside an agentdur handler.
        TerminalError: a non-retryable model error, or retries exhausted.
    """
    ctx = current_context()
    options = run_options or DEFAULT_MODEL_OPTIONS

    async def attempt() -> Any:
        return dump(await _with_retries(name, call, options))

    data = await ctx.run_typed(name, attempt, RunOptions(type_hint=Any))
    return load(data)


async def _with_retries(name: str, call: Callable[[], Awaitable[R]], options: RunOptions[Any]) -> R:
    max_attempts = options.max_attempts or DEFAULT_MODEL_OPTIONS.max_attempts or 1
    deadline = time.monotonic() + options.max_duration.total_seconds() if options.max_duration else None
    attempt = 0
    while True:
        attempt += 1
        try:
            return await call()
        except TerminalError:
            raise
        except Exception as error:
            if is_terminal_model_error(error):
                raise TerminalError(
                    f"model call {name!r} failed: {type(error).__name__}: {error}", status_of(error)
                ) from error
            delay = max(options.delay_after(attempt), min(retry_after_seconds(error) or 0.0, MAX_RETRY_AFTER))
            out_of_time = deadline is not None and time.monotonic() + delay > deadline
            if attempt >= max_attempts or out_of_time:
                raise TerminalError(
                    f"model call {name!r} failed after {attempt} attempt(s): {type(error).__name__}: {error}",
                    status_of(error),
                ) from error
            await asyncio.sleep(delay)
