"""The app of ``python -m bench soak``: a handler that journals a few kilobytes per invocation."""

from __future__ import annotations

import agentdur

soak = agentdur.Service("Soak")
PAYLOAD = "x" * 1000


@soak.handler()
async def work(ctx: agentdur.Context, n: int) -> int:
    """Three journaled steps of about a kilobyte each, like a short agent turn."""
    total = 0
    for step in range(3):
        text = await ctx.run_typed(f"step{step}", lambda: f"{n}:{PAYLOAD}")
        total += len(text)
    return total


app = agentdur.App([soak])
