"""Polling a condition with a deadline: the only way the kit (and its users) wait for something."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal, TypeVar

import httpx

from .._exceptions import WaitTimeout

T = TypeVar("T")
POLL_INTERVAL = 0.02


def wait_for(
    condition: Callable[[], T | None | Literal[False]],
    *,
    within: float = 30.0,
    what: str = "condition",
    interval: float = POLL_INTERVAL,
) -> T:
    """Poll ``condition`` until it returns something truthy, and return that.

    Args:
        condition: called every ``interval`` seconds; may raise to stop waiting early.
        within: seconds before giving up.
        what: what is awaited, for the error message.
        interval: seconds between calls.

    Raises:
        WaitTimeout: ``condition`` stayed falsy for ``within`` seconds.
    """
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise WaitTimeout(f"timed out after {within}s waiting for {what}")
        time.sleep(interval)


async def wait_for_async(
    condition: Callable[[], T | None | Literal[False] | Awaitable[T | None | Literal[False]]],
    *,
    within: float = 30.0,
    what: str = "condition",
    interval: float = POLL_INTERVAL,
) -> T:
    """:func:`wait_for` on an event loop: ``condition`` may be a coroutine function; sleeps yield the loop.

    Raises:
        WaitTimeout: ``condition`` stayed falsy for ``within`` seconds.
    """
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise WaitTimeout(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(interval)


def http_ok(url: str, headers: Mapping[str, str] | None = None) -> bool:
    """Whether ``GET url`` answers 200 right now (a refused connection is ``False``)."""
    try:
        return httpx.get(url, headers=dict(headers or {}), timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False
