"""Workloads of ``python -m bench compare``: the same workloads on five columns in one run.

Columns (systems), each measured live in this run on this machine:

- ``embedded``: agentdur's Engine in this process on a fresh SQLite file (WAL, synchronous=FULL),
  invoked with ``await engine.call(...)``;
- ``agentdur_restate``: the same agentdur app served by ``agentdur.restate.restate_app(app)`` (hypercorn, HTTP/2) in a
  child process, registered with a real restate-server, invoked through the ingress over HTTP;
- ``restate_sdk``: the same handlers written by hand against restate-sdk, another child process
  registered with the same restate-server, invoked by the same HTTP client;
- ``dbos``: DBOS workflows and steps in this process on a fresh SQLite system database;
- ``raw``: one-row commits on a fresh WAL file, synchronous=FULL: the floor of one durable write.

Workloads: sequential invocations of 0, 10 and 100 no-op steps; 20 concurrent invocations of 10 steps;
the chat object on 100 keys at once (see :mod:`bench._chat`). Workloads run one after the other; within
a workload every system gets a fresh store (Engine file, DBOS database; restate-server stays up) and
the systems take turns in slices, forward then backward (A B C D, D C B A, ...), each starting
workload with another system, so drift of a shared machine's disk and CPUs lands on all columns alike.
"""

from __future__ import annotations

import importlib.metadata
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import agentdur

from ._chat import CHAT_HANDLER, CHAT_KEYS, CHAT_OBJECT, ChatResult, Send, compare_app, measure_chat
from .engine import (
    CONCURRENCY,
    CONCURRENT_STEPS,
    Budget,
    ConcurrentResult,
    Invoke,
    RawSample,
    SequentialResult,
    Synchronous,
    _commits,
    engine_invoke,
    environment,
    fresh_engine,
    measure_concurrent,
    measure_sequential,
    raw_sqlite_commits,
)

if TYPE_CHECKING:
    from ._restate import RestateBench

JournalMode = Literal["WAL", "DELETE"]  # of DBOS's SQLite file
SYNCHRONOUS: Synchronous = "FULL"
EMBEDDED = "embedded"
AGENTDUR_RESTATE = "agentdur_restate"
RESTATE_SDK = "restate_sdk"
DBOS = "dbos"
SYSTEMS = (EMBEDDED, AGENTDUR_RESTATE, RESTATE_SDK, DBOS)
LABELS = {
    EMBEDDED: "agentdur embedded",
    AGENTDUR_RESTATE: "agentdur on Restate",
    RESTATE_SDK: "restate-sdk",
    DBOS: "DBOS/SQLite",
}

# Workloads, in the order they run; each is one row of the table.
SEQ = {0: "inv0", 10: "step10", 100: "step100"}
CONCURRENT = "concurrent"
CHAT = "chat"
WORKLOADS = (*SEQ.values(), CONCURRENT, CHAT)


@dataclass(frozen=True)
class CompareBudget:
    """How long each system runs each workload.

    ``steps`` holds the seconds per sequential/concurrent workload and system, split into ``rounds``
    slices per system; the chat workload runs ``chat_rounds`` times per system on fresh keys.
    """

    steps: Budget
    chat_messages_per_key: int
    rounds: int
    chat_rounds: int

    @classmethod
    def default(cls) -> CompareBudget:
        steps = Budget(
            raw_seconds=2.5,
            raw_min_commits=200,
            sequential_seconds={0: 3.0, 10: 4.0, 100: 5.0},
            sequential_min_calls={0: 20, 10: 5, 100: 2},
            warmup_calls=3,
            concurrent_seconds=5.0,
        )
        return cls(steps, chat_messages_per_key=4, rounds=4, chat_rounds=2)

    @classmethod
    def quick(cls) -> CompareBudget:
        return cls(Budget.quick(), chat_messages_per_key=2, rounds=1, chat_rounds=1)


@dataclass
class Target:
    """How one workload reaches one system: invoke the steps handler, send a chat message, read CPU."""

    invoke: Invoke
    send: Send
    cpu: Callable[[], dict[str, float | None]]
    commits: Callable[[], int | None] = lambda: None


Result = SequentialResult | ConcurrentResult | ChatResult


@dataclass
class Measurement:
    """One cell: a system's figure for one workload, with its raw result and the CPU it took."""

    result: Result
    units: int  # invocations, steps or messages run while the CPU was counted (warm-ups included)
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # process -> CPU seconds spent

    @property
    def value(self) -> float:
        """The row's figure: µs per invocation (0 steps) or per step, steps/s, or messages/s."""
        if isinstance(self.result, ChatResult):
            return self.result.messages_per_s
        if isinstance(self.result, ConcurrentResult):
            return self.result.steps_per_s
        return self.result.us_per_unit

    def cpu_us_per_unit(self) -> dict[str, float]:
        return {name: seconds / self.units * 1e6 for name, seconds in self.cpu_seconds.items()}

    def __add__(self, other: Measurement) -> Measurement:
        """Two slices of one workload on one system as one measurement (counts and times summed)."""
        a, b = self.result, other.result
        result: Result
        if isinstance(a, ChatResult) and isinstance(b, ChatResult):
            result = ChatResult(a.keys, a.messages_per_key + b.messages_per_key, a.seconds + b.seconds)
        elif isinstance(a, ConcurrentResult) and isinstance(b, ConcurrentResult):
            commits = None if a.commits is None or b.commits is None else a.commits + b.commits
            result = ConcurrentResult(
                a.concurrency, a.steps_per_call, a.calls + b.calls, a.seconds + b.seconds, commits
            )
        elif isinstance(a, SequentialResult) and isinstance(b, SequentialResult):
            commits = None if a.commits is None or b.commits is None else a.commits + b.commits
            result = SequentialResult(a.steps, a.calls + b.calls, a.seconds + b.seconds, commits)
        else:
            raise TypeError(f"cannot add {type(a).__name__} and {type(b).__name__}")
        cpu = {k: v + other.cpu_seconds[k] for k, v in self.cpu_seconds.items() if k in other.cpu_seconds}
        return Measurement(result, self.units + other.units, cpu)


@dataclass
class CompareRun:
    """Everything ``python -m bench compare`` measured."""

    quick: bool
    budget: CompareBudget
    raw: list[RawSample] = field(default_factory=list)
    cells: dict[str, dict[str, Measurement]] = field(default_factory=lambda: {s: {} for s in SYSTEMS})
    unavailable: dict[str, str] = field(default_factory=dict)  # system -> why it was not measured
    environment: dict[str, Any] = field(default_factory=dict)
    dbos_journal_mode: JournalMode = "WAL"

    @property
    def raw_commit_us(self) -> float:
        return sum(s.seconds for s in self.raw) / sum(s.commits for s in self.raw) * 1e6

    def value(self, system: str, workload: str) -> float | None:
        cell = self.cells[system].get(workload)
        return None if cell is None else cell.value


# ===================================================================== one workload on one target


def _process_cpu() -> dict[str, float | None]:
    return {"bench process": time.process_time()}


async def _measure(
    workload: str, target: Target, budget: CompareBudget, prefix: str, share: float = 1.0, warmup: bool = True
) -> Measurement:
    """Run one workload on one target; ``share`` of its seconds, with or without the warm-up calls."""
    cpu_before = target.cpu()
    result: Result
    b = budget.steps
    if workload == CHAT:
        result = await measure_chat(target.send, prefix, CHAT_KEYS, budget.chat_messages_per_key)
        units = result.messages + CHAT_KEYS  # its warm-up round, one message per key, is counted too
    elif workload == CONCURRENT:
        seconds = b.concurrent_seconds * share
        result = await measure_concurrent(target.invoke, CONCURRENCY, CONCURRENT_STEPS, seconds)
        units = (result.calls + CONCURRENCY) * CONCURRENT_STEPS
    else:
        steps = next(n for n, key in SEQ.items() if key == workload)
        warmup_calls = b.warmup_calls if warmup else 0
        result = await measure_sequential(
            target.invoke,
            steps,
            b.sequential_seconds[steps] * share,
            math.ceil(b.sequential_min_calls[steps] * share),
            warmup_calls,
            target.commits,
        )
        units = (result.calls + warmup_calls) * max(steps, 1)
    cpu_after = target.cpu()
    cpu = {
        name: after - before
        for name, after in cpu_after.items()
        if after is not None and (before := cpu_before.get(name)) is not None
    }
    return Measurement(result, units, cpu)


# ===================================================================== the systems


def _embedded_target(engine: agentdur.Engine) -> Target:
    def send(key: str, index: int, text: str) -> Awaitable[int]:
        return engine.call(CHAT_OBJECT, CHAT_HANDLER, text, key=key)

    return Target(engine_invoke(engine), send, _process_cpu, lambda: _commits(engine))


RESTATE_KINDS = {AGENTDUR_RESTATE: "agentdur", RESTATE_SDK: "plain"}  # system -> deployment


def _restate_target(bench: RestateBench, kind: str) -> Target:
    def cpu() -> dict[str, float | None]:
        processes = bench.cpu_seconds()
        return {
            "restate-server": processes["restate-server"],
            "deployment": processes[kind],
            "bench process": time.process_time(),
        }

    return Target(bench.invoke(kind), bench.send(kind), cpu)


@asynccontextmanager
async def _restate(workdir: Path, run: CompareRun, profile: bool) -> AsyncIterator[RestateBench | None]:
    """The RestateBench, or None (and the reason in ``run.unavailable``) when restate cannot run."""
    try:
        from ._restate import RestateBench

        bench = RestateBench(workdir, profile=profile)
    except Exception as error:  # restate-sdk or restate-server missing
        for system in (AGENTDUR_RESTATE, RESTATE_SDK):
            run.unavailable[system] = f"{type(error).__name__}: {error}"
        yield None
        return
    async with bench:
        yield bench


def _dbos_session(run: CompareRun) -> Callable[[str], AbstractAsyncContextManager[Target]] | None:
    try:
        from . import _dbos
    except ImportError as error:
        run.unavailable[DBOS] = f'{error} (install the bench extra: pip install -e ".[bench]")'
        return None

    @asynccontextmanager
    async def session(label: str) -> AsyncIterator[Target]:
        async with _dbos.dbos_launched(label, journal_mode=run.dbos_journal_mode):
            yield Target(_dbos.INVOKE, _dbos.SEND, _process_cpu)

    return session


# ===================================================================== the run

_STARTED = time.monotonic()


def _progress(message: str) -> None:
    print(f"bench: {time.monotonic() - _STARTED:6.1f}s  {message}", file=sys.stderr, flush=True)


def _environment() -> dict[str, Any]:
    env = environment()
    for name, dist in (
        ("restate_sdk", "restate-sdk"),
        ("dbos", "dbos"),
        ("httpx", "httpx"),
        ("hypercorn", "hypercorn"),
    ):
        try:
            env[name] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            env[name] = None
    try:
        from agentdur.testing import find_restate_server

        answer = subprocess.run(
            [find_restate_server(), "--version"], capture_output=True, text=True, timeout=30
        )
        env["restate_server"] = answer.stdout.strip().removeprefix("restate-server ") or None
    except Exception:  # not installed: the Restate columns say why
        env["restate_server"] = None
    return env


async def _take_turns(run: CompareRun, workload: str, targets: dict[str, Target], index: int) -> None:
    """Run ``workload`` on every target in slices: forward, backward, forward, ..., starting with the
    ``index``-th system, and store the sum of each system's slices as its cell."""
    budget = run.budget
    rounds = budget.chat_rounds if workload == CHAT else budget.rounds
    shift = index % len(targets)
    order = [*targets][shift:] + [*targets][:shift]
    prefix = f"{workload}-{time.time_ns()}"
    cells = run.cells
    for round_index in range(rounds):
        for system in order if round_index % 2 == 0 else order[::-1]:
            _progress(f"{workload}: {LABELS[system]} ({round_index + 1}/{rounds}) ...")
            part = await _measure(
                workload,
                targets[system],
                budget,
                f"{prefix}-{system}-{round_index}",
                share=1 / rounds,
                warmup=round_index == 0,
            )
            cells[system][workload] = cells[system][workload] + part if round_index else part


async def run_compare(
    quick: bool = False, *, dbos_journal_mode: JournalMode = "WAL", profile_dir: Path | None = None
) -> CompareRun:
    """Every workload on every system, in turns, with raw SQLite samples between the workloads.

    Args:
        profile_dir: run both Restate deployments under cProfile and keep their stats (and the
            restate-server log) in this directory.
    """
    budget = CompareBudget.quick() if quick else CompareBudget.default()
    run = CompareRun(quick, budget, environment=_environment(), dbos_journal_mode=dbos_journal_mode)
    slots = len(WORKLOADS) + 1
    b = budget.steps

    def sample_raw() -> None:
        run.raw.append(
            raw_sqlite_commits(SYNCHRONOUS, b.raw_seconds / slots, max(1, b.raw_min_commits // slots))
        )

    dbos_session = _dbos_session(run)
    with tempfile.TemporaryDirectory(prefix="agentdur-bench-compare-") as tmp:
        workdir = profile_dir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        _progress("starting restate-server and the two deployments ...")
        async with _restate(workdir, run, profile_dir is not None) as bench:
            for index, workload in enumerate(WORKLOADS):
                sample_raw()
                async with AsyncExitStack() as stack:
                    engine = await stack.enter_async_context(
                        fresh_engine(SYNCHRONOUS, f"compare-{workload}", compare_app)
                    )
                    targets = {EMBEDDED: _embedded_target(engine)}
                    if bench is not None:
                        for system, kind in RESTATE_KINDS.items():
                            targets[system] = _restate_target(bench, kind)
                    if dbos_session is not None:
                        targets[DBOS] = await stack.enter_async_context(dbos_session(workload))
                    await _take_turns(run, workload, targets, index)
            sample_raw()
    return run
