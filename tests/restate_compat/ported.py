"""A restate-sdk style service file whose only change is the import (``import agentdur.compat.restate as restate``)."""

from __future__ import annotations

from datetime import timedelta

import agentdur.compat.restate as restate

greeter = restate.Service("Greeter")


@greeter.handler()
async def shout(ctx: restate.Context, name: str) -> str:
    return name.upper()


@greeter.handler()
async def greet(ctx: restate.Context, name: str) -> str:
    call: restate.RestateDurableCallFuture[str] = ctx.service_call(shout, name)
    nap: restate.RestateDurableSleepFuture = ctx.sleep(timedelta(milliseconds=1))
    await nap
    loud = await call
    return await ctx.run_typed("greeting", lambda: f"Hello {loud}!")


app = restate.app(services=[greeter])

if __name__ == "__main__":
    import asyncio

    import hypercorn.asyncio
    import hypercorn.config

    config = hypercorn.config.Config()
    config.bind = ["127.0.0.1:9080"]
    asyncio.run(hypercorn.asyncio.serve(app, config))  # type: ignore[arg-type]
