"""The app the live-output tests serve: handlers that publish while they run.

Step bodies wait for a file named in the input before they go on, so a test in another process can
watch, kill the server or subscribe late at a known point; they append to a marker file so a test can
tell how often a body really ran.
"""

from __future__ import annotations

import time
from pathlib import Path

from pydantic import BaseModel

import agentdur

live = agentdur.Service("Live")

POLL = 0.01


class Talk(BaseModel):
    words: list[str]
    marker: str
    release: str | None = None  # the second step waits until this file exists


class Token(BaseModel):
    text: str


def _wait_for(path: str | None) -> None:
    while path is not None and not Path(path).exists():
        time.sleep(POLL)


def _mark(path: str, line: str) -> None:
    with open(path, "a") as f:
        f.write(line + "\n")


@live.handler()
async def talk(ctx: agentdur.Context, talk: Talk) -> str:
    """Publish from the handler, from an async step body and from a blocking one (a worker thread)."""
    ctx.publish({"kind": "start"})

    async def first() -> str:
        for word in talk.words:
            ctx.publish(Token(text=word))
        _mark(talk.marker, "first")
        return " ".join(talk.words)

    said = await ctx.run_typed("first", first)
    ctx.publish({"kind": "between"})

    def second() -> str:
        ctx.publish(Token(text="second-a"))
        _wait_for(talk.release)
        ctx.publish(Token(text="second-b"))
        _mark(talk.marker, "second")
        return "done"

    end = await ctx.run_typed("second", second)
    return f"{said} {end}"


@live.handler()
async def waits(ctx: agentdur.Context, count: int) -> str:
    """Publish ``count`` events, then wait for an approval: a late subscriber gets what is buffered."""
    for number in range(count):
        ctx.publish(number)
    _, decision = ctx.awakeable(str, description="go")
    return await decision


@live.handler()
async def fails(ctx: agentdur.Context) -> str:
    """Publish, then fail terminally."""
    ctx.publish("about to fail")
    raise agentdur.TerminalError("it failed", 422)


@live.handler()
async def unserializable(ctx: agentdur.Context) -> str:
    """Publish something that is not JSON: a clear error, here turned into the result."""
    try:
        ctx.publish(object())
    except agentdur.UserError as error:
        return str(error)
    return "published"


@live.handler()
async def flaky(ctx: agentdur.Context, marker: str) -> str:
    """Publish, then fail the first attempt before any journal entry (the engine retries it)."""
    ctx.publish("attempt")
    if not Path(marker).exists():  # noqa: ASYNC240 - a tiny local file, read once
        _mark(marker, "failed once")
        raise RuntimeError("first attempt fails")
    return await ctx.run_typed("finish", lambda: "finished")


@live.handler()
async def broken(ctx: agentdur.Context) -> str:
    """Publish, then fail every attempt: the invocation pauses."""
    ctx.publish("trying")
    raise RuntimeError("always broken")


app = agentdur.App([live])
