"""``python -m bench agents`` (OpenAI Agents SDK part): what durability costs one agent run, and more.

The same agent (3 model calls, 2 function tools; :mod:`bench._openai_agent`) runs against the scripted
model server, which answers after a fixed simulated latency (300 ms by default) from its own process
(:mod:`bench._openai_model`), on five columns:

- **plain SDK**: ``Runner.run`` in this process, no durability;
- **in process**: agentdur's ``DurableRunner`` in a virtual-object handler, on an embedded ``Engine``
  (a SQLite file) in this process;
- **embedded HTTP**: the same handler served by ``agentdur serve`` on the embedded engine;
- **agentdur Restate**: the same handler served by ``agentdur serve --backend restate`` behind a
  restate-server;
- **restate.ext.openai**: restate-sdk's own ``DurableRunner`` in a restate-sdk virtual object served by
  hypercorn (:mod:`bench._restate_openai`), registered with the same restate-server.

Sections: sequential runs (latency added over the plain run, median and p99 as differences of the
quantiles; CPU time and RSS of the process running the agent, and of restate-server; journal bytes per
run), concurrent runs in one process, a chat on one key (journal bytes per turn), and the time to
resume a run after a SIGKILL of the process running it.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

import agentdur
from agentdur.testing import (
    RestateDeployment,
    RestateServer,
    ServedApp,
    find_restate_server,
    free_port,
    wait_for,
)

from ._openai_model import BASE_ENV

__all__ = ["OpenAIOptions", "OpenAIResult", "openai_json", "render_openai_report", "run_openai_bench"]

ROOT = Path(__file__).resolve().parents[1]
APP = "bench._openai_agent:app"
OBJECT = "BenchOpenAI"
SDK_OBJECT = "SdkOpenAIUsers"  # bench._restate_openai (not imported here: it needs restate-sdk)
COLUMNS = ("plain", "in_process", "embedded", "restate", "restate_openai")
HEADERS = {
    "plain": "plain SDK",
    "in_process": "in process",
    "embedded": "embedded HTTP",
    "restate": "agentdur Restate",
    "restate_openai": "restate.ext.openai",
}
CONCURRENT_COLUMNS = ("plain", "in_process", "embedded")
CHAT_COLUMNS = ("in_process", "restate", "restate_openai")
RESUME_COLUMNS = ("embedded", "restate", "restate_openai")
CHAT_TURNS_SHOWN = (1, 10, 100)

# Targets of issue 15 (printed beside the figures, never asserted).
TARGET_ADDED_P99_MS = 5.0  # embedded engine, per agent run
TARGET_RESTATE_RATIO = 1.05  # agentdur on Restate vs restate.ext.openai, median run latency
TARGET_CONCURRENT_ADDED_P99_MS = 50.0
TARGET_CHAT_RATIO = 1.2  # journal bytes of turn 100 / turn 1

WARMUP = 2
SETTLE_WITHIN = 300.0


@dataclass(frozen=True)
class OpenAIOptions:
    """How much to run.

    Attributes:
        runs: sequential runs per column (after warm-up runs).
        latency_ms: the model server's simulated latency per call.
        concurrent: runs started at once in the concurrency section (0: skip it).
        chat_turns: turns of the chat section (0: skip it).
        resume: whether to run the SIGKILL section.
    """

    runs: int = 40
    latency_ms: float = 300.0
    concurrent: int = 1000
    chat_turns: int = 100
    resume: bool = True


@dataclass
class Sequential:
    """One column's sequential runs."""

    latencies_ms: list[float]
    cpu_ms_per_run: float | None = None
    server_cpu_ms_per_run: float | None = None  # restate-server, on the Restate columns
    journal_bytes_per_run: float | None = None
    rss_mb: float | None = None
    server_rss_mb: float | None = None

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p99_ms(self) -> float:
        return quantile(self.latencies_ms, 0.99)


@dataclass
class Concurrent:
    """``runs`` agent runs started at once."""

    runs: int
    seconds: float
    latencies_ms: list[float]  # of the runs that completed
    failed: int = 0

    @property
    def runs_per_s(self) -> float:
        return len(self.latencies_ms) / self.seconds

    @property
    def p99_ms(self) -> float:
        return quantile(self.latencies_ms, 0.99)


@dataclass
class Resume:
    """A run SIGKILLed between its model calls: restart of the process to the run's completion."""

    seconds: float
    start_seconds: float  # of which: until the restarted process serves (registered, on Restate)


@dataclass
class OpenAIResult:
    """Every figure of the OpenAI Agents section; a missing column is in ``unavailable`` with the reason."""

    options: OpenAIOptions
    load: str
    sequential: dict[str, Sequential] = field(default_factory=dict)
    concurrent: dict[str, Concurrent] = field(default_factory=dict)
    chat_bytes: dict[str, list[int]] = field(default_factory=dict)  # journal bytes of turn 1, 2, ...
    resume: dict[str, Resume] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)

    def added_ms(self, column: str, which: str) -> float | None:
        """Latency ``column`` adds over the plain run: ``median`` or ``p99`` (difference of the quantiles)."""
        if column not in self.sequential or "plain" not in self.sequential:
            return None
        mine, plain = self.sequential[column], self.sequential["plain"]
        return mine.median_ms - plain.median_ms if which == "median" else mine.p99_ms - plain.p99_ms

    def concurrent_added_p99_ms(self, column: str) -> float | None:
        if column not in self.concurrent or "plain" not in self.concurrent:
            return None
        return self.concurrent[column].p99_ms - self.concurrent["plain"].p99_ms

    def restate_ratio(self) -> float | None:
        """agentdur on Restate's median run latency over restate.ext.openai's."""
        ours, theirs = self.sequential.get("restate"), self.sequential.get("restate_openai")
        return None if ours is None or theirs is None else ours.median_ms / theirs.median_ms

    def chat_turns_shown(self) -> list[int]:
        """Turns 1, 10 and 100 as far as the chat went, and its last turn (100 at most)."""
        last = min(self.options.chat_turns, CHAT_TURNS_SHOWN[-1])
        return sorted({t for t in CHAT_TURNS_SHOWN if t <= last} | {last})

    def chat_ratio(self, column: str) -> float | None:
        """Journal bytes of the last turn shown (100 at most) over those of turn 1."""
        turns = self.chat_bytes.get(column)
        if not turns or turns[0] <= 0:
            return None
        return turns[self.chat_turns_shown()[-1] - 1] / turns[0]


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q * len(ordered) + 0.5)) - 1))
    return ordered[index]


# ------------------------------------------------------------------ processes


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` (Linux ``/proc``; None elsewhere)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (restate-server's npm launcher runs the server as its child)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += children.get(current, [])
    return tree


def rss_mb(pid: int) -> float | None:
    """Resident set size of process ``pid`` in MB (Linux ``/proc``; None elsewhere)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def load_average() -> str:
    """``/proc/loadavg``'s 1, 5 and 15 minute loads and the CPU count, for the report."""
    try:
        loads = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        loads = "n/a"
    return f"load {loads} on {os.cpu_count()} CPUs"


class ModelServerProcess:
    """The scripted model server in its own process (:mod:`bench._openai_model`)."""

    def __init__(self, workdir: Path, latency_ms: float) -> None:
        self.port = free_port()
        self.log = workdir / "model-requests.log"
        self.log.touch()
        self.command = [
            sys.executable,
            "-m",
            "bench._openai_model",
            "--port",
            str(self.port),
            "--delay",
            str(latency_ms / 1000),
            "--log",
            str(self.log),
        ]
        self.output = open(workdir / "model-server.log", "ab")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(self.command, cwd=ROOT, stdout=self.output, stderr=subprocess.STDOUT)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def wait_ready(self) -> None:
        def answers() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"the model server exited with {self.process.returncode}")
            try:
                return httpx.get(f"{self.base_url}/models", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(answers, within=60, what="the model server answers")

    def requests_for(self, prompt: str) -> int:
        """How many model requests the run with ``prompt`` has made."""
        return sum(1 for line in self.log.read_text().splitlines() if line == prompt)

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.output.close()


# ------------------------------------------------------------------ journals


def sqlite_journal_bytes(db: Path, handler: str) -> list[int]:
    """Journal bytes of each ``handler`` invocation of the bench object, in start order.

    The bytes of the text values of the invocation's journal rows (names, kinds, values, failures,
    schemas, ...), the invocation id repeated on each row left out.
    """
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        ids = [
            row[0]
            for row in connection.execute(
                "SELECT id FROM invocations WHERE service = ? AND handler = ? ORDER BY seq", (OBJECT, handler)
            )
        ]
        cursor = connection.execute("SELECT * FROM journal LIMIT 0")
        columns = [d[0] for d in cursor.description]
        sizes = []
        for invocation in ids:
            total = 0
            for row in connection.execute("SELECT * FROM journal WHERE invocation_id = ?", (invocation,)):
                total += sum(
                    len(value.encode() if isinstance(value, str) else value)
                    for name, value in zip(columns, row, strict=True)
                    if name != "invocation_id" and isinstance(value, str | bytes)
                )
            sizes.append(total)
        return sizes
    finally:
        connection.close()


def restate_query(server: RestateServer, query: str) -> list[dict[str, Any]]:
    """Rows of an admin SQL query on restate-server."""
    response = httpx.post(
        f"{server.admin_url}/query", json={"query": query}, headers={"accept": "application/json"}, timeout=60
    )
    response.raise_for_status()
    rows: list[dict[str, Any]] = response.json()["rows"]
    return rows


def restate_journal_bytes(server: RestateServer, invocation_ids: Sequence[str]) -> list[int]:
    """Journal bytes of each invocation (the entries' ``raw_length`` in ``sys_journal``)."""
    if not invocation_ids:
        return []
    ids = ", ".join(f"'{i}'" for i in invocation_ids)
    rows = restate_query(
        server, f"SELECT id, sum(raw_length) AS bytes FROM sys_journal WHERE id IN ({ids}) GROUP BY id"
    )
    found = {str(row["id"]): int(row["bytes"] or 0) for row in rows}
    return [found.get(i, 0) for i in invocation_ids]


def keep_journals(server: RestateServer, service: str) -> None:
    """Keep completed invocations' journals of ``service`` (restate-server drops them by default)."""
    server.admin("PATCH", f"/services/{service}", {"journal_retention": "1h"})


# ------------------------------------------------------------------ measuring


Once = Callable[[str], Awaitable[str | None]]  # one run with this prompt; its invocation id when known


async def _sequential(
    runs: int, column: str, once: Once, pids: Sequence[int], server_pid: int | None = None
) -> tuple[Sequential, list[str]]:
    for i in range(WARMUP):
        await once(f"{column} warm {i}")
    # The processes themselves: the bench process's children (the model server) are not the agent's.
    agent_pids = list(pids)
    server_pids = process_tree(server_pid) if server_pid is not None else []
    watched = [*agent_pids, *server_pids]
    before = {pid: cpu_seconds(pid) for pid in watched}
    latencies, ids = [], []
    for i in range(runs):
        started = time.perf_counter()
        invocation = await once(f"{column} run {i}")
        latencies.append((time.perf_counter() - started) * 1000)
        if invocation is not None:
            ids.append(invocation)
    after = {pid: cpu_seconds(pid) for pid in watched}

    def per_run(pid_list: Sequence[int]) -> float | None:
        spent = [(after[p] or 0.0) - (before[p] or 0.0) for p in pid_list if before[p] is not None]
        return sum(spent) * 1000 / runs if spent else None

    result = Sequential(latencies, cpu_ms_per_run=per_run(agent_pids), rss_mb=_total_rss(agent_pids))
    if server_pids:
        result.server_cpu_ms_per_run = per_run(server_pids)
        result.server_rss_mb = _total_rss(server_pids)
    return result, ids


def _total_rss(pids: Sequence[int]) -> float | None:
    sizes = [r for r in (rss_mb(p) for p in pids) if r is not None]
    return sum(sizes) if sizes else None


async def _concurrent(n: int, prefix: str, once: Once) -> Concurrent:
    await asyncio.gather(*(once(f"{prefix} warm {i}") for i in range(min(n, 10))))
    latencies: list[float] = []
    failures: list[BaseException] = []
    started = time.perf_counter()

    async def timed(i: int) -> None:
        try:
            await once(f"{prefix} {i}")
        except Exception as error:  # counted and reported: one failed run must not void the section
            failures.append(error)
            return
        latencies.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(timed(i) for i in range(n)))
    if not latencies:
        raise RuntimeError(f"{prefix}: all {n} runs failed, the first with {failures[0]!r}")
    return Concurrent(n, time.perf_counter() - started, latencies, len(failures))


def _plain_once() -> Once:
    import agents

    from ._openai_agent import plain_agent

    agent = plain_agent()

    async def once(prompt: str) -> None:
        await agents.Runner.run(agent, prompt)

    return once


def _engine_once(engine: agentdur.Engine) -> Once:
    async def once(prompt: str) -> None:
        await engine.call(OBJECT, "run", prompt, key=prompt.replace(" ", "-"))

    return once


def _http_once(client: httpx.AsyncClient, url: str, handler: str = "run", key: str | None = None) -> Once:
    """A run through an ingress (``url``: ``{ingress}/{object}``), on ``key`` or a key of its own.

    Returns the invocation id (restate-server's ``x-restate-id`` header; None without one).
    """

    async def once(prompt: str) -> str | None:
        response = await client.post(f"{url}/{key or prompt.replace(' ', '-')}/{handler}", json=prompt)
        response.raise_for_status()
        invocation: str | None = response.headers.get("x-restate-id")
        return invocation

    return once


# ------------------------------------------------------------------ sections


async def _in_process(result: OpenAIResult, workdir: Path, options: OpenAIOptions, plain: Once) -> None:
    from ._openai_agent import app

    me = os.getpid()
    result.sequential["plain"], _ = await _sequential(options.runs, "plain", plain, [me])
    db = workdir / "in_process.db"
    async with agentdur.Engine(app, path=db) as engine:
        sequential, _ = await _sequential(options.runs, "in_process", _engine_once(engine), [me])
        runs = sqlite_journal_bytes(db, "run")
        sequential.journal_bytes_per_run = statistics.median(runs) if runs else None
        result.sequential["in_process"] = sequential
    if options.concurrent > 0:
        result.concurrent["plain"] = await _concurrent(options.concurrent, "plain many", plain)
        async with agentdur.Engine(app, path=workdir / "concurrent.db") as engine:
            result.concurrent["in_process"] = await _concurrent(
                options.concurrent, "in_process many", _engine_once(engine)
            )
    if options.chat_turns > 0:
        chat_db = workdir / "chat.db"
        async with agentdur.Engine(app, path=chat_db) as engine:
            for turn in range(options.chat_turns):
                await engine.call(OBJECT, "chat", f"message {turn + 1}", key="chat")
        result.chat_bytes["in_process"] = sqlite_journal_bytes(chat_db, "chat")


async def _embedded(
    result: OpenAIResult, workdir: Path, options: OpenAIOptions, model: ModelServerProcess
) -> None:
    served = ServedApp(
        APP,
        db=workdir / "embedded.db",
        env={BASE_ENV: model.base_url},
        cwd=ROOT,
        log_path=workdir / "serve.log",
    )
    served.start()
    try:
        limits = httpx.Limits(max_connections=max(100, options.concurrent), max_keepalive_connections=100)
        async with httpx.AsyncClient(timeout=SETTLE_WITHIN, limits=limits) as client:
            once = _http_once(client, f"{served.ingress_url}/{OBJECT}")
            sequential, _ = await _sequential(options.runs, "embedded", once, [served.pid])
            runs = sqlite_journal_bytes(served.db, "run")
            sequential.journal_bytes_per_run = statistics.median(runs) if runs else None
            result.sequential["embedded"] = sequential
            if options.concurrent > 0:
                result.concurrent["embedded"] = await _concurrent(options.concurrent, "embedded many", once)
        if options.resume:
            result.resume["embedded"] = await _resume_embedded(served, model)
    finally:
        served.close()


async def _resume_embedded(served: ServedApp, model: ModelServerProcess) -> Resume:
    prompt = "embedded resume"
    invocation = _send(served.ingress_url, OBJECT, prompt)
    _wait_mid_run(model, prompt)
    served.kill()
    started = time.perf_counter()
    served.start()
    up = time.perf_counter()
    _attach(served.ingress_url, invocation)
    return Resume(time.perf_counter() - started, up - started)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
    except OSError:
        return False
    return True


def _send(ingress: str, obj: str, prompt: str) -> str:
    """Start a run without waiting for it; its invocation id."""
    response = httpx.post(f"{ingress}/{obj}/{prompt.replace(' ', '-')}/run/send", json=prompt, timeout=60)
    response.raise_for_status()
    return str(response.json()["invocationId"])


def _wait_mid_run(model: ModelServerProcess, prompt: str) -> None:
    """Until the run's second model call has come in (the first and a tool are journaled)."""
    wait_for(lambda: model.requests_for(prompt) >= 2, within=SETTLE_WITHIN, what=f"{prompt!r} mid-run")


def _attach(ingress: str, invocation: str) -> None:
    def attached() -> bool:
        try:
            response = httpx.get(f"{ingress}/restate/invocation/{invocation}/attach", timeout=SETTLE_WITHIN)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    wait_for(attached, within=SETTLE_WITHIN, what=f"{invocation} completed", interval=0.05)


@contextmanager
def _on_restate(
    workdir: Path, model: ModelServerProcess
) -> Iterator[tuple[RestateServer, RestateDeployment, RestateDeployment]]:
    server = RestateServer(base_dir=workdir / "restate", log_path=workdir / "restate-server.log")
    env = {BASE_ENV: model.base_url, "PYTHONPATH": str(ROOT)}
    ours = RestateDeployment(
        APP, workdir=workdir, server=server, env=env, cwd=ROOT, log_path=workdir / "agentdur.log"
    )
    theirs = RestateDeployment(
        workdir=workdir,
        server=server,
        command=lambda port: [
            sys.executable,
            "-m",
            "bench._deployment",
            "restate_openai",
            "--port",
            str(port),
        ],
        env=env,
        cwd=ROOT,
        log_path=workdir / "restate_openai.log",
    )
    try:
        server.start()
        ours.start()
        theirs.start()
        keep_journals(server, OBJECT)
        keep_journals(server, SDK_OBJECT)
        yield server, ours, theirs
    finally:
        try:
            ours.close()
            theirs.close()
        finally:
            server.close()


async def _restate(
    result: OpenAIResult, workdir: Path, options: OpenAIOptions, model: ModelServerProcess
) -> None:
    with _on_restate(workdir, model) as (server, ours, theirs):
        assert server.process is not None
        server_pid = server.process.pid
        async with httpx.AsyncClient(timeout=SETTLE_WITHIN) as client:
            for column, deployment, obj in (
                ("restate", ours, OBJECT),
                ("restate_openai", theirs, SDK_OBJECT),
            ):
                once = _http_once(client, f"{server.ingress_url}/{obj}")
                sequential, ids = await _sequential(options.runs, column, once, [deployment.pid], server_pid)
                sizes = restate_journal_bytes(server, ids)
                sequential.journal_bytes_per_run = statistics.median(sizes) if sizes else None
                result.sequential[column] = sequential
                if options.chat_turns > 0:
                    chat = _http_once(client, f"{server.ingress_url}/{obj}", "chat", key="chat")
                    turn_ids = []
                    for turn in range(options.chat_turns):
                        invocation = await chat(f"message {turn + 1}")
                        turn_ids.append(invocation or "")
                    result.chat_bytes[column] = restate_journal_bytes(server, turn_ids)
        if options.resume:
            for column, deployment, obj in (
                ("restate", ours, OBJECT),
                ("restate_openai", theirs, SDK_OBJECT),
            ):
                result.resume[column] = _resume_restate(server, deployment, obj, model, f"{column} resume")


def _resume_restate(
    server: RestateServer, deployment: RestateDeployment, obj: str, model: ModelServerProcess, prompt: str
) -> Resume:
    invocation = _send(server.ingress_url, obj, prompt)
    _wait_mid_run(model, prompt)
    deployment.kill()
    started = time.perf_counter()
    deployment.start()
    # restate-server still lists the deployment: start() may return before the new process listens.
    wait_for(
        lambda: _listening(deployment.port),
        within=SETTLE_WITHIN,
        what="the deployment listening",
        interval=0.01,
    )
    up = time.perf_counter()
    _attach(server.ingress_url, invocation)
    return Resume(time.perf_counter() - started, up - started)


async def run_openai_bench(options: OpenAIOptions) -> OpenAIResult:
    """Run every section on every column that can run here."""
    result = OpenAIResult(options, load_average())
    try:
        find_restate_server()
    except agentdur.UserError as error:
        result.unavailable["restate"] = result.unavailable["restate_openai"] = str(error)
    with tempfile.TemporaryDirectory(prefix="agentdur-bench-agents-") as directory:
        workdir = Path(directory)
        model = ModelServerProcess(workdir, options.latency_ms)
        try:
            model.wait_ready()
            os.environ[BASE_ENV] = model.base_url
            from ._openai_model import configure_openai

            configure_openai(model.base_url)
            await _in_process(result, workdir, options, _plain_once())
            await _embedded(result, workdir, options, model)
            if "restate" not in result.unavailable:
                await _restate(result, workdir, options, model)
        finally:
            model.close()
    result.load = f"{result.load} at the start; {load_average()} at the end"
    return result


# ------------------------------------------------------------------ report


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _mark(ok: bool | None) -> str:
    return "" if ok is None else "PASS" if ok else "MISS"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = (
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        return "  ".join(padded).rstrip()

    return [line(header), *(line(r) for r in rows)]


def render_openai_report(result: OpenAIResult) -> str:
    """The tables of the OpenAI Agents section, with the targets beside the figures."""
    o = result.options
    lines = [
        f"OpenAI Agents SDK agent (3 model calls, 2 function tools), model latency {o.latency_ms:g} ms, "
        f"{o.runs} sequential runs per column; {result.load}",
        "",
    ]
    cols = [c for c in COLUMNS if c in result.sequential]
    seq = result.sequential
    embedded_p99 = [result.added_ms(c, "p99") for c in ("in_process", "embedded") if c in seq]
    ratio = result.restate_ratio()
    rows: list[list[str]] = [
        ["run latency, median (ms)", *(_fmt(seq[c].median_ms) for c in cols), ""],
        ["run latency, p99 (ms)", *(_fmt(seq[c].p99_ms) for c in cols), ""],
        ["added latency, median (ms)", *(_fmt(result.added_ms(c, "median")) for c in cols), ""],
        [
            "added latency, p99 (ms)",
            *(_fmt(result.added_ms(c, "p99")) for c in cols),
            f"< {TARGET_ADDED_P99_MS:g} embedded: "
            + "/".join(_mark(v is not None and v < TARGET_ADDED_P99_MS) for v in embedded_p99),
        ],
        ["CPU per run, agent process (ms)", *(_fmt(seq[c].cpu_ms_per_run) for c in cols), ""],
        ["CPU per run, restate-server (ms)", *(_fmt(seq[c].server_cpu_ms_per_run) for c in cols), ""],
        ["journal bytes per run", *(_fmt(seq[c].journal_bytes_per_run, 0) for c in cols), ""],
        ["RSS, agent process (MB)", *(_fmt(seq[c].rss_mb) for c in cols), ""],
        ["RSS, restate-server (MB)", *(_fmt(seq[c].server_rss_mb) for c in cols), ""],
        [
            "agentdur Restate / restate.ext.openai",
            *("" for _ in cols[:-1]),
            _fmt(ratio, 3),
            f"<= {TARGET_RESTATE_RATIO:g} (median run): {_mark(None if ratio is None else ratio <= TARGET_RESTATE_RATIO)}",
        ],
    ]
    lines += _table(["figure", *(HEADERS[c] for c in cols), "target"], rows)
    lines += [
        "",
        "CPU, RSS: plain SDK and in process: this process (not the model server's); embedded HTTP, agentdur Restate",
        "and restate.ext.openai: the serving process. Added latency: the column's quantile minus plain SDK's.",
    ]
    if result.concurrent:
        ccols = [c for c in CONCURRENT_COLUMNS if c in result.concurrent]
        crows = [
            ["runs/s", *(_fmt(result.concurrent[c].runs_per_s) for c in ccols), ""],
            ["failed runs", *(str(result.concurrent[c].failed) for c in ccols), ""],
            ["run latency, p99 (ms)", *(_fmt(result.concurrent[c].p99_ms) for c in ccols), ""],
            [
                "added latency, p99 (ms)",
                *(_fmt(result.concurrent_added_p99_ms(c)) for c in ccols),
                f"< {TARGET_CONCURRENT_ADDED_P99_MS:g}: "
                + "/".join(
                    _mark(v is not None and v < TARGET_CONCURRENT_ADDED_P99_MS)
                    for v in (result.concurrent_added_p99_ms(c) for c in ccols[1:])
                ),
            ],
        ]
        lines += [
            "",
            f"{o.concurrent} agent runs started at once (one engine process; HTTP: one served process)",
        ]
        lines += _table(["figure", *(HEADERS[c] for c in ccols), "target"], crows)
    if result.chat_bytes:
        chat_cols = [c for c in CHAT_COLUMNS if c in result.chat_bytes]
        turns = result.chat_turns_shown()
        chat_rows = [
            [f"turn {t}", *(_fmt(float(result.chat_bytes[c][t - 1]), 0) for c in chat_cols), ""]
            for t in turns
        ]
        ratios = [result.chat_ratio(c) for c in chat_cols]
        chat_rows.append(
            [
                f"ratio turn {turns[-1]} / turn 1",
                *(_fmt(r, 2) for r in ratios),
                f"< {TARGET_CHAT_RATIO:g}: "
                + "/".join(_mark(r is not None and r < TARGET_CHAT_RATIO) for r in ratios[:2]),
            ]
        )
        lines += [
            "",
            f"{o.chat_turns}-turn chat on one key: journal bytes of one turn (agentdur: DurableSession; "
            "restate.ext.openai: its RestateSession)",
        ]
        lines += _table(["turn", *(HEADERS[c] for c in chat_cols), "target (agentdur)"], chat_rows)
    if result.resume:
        rcols = [c for c in RESUME_COLUMNS if c in result.resume]
        rrows = [
            ["restart to run completed (s)", *(_fmt(result.resume[c].seconds, 2) for c in rcols)],
            [
                "of which: process serving again (s)",
                *(_fmt(result.resume[c].start_seconds, 2) for c in rcols),
            ],
        ]
        lines += [
            "",
            "resume after SIGKILL of the serving process (killed after the run's first model call and tool)",
        ]
        lines += _table(["figure", *(HEADERS[c] for c in rcols)], rrows)
    for column, reason in result.unavailable.items():
        lines.append(f"\n{HEADERS[column]}: n/a ({reason})")
    return "\n".join(lines)


def openai_json(result: OpenAIResult) -> dict[str, Any]:
    """The figures of :func:`render_openai_report` as JSON."""
    o = result.options
    turns = result.chat_turns_shown()
    return {
        "options": {
            "runs": o.runs,
            "latency_ms": o.latency_ms,
            "concurrent": o.concurrent,
            "chat_turns": o.chat_turns,
            "resume": o.resume,
        },
        "load": result.load,
        "sequential": {
            c: {
                "median_ms": s.median_ms,
                "p99_ms": s.p99_ms,
                "added_median_ms": result.added_ms(c, "median"),
                "added_p99_ms": result.added_ms(c, "p99"),
                "cpu_ms_per_run": s.cpu_ms_per_run,
                "server_cpu_ms_per_run": s.server_cpu_ms_per_run,
                "journal_bytes_per_run": s.journal_bytes_per_run,
                "rss_mb": s.rss_mb,
                "server_rss_mb": s.server_rss_mb,
            }
            for c, s in result.sequential.items()
        },
        "concurrent": {
            c: {
                "runs": r.runs,
                "failed": r.failed,
                "runs_per_s": r.runs_per_s,
                "p99_ms": r.p99_ms,
                "added_p99_ms": result.concurrent_added_p99_ms(c),
            }
            for c, r in result.concurrent.items()
        },
        "chat_journal_bytes": {
            c: {str(t): sizes[t - 1] for t in turns} | {"ratio": result.chat_ratio(c)}
            for c, sizes in result.chat_bytes.items()
        },
        "resume_s": {
            c: {"total": r.seconds, "process_start": r.start_seconds} for c, r in result.resume.items()
        },
        "targets": {
            "added_p99_ms_embedded": TARGET_ADDED_P99_MS,
            "restate_over_restate_openai_median": TARGET_RESTATE_RATIO,
            "restate_over_restate_openai_measured": result.restate_ratio(),
            "concurrent_added_p99_ms": TARGET_CONCURRENT_ADDED_P99_MS,
            "chat_ratio_turn100_turn1": TARGET_CHAT_RATIO,
        },
        "unavailable": result.unavailable,
    }
