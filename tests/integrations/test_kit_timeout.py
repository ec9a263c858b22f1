"""Model calls made through the integrations' kit are bounded per attempt: a call that never answers
is cancelled at the timeout and retried, and the default for model calls is finite."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from agentdur import MODEL_CALL_OPTIONS, RunOptions, TerminalError
from agentdur.integrations.kit import DEFAULT_MODEL_OPTIONS, call_with_retries, model_call_with_retries


async def test_a_call_past_its_timeout_is_cancelled_and_retried() -> None:
    calls: list[int] = []
    cancelled = asyncio.Event()

    async def call() -> str:
        calls.append(len(calls) + 1)
        if len(calls) == 1:
            try:
                await asyncio.Event().wait()  # the first attempt never answers
            except asyncio.CancelledError:
                cancelled.set()
                raise
        return "answered"

    options = RunOptions(timeout=0.05, max_attempts=2, initial_retry_interval=timedelta(milliseconds=1))
    result = await call_with_retries(call, options, is_terminal=lambda error: False, default_attempts=2)
    assert result == "answered" and calls == [1, 2] and cancelled.is_set()


async def test_a_model_call_that_never_answers_ends_as_a_terminal_error_naming_it() -> None:
    async def call() -> str:
        await asyncio.Event().wait()
        return "never"

    options = RunOptions(timeout=0.02, max_attempts=2, initial_retry_interval=timedelta(milliseconds=1))
    with pytest.raises(
        TerminalError,
        match=r"model call 'chat' failed after 2 attempt\(s\): TimeoutError: no answer within 0.02s",
    ):
        await model_call_with_retries("chat", call, options)


def test_model_calls_have_a_finite_timeout_by_default() -> None:
    assert DEFAULT_MODEL_OPTIONS is MODEL_CALL_OPTIONS
    assert MODEL_CALL_OPTIONS.timeout_seconds == 600.0
