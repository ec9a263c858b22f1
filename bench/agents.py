"""``python -m bench agents``: what durability costs a Google ADK agent, against the scripted model server.

Two agents run many times, one after the other: **tools** makes 3 model calls and 2 tool calls (the
model asks for ``tool_a``, then ``tool_b``, then answers); **answer** makes 1 model call and no tool
call. Each runs

- as plain ADK in this process (``Runner`` + ``InMemorySessionService``, no durability);
- with ``DurablePlugin`` + ``DurableSessionService`` in a virtual-object handler: called in process on
  an embedded ``Engine`` (a SQLite file), served over HTTP by ``agentdur serve`` on the embedded
  engine, and by ``agentdur serve --backend restate`` behind a restate-server (when one is installed);
- with ``dbos-google-adk``'s ``DBOSPlugin`` in a ``@DBOS.workflow()``, called in this process on a
  SQLite system database (:mod:`bench._dbos_adk`; needs the bench extra, else the column is n/a);
- with restate-sdk's ``restate.ext.adk`` (``RestatePlugin`` + ``RestateSessionService``) in a
  restate-sdk virtual object served by hypercorn and registered with the same restate-server
  (:mod:`bench._restate_adk`, :mod:`bench._deployment`), over HTTP through the same ingress.

Every durable column journals each model call and each tool call; agentdur's and restate-sdk's also
keep the session in the object's state, DBOS's keeps it in memory. The overhead of a turn is
``durable - plain`` for **answer** (HTTP included); the overhead of a tool round (a model call that
asks for a tool, and the tool) is half the rest of the **tools** overhead.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

import agentdur
from agentdur.testing import (
    ModelReply,
    ModelRequest,
    ModelToolCall,
    RestateDeployment,
    RestateServer,
    ScriptedModelServer,
    find_restate_server,
    free_port,
)

__all__ = ["AgentsResult", "agents_json", "app", "render_agents_report", "run_agents_bench"]

TOOLS = ("tool_a", "tool_b")
KINDS = ("tools", "answer")
SYSTEMS = ("plain", "in_process", "dbos", "embedded", "restate", "restate_adk")
HEADERS = {
    "plain": "plain ADK",
    "in_process": "in process",
    "dbos": "DBOS ADK",
    "embedded": "embedded",
    "restate": "restate",
    "restate_adk": "restate ADK",
}
BASE_ENV = "AGENTDUR_BENCH_GEMINI_BASE"
# restate-sdk's ADK object (bench/_restate_adk.py); restate-server reserves names starting with "restate".
RESTATE_ADK_OBJECT = "SdkAdkUsers"
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class AgentsResult:
    """Median milliseconds per run, by agent (``tools``, ``answer``) and by system; ``None``: not run."""

    runs: int
    median_ms: dict[str, dict[str, float | None]]
    unavailable: dict[str, str]

    def overhead_turn_ms(self, system: str) -> float | None:
        durable, plain = self.median_ms["answer"][system], self.median_ms["answer"]["plain"]
        return None if durable is None or plain is None else durable - plain

    def overhead_tool_round_ms(self, system: str) -> float | None:
        durable, plain = self.median_ms["tools"][system], self.median_ms["tools"]["plain"]
        turn = self.overhead_turn_ms(system)
        if durable is None or plain is None or turn is None:
            return None
        return (durable - plain - turn) / len(TOOLS)


def tool_a(x: str) -> str:
    """Tool a."""
    return f"a {x}"


def tool_b(x: str) -> str:
    """Tool b."""
    return f"b {x}"


def _steer(request: ModelRequest) -> ModelReply:
    if "tool_a" not in request.tool_names:
        return ModelReply(text="answered")
    done = {message.name for message in request.messages if message.role == "tool"}
    for name in TOOLS:
        if name not in done:
            return ModelReply(tool_calls=(ModelToolCall(name, {"x": "1"}),))
    return ModelReply(text="done")


def bench_agent(kind: str, base_url: str, tools: Sequence[Callable[..., Any]] = (tool_a, tool_b)) -> Any:
    """The bench agent ``kind`` (``tools`` or ``answer``), its Gemini model on the scripted server."""
    from google.adk.agents import LlmAgent
    from google.adk.models import Gemini

    model = Gemini(model="gemini-2.5-flash", base_url=base_url, client_kwargs={"api_key": "x"})
    agent_tools: list[Any] = list(tools) if kind == "tools" else []
    return LlmAgent(name=f"bench_{kind}", model=model, instruction="Benchmark.", tools=agent_tools)


# The served app: ``agentdur serve bench.agents:app`` with the model server's URL in AGENTDUR_BENCH_GEMINI_BASE.
users = agentdur.VirtualObject("BenchUsers")
_durable_agents: dict[str, Any] = {}


@users.handler()
async def run(ctx: agentdur.ObjectContext, kind: str) -> str:
    from google.adk.apps import App
    from google.adk.runners import Runner
    from google.genai import types

    from agentdur.integrations.adk import DurablePlugin, DurableSessionService

    if kind not in _durable_agents:
        _durable_agents[kind] = bench_agent(kind, os.environ.get(BASE_ENV, "http://127.0.0.1:1/"))
    app_ = App(name="bench", root_agent=_durable_agents[kind], plugins=[DurablePlugin()])
    runner = Runner(app=app_, session_service=DurableSessionService())
    message = types.Content(role="user", parts=[types.Part(text="go")])
    async for _ in runner.run_async(user_id=ctx.key(), session_id="s", new_message=message):
        pass
    return "ok"


app = agentdur.App([users])


async def _median_ms(runs: int, once: Callable[[int], Awaitable[Any]]) -> float:
    for i in range(3):  # warm up: imports, connections, caches
        await once(-1 - i)
    timings = []
    for i in range(runs):
        started = time.perf_counter()
        await once(i)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def _wait(predicate: Callable[[], bool], what: str, within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not within {within}s")
        time.sleep(0.05)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code < 500
    except httpx.HTTPError:
        return False


@contextmanager
def _served(system: str, workdir: Path, base_url: str) -> Iterator[dict[str, str]]:
    """``app`` served on ``system``; yields the ingress URL of each column it serves.

    ``restate`` also registers restate-sdk's ADK deployment (:mod:`bench._restate_adk`) with the same
    restate-server, so the ``restate`` and ``restate_adk`` columns share the server and the client.
    """
    env = {**os.environ, BASE_ENV: base_url, "PYTHONPATH": str(ROOT)}
    log = open(workdir / f"{system}.log", "ab")  # noqa: SIM115 - closed below
    server: RestateServer | None = None
    restate_adk: RestateDeployment | None = None
    try:
        port = free_port()
        args = [sys.executable, "-m", "agentdur", "serve", "bench.agents:app", "--port", str(port)]
        if system == "embedded":
            admin = free_port()
            args += ["--admin-port", str(admin), "--db", str(workdir / "bench.db")]
            ingress, ready = {"embedded": f"http://127.0.0.1:{port}"}, f"http://127.0.0.1:{admin}/health"
        else:
            server = RestateServer(base_dir=workdir / "restate").start()
            args += ["--backend", "restate", "--register", server.admin_url]
            ingress, ready = {"restate": server.ingress_url, "restate_adk": server.ingress_url}, ""
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            if server is not None:
                admin_api = server
                _wait(
                    lambda: any(
                        str(port) in str(d) for d in admin_api.admin("GET", "/deployments")["deployments"]
                    ),
                    "deployment registered",
                )
                restate_adk = RestateDeployment(
                    workdir=workdir,
                    server=server,
                    command=lambda p: [
                        sys.executable,
                        "-m",
                        "bench._deployment",
                        "restate_adk",
                        "--port",
                        str(p),
                    ],
                    env={BASE_ENV: base_url},
                    cwd=ROOT,
                    startup_within=60.0,
                    log_path=workdir / "restate_adk.log",
                )
                restate_adk.start()
            else:
                _wait(lambda: _answers(ready), "embedded server healthy")
            yield ingress
        finally:
            process.terminate()
            process.wait(timeout=30)
    finally:
        if server is not None:
            server.close()
        if restate_adk is not None:
            restate_adk.close()
        log.close()


async def _plain_median(runs: int, kind: str, base_url: str) -> float:
    from google.adk.apps import App
    from google.adk.runners import Runner
    from google.adk.sessions import InMemorySessionService
    from google.genai import types

    agent = bench_agent(kind, base_url)
    message = types.Content(role="user", parts=[types.Part(text="go")])

    async def once(i: int) -> None:
        runner = Runner(
            app=App(name="bench", root_agent=agent),
            session_service=InMemorySessionService(),
            auto_create_session=True,
        )
        async for _ in runner.run_async(user_id="u", session_id=f"s{i}", new_message=message):
            pass

    return await _median_ms(runs, once)


async def _dbos_median(runs: int, kind: str) -> float:
    from . import _dbos_adk

    async def once(i: int) -> None:
        await _dbos_adk.run_agent(kind, f"{kind}{i}")

    return await _median_ms(runs, once)


def _dbos_unavailable() -> str | None:
    """Why the ``dbos`` column cannot run here, or ``None``."""
    if importlib.util.find_spec("dbos_google_adk") is None:
        return 'not installed; pip install -e ".[bench]"'
    return None


async def run_agents_bench(quick: bool = False, runs: int | None = None) -> AgentsResult:
    """Run both agents on every system.

    Args:
        quick: few runs (rough figures).
        runs: runs per agent and system (after 3 warm-up runs); overrides ``quick``.
    """
    runs = runs if runs is not None else 8 if quick else 40
    median: dict[str, dict[str, float | None]] = {kind: dict.fromkeys(SYSTEMS) for kind in KINDS}
    unavailable: dict[str, str] = {}
    try:
        find_restate_server()
    except agentdur.UserError as error:
        unavailable["restate"] = unavailable["restate_adk"] = str(error)
    if (reason := _dbos_unavailable()) is not None:
        unavailable["dbos"] = reason
    with ScriptedModelServer() as model_server, tempfile.TemporaryDirectory() as directory:
        model_server.script.respond_with(_steer)
        for kind in KINDS:
            median[kind]["plain"] = await _plain_median(runs, kind, model_server.gemini_base_url)
        os.environ[BASE_ENV] = model_server.gemini_base_url
        async with agentdur.Engine(app, path=Path(directory) / "in_process.db") as engine:
            for kind in KINDS:

                async def in_process(i: int, kind: str = kind) -> None:
                    await engine.call("BenchUsers", "run", kind, key=f"{kind}{i}")

                median[kind]["in_process"] = await _median_ms(runs, in_process)
        if "dbos" not in unavailable:
            from . import _dbos_adk
            from ._dbos import dbos_launched

            _dbos_adk.configure(model_server.gemini_base_url)
            async with dbos_launched("adk"):
                for kind in KINDS:
                    median[kind]["dbos"] = await _dbos_median(runs, kind)
        for system in ("embedded", "restate"):
            if system in unavailable:
                continue
            workdir = Path(directory) / system
            workdir.mkdir()
            with _served(system, workdir, model_server.gemini_base_url) as ingresses:
                async with httpx.AsyncClient(timeout=60) as client:
                    for column, ingress in ingresses.items():
                        for kind in KINDS:

                            async def once(
                                i: int, kind: str = kind, url: str = _url(column, ingress)
                            ) -> None:
                                response = await client.post(f"{url}/{kind}{i}/run", json=kind)
                                response.raise_for_status()

                            median[kind][column] = await _median_ms(runs, once)
    return AgentsResult(runs, median, unavailable)


def _url(column: str, ingress: str) -> str:
    """The URL of the bench object of ``column`` (its key and handler follow)."""
    return f"{ingress}/{RESTATE_ADK_OBJECT if column == 'restate_adk' else 'BenchUsers'}"


def _cell(value: float | None, missing: str = "-") -> str:
    return f"{value:>12.1f}" if value is not None else f"{missing:>12}"


def render_agents_report(result: AgentsResult) -> str:
    lines = [
        f"Google ADK agent, scripted Gemini API, median of {result.runs} runs (ms; embedded, restate and "
        "restate ADK over HTTP)",
        "",
        f"{'agent':<32}" + "".join(f"{HEADERS[s]:>12}" for s in SYSTEMS),
    ]
    labels = {"tools": "3 model calls, 2 tool calls", "answer": "1 model call"}
    na = {s: "n/a" if s in result.unavailable else "-" for s in SYSTEMS}
    for kind, label in labels.items():
        lines.append(f"{label:<32}" + "".join(_cell(result.median_ms[kind][s], na[s]) for s in SYSTEMS))
    lines += ["", f"{'durability overhead':<32}{'':>12}" + "".join(f"{HEADERS[s]:>12}" for s in SYSTEMS[1:])]
    lines.append(
        f"{'per agent turn':<32}{'':>12}"
        + "".join(_cell(result.overhead_turn_ms(s), na[s]) for s in SYSTEMS[1:])
    )
    lines.append(
        f"{'per tool round (call + tool)':<32}{'':>12}"
        + "".join(_cell(result.overhead_tool_round_ms(s), na[s]) for s in SYSTEMS[1:])
    )
    for system, reason in result.unavailable.items():
        lines.append(f"\n{HEADERS[system]}: n/a ({reason})")
    return "\n".join(lines)


def agents_json(result: AgentsResult) -> dict[str, Any]:
    return {
        "runs": result.runs,
        "median_ms": result.median_ms,
        "overhead_turn_ms": {s: result.overhead_turn_ms(s) for s in SYSTEMS[1:]},
        "overhead_tool_round_ms": {s: result.overhead_tool_round_ms(s) for s in SYSTEMS[1:]},
        "unavailable": result.unavailable,
    }
