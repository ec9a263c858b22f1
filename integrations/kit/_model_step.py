"""One model request = one journaled step, whatever SDK makes it.

The first execution calls the model (retrying transient failures inside the step) and journals the
response as JSON; a replay rebuilds the response from the journal without a request. Errors that a
retry cannot fix (authentication, permission, bad request, not found) fail the step terminally at
once; exhausted retries fail it terminally too, so a broken call is never retried forever.

Missing or refused credentials are terminal at once wherever they show: a 401/403 answer, an SDK's
``AuthenticationError``/``PermissionDeniedError``, or an SDK refusing to build a client without an
API key (before any request is sent).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from agentdur import MODEL_CALL_OPTIONS, RunOptions, TerminalError, current_context

from ._genai import ModelInfo, record_usage, traced_model_request
from ._retry import RetriesExhausted, call_with_retries, retry_after_seconds

__all__ = [
    "DEFAULT_MODEL_OPTIONS",
    "TERMINAL_STATUSES",
    "credentials_error",
    "is_credentials_error",
    "is_terminal_model_error",
    "journaled_model_call",
    "retry_after_seconds",
    "status_of",
]

R = TypeVar("R")

# Model calls get a finite default, the same everywhere: agentdur.MODEL_CALL_OPTIONS.
DEFAULT_MODEL_OPTIONS: RunOptions[Any] = MODEL_CALL_OPTIONS
# HTTP statuses a retry cannot fix. 408 (timeout), 409, 429 and 5xx are retried.
TERMINAL_STATUSES = frozenset({400, 401, 402, 403, 404, 405, 413, 415, 422})
HTTP_UNAUTHORIZED = 401
CREDENTIAL_STATUSES = frozenset({401, 403})
# The SDKs' exception classes for refused credentials (openai, litellm and their subclasses).
CREDENTIAL_ERROR_NAMES = frozenset({"AuthenticationError", "PermissionDeniedError"})
# How SDKs word a missing key before any request (openai's client, litellm wrapping it in a 500).
MISSING_KEY_PHRASES = (
    "api_key client option must be set",
    "missing credentials",
    "no api key",
    "api key not found",
    "api_key is not set",
)


def status_of(error: BaseException) -> int | None:
    """The HTTP status an SDK error carries (openai/litellm ``status_code``, google-genai ``code``)."""
    for attribute in ("status_code", "code", "status"):
        value = getattr(error, attribute, None)
        if isinstance(value, int) and 100 <= value <= 599:
            return value
    response = getattr(error, "response", None)
    value = getattr(response, "status_code", None)
    return value if isinstance(value, int) else None


def is_credentials_error(error: BaseException) -> bool:
    """True when the provider's credentials are missing or refused: no retry can fix that."""
    if isinstance(error, TerminalError):
        return False
    if status_of(error) in CREDENTIAL_STATUSES:
        return True
    if {cls.__name__ for cls in type(error).__mro__} & CREDENTIAL_ERROR_NAMES:
        return True
    text = str(error).lower()
    return any(phrase in text for phrase in MISSING_KEY_PHRASES)


def credentials_error(name: str, error: BaseException) -> TerminalError:
    """The TerminalError (401 unless the provider said 403) for a model call whose credentials failed."""
    status = status_of(error)
    return TerminalError(
        f"model call {name!r} failed: the provider's credentials are missing or refused "
        f"(set its API key): {type(error).__name__}: {error}",
        status if status in CREDENTIAL_STATUSES else HTTP_UNAUTHORIZED,
    )


def is_terminal_model_error(error: BaseException) -> bool:
    """True for errors a retry cannot fix: the request itself, or the credentials, are wrong."""
    if isinstance(error, TerminalError) or is_credentials_error(error):
        return True
    status = status_of(error)
    return status is not None and status in TERMINAL_STATUSES


async def journaled_model_call(
    name: str,
    call: Callable[[], Awaitable[R]],
    *,
    dump: Callable[[R], Any],
    load: Callable[[Any], R],
    run_options: RunOptions[Any] | None = None,
    info: ModelInfo | None = None,
) -> R:
    """Run ``call`` as the journaled step ``name`` and return its response.

    Args:
        call: makes the model request (called again on each retry).
        dump: the response as JSON-compatible data, as journaled.
        load: rebuilds an equal response from that data (used on the first run too, so both paths
            return the same kind of object).
        run_options: retries; ``max_attempts`` and the intervals apply, a server's ``retry-after``
            is honoured when longer. Defaults to :data:`DEFAULT_MODEL_OPTIONS`.
        info: the provider, the requested model and how to read a response's usage: each real
            request gets a ``chat {model}`` span, and the ledger records the call as spent when it
            is sent and as saved each time a replay answers it from the journal.

    Raises:
        UserError: outside an agentdur handler.
        TerminalError: a non-retryable model error, or retries exhausted.
    """
    ctx = current_context()
    options = run_options or DEFAULT_MODEL_OPTIONS
    sent = False

    async def request() -> R:
        return await traced_model_request(info, name, call, dump)

    async def attempt() -> Any:
        nonlocal sent
        sent = True
        data = dump(await model_call_with_retries(name, request, options))
        record_usage(info, name, data, replayed=False)
        return data

    data = await ctx.run_typed(name, attempt, RunOptions(type_hint=Any))
    if not sent:  # the journal answered: no request was made
        record_usage(info, name, data, replayed=True)
    return load(data)


async def model_call_with_retries(name: str, call: Callable[[], Awaitable[R]], options: RunOptions[Any]) -> R:
    """``call`` retried per ``options``; every way of giving up is a TerminalError naming the call."""
    try:
        return await call_with_retries(
            call,
            options,
            is_terminal=is_terminal_model_error,
            default_attempts=DEFAULT_MODEL_OPTIONS.max_attempts or 1,
        )
    except TerminalError:
        raise
    except RetriesExhausted as exhausted:
        error = exhausted.error
        raise TerminalError(
            f"model call {name!r} failed after {exhausted.attempts} attempt(s): {type(error).__name__}: {error}",
            status_of(error),
        ) from error
    except Exception as error:  # terminal by status
        if is_credentials_error(error):
            raise credentials_error(name, error) from error
        raise TerminalError(
            f"model call {name!r} failed: {type(error).__name__}: {error}", status_of(error)
        ) from error
