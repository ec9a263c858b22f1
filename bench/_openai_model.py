"""The model side of the OpenAI Agents columns of ``bench agents``: the scripted answers and the server process.

The bench agent makes 3 model calls and 2 tool calls: the model asks for ``tool_a``, then ``tool_b``,
then answers. The chat agent has no tool; each turn is one model call answered with
:data:`CHAT_REPLY`. Every answer comes after the same simulated latency.

The model server runs in its own process (``python -m bench._openai_model --port N --delay S --log
PATH``), so the CPU time the bench measures in its own process and in the serving processes is the
agents' and the engines', not the server's. Each model request appends its first user message to
``--log``, so the bench can tell how far a run has come (the SIGKILL section kills a run between its
model calls).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from agentdur.testing import ModelReply, ModelRequest, ModelToolCall, ScriptedModelServer

BASE_ENV = "AGENTDUR_BENCH_OPENAI_BASE"
MODEL = "gpt-4o"
TOOLS = ("tool_a", "tool_b")
INSTRUCTIONS = "Benchmark."
CHAT_REPLY = (
    "Here is what I found: the order ships on Monday from the Lyon warehouse, the invoice is attached to "
    "your account, and the support team will follow up by email if the carrier reports a delay."
)


def tool_a(x: str) -> str:
    """Tool a."""
    return f"a {x}"


def tool_b(x: str) -> str:
    """Tool b."""
    return f"b {x}"


def steer(request: ModelRequest) -> ModelReply:
    """The scripted answer: the tools one after the other, then text; the chat reply without tools."""
    if "tool_a" not in request.tool_names:
        return ModelReply(text=CHAT_REPLY)
    done = {message.name for message in request.messages if message.role == "tool"}
    for name in TOOLS:
        if name not in done:
            return ModelReply(tool_calls=(ModelToolCall(name, {"x": "1"}),))
    return ModelReply(text="done")


def first_user_text(request: ModelRequest) -> str:
    """The first user message of ``request`` (the bench's run prompt), on one line."""
    for message in request.messages:
        if message.role == "user":
            return message.content.replace("\n", " ")
    return ""


def configure_openai(base_url: str) -> None:
    """Point the OpenAI Agents SDK at the model server (Responses API, no tracing, no client retries).

    The connect timeout is a minute, not the client's 5 s: with 1,000 runs in one process on a busy
    machine, the event loop may come back to a connection attempt later than that.
    """
    import agents
    from openai import AsyncOpenAI, Timeout

    agents.set_tracing_disabled(True)
    timeout = Timeout(600.0, connect=60.0)
    client = AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0, timeout=timeout)
    agents.set_default_openai_client(client, use_for_tracing=False)
    agents.set_default_openai_api("responses")


async def _serve(port: int, delay: float, log: Path) -> None:
    server = ScriptedModelServer(port=port)
    with log.open("a", encoding="utf-8") as out:

        def answer(request: ModelRequest) -> ModelReply:
            out.write(first_user_text(request) + "\n")
            out.flush()
            return steer(request)

        server.script.respond_with(answer)
        if delay > 0:
            server.faults.delay(delay)
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopped.set)
        await server.serve(stopped)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench._openai_model")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before every answer")
    parser.add_argument("--log", type=Path, required=True, help="one line per model request")
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.port, args.delay, args.log))
    return 0


if __name__ == "__main__":
    sys.exit(main())
