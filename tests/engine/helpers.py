"""Small helpers for engine tests: waiting on conditions, never on fixed sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import agentdur


async def wait_until(
    predicate: Callable[[], bool | Awaitable[bool]], within: float = 20.0, what: str = ""
) -> None:
    """Poll ``predicate`` every few milliseconds until it is true, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if not isinstance(value, bool):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s: {what or predicate}")
        await asyncio.sleep(0.005)


async def status_of(engine: agentdur.Engine, inv_id: str) -> str:
    return (await engine.invocation(inv_id)).status


async def wait_status(engine: agentdur.Engine, inv_id: str, status: str, within: float = 20.0) -> None:
    async def check() -> bool:
        return await status_of(engine, inv_id) == status

    await wait_until(check, within, f"{inv_id} reaching status {status}")
