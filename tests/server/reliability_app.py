"""The app the reliability server tests serve: steps that hang, and a step that kills its process.

Each step appends a line to the marker file named in its input before it does its damage, so the
test (another process) sees how often the body ran.
"""

from __future__ import annotations

import os
import threading

import agentdur

poison = agentdur.Service("Poison")


def mark(path: str, line: str) -> None:
    with open(path, "a") as f:
        f.write(line + "\n")


@poison.handler()
async def hang(ctx: agentdur.Context, marker: str) -> str:
    """A sync step that never returns (until its process ends)."""

    def stuck() -> str:
        mark(marker, "started")
        threading.Event().wait()
        return "never"

    return await ctx.run_typed("hang", stuck)


@poison.handler()
async def exit_process(ctx: agentdur.Context, marker: str) -> str:
    """A step that ends its process the way no exception handler can stop (a crash, in effect)."""

    def die() -> str:
        mark(marker, "started")
        os._exit(3)

    return await ctx.run_typed("die", die)


@poison.handler()
async def system_exit(ctx: agentdur.Context, marker: str) -> str:
    """A step raising SystemExit: once, it ended the server for good."""

    def leave() -> str:
        mark(marker, "started")
        raise SystemExit(1)

    return await ctx.run_typed("leave", leave)


@poison.handler()
async def wait_approval(ctx: agentdur.Context) -> str:
    """Waits on an awakeable: innocent of any crash around it."""
    _, approved = ctx.awakeable(str)
    return await approved


@poison.handler()
async def ok(ctx: agentdur.Context) -> str:
    return "ok"


app = agentdur.App([poison])
