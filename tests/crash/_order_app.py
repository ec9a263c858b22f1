"""A handler whose later steps depend on the order in which two concurrent steps finished.

Run as a child (``python _order_app.py DB WORKDIR``): it sends one ``Fan/run`` invocation, writes
``sent`` (with the id) to ``WORKDIR/markers``, and blocks forever in the handler's last step until it
is killed. Loaded by the test, the same app recovers the invocation in the test's process.

The step ``left`` finishes only once the file ``release-left`` exists (the test creates it when it
sees ``right`` journaled), so on the first run ``right`` finishes first.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import agentdur

fan = agentdur.Service("Fan")
app = agentdur.App([fan])


def _marker(workdir: str, record: dict[str, object]) -> None:
    with open(Path(workdir) / "markers", "a") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


async def _side(workdir: str, name: str) -> str:
    if name == "left":
        while not (Path(workdir) / "release-left").exists():  # noqa: ASYNC110 (a file the test creates)
            await asyncio.sleep(0.01)
    return name


async def _last(workdir: str) -> str:
    if os.environ.get("ORDER_APP_BLOCK"):
        _marker(workdir, {"event": "blocked", "pid": os.getpid()})
        await asyncio.Event().wait()
    return "done"


@fan.handler()
async def run(ctx: agentdur.Context, workdir: str) -> list[str]:
    queue: asyncio.Queue[str] = asyncio.Queue()

    async def branch(name: str) -> None:
        await queue.put(await ctx.run_typed(name, _side, agentdur.RunOptions(), workdir, name))

    tasks = [asyncio.create_task(branch("left")), asyncio.create_task(branch("right"))]
    taken: list[str] = []
    for _ in tasks:
        item = await queue.get()
        taken.append(await ctx.run_typed(f"took {item}", _echo, agentdur.RunOptions(), item))
    await asyncio.gather(*tasks)
    await ctx.run_typed("last", _last, agentdur.RunOptions(), workdir)
    return taken


async def _echo(item: str) -> str:
    return item


async def _child(db: str, workdir: str) -> None:
    async with agentdur.Engine(app, path=db) as engine:
        inv_id = await engine.send("Fan", "run", workdir)
        _marker(workdir, {"event": "sent", "id": inv_id, "pid": os.getpid()})
        await engine.attach(inv_id)


if __name__ == "__main__":
    asyncio.run(_child(sys.argv[1], sys.argv[2]))
