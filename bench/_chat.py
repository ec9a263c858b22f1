"""The chat workload of ``python -m bench compare``: a virtual object receiving messages on many keys.

Each message reads the key's history from state, runs one no-op step standing in for the model call,
and writes the history back. All keys are active at once; the messages of one key are sent one after
the other (each waits for the previous answer), so every system sees the same ordered load whether or
not it has per-key exclusivity.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import agentdur

from .engine import bench_service

CHAT_OBJECT = "BenchChat"
CHAT_HANDLER = "message"
CHAT_KEYS = 100
HISTORY = "history"

chat_object = agentdur.VirtualObject(CHAT_OBJECT)


async def model(message: str) -> str:
    """The step standing in for the model call: answers at once, so only the engine is measured."""
    return message


@chat_object.handler(name=CHAT_HANDLER)
async def message(ctx: agentdur.ObjectContext, text: str) -> int:
    """Append the message and the model's answer to the key's history; return the history's length."""
    history: list[str] = await ctx.get(HISTORY, type_hint=list[str]) or []
    answer = await ctx.run_typed("model", model, agentdur.RunOptions(), text)
    history += [text, answer]
    ctx.set(HISTORY, history)
    return len(history)


compare_app = agentdur.App([bench_service, chat_object])
"""The app every agentdur column runs: the step handler of ``bench engine`` and the chat object."""

Send = Callable[[str, int, str], Awaitable[int]]  # (key, index of the message for this key, text) -> length


@dataclass
class ChatResult:
    keys: int
    messages_per_key: int
    seconds: float

    @property
    def messages(self) -> int:
        return self.keys * self.messages_per_key

    @property
    def messages_per_s(self) -> float:
        return self.messages / self.seconds


async def _conversation(send: Send, key: str, messages: int) -> None:
    for index in range(messages):
        length = await send(key, index, f"message {index}")
        if length != 2 * (index + 1):
            raise RuntimeError(f"chat key {key!r}: history has {length} entries after message {index}")


async def measure_chat(send: Send, prefix: str, keys: int, messages_per_key: int) -> ChatResult:
    """``keys`` conversations at once, ``messages_per_key`` messages each, on fresh keys under ``prefix``.

    A warm-up round (one message on each of ``keys`` other keys) runs first, so connections, caches
    and the systems' first-use paths are ready before the clock starts.
    """
    await asyncio.gather(*(_conversation(send, f"{prefix}-warm-{k}", 1) for k in range(keys)))
    started = time.perf_counter()
    await asyncio.gather(*(_conversation(send, f"{prefix}-{k}", messages_per_key) for k in range(keys)))
    return ChatResult(keys, messages_per_key, time.perf_counter() - started)
