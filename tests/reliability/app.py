"""Steps that misbehave, served on both engines: BaseExceptions, hangs, results that cannot replay."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import agentdur
from agentdur import RunOptions

steps = agentdur.Service("Misbehave")
RAISED: dict[str, type[BaseException]] = {
    "SystemExit": SystemExit,
    "KeyboardInterrupt": KeyboardInterrupt,
    "CancelledError": asyncio.CancelledError,
    "GeneratorExit": GeneratorExit,
    "StopIteration": StopIteration,
}
TWICE = RunOptions(max_attempts=2)


@steps.handler()
async def raise_async(ctx: agentdur.Context, kind: str) -> str:
    async def body() -> str:
        raise RAISED[kind]()

    return await ctx.run_typed("async body", body, TWICE)


@steps.handler()
async def raise_sync(ctx: agentdur.Context, kind: str) -> str:
    def body() -> str:
        raise RAISED[kind]()

    return await ctx.run_typed("sync body", body, TWICE)


@steps.handler()
async def time_out(ctx: agentdur.Context, sync: bool) -> str:
    async def forever() -> str:
        await asyncio.Event().wait()
        return "never"

    def stuck() -> str:
        threading.Event().wait(30)  # abandoned at the timeout; ends on its own later
        return "late"

    return await ctx.run_typed("slow", stuck if sync else forever, RunOptions(timeout=0.1, max_attempts=2))


@steps.handler()
async def bad_result(ctx: agentdur.Context, kind: str) -> int:
    values: dict[str, Any] = {"text": "not a number", "nan": float("nan"), "huge": 10**5000}

    def wrong() -> int:
        return values[kind]  # type: ignore[no-any-return]

    return await ctx.run_typed("typed", wrong, TWICE)


@steps.handler()
async def blocks(ctx: agentdur.Context) -> str:
    time.sleep(1.5)  # noqa: ASYNC251 - sync code holding the event loop, past the 1 s warning threshold
    return "done"


app = agentdur.App([steps])
