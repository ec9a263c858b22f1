"""The crash-test app, and the child process that hosts it until the test kills it.

The same module is imported by the tests (``conftest.load_app_module``) to recover the database in
process and to run the reference (uninterrupted) workloads.

Run as a script::

    python _child.py SCENARIO DB WORKDIR OPTIONS_JSON

OPTIONS_JSON keys:
    block          points at which this process blocks forever (``"<tag>:<step>"`` inside a step body,
                   ``"<tag>:after:<step>"`` in handler code right after the step's result came back)
    params         workload parameters (see :func:`workload`)
    suspend_after  the Engine's ``suspend_after`` in seconds (``null`` never releases)
    recover_ids    do not send anything: reopen the file and wait for these invocations

Side effects and progress are appended as JSON lines (write + fsync) to ``WORKDIR/effects.log`` (what
the steps did, counted across processes) and ``WORKDIR/markers.log`` (where the child is).
"""

import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

import agentdur

EFFECTS = "effects.log"
MARKERS = "markers.log"

# Where this process blocks until it is killed. Empty except in a crash child (set by ``main``), so the
# test process and every recovery run straight through.
BLOCK: set[str] = set()


# ============================================================================ durable logs


def append_line(path: str, record: dict[str, Any]) -> None:
    """Append one JSON line and fsync it, so it survives the SIGKILL that follows."""
    data = (json.dumps(record, sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def effect(workdir: str, tag: str, step: str, event: str, **extra: Any) -> None:
    append_line(
        os.path.join(workdir, EFFECTS),
        {"pid": os.getpid(), "tag": tag, "step": step, "event": event, "t": time.time(), **extra},
    )


def marker(workdir: str, name: str, **extra: Any) -> None:
    append_line(
        os.path.join(workdir, MARKERS), {"pid": os.getpid(), "marker": name, "t": time.time(), **extra}
    )


def block_in_thread(workdir: str, point: str) -> None:
    """Inside a (sync) step body: block forever at ``point`` if this process is told to."""
    if point in BLOCK:
        marker(workdir, "blocked", point=point)
        while True:
            time.sleep(0.05)


async def pause_point(workdir: str, point: str) -> None:
    """In handler code (between steps): block forever at ``point`` if this process is told to."""
    if point in BLOCK:
        marker(workdir, "blocked", point=point)
        await asyncio.get_running_loop().create_future()  # never completes: the test kills us here


# ============================================================================ steps


def work(workdir: str, tag: str, step: str, seed: int, inv_id: str | None = None) -> int:
    """A side effect: logged when it starts and ends, may block; its result is deterministic."""
    effect(workdir, tag, step, "start", inv_id=inv_id)
    block_in_thread(workdir, f"{tag}:{step}")
    value = (seed * 31 + sum(map(ord, step))) % 10007
    effect(workdir, tag, step, "done", value=value, inv_id=inv_id)
    return value


def publish(workdir: str, tag: str, awakeable_id: str) -> bool:
    """Hand the awakeable id to the outside world (the test reads it from the effects log)."""
    effect(workdir, tag, "publish", "start")
    effect(workdir, tag, "publish", "done", awakeable_id=awakeable_id)
    return True


def stamp(workdir: str, tag: str, step: str) -> float:
    """A side effect that records when it ran."""
    now = time.time()
    effect(workdir, tag, step, "start", at=now)
    effect(workdir, tag, step, "done", at=now)
    return 1.0


# ============================================================================ the app


class Job(BaseModel):
    workdir: str
    tag: str
    seed: int = 1
    steps: int = 4


class SleepJob(BaseModel):
    workdir: str
    tag: str
    seconds: float


class Item(BaseModel):
    workdir: str
    tag: str
    label: str


OPTS = agentdur.RunOptions()

pipeline = agentdur.Service("Pipeline")


@pipeline.handler()
async def run(ctx: agentdur.Context, job: Job) -> list[int]:
    values: list[int] = []
    acc = job.seed
    for i in range(job.steps):
        step = f"step{i}"
        acc = await ctx.run_typed(step, work, OPTS, job.workdir, job.tag, step, acc)
        values.append(acc)
        await pause_point(job.workdir, f"{job.tag}:after:{step}")
    return values


approval = agentdur.Service("Approval")


@approval.handler()
async def request(ctx: agentdur.Context, job: Job) -> dict[str, Any]:
    draft = await ctx.run_typed("draft", work, OPTS, job.workdir, job.tag, "draft", job.seed)
    awakeable_id, decision = ctx.awakeable(type_hint=str)
    await ctx.run_typed("publish", publish, OPTS, job.workdir, job.tag, awakeable_id)
    marker(job.workdir, "waiting", tag=job.tag)
    verdict = await decision
    applied = await ctx.run_typed("apply", work, OPTS, job.workdir, job.tag, "apply", draft + len(verdict))
    return {"draft": draft, "verdict": verdict, "applied": applied}


timer = agentdur.Service("Timer")


@timer.handler()
async def wait(ctx: agentdur.Context, job: SleepJob) -> str:
    await ctx.run_typed("before", stamp, OPTS, job.workdir, job.tag, "before")
    marker(job.workdir, "sleeping", tag=job.tag, seconds=job.seconds)
    await ctx.sleep(timedelta(seconds=job.seconds))
    await ctx.run_typed("after", stamp, OPTS, job.workdir, job.tag, "after")
    return f"{job.tag} slept {job.seconds}s"


payments = agentdur.Service("Payments")


@payments.handler()
async def charge(ctx: agentdur.Context, job: Job) -> int:
    me = ctx.invocation_id()
    card = await ctx.run_typed(
        "charge-card", work, OPTS, job.workdir, job.tag, "charge-card", job.seed, inv_id=me
    )
    receipt = await ctx.run_typed("receipt", work, OPTS, job.workdir, job.tag, "receipt", card, inv_id=me)
    return card + receipt


orders = agentdur.Service("Orders")


@orders.handler()
async def place(ctx: agentdur.Context, job: Job) -> dict[str, int]:
    reserved = await ctx.run_typed("reserve", work, OPTS, job.workdir, job.tag, "reserve", job.seed)
    charged = await ctx.service_call(charge, Job(workdir=job.workdir, tag=f"{job.tag}.pay", seed=reserved))
    confirmed = await ctx.run_typed("confirm", work, OPTS, job.workdir, job.tag, "confirm", charged)
    return {"reserved": reserved, "charged": charged, "confirmed": confirmed}


counter = agentdur.VirtualObject("Counter")


@counter.handler()
async def add(ctx: agentdur.ObjectContext, item: Item) -> list[str]:
    await ctx.run_typed("apply", work, OPTS, item.workdir, item.tag, item.label, len(item.label))
    items: list[str] = await ctx.get("items", type_hint=list[str]) or []
    items.append(item.label)
    ctx.set("items", items)
    return items


@counter.handler(kind="shared")
async def items(ctx: agentdur.ObjectSharedContext) -> list[str]:
    return await ctx.get("items", type_hint=list[str]) or []


app = agentdur.App([pipeline, approval, timer, payments, orders, counter])


# ============================================================================ workloads


@dataclass(frozen=True)
class Request:
    service: str
    handler: str
    arg: dict[str, Any]
    key: str | None = None


QUEUE_K1 = ["e", "b", "d", "a", "c"]  # arrival order on key "k1" (deliberately not sorted)
QUEUE_K2 = ["x", "y"]


def workload(scenario: str, workdir: str, params: dict[str, Any] | None = None) -> list[Request]:
    """The invocations a scenario sends, in order."""
    params = params or {}
    w = workdir
    if scenario == "pipeline":
        return [Request("Pipeline", "run", {"workdir": w, "tag": "p", "seed": 7, "steps": 4})]
    if scenario == "approval":
        return [Request("Approval", "request", {"workdir": w, "tag": "a", "seed": 3})]
    if scenario == "timer":
        return [Request("Timer", "wait", {"workdir": w, "tag": "t", "seconds": params["seconds"]})]
    if scenario == "call":
        return [Request("Orders", "place", {"workdir": w, "tag": "o", "seed": 5})]
    if scenario == "queue":
        k1 = [Request("Counter", "add", {"workdir": w, "tag": "k1", "label": x}, key="k1") for x in QUEUE_K1]
        k2 = [Request("Counter", "add", {"workdir": w, "tag": "k2", "label": x}, key="k2") for x in QUEUE_K2]
        # interleave the two keys: k1 e, k2 x, k1 b, k2 y, k1 d, k1 a, k1 c
        return [k1[0], k2[0], k1[1], k2[1], *k1[2:]]
    raise ValueError(f"unknown scenario {scenario!r}")


# ============================================================================ the child process


async def child_main(scenario: str, db: str, workdir: str, opts: dict[str, Any]) -> None:
    BLOCK.update(opts.get("block", ()))
    suspend_after = opts.get("suspend_after", 10.0)
    async with agentdur.Engine(app, path=db, suspend_after=suspend_after) as engine:
        ids: list[str] | None = opts.get("recover_ids")
        if ids is None:
            ids = []
            for req in workload(scenario, workdir, opts.get("params")):
                ids.append(await engine.send(req.service, req.handler, req.arg, key=req.key))
            marker(workdir, "sent", ids=ids)
        else:
            marker(workdir, "reopened", ids=ids)

        async def watch(inv_id: str) -> None:
            result = await engine.attach(inv_id)
            marker(workdir, "completed", inv_id=inv_id, result=result)

        async def monitor_statuses() -> None:
            """Report every status change of the invocations (as the public API shows them)."""
            seen: dict[str, str] = {}
            while True:
                for inv_id in ids:
                    status = (await engine.invocation(inv_id)).status
                    if seen.get(inv_id) != status:
                        seen[inv_id] = status
                        marker(workdir, "status", inv_id=inv_id, status=status)
                await asyncio.sleep(0.02)

        monitor = asyncio.create_task(monitor_statuses())
        await asyncio.gather(*(watch(i) for i in ids))
        monitor.cancel()
        marker(workdir, "finished")


def main(argv: list[str]) -> None:
    scenario, db, workdir = argv[1], argv[2], argv[3]
    opts = json.loads(argv[4]) if len(argv) > 4 else {}
    asyncio.run(child_main(scenario, db, workdir, opts))


if __name__ == "__main__":
    main(sys.argv)
