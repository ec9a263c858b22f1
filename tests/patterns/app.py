"""An app using every pattern, served on both engines by the tests in this folder.

Side effects go to the shared effect log (tests/effects.py). Gated work logs ``<what> start``, waits
until the test creates its release file (``<log>.release-<label>-<name>``), and logs ``<what> done``,
so a test decides what has finished when it SIGKILLs the serving process. The "models" are plain
deterministic functions: these tests are about the engine, not about a model provider.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

import agentdur
from agentdur.patterns import parallel, racing, routing
from agentdur.patterns.evaluator import Optimized, optimize
from agentdur.patterns.orchestrator import Orchestrated, Orchestrator
from agentdur.patterns.racing import BranchStopped
from agentdur.patterns.sagas import Saga

from ..effects import LOG_ENV, record

POLL = 0.005


def released(label: str, name: str) -> bool:
    return os.path.exists(os.environ.get(LOG_ENV, "") + f".release-{label}-{name}")


def gated(label: str, name: str) -> str:
    """Log the start, wait for the test's release file, log the end (a step body, in a thread)."""
    record(f"{label} {name} start")
    while not released(label, name):
        time.sleep(POLL)
    record(f"{label} {name} done")
    return name


async def agated(label: str, name: str) -> str:
    """``gated`` for async model functions: polls a file, so no event can stand in for the sleep."""
    record(f"{label} {name} start")
    while not released(label, name):  # noqa: ASYNC110
        await asyncio.sleep(POLL)
    record(f"{label} {name} done")
    return name


def label_of(text: str) -> str:
    found = re.search(r"\[(\S+)\]", text)
    assert found, text
    return found.group(1)


# ---------------------------------------------------------------------------- routing


class Question(BaseModel):
    label: str
    text: str


async def route_model(prompt: str, schema: dict[str, Any], instructions: str) -> str:
    """Chooses by keyword: bill -> billing, bug -> technical, chat -> smalltalk, else 'nowhere'."""
    label = label_of(prompt)
    record(f"{label} route-model")
    assert "- billing: invoices and payments" in instructions
    request = prompt
    for word, route in (("bill", "billing"), ("bug", "technical"), ("chat", "smalltalk")):
        if word in request:
            return f"Sure! ```json\n{json.dumps({'route': route, 'reason': word})}\n```"
    return json.dumps({"route": "nowhere", "reason": "no idea"})


def billing(question: Question) -> str:
    record(f"{question.label} billing")
    return f"invoice for {question.text}"


async def smalltalk(ctx: agentdur.Context, question: Question) -> str:
    first = await ctx.run_typed("smalltalk 1", gated, agentdur.RunOptions(), question.label, "talk1")
    second = await ctx.run_typed("smalltalk 2", gated, agentdur.RunOptions(), question.label, "talk2")
    return f"{first}+{second}"


support = agentdur.Service("Support")


@support.handler()
async def handle(ctx: agentdur.Context, question: Question) -> str:
    await ctx.run_typed("diagnose", gated, agentdur.RunOptions(), question.label, "diagnose")
    return f"ticket for {question.text}"


router = routing.Router(
    routing.tool("billing", "invoices and payments", billing),
    routing.remote("technical", "bugs and outages", handle),
    routing.local("smalltalk", "anything else", smalltalk),
    choose_by_model=route_model,
    describe=lambda q: f"[{q.label}] {q.text}",
)
by_rule = routing.Router(
    routing.tool("billing", "invoices and payments", billing),
    rule=lambda q: "billing" if "bill" in q.text else "elsewhere",
)

routes = agentdur.Service("Routes")


@routes.handler()
async def ask(ctx: agentdur.Context, question: Question) -> dict[str, Any]:
    routed = await router.route(ctx, question)
    return {"route": routed.route, "value": routed.value, "reason": routed.reason}


@routes.handler()
async def ask_by_rule(ctx: agentdur.Context, question: Question) -> dict[str, Any]:
    routed = await by_rule.route(ctx, question)
    return {"route": routed.route, "value": routed.value}


# ---------------------------------------------------------------------------- parallel


class FanOut(BaseModel):
    label: str
    n: int = 4
    limit: int | None = None
    fail: list[int] = []
    remote: list[int] = []  # these branches are calls to Worker/work
    agents: list[int] = []  # these branches are local agents (two steps each)


def piece(label: str, i: int, fail: bool) -> str:
    gated(label, f"b{i}")
    if fail:
        raise agentdur.TerminalError(f"branch {i} failed")
    return f"r{i}"


class Job(BaseModel):
    label: str
    i: int


worker = agentdur.Service("Worker")


@worker.handler()
async def work(ctx: agentdur.Context, job: Job) -> str:
    await ctx.run_typed("work", gated, agentdur.RunOptions(), job.label, f"b{job.i}")
    return f"r{job.i}"


def branch_of(req: FanOut, i: int) -> parallel.Branch[Any]:
    if i in req.remote:
        return parallel.call(f"b{i}", work, Job(label=req.label, i=i))
    if i in req.agents:

        async def local_agent(ctx: agentdur.Context) -> str:
            await ctx.run_typed(f"b{i} prepare", gated, agentdur.RunOptions(), req.label, f"b{i}p")
            return await ctx.run_typed(f"b{i}", piece, agentdur.RunOptions(), req.label, i, i in req.fail)

        return parallel.agent(f"b{i}", local_agent)
    return parallel.step(f"b{i}", piece, req.label, i, i in req.fail)


fan = agentdur.Service("Fan")


@fan.handler()
async def settled(ctx: agentdur.Context, req: FanOut) -> list[str]:
    results = await parallel.run_settled(ctx, [branch_of(req, i) for i in range(req.n)], limit=req.limit)
    await ctx.run_typed("joined", record, agentdur.RunOptions(), f"{req.label} joined")
    return [str(r.value) if r.ok else f"failed: {r.error.message if r.error else ''}" for r in results]


@fan.handler()
async def all_or_error(ctx: agentdur.Context, req: FanOut) -> list[str]:
    return [str(v) for v in await parallel.run_all(ctx, [branch_of(req, i) for i in range(req.n)])]


# ---------------------------------------------------------------------------- racing


class Entrant(BaseModel):
    label: str
    name: str
    wins: bool = False


racer = agentdur.Service("Racer")


@racer.handler()
async def compete(ctx: agentdur.Context, entrant: Entrant) -> str:
    """Reserves something (undone on cancellation); the winner then works, a loser waits an hour."""
    label, name = entrant.label, entrant.name
    async with Saga(ctx) as saga:
        await saga.step(
            f"reserve {name}",
            record,
            f"{label} reserve {name}",
            compensate=(f"release {name}", lambda _: gated(label, f"release-{name}")),
        )
        if entrant.wins:
            await ctx.run_typed("work", gated, agentdur.RunOptions(), label, f"work-{name}")
        else:
            await ctx.sleep(timedelta(hours=1))
        await ctx.run_typed("finish", record, agentdur.RunOptions(), f"{label} finished {name}")
    return f"{name} won"


def local_racer(label: str, *, stop: threading.Event) -> str:
    record(f"{label} local start")
    while not stop.is_set():
        if released(label, "local"):
            record(f"{label} local finished")
            return "local won"
        time.sleep(POLL)
    record(f"{label} local stopped")
    raise BranchStopped("the local racer lost")


class RaceRequest(BaseModel):
    label: str
    deadline_ms: int | None = None
    winner: str = "fast"


race_service = agentdur.Service("Race")


@race_service.handler()
async def run(ctx: agentdur.Context, req: RaceRequest) -> dict[str, Any]:
    label = req.label
    branches = [
        parallel.call("fast", compete, Entrant(label=label, name="fast", wins=req.winner == "fast")),
        parallel.call("slow", compete, Entrant(label=label, name="slow")),
        parallel.step("local", local_racer, label, stoppable=True),
    ]
    deadline = timedelta(milliseconds=req.deadline_ms) if req.deadline_ms is not None else None
    try:
        won = await racing.race(ctx, branches, deadline=deadline)
    except racing.RaceTimedOut as error:
        return {"timed_out": error.message}
    await ctx.run_typed("report", gated, agentdur.RunOptions(), label, "report")
    return {"winner": won.name, "index": won.index, "value": won.value}


# ---------------------------------------------------------------------------- sagas


class Trip(BaseModel):
    label: str
    fail: bool = True
    hold: bool = False  # wait (cancellable) after booking instead of charging


def book(label: str, what: str) -> str:
    record(f"{label} book {what}")
    return f"{what}-id"


def undo(label: str, booking: str) -> None:
    gated(label, f"undo-{booking}")


def charge(label: str, fail: bool) -> str:
    record(f"{label} charge")
    if fail:
        raise agentdur.TerminalError("card declined")
    return "charged"


trips = agentdur.Service("Trips")


@trips.handler()
async def book_trip(ctx: agentdur.Context, trip: Trip) -> list[str]:
    label = trip.label
    async with Saga(ctx) as saga:
        booked = [
            await saga.step(
                f"book {what}", book, label, what, compensate=(f"cancel {what}", _undo_for(label))
            )
            for what in ("flight", "hotel", "car")
        ]
        if trip.hold:
            await ctx.sleep(timedelta(hours=1))
        await ctx.run_typed("charge", charge, agentdur.RunOptions(), label, trip.fail)
    return booked


def _undo_for(label: str) -> Any:
    def undo_booking(booking: str) -> None:
        undo(label, booking)

    return undo_booking


# ---------------------------------------------------------------------------- orchestrator, evaluator


async def planner(prompt: str, schema: dict[str, Any], instructions: str) -> str:
    label = label_of(prompt)
    record(f"{label} plan")
    return json.dumps({"subtasks": [{"title": t, "instructions": f"write {t}"} for t in ("a", "b", "c")]})


async def work_model(prompt: str) -> str:
    label = label_of(prompt)
    title = re.search(r"Your part: (\w+)\.", prompt)
    assert title
    await agated(label, f"worker-{title.group(1)}")
    return f"result {title.group(1)}"


async def synthesizer(prompt: str) -> str:
    label = label_of(prompt)
    record(f"{label} synthesize")
    return "combined: " + ", ".join(re.findall(r"result (\w)", prompt))


orchestrator = Orchestrator(plan_with=planner, work_with=work_model, synthesize_with=synthesizer, limit=2)


async def generator(prompt: str) -> str:
    label = label_of(prompt)
    previous = re.search(r"previous attempt:\ndraft (\d)", prompt)
    number = int(previous.group(1)) + 1 if previous else 1
    record(f"{label} generate {number}")
    return f"draft {number}"


async def judge(prompt: str, schema: dict[str, Any], instructions: str) -> str:
    label = label_of(prompt)
    draft = re.search(r"Answer: draft (\d)", prompt)
    assert draft
    number = int(draft.group(1))
    await agated(label, f"evaluate-{number}")
    return json.dumps({"accepted": number >= 3, "feedback": f"more than {number}"})


class Task(BaseModel):
    label: str
    text: str = "a poem"
    max_rounds: int = 5


agents = agentdur.Service("Agents")


@agents.handler()
async def research(ctx: agentdur.Context, task: Task) -> Orchestrated:
    return await orchestrator.run(ctx, f"[{task.label}] {task.text}")


@agents.handler()
async def refine(ctx: agentdur.Context, task: Task) -> Optimized:
    return await optimize(
        ctx, f"[{task.label}] {task.text}", generate=generator, evaluate=judge, max_rounds=task.max_rounds
    )


app = agentdur.App([support, routes, worker, fan, racer, race_service, trips, agents])
