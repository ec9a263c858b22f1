"""Workloads of ``python -m bench engine``: the raw SQLite commit and the embedded engine's step cost.

Every figure comes from this run on this machine:

- the raw commit: WAL mode, the same ``synchronous`` as the engine, one row per transaction, on a fresh
  temporary file, measured before and after the engine workloads (the disk drifts); this is the
  physical limit of one durable journal write;
- sequential: one invocation at a time, ``await engine.call(...)`` repeated, wall time divided by the
  number of invocations (0 steps) or of steps (10 and 100 steps); each step is a no-op async
  ``ctx.run_typed``;
- concurrent: 20 invocations of 10 steps kept in flight for a few seconds; steps completed per second.

Each engine workload opens its own Engine on a fresh temporary directory.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import agentdur

Synchronous = Literal["FULL", "NORMAL"]

SERVICE = "Bench"
HANDLER = "steps"
SEQUENTIAL_STEPS = (0, 10, 100)
CONCURRENCY = 20
CONCURRENT_STEPS = 10

bench_service = agentdur.Service(SERVICE)


async def noop() -> None:
    """The step body: nothing, so only the engine's overhead is measured."""
    return None


@bench_service.handler(name=HANDLER)
async def run_steps(ctx: agentdur.Context, n: int) -> int:
    """Run ``n`` no-op steps one after the other."""
    for _ in range(n):
        await ctx.run_typed("noop", noop)
    return n


bench_app = agentdur.App([bench_service])


@dataclass(frozen=True)
class Budget:
    """How long each workload runs (seconds) and the least number of repetitions."""

    raw_seconds: float
    raw_min_commits: int
    sequential_seconds: dict[int, float]
    sequential_min_calls: dict[int, int]
    warmup_calls: int
    concurrent_seconds: float

    @classmethod
    def default(cls) -> Budget:
        return cls(
            raw_seconds=2.0,
            raw_min_commits=200,
            sequential_seconds={0: 3.0, 10: 4.0, 100: 6.0},
            sequential_min_calls={0: 100, 10: 30, 100: 5},
            warmup_calls=5,
            concurrent_seconds=6.0,
        )

    @classmethod
    def quick(cls) -> Budget:
        return cls(
            raw_seconds=0.3,
            raw_min_commits=20,
            sequential_seconds={0: 0.3, 10: 0.4, 100: 0.5},
            sequential_min_calls={0: 5, 10: 3, 100: 1},
            warmup_calls=1,
            concurrent_seconds=1.0,
        )


@dataclass
class SequentialResult:
    steps: int
    calls: int
    seconds: float
    commits: int | None  # SQLite transactions the engine committed while measuring, when it tells

    @property
    def us_per_call(self) -> float:
        return self.seconds / self.calls * 1e6

    @property
    def us_per_unit(self) -> float:
        """µs per step, or per invocation for a handler without steps."""
        return self.us_per_call / max(self.steps, 1)


@dataclass
class ConcurrentResult:
    concurrency: int
    steps_per_call: int
    calls: int
    seconds: float
    commits: int | None

    @property
    def steps(self) -> int:
        return self.calls * self.steps_per_call

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.seconds


@dataclass
class EngineRun:
    """Everything ``python -m bench engine`` measured."""

    synchronous: Synchronous
    quick: bool
    raw: list[RawSample] = field(default_factory=list)  # interleaved with the engine workloads, in order
    sequential: dict[int, SequentialResult] = field(default_factory=dict)
    concurrent: ConcurrentResult | None = None
    environment: dict[str, Any] = field(default_factory=dict)

    @property
    def raw_commits(self) -> int:
        return sum(sample.commits for sample in self.raw)

    @property
    def raw_commit_us(self) -> float:
        """Mean µs per raw commit over every raw sample of the run (total time / total commits)."""
        return sum(sample.seconds for sample in self.raw) / self.raw_commits * 1e6

    @property
    def raw_commit_p50_us(self) -> float:
        latencies = sorted(x for sample in self.raw for x in sample.latencies)
        return latencies[len(latencies) // 2] * 1e6


# ===================================================================== raw SQLite


@dataclass
class RawSample:
    """One raw-commit measurement: its duration and every commit's latency."""

    seconds: float
    latencies: list[float]

    @property
    def commits(self) -> int:
        return len(self.latencies)

    @property
    def mean_us(self) -> float:
        return self.seconds / self.commits * 1e6


def raw_sqlite_commits(synchronous: Synchronous, seconds: float, min_commits: int) -> RawSample:
    """Commit one small row per transaction on a fresh WAL file for ``seconds``; time every commit."""
    with tempfile.TemporaryDirectory(prefix="agentdur-bench-raw-") as tmp:
        conn = sqlite3.connect(os.path.join(tmp, "raw.db"), isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={synchronous}")
            conn.execute("CREATE TABLE journal (id INTEGER PRIMARY KEY, value TEXT NOT NULL)")
            row = ("null",)
            for _ in range(10):  # warm up: the WAL file exists and has its first frames
                conn.execute("INSERT INTO journal (value) VALUES (?)", row)
            latencies: list[float] = []
            clock = time.perf_counter
            started = clock()
            deadline = started + seconds
            while len(latencies) < min_commits or clock() < deadline:
                t0 = clock()
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO journal (value) VALUES (?)", row)
                conn.execute("COMMIT")
                latencies.append(clock() - t0)
            elapsed = clock() - started
        finally:
            conn.close()
    return RawSample(elapsed, latencies)


def raw_sqlite_commit_us(synchronous: Synchronous, seconds: float, min_commits: int) -> tuple[float, int]:
    """Mean µs per commit of one small row per transaction on a fresh WAL file; and the count."""
    sample = raw_sqlite_commits(synchronous, seconds, min_commits)
    return sample.mean_us, sample.commits


# ===================================================================== engine workloads


def _commits(engine: agentdur.Engine) -> int | None:
    """How many transactions the engine's writer committed so far (an internal counter, if present)."""
    store = getattr(engine, "store", None)
    value = getattr(store, "commits", None)
    return value if isinstance(value, int) else None


def _delta(after: int | None, before: int | None) -> int | None:
    return None if after is None or before is None else after - before


Invoke = Callable[[int], Awaitable[Any]]  # run one invocation of n no-op steps; returns the handler's result
Counter = Callable[[], int | None]  # commits so far, when the system under test tells


def _check(result: Any, steps: int) -> None:
    if result != steps:
        raise RuntimeError(f"the bench handler returned {result!r}, expected {steps}")


async def measure_sequential(
    invoke: Invoke, steps: int, seconds: float, min_calls: int, warmup: int, commits: Counter | None = None
) -> SequentialResult:
    """One invocation of ``steps`` steps at a time, repeated for ``seconds`` (and ``min_calls`` times)."""
    count = commits or (lambda: None)
    for _ in range(warmup):
        _check(await invoke(steps), steps)
    commits_before = count()
    calls = 0
    started = time.perf_counter()
    deadline = started + seconds
    while calls < min_calls or time.perf_counter() < deadline:
        _check(await invoke(steps), steps)
        calls += 1
    elapsed = time.perf_counter() - started
    return SequentialResult(steps, calls, elapsed, _delta(count(), commits_before))


async def measure_concurrent(
    invoke: Invoke, concurrency: int, steps: int, seconds: float, commits: Counter | None = None
) -> ConcurrentResult:
    """``concurrency`` invocations of ``steps`` steps kept in flight for ``seconds``."""
    count = commits or (lambda: None)
    for result in await asyncio.gather(*(invoke(steps) for _ in range(concurrency))):  # warm up
        _check(result, steps)
    calls = 0
    commits_before = count()
    started = time.perf_counter()
    deadline = started + seconds

    async def worker() -> None:
        nonlocal calls
        while time.perf_counter() < deadline:
            _check(await invoke(steps), steps)
            calls += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return ConcurrentResult(concurrency, steps, calls, elapsed, _delta(count(), commits_before))


def engine_invoke(engine: agentdur.Engine) -> Invoke:
    """Invoke the bench handler on an embedded engine."""

    def invoke(steps: int) -> Awaitable[Any]:
        return engine.call(SERVICE, HANDLER, steps)

    return invoke


async def _sequential(
    engine: agentdur.Engine, steps: int, seconds: float, min_calls: int, warmup: int
) -> SequentialResult:
    return await measure_sequential(
        engine_invoke(engine), steps, seconds, min_calls, warmup, lambda: _commits(engine)
    )


async def _concurrent(
    engine: agentdur.Engine, concurrency: int, steps: int, seconds: float
) -> ConcurrentResult:
    return await measure_concurrent(
        engine_invoke(engine), concurrency, steps, seconds, lambda: _commits(engine)
    )


@asynccontextmanager
async def fresh_engine(
    synchronous: Synchronous, label: str, app: agentdur.App | None = None
) -> AsyncIterator[agentdur.Engine]:
    """A started Engine of ``app`` (default: the bench app) on a new file in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix=f"agentdur-bench-{label}-") as tmp:
        async with agentdur.Engine(
            app or bench_app, path=os.path.join(tmp, "bench.db"), synchronous=synchronous
        ) as engine:
            yield engine


async def _with_engine(synchronous: Synchronous, label: str, body: Callable[[agentdur.Engine], Any]) -> Any:
    async with fresh_engine(synchronous, label) as engine:
        return await body(engine)


async def sequential(synchronous: Synchronous, steps: int, budget: Budget) -> SequentialResult:
    """One invocation at a time on a fresh engine."""
    return await _with_engine(  # type: ignore[no-any-return]
        synchronous,
        f"seq{steps}",
        lambda engine: _sequential(
            engine,
            steps,
            budget.sequential_seconds[steps],
            budget.sequential_min_calls[steps],
            budget.warmup_calls,
        ),
    )


async def concurrent(synchronous: Synchronous, budget: Budget) -> ConcurrentResult:
    """CONCURRENCY invocations of CONCURRENT_STEPS steps kept in flight on a fresh engine."""
    return await _with_engine(  # type: ignore[no-any-return]
        synchronous,
        "concurrent",
        lambda engine: _concurrent(engine, CONCURRENCY, CONCURRENT_STEPS, budget.concurrent_seconds),
    )


def environment() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        "platform": sys.platform,
        "tmpdir": tempfile.gettempdir(),
        "loadavg_1min_at_start": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def _progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


async def run_engine_bench(synchronous: Synchronous = "FULL", quick: bool = False) -> EngineRun:
    """Measure the raw commit, then the engine sequentially and concurrently, each on a fresh file."""
    budget = Budget.quick() if quick else Budget.default()
    # The disk's commit latency drifts over seconds on a shared VM: sample the raw commit before every
    # engine workload and after the last one, and compare the engine with the pooled mean.
    slots = len(SEQUENTIAL_STEPS) + 2
    run = EngineRun(synchronous, quick, environment=environment())

    def sample_raw() -> None:
        run.raw.append(
            raw_sqlite_commits(
                synchronous, budget.raw_seconds / slots, max(1, budget.raw_min_commits // slots)
            )
        )

    _progress(f"raw SQLite commits (WAL, synchronous={synchronous}) interleaved with the engine workloads")
    for steps in SEQUENTIAL_STEPS:
        sample_raw()
        _progress(f"sequential invocations of {steps} steps ...")
        run.sequential[steps] = await sequential(synchronous, steps, budget)
    sample_raw()
    _progress(f"{CONCURRENCY} concurrent invocations of {CONCURRENT_STEPS} steps ...")
    run.concurrent = await concurrent(synchronous, budget)
    sample_raw()
    return run
