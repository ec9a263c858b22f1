"""The app the fuzzing tests serve: every kind of handler, none with a side effect outside its journal.

Unlike :mod:`tests.server.app` no handler writes files named by its input, waits for a file, or
fails retryably, so any generated input is safe to send and every call finishes quickly: a 5xx or a
hang can only come from the server itself. A terminal failure's code is limited to 4xx for the
same reason. ``Inbox/wait`` waits for an awakeable: the tests only ever send to it.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

import agentdur

shop = agentdur.Service("Shop", description="Orders, echoes and refusals.")
tally = agentdur.VirtualObject("Tally")
inbox = agentdur.Service("Inbox")


class Item(BaseModel):
    name: str = Field(min_length=1, max_length=40)
    quantity: int = Field(ge=1, le=1000)
    tags: list[str] = Field(default=[], max_length=5)


class Receipt(BaseModel):
    name: str
    quantity: int
    total: float


Amount = Annotated[int, Field(ge=-1000, le=1000)]


class Refusal(BaseModel):
    message: str = Field(max_length=200)
    code: int = Field(ge=400, le=499)


@shop.handler()
async def order(ctx: agentdur.Context, item: Item) -> Receipt:
    """Price an order in a journaled step."""

    def price() -> float:
        return item.quantity * 2.5

    total = await ctx.run_typed("price", price)
    return Receipt(name=item.name, quantity=item.quantity, total=total)


@shop.handler()
async def echo(ctx: agentdur.Context, value: Any) -> Any:
    """Answer any JSON value (the parser's limits are the only ones)."""
    return value


@shop.handler()
async def refuse(ctx: agentdur.Context, refusal: Refusal) -> str:
    """Fail terminally with a 4xx code."""
    raise agentdur.TerminalError(refusal.message, refusal.code)


@shop.handler()
async def ping(ctx: agentdur.Context) -> str:
    return "pong"


@tally.handler()
async def add(ctx: agentdur.ObjectContext, amount: Amount) -> int:
    total = (await ctx.get("count", type_hint=int) or 0) + amount
    ctx.set("count", total)
    return total


@tally.handler(kind="shared")
async def get(ctx: agentdur.ObjectSharedContext) -> int:
    return await ctx.get("count", type_hint=int) or 0


@inbox.handler()
async def wait(ctx: agentdur.Context, what: str) -> str:
    """Wait for a human to resolve an awakeable (only ever sent to, never called, by the tests)."""
    _, decision = ctx.awakeable(type_hint=str, description=f"approve {what}")
    return f"{what}: {await decision}"


app = agentdur.App([shop, tally, inbox])
