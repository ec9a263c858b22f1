"""The public API's types, pinned: mypy checks every ``assert_type`` here (``./dev check``).

The handlers also run on the embedded engine, so each pinned type is the type of a real value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Never, assert_type

from starlette.types import ASGIApp

import agentdur
from agentdur import DurableCallFuture, DurableFuture, RunOptions

typed = agentdur.VirtualObject("Typed")


@typed.handler()
async def double(ctx: agentdur.ObjectContext, n: int) -> int:
    return 2 * n


def word() -> str:
    return "step"


async def maybe(flag: bool) -> int | None:
    return 1 if flag else None


@typed.handler()
async def everything(ctx: agentdur.ObjectContext) -> dict[str, Any]:
    ctx.set("name", "ada")
    assert_type(ctx.get("name", type_hint=str), DurableFuture[str | None])
    name = await ctx.get("name", type_hint=str)
    assert_type(name, str | None)
    assert_type(await ctx.get("missing", type_hint=list[int]), list[int] | None)
    assert_type(await ctx.get("name"), Any)
    assert_type(ctx.state_keys(), DurableFuture[list[str]])

    assert_type(RunOptions(type_hint=int), RunOptions[int])
    assert_type(RunOptions(max_attempts=2, type_hint=list[str]), RunOptions[list[str]])
    # no class as the hint: the options fit any step, whose result type comes from its action
    assert_type(RunOptions(max_attempts=2), RunOptions[Never])
    assert_type(RunOptions(type_hint=int | None), RunOptions[Never])
    step = ctx.run_typed("word", word, RunOptions(max_attempts=2))
    assert_type(step, DurableFuture[str])
    assert_type(await ctx.run_typed("maybe", maybe, RunOptions(type_hint=int | None), True), int | None)

    awakeable_id, answer = ctx.awakeable(type_hint=int)
    assert_type(answer, DurableFuture[int])
    assert_type(ctx.awakeable()[1], DurableFuture[Any])
    ctx.resolve_awakeable(awakeable_id, 42)

    call = ctx.object_call(double, "other", 21)
    assert_type(call, DurableCallFuture[int])
    assert_type(ctx.time(), DurableFuture[float])
    return {
        "name": name,
        "step": await step,
        "keys": await ctx.state_keys(),
        "answer": await answer,
        "doubled": await call,
    }


APP = agentdur.App([typed])


def test_restate_app_is_an_asgi_app() -> None:
    from agentdur.restate import restate_app

    assert callable(assert_type(restate_app(APP), ASGIApp))


async def test_typed_values_are_the_runtime_values(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "t.db") as engine:
        result = await engine.call("Typed", "everything", key="k")
    assert result == {"name": "ada", "step": "step", "keys": ["name"], "answer": 42, "doubled": 42}
