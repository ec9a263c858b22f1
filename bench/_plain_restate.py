"""The bench handlers written by hand against restate-sdk: the baseline agentdur's adapter is held to.

The same steps as ``bench/engine.py`` and ``bench/_chat.py`` (no-op ``ctx.run_typed`` steps; a chat
object reading and writing its history), with restate-sdk's own default JSON serde and retry policy.

Written the way restate-sdk's documentation writes handlers (no ``from __future__ import
annotations``: restate-sdk reads every step function's signature with ``eval_str=True`` on each
``ctx.run_typed`` call when the default serde is used, and string annotations would add an ``eval``).
"""

from typing import Any

import restate

PLAIN_SERVICE = "PlainBench"
PLAIN_CHAT_OBJECT = "PlainChat"

plain_service = restate.Service(PLAIN_SERVICE)
plain_chat = restate.VirtualObject(PLAIN_CHAT_OBJECT)


async def noop() -> None:
    return None


async def model(message: str) -> str:
    return message


@plain_service.handler(name="steps")
async def steps(ctx: restate.Context, n: int) -> int:
    for _ in range(n):
        await ctx.run_typed("noop", noop)
    return n


@plain_chat.handler(name="message")
async def message(ctx: restate.ObjectContext, text: str) -> int:
    history = await ctx.get("history", type_hint=list[str]) or []
    answer = await ctx.run_typed("model", model, restate.RunOptions(), text)
    history += [text, answer]
    ctx.set("history", history)
    return len(history)


def plain_app() -> Any:
    """The ASGI app of the hand-written restate-sdk deployment."""
    return restate.app([plain_service, plain_chat])
