"""An app exercising state lists, run on both engines by ``test_state_lists.py``."""

from __future__ import annotations

import os
from typing import Any

import agentdur

from ..effects import LOG_ENV, record

notes = agentdur.VirtualObject("Notes")


def _wait_for_release(label: str) -> str:
    """Block until the test creates the release file (it kills the process first)."""
    import time

    record(f"block {label} start")
    while not os.path.exists(os.environ.get(LOG_ENV, "") + f".release-{label}"):
        time.sleep(0.01)
    return label


@notes.handler()
async def add(ctx: agentdur.ObjectContext, items: list[str]) -> None:
    """Appends without reading first (on Restate the header is read and the items written later)."""
    ctx.state_list("notes", str).append(*items)


@notes.handler()
async def add_then_fail(ctx: agentdur.ObjectContext, items: list[str]) -> None:
    """Changes made before a terminal failure stay, as with ``set`` (on Restate: written at the end)."""
    ctx.state_list("notes", str).append(*items)
    raise agentdur.TerminalError("refused", 409)


@notes.handler()
async def turn(ctx: agentdur.ObjectContext, label: str) -> dict[str, Any]:
    """Read, change the list every way, then block: a replay after SIGKILL must see the same reads."""
    lst = ctx.state_list("notes", str)
    before = await lst.items()
    popped = await lst.pop()
    lst.append(f"{label}-a", f"{label}-b")
    lst.keep_last(3)
    after = await lst.items(last=2)
    await ctx.run_typed("block", _wait_for_release, agentdur.RunOptions(), label)
    return {"before": before, "popped": popped, "after": after, "length": await lst.length()}


@notes.handler()
async def restart(ctx: agentdur.ObjectContext, label: str) -> dict[str, Any]:
    """Read, clear, append, read, block."""
    lst = ctx.state_list("notes", str)
    before = await lst.items()
    lst.clear()
    lst.append(label)
    mid = await lst.items()
    await ctx.run_typed("block", _wait_for_release, agentdur.RunOptions(), label)
    return {"before": before, "mid": mid, "keys": await ctx.state_keys()}


@notes.handler()
async def replace(ctx: agentdur.ObjectContext, how: str) -> dict[str, Any]:
    """Replace or remove the list with plain state operations."""
    ctx.state_list("notes", str)
    if how == "set":
        ctx.set("notes", {"plain": True})
    elif how == "clear":
        ctx.clear("notes")
    elif how == "clear_all":
        ctx.clear_all()
    return {"get": await ctx.get("notes"), "keys": await ctx.state_keys()}


@notes.handler()
async def set_plain(ctx: agentdur.ObjectContext, value: Any) -> None:
    ctx.set("notes", value)
    ctx.set("other", 1)


@notes.handler()
async def append_then_get(ctx: agentdur.ObjectContext, item: str) -> dict[str, Any]:
    lst = ctx.state_list("notes", str)
    lst.append(item)
    return {"get": await ctx.get("notes"), "keys": await ctx.state_keys(), "length": await lst.length()}


@notes.handler(kind="shared")
async def view(ctx: agentdur.ObjectSharedContext) -> dict[str, Any]:
    lst = ctx.state_list("notes", str)
    return {
        "items": await lst.items(),
        "last": await lst.items(last=1),
        "length": await lst.length(),
        "get": await ctx.get("notes"),
        "keys": await ctx.state_keys(),
    }


@notes.handler(kind="shared")
async def shared_append(ctx: agentdur.ObjectSharedContext) -> None:
    ctx.state_list("notes").append("x")


app = agentdur.App([notes])
