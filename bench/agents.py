"""``python -m bench agents``: what durability costs a Google ADK agent, against the scripted model server.

Two agents run many times, one after the other: **tools** makes 3 model calls and 2 tool calls (the
model asks for ``tool_a``, then ``tool_b``, then answers); **answer** makes 1 model call and no tool
call. Each runs as plain ADK (``Runner`` + ``InMemorySessionService``, no durability) and as an
agentdur handler on the embedded engine (``DurablePlugin`` + ``DurableSessionService`` on a SQLite
file). The overhead of a turn is ``durable - plain`` for **answer**; the overhead of a tool round (a
model call that asks for a tool, and the tool) is half the rest of the **tools** overhead.

Not measured yet: agentdur on Restate, restate-sdk's own ADK plugin and DBOS's (see docs/google-adk.md).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import agentdur
from agentdur.testing import ModelReply, ModelRequest, ModelToolCall, ScriptedModelServer

__all__ = ["AgentsResult", "agents_json", "render_agents_report", "run_agents_bench"]

TOOLS = ("tool_a", "tool_b")


@dataclass(frozen=True)
class AgentsResult:
    """Median milliseconds per run, by agent (``tools``, ``answer``) and by system (``plain``, ``embedded``)."""

    runs: int
    median_ms: dict[str, dict[str, float]]

    def overhead_turn_ms(self) -> float:
        return self.median_ms["answer"]["embedded"] - self.median_ms["answer"]["plain"]

    def overhead_tool_round_ms(self) -> float:
        tools = self.median_ms["tools"]["embedded"] - self.median_ms["tools"]["plain"]
        return (tools - self.overhead_turn_ms()) / len(TOOLS)


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


async def _median_ms(runs: int, once: Callable[[int], Awaitable[Any]]) -> float:
    for i in range(3):  # warm up: imports, connections, caches
        await once(-1 - i)
    timings = []
    for i in range(runs):
        started = time.perf_counter()
        await once(i)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


async def run_agents_bench(quick: bool = False) -> AgentsResult:
    """Run both agents on both systems; ``quick``: few runs (rough figures)."""
    from google.adk.agents import LlmAgent
    from google.adk.apps import App
    from google.adk.models import Gemini
    from google.adk.runners import Runner
    from google.adk.sessions import InMemorySessionService
    from google.genai import types

    from agentdur.integrations.adk import DurablePlugin, DurableSessionService

    runs = 8 if quick else 40
    message = types.Content(role="user", parts=[types.Part(text="go")])
    with ScriptedModelServer() as server:
        server.script.respond_with(_steer)

        def agent(kind: str) -> LlmAgent:
            model = Gemini(
                model="gemini-2.5-flash", base_url=server.gemini_base_url, client_kwargs={"api_key": "x"}
            )
            tools: list[Any] = [tool_a, tool_b] if kind == "tools" else []
            return LlmAgent(name=f"bench_{kind}", model=model, instruction="Benchmark.", tools=tools)

        agents = {kind: agent(kind) for kind in ("tools", "answer")}
        durable_agents = {kind: agent(kind) for kind in ("tools", "answer")}
        median: dict[str, dict[str, float]] = {kind: {} for kind in agents}

        for kind, plain_agent in agents.items():

            async def plain(i: int, plain_agent: LlmAgent = plain_agent) -> None:
                runner = Runner(
                    app=App(name="bench", root_agent=plain_agent),
                    session_service=InMemorySessionService(),
                    auto_create_session=True,
                )
                async for _ in runner.run_async(user_id="u", session_id=f"s{i}", new_message=message):
                    pass

            median[kind]["plain"] = await _median_ms(runs, plain)

        users = agentdur.VirtualObject("BenchUsers")

        @users.handler()
        async def run(ctx: agentdur.ObjectContext, kind: str) -> None:
            app = App(name="bench", root_agent=durable_agents[kind], plugins=[DurablePlugin()])
            runner = Runner(app=app, session_service=DurableSessionService())
            async for _ in runner.run_async(user_id=ctx.key(), session_id="s", new_message=message):
                pass

        with tempfile.TemporaryDirectory() as directory:
            async with agentdur.Engine(agentdur.App([users]), path=Path(directory) / "bench.db") as engine:
                for kind in agents:

                    async def durable(i: int, kind: str = kind) -> None:
                        await engine.call("BenchUsers", "run", kind, key=f"{kind}{i}")

                    median[kind]["embedded"] = await _median_ms(runs, durable)
    return AgentsResult(runs, median)


def render_agents_report(result: AgentsResult) -> str:
    lines = [
        f"Google ADK agent, scripted Gemini API, median of {result.runs} runs (ms)",
        "",
        f"{'agent':<36}{'plain ADK':>12}{'embedded':>12}{'overhead':>12}",
    ]
    labels = {"tools": "3 model calls, 2 tool calls", "answer": "1 model call"}
    for kind, label in labels.items():
        plain, embedded = result.median_ms[kind]["plain"], result.median_ms[kind]["embedded"]
        lines.append(f"{label:<36}{plain:>12.1f}{embedded:>12.1f}{embedded - plain:>12.1f}")
    lines += [
        "",
        f"durability overhead per agent turn:            {result.overhead_turn_ms():.1f} ms",
        f"per tool round (a model call and its tool):    {result.overhead_tool_round_ms():.1f} ms",
    ]
    return "\n".join(lines)


def agents_json(result: AgentsResult) -> dict[str, Any]:
    return {
        "runs": result.runs,
        "median_ms": result.median_ms,
        "overhead_turn_ms": result.overhead_turn_ms(),
        "overhead_tool_round_ms": result.overhead_tool_round_ms(),
    }
