"""Small helpers for engine tests: waiting on conditions, never on fixed sleeps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import agentdur
from agentdur.testing import wait_for_async


async def wait_until(
    predicate: Callable[[], bool | Awaitable[bool]], within: float = 20.0, what: str = ""
) -> None:
    """Poll ``predicate`` every few milliseconds until it is true, failing after ``within`` seconds."""
    await wait_for_async(predicate, within=within, what=what or str(predicate), interval=0.005)


async def status_of(engine: agentdur.Engine, inv_id: str) -> str:
    return (await engine.invocation(inv_id)).status


async def wait_status(engine: agentdur.Engine, inv_id: str, status: str, within: float = 20.0) -> None:
    async def check() -> bool:
        return await status_of(engine, inv_id) == status

    await wait_until(check, within, f"{inv_id} reaching status {status}")
