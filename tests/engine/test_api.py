"""The public API surface and misuse found at definition time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

import agentdur

EXPECTED_ALL = [
    "AgentdurError",
    "App",
    "AsyncClient",
    "AwakeableValueError",
    "Client",
    "ConflictError",
    "Context",
    "DatabaseLockedError",
    "DurableCallFuture",
    "DurableFuture",
    "DurablePromise",
    "Engine",
    "EngineControl",
    "ErrorDetail",
    "Failure",
    "InvalidInputError",
    "InvalidRunOptionsError",
    "InvocationCancelledError",
    "InvocationInfo",
    "InvocationPausedError",
    "InvocationRetryPolicy",
    "JournalEntry",
    "JournalMismatchError",
    "JournalValueError",
    "MODEL_CALL_OPTIONS",
    "NotFoundError",
    "ObjectContext",
    "ObjectSharedContext",
    "PendingAwakeable",
    "RestateDurableCallFuture",
    "RestateDurableFuture",
    "RestateDurableSleepFuture",
    "RunOptions",
    "SendHandle",
    "Service",
    "StateList",
    "StateNameError",
    "StepAbortedError",
    "StepTimeoutError",
    "StoreWriteError",
    "SuspendInvocation",
    "TerminalError",
    "UserError",
    "VirtualObject",
    "Workflow",
    "WorkflowContext",
    "WorkflowSharedContext",
    "app",
    "as_completed",
    "current_context",
    "gather",
    "select",
    "wait_completed",
]


def test_public_names_are_pinned_and_sorted() -> None:
    assert agentdur.__all__ == EXPECTED_ALL
    assert sorted(agentdur.__all__) == agentdur.__all__
    for name in agentdur.__all__:
        assert getattr(agentdur, name).__doc__, f"{name} has no docstring"


def test_integrations_and_patterns_are_subpackages_only(tmp_path: Path) -> None:
    import agentdur.integrations
    import agentdur.patterns

    assert agentdur.integrations.__name__ == "agentdur.integrations"
    assert agentdur.patterns.__name__ == "agentdur.patterns"
    assert not [m for m in sys.modules if m.split(".")[0] in ("integrations", "patterns")]
    # The installed package, as a process outside the checkout sees it: nothing named "integrations"
    # or "patterns" at the top level, and one identity for each module.
    script = (
        "import importlib.util, sys, agentdur.integrations.kit, agentdur.patterns.approval\n"
        "print(importlib.util.find_spec('integrations'), importlib.util.find_spec('patterns'))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('integrations', 'patterns')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["None None", "[]"]


def test_control_flow_is_not_an_exception() -> None:
    assert not issubclass(agentdur.SuspendInvocation, Exception)
    assert issubclass(agentdur.SuspendInvocation, BaseException)
    assert issubclass(agentdur.InvocationCancelledError, agentdur.TerminalError)
    assert agentdur.InvalidInputError("x").status_code == 400
    assert agentdur.NotFoundError("x").status_code == 404


def test_handler_defined_twice_is_a_user_error() -> None:
    svc = agentdur.Service("Twice")

    @svc.handler()
    async def greet(ctx: agentdur.Context) -> str:
        return "hi"

    with pytest.raises(agentdur.UserError, match="'greet' is defined twice on 'Twice'"):

        @svc.handler(name="greet")
        async def other(ctx: agentdur.Context) -> str:
            return "hello"


def test_service_defined_twice_in_app() -> None:
    with pytest.raises(agentdur.UserError, match="defined twice"):
        agentdur.App([agentdur.Service("S"), agentdur.VirtualObject("S")])


def test_sync_handler_and_wrong_arity_are_rejected() -> None:
    svc = agentdur.Service("Bad")
    with pytest.raises(agentdur.UserError, match="must be an async function"):

        @svc.handler()  # type: ignore[type-var]  # a sync handler on purpose: refused at runtime
        def sync(ctx: agentdur.Context) -> None:
            return None

    with pytest.raises(agentdur.UserError, match="takes 3 parameters"):

        @svc.handler()
        async def three(ctx: agentdur.Context, a: int, b: int) -> None:
            return None


def test_bad_handler_kind() -> None:
    obj = agentdur.VirtualObject("O")
    with pytest.raises(agentdur.UserError, match="kind"):
        obj.handler(kind="readonly")  # type: ignore[arg-type]


def test_current_context_outside_a_handler() -> None:
    with pytest.raises(agentdur.UserError, match="no agentdur handler is running"):
        agentdur.current_context()


class Order(BaseModel):
    item: str
    quantity: int


shop = agentdur.Service("Shop")


@shop.handler()
async def order(ctx: agentdur.Context, o: Order) -> str:
    return f"{o.quantity} x {o.item}"


cart = agentdur.VirtualObject("Cart")


@cart.handler(kind="shared")
async def peek(ctx: agentdur.ObjectSharedContext) -> list[str]:
    return await ctx.state_keys()


@cart.handler(kind="shared")
async def sneaky_write(ctx: agentdur.ObjectSharedContext) -> None:
    ctx.set("x", 1)  # type: ignore[attr-defined]


API_APP = agentdur.App([shop, cart])


async def test_bad_input_names_the_field_and_writes_nothing(tmp_path: Path) -> None:
    async with agentdur.Engine(API_APP, path=tmp_path / "a.db") as engine:
        assert await engine.call("Shop", "order", {"item": "tea", "quantity": 2}) == "2 x tea"
        with pytest.raises(agentdur.InvalidInputError, match="quantity") as caught:
            await engine.call("Shop", "order", {"item": "tea", "quantity": "many"})
        assert caught.value.status_code == 400
        with pytest.raises(agentdur.InvalidInputError, match="malformed JSON"):
            await engine.call("Shop", "order", b"{not json")
        with pytest.raises(agentdur.NotFoundError, match="unknown service 'Nope'"):
            await engine.call("Nope", "order", {})
        with pytest.raises(agentdur.NotFoundError, match="unknown handler 'nope' on service 'Shop'"):
            await engine.call("Shop", "nope", {})
        with pytest.raises(agentdur.InvalidInputError, match="takes no object key"):
            await engine.call("Shop", "order", {"item": "tea", "quantity": 1}, key="k")
        with pytest.raises(agentdur.InvalidInputError, match="needs an object key"):
            await engine.call("Cart", "peek")
        rows = engine.store.read("SELECT count(*) FROM invocations")
        assert rows[0][0] == 1  # only the valid call was ever written


async def test_shared_handler_cannot_set_state(tmp_path: Path) -> None:
    async with agentdur.Engine(API_APP, path=tmp_path / "a.db") as engine:
        with pytest.raises(agentdur.TerminalError, match="cannot change state"):
            await engine.call("Cart", "sneaky_write", key="k")
        assert await engine.call("Cart", "peek", key="k") == []
        rows = engine.store.read("SELECT count(*) FROM state")
        assert rows[0][0] == 0
