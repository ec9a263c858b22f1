"""Recovery: what opening an engine on an existing file does before anything else runs."""

from __future__ import annotations

import logging
from collections import deque
from functools import partial
from typing import TYPE_CHECKING

from . import _records as r

if TYPE_CHECKING:
    from ._runtime import Runtime

log = logging.getLogger("agentdur.engine")


def recover(rt: Runtime) -> None:
    """Re-arm timers, rebuild per-key queues in arrival order, and restart what was running."""
    rows = rt.store.read(
        "SELECT id, service, obj_key, exclusive, status, wake_at FROM invocations"
        " WHERE status != ? ORDER BY seq",
        (r.COMPLETED,),
    )
    to_resume: list[str] = []
    for row in rows:
        inv_id, status = row["id"], row["status"]
        if status == r.SCHEDULED:
            rt.set_timer(("inv", inv_id), row["wake_at"] or 0.0, partial(rt.deliver_scheduled, inv_id))
            continue
        if status == r.BACKING_OFF:
            rt.set_timer(("inv", inv_id), row["wake_at"] or 0.0, partial(rt.resume, inv_id, (r.BACKING_OFF,)))
        if row["exclusive"]:
            rt.queues.setdefault((row["service"], row["obj_key"]), deque()).append(inv_id)
        elif status in (r.READY, r.RUNNING, r.PENDING):
            to_resume.append(inv_id)
    for queue in rt.queues.values():
        to_resume.append(queue[0])
    for row in rt.store.read(
        "SELECT invocation_id, idx, wake_at FROM journal WHERE kind=? AND status=?",
        (r.SLEEP, r.ENTRY_PENDING),
    ):
        rt.ensure_timer(row["invocation_id"], row["idx"], row["wake_at"] or 0.0)
    for inv_id in to_resume:
        rt.resume(inv_id, (r.READY, r.RUNNING, r.PENDING))
    if rows:
        log.info("recovered %d unfinished invocations, %d resumed", len(rows), len(to_resume))
