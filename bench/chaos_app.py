"""The app the chaos campaign (``python -m bench chaos``) serves and SIGKILLs.

``ChaosJob/run`` mixes every kind of durable work: steps whose side effect is recorded, a durable
sleep, parallel steps, an awakeable the campaign resolves over HTTP, a call and sends to the
``ChaosCounter`` object (whose state counts them). Its result depends only on its input, so the
campaign knows the uninterrupted result of every job without running it (:func:`expected_result`).

Every step body appends one fsynced line ``<pid> <time> <event> <job> <step>`` (``start`` and
``end``) to the file named by ``AGENTDUR_CHAOS_LOG``, and the handler appends ``after`` once the
step's result reached it (the engine has journaled it by then): the campaign reads the file to see
which step ran how often, and whether any ran again after the handler had its result.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import timedelta

from pydantic import BaseModel, Field

import agentdur

LOG_ENV = "AGENTDUR_CHAOS_LOG"


class Job(BaseModel):
    """One invocation of the campaign: what it does is drawn from the campaign's seed."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    counter: str = Field(min_length=1)
    sleep_ms: int = Field(default=0, ge=0, le=60_000)
    parallel: int = Field(default=0, ge=0, le=8)
    sends: int = Field(default=0, ge=0, le=8)
    awakeable: bool = False


def record(event: str, job: str, step: str) -> None:
    """Append one line to the side-effect log, durably."""
    path = os.environ.get(LOG_ENV)
    if not path:
        return
    with open(path, "a") as log:
        log.write(f"{os.getpid()} {time.time():.6f} {event} {job} {step}\n")
        log.flush()
        os.fsync(log.fileno())


async def effect(job: str, step: str, value: int) -> int:
    """A step body with a recorded side effect; it yields to the loop so kills land inside it."""
    record("start", job, step)
    await asyncio.sleep(0.01)
    record("end", job, step)
    return value


def expected_result(job: Job) -> str:
    """The result of ``ChaosJob/run`` for ``job`` when nothing interrupts it."""
    parallel = sum(10 + i for i in range(job.parallel))
    return f"{job.id}:a=1:p={parallel}:c={job.counter}:w={job.id if job.awakeable else '-'}:z=2"


counter = agentdur.VirtualObject("ChaosCounter")


@counter.handler()
async def add(ctx: agentdur.ObjectContext, amount: int) -> int:
    """Add ``amount`` to the count; the new count."""
    value = (await ctx.get("count", int) or 0) + amount
    ctx.set("count", value)
    return value


@counter.handler(kind="shared")
async def count(ctx: agentdur.ObjectSharedContext) -> int:
    """The count."""
    return await ctx.get("count", int) or 0


jobs = agentdur.Service("ChaosJob")


@jobs.handler()
async def run(ctx: agentdur.Context, job: Job) -> str:
    """Steps, a sleep, parallel steps, a call, sends and an awakeable, in that order."""
    first = await ctx.run_typed("a", effect, job=job.id, step="a", value=1)
    record("after", job.id, "a")
    if job.sleep_ms:
        await ctx.sleep(timedelta(milliseconds=job.sleep_ms))
    branches = [
        ctx.run_typed(f"p{i}", effect, job=job.id, step=f"p{i}", value=10 + i) for i in range(job.parallel)
    ]
    parallel = sum(await asyncio.gather(*branches)) if branches else 0
    for i in range(job.parallel):
        record("after", job.id, f"p{i}")
    await ctx.object_call(add, job.counter, 1)
    for _ in range(job.sends):
        ctx.object_send(add, job.counter, 1)
    waited = "-"
    if job.awakeable:
        awakeable_id, promise = ctx.awakeable(str)
        await ctx.run_typed("publish", publish, job=job.id, awakeable_id=awakeable_id)
        record("after", job.id, "publish")
        waited = await promise
    last = await ctx.run_typed("z", effect, job=job.id, step="z", value=2)
    record("after", job.id, "z")
    return f"{job.id}:a={first}:p={parallel}:c={job.counter}:w={waited}:z={last}"


def publish(job: str, awakeable_id: str) -> None:
    """Tell the campaign which awakeable to resolve (the campaign resolves it with the job's id)."""
    record("awakeable", job, awakeable_id)


app = agentdur.App([counter, jobs])
