"""What Restate's single waiter relies on, checked against restate-sdk and a real restate-server.

restate-sdk's core reveals completions lazily and in journal order: asked for the first completed
of a set of handles, it consumes its notifications in journal order up to the first one in that set
and no further, on the first run and on replay alike. So what a poll reveals depends only on the
journal and on the set polled (agentdur/restate/_pump.py). If a restate-sdk upgrade changes that,
this test says so before a handler's replay does.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import httpx
import restate
from hypercorn.asyncio import serve
from hypercorn.config import Config

from agentdur.testing import RestateServer, free_port

service = restate.Service("CoreOrder")
seen: list[tuple[int, str, bool, bool]] = []
attempts: list[int] = []


@service.handler()
async def probe(ctx: restate.Context, _: str) -> str:
    attempts.append(len(attempts) + 1)
    attempt = attempts[-1]
    vm = cast(Any, ctx).vm  # restate-sdk's server context, not in its declared type

    async def slow() -> str:
        await asyncio.sleep(0.5)
        return "slow"

    async def fast() -> str:
        return "fast"

    a1, b1 = ctx.run_typed("a1", slow), ctx.run_typed("b1", fast)
    await restate.wait_completed(a1, b1)
    seen.append(
        (attempt, "b1 first", vm.is_completed(cast(Any, a1).handle), vm.is_completed(cast(Any, b1).handle))
    )
    await restate.gather(a1, b1)
    e1, f1 = ctx.run_typed("e1", fast), ctx.run_typed("f1", fast)
    await restate.wait_completed(e1, f1)
    await asyncio.sleep(0.3)  # both bodies ran and proposed their results meanwhile
    seen.append(
        (attempt, "one of two", vm.is_completed(cast(Any, e1).handle), vm.is_completed(cast(Any, f1).handle))
    )
    await restate.gather(e1, f1)
    if attempt == 1:
        raise RuntimeError("fail the first attempt so that Restate replays the journal")
    return "ok"


async def test_completions_are_revealed_lazily_in_journal_order() -> None:
    port = free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    stop = asyncio.Event()
    server_task = asyncio.ensure_future(
        serve(restate.app([service]), config, shutdown_trigger=stop.wait, mode="asgi")
    )
    try:
        async with RestateServer() as server, httpx.AsyncClient(timeout=60) as client:
            await _register(client, server, f"http://127.0.0.1:{port}")
            answer = await client.post(f"{server.ingress_url}/CoreOrder/probe", json="go")
            assert answer.status_code == 200, answer.text
    finally:
        stop.set()
        await server_task
    assert attempts == [1, 2]
    first = [(what, a, b) for attempt, what, a, b in seen if attempt == 1]
    replay = [(what, a, b) for attempt, what, a, b in seen if attempt == 2]
    assert first == replay  # the same reveals at the same points
    assert first[0] == ("b1 first", False, True)  # a1 not revealed although it is in the journal on replay
    assert sorted(first[1][1:]) == [False, True]  # one revealed per poll, the other one kept back


async def _register(client: httpx.AsyncClient, server: RestateServer, uri: str) -> None:
    for _ in range(500):
        try:
            response = await client.post(f"{server.admin_url}/deployments", json={"uri": uri, "force": True})
        except httpx.HTTPError:
            response = None
        if response is not None and response.status_code in (200, 201):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("deployment not registered")
