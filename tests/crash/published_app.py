"""An app whose step publishes an awakeable id and then dies with SIGKILL at once (the first time).

The id reaches the outside world (a file) from the step body; the process is gone a moment later.
Whoever read the id must be able to resolve it after the restart.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import agentdur

OUT = Path(os.environ.get("PUBLISHED_DIR", "."))
svc = agentdur.Service("Published")


def publish_then_die(awakeable_id: str) -> str:
    (OUT / "awakeable.txt").write_text(awakeable_id)
    marker = OUT / "killed-once"
    if not marker.exists():
        marker.write_text("")
        os.kill(os.getpid(), signal.SIGKILL)
    return "published"


@svc.handler()
async def ask(ctx: agentdur.Context) -> str:
    awakeable_id, answer = ctx.awakeable(type_hint=str)
    await ctx.run_typed("publish", publish_then_die, agentdur.RunOptions(), awakeable_id)
    return f"answered {await answer}"


app = agentdur.App([svc])
