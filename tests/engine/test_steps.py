"""run_typed: journaling, replay, retries, terminal failures, sync functions, invocation retries."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel

import agentdur

from .helpers import wait_status, wait_until

executions: dict[str, int] = {}
gate = threading.Event()


def count(name: str) -> None:
    executions[name] = executions.get(name, 0) + 1


class Quote(BaseModel):
    amount: float
    currency: str


async def make_quote(amount: float) -> Quote:
    count("quote")
    return Quote(amount=amount, currency="EUR")


svc = agentdur.Service("Steps")


@svc.handler()
async def pipeline(ctx: agentdur.Context, amount: float) -> dict[str, object]:
    quote = await ctx.run_typed("quote", make_quote, agentdur.RunOptions(), amount)
    assert isinstance(quote, Quote)
    aid, approval = ctx.awakeable(type_hint=str)
    await ctx.run_typed("publish", count, agentdur.RunOptions(), "publish")
    executions["awakeable"] = aid  # type: ignore[assignment]
    decision = await approval
    doubled = await ctx.run_typed("double", lambda: quote.amount * 2)
    return {"quote": quote.model_dump(), "decision": decision, "doubled": doubled}


def flaky_until(limit: int, name: str) -> str:
    count(name)
    if executions[name] < limit:
        raise ConnectionError(f"attempt {executions[name]} failed")
    return f"ok after {executions[name]}"


@svc.handler()
async def retrying(ctx: agentdur.Context, limit: int) -> str:
    options: agentdur.RunOptions[str] = agentdur.RunOptions(
        max_attempts=5, initial_retry_interval=timedelta(milliseconds=1)
    )
    return await ctx.run_typed("flaky", flaky_until, options, limit, "flaky")


@svc.handler()
async def exhausted(ctx: agentdur.Context) -> str:
    options: agentdur.RunOptions[str] = agentdur.RunOptions(
        max_attempts=3, initial_retry_interval=timedelta(milliseconds=1)
    )
    try:
        return await ctx.run_typed("always failing", flaky_until, options, 100, "exhausted")
    except agentdur.TerminalError as error:
        return f"gave up: {error.message}"


def refuse() -> str:
    count("refuse")
    raise agentdur.TerminalError("card declined", status_code=402)


@svc.handler()
async def terminal(ctx: agentdur.Context) -> str:
    return await ctx.run_typed("charge", refuse, agentdur.RunOptions(max_attempts=5))


@svc.handler()
async def thread_check(ctx: agentdur.Context) -> bool:
    loop_thread = threading.get_ident()
    step_thread = await ctx.run_typed("where", threading.get_ident)
    return step_thread != loop_thread


@svc.handler()
async def handler_fails(ctx: agentdur.Context, succeed_at: int) -> str:
    await ctx.run_typed("before", count, agentdur.RunOptions(), "before")
    count("handler attempt")
    if executions["handler attempt"] < succeed_at:
        raise RuntimeError("transient outage")
    return "recovered"


@svc.handler()
async def unserializable(ctx: agentdur.Context) -> str:
    await ctx.run_typed("returns an object", lambda: object())
    return "unreachable"


APP = agentdur.App([svc])
FAST_RETRY = agentdur.InvocationRetryPolicy(max_attempts=3, initial_interval=timedelta(milliseconds=5))


@pytest.fixture(autouse=True)
def reset() -> None:
    executions.clear()


async def test_steps_are_journaled_and_replayed_after_restart(tmp_path: Path) -> None:
    db = tmp_path / "steps.db"
    async with agentdur.Engine(APP, path=db) as engine:
        inv = await engine.send("Steps", "pipeline", 12.5)
        await wait_until(lambda: "awakeable" in executions)
        info = await engine.invocation(inv)
        assert [(e.kind, e.name, e.status) for e in info.journal] == [
            ("run", "quote", "completed"),
            ("awakeable", "awakeable", "pending"),
            ("run", "publish", "completed"),
        ]
        assert info.journal[0].value == {"amount": 12.5, "currency": "EUR"}
        aid = str(executions["awakeable"])
    # the engine is gone with the handler waiting; a new one replays and waits again
    async with agentdur.Engine(APP, path=db) as engine:
        await engine.resolve_awakeable(aid, "approved")
        result = await engine.attach(inv)
    assert result == {"quote": {"amount": 12.5, "currency": "EUR"}, "decision": "approved", "doubled": 25.0}
    assert executions["quote"] == 1 and executions["publish"] == 1
    async with agentdur.Engine(APP, path=db) as engine:
        info = await engine.invocation(inv)
        assert info.status == "completed"
        assert [e.name for e in info.journal] == ["quote", "awakeable", "publish", "double"]
        assert all(e.created_at <= (e.completed_at or e.created_at) for e in info.journal)


async def test_retries_with_backoff_until_success(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "r.db") as engine:
        assert await engine.call("Steps", "retrying", 3) == "ok after 3"
    assert executions["flaky"] == 3


async def test_exhausted_retries_become_a_journaled_terminal_error(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "r.db") as engine:
        inv = await engine.send("Steps", "exhausted")
        result = await engine.attach(inv)
        assert result.startswith("gave up: step 'always failing' failed after 3 attempt(s)")
        assert "ConnectionError" in result
        entry = (await engine.invocation(inv)).journal[0]
        assert entry.status == "failed" and entry.failure is not None
    assert executions["exhausted"] == 3


async def test_terminal_error_is_not_retried(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "t.db") as engine:
        with pytest.raises(agentdur.TerminalError, match="card declined") as caught:
            await engine.call("Steps", "terminal")
        assert caught.value.status_code == 402
    assert executions["refuse"] == 1


async def test_sync_step_runs_off_the_event_loop(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "s.db") as engine:
        assert await engine.call("Steps", "thread_check") is True


async def test_handler_failure_is_retried_by_replay(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "h.db", retry_policy=FAST_RETRY) as engine:
        assert await engine.call("Steps", "handler_fails", 3) == "recovered"
    assert executions["handler attempt"] == 3
    assert executions["before"] == 1  # the journaled step before the failure is replayed, not re-run


async def test_invocation_is_paused_when_retries_run_out_and_resumable(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "p.db", retry_policy=FAST_RETRY) as engine:
        inv = await engine.send("Steps", "handler_fails", 5)
        await wait_status(engine, inv, "paused")
        info = await engine.invocation(inv)
        assert info.attempts == 3
        assert info.last_error is not None and "transient outage" in info.last_error
        assert executions["handler attempt"] == 3
        await engine.resume(inv)  # a fresh budget of three attempts: attempts 4 and 5 succeed
        assert await engine.attach(inv) == "recovered"
    assert executions["before"] == 1


async def test_unserializable_step_result_fails_the_attempt_and_is_never_journaled(tmp_path: Path) -> None:
    policy = agentdur.InvocationRetryPolicy(max_attempts=2, initial_interval=timedelta(milliseconds=1))
    async with agentdur.Engine(APP, path=tmp_path / "u.db", retry_policy=policy) as engine:
        with pytest.raises(agentdur.InvocationPausedError, match="cannot be serialized as JSON"):
            await engine.call("Steps", "unserializable")
        paused = (await engine.invocations(status="paused"))[0]
        assert "JournalValueError" in (paused.last_error or "")
        assert (await engine.invocation(paused.id)).journal == []


# A journal mismatch: the same handler name with different code, as after a bad deploy.
v1 = agentdur.Service("Deploy")
v2 = agentdur.Service("Deploy")


@v1.handler(name="run")
async def run_v1(ctx: agentdur.Context) -> str:
    await ctx.run_typed("charge card", count, agentdur.RunOptions(), "charge")
    await ctx.sleep(timedelta(hours=1))
    return "v1"


@v2.handler(name="run")
async def run_v2(ctx: agentdur.Context) -> str:
    await ctx.run_typed("reserve stock", count, agentdur.RunOptions(), "reserve")
    return "v2"


async def test_journal_mismatch_pauses_and_names_index_and_both_steps(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    async with agentdur.Engine(agentdur.App([v1]), path=db) as engine:
        inv = await engine.send("Deploy", "run")
        await wait_until(lambda: executions.get("charge") == 1)
    async with agentdur.Engine(agentdur.App([v2]), path=db) as engine:
        await wait_status(engine, inv, "paused")
        info = await engine.invocation(inv)
    assert info.last_error is not None
    assert "index 0" in info.last_error
    assert "'charge card'" in info.last_error and "'reserve stock'" in info.last_error
    assert "reserve" not in executions  # nothing of the mismatching code ran


slow_step_started = threading.Event()
slow_step_released = threading.Event()


async def slow_step() -> str:
    slow_step_started.set()
    while not slow_step_released.is_set():  # noqa: ASYNC110 - set by the test
        await asyncio.sleep(0.005)
    count("slow step")
    return "slow done"


@svc.handler()
async def two_slow_steps(ctx: agentdur.Context) -> list[str]:
    first = await ctx.run_typed("first", slow_step)
    count("between")
    second = await ctx.run_typed("second", slow_step)
    return [first, second]


async def test_close_with_grace_period_journals_running_steps(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    slow_step_started.clear()
    slow_step_released.clear()
    engine = agentdur.Engine(APP, path=db)
    await engine.start()
    inv = await engine.send("Steps", "two_slow_steps")
    await wait_until(slow_step_started.is_set)
    closing = asyncio.create_task(engine.close(grace_period=5))
    done, _ = await asyncio.wait({closing}, timeout=0.3)
    assert not done, "close returned while a step was still running"
    slow_step_released.set()  # the step finishes only now, during the close
    await closing
    # the running step finished and was journaled; the handler's next operation did not start
    assert executions["slow step"] == 1
    between_before_restart = executions.get("between", 0)
    async with agentdur.Engine(APP, path=db) as engine:
        assert await engine.attach(inv) == ["slow done", "slow done"]
    # replay returned the first step's result; plain code between steps runs again, as always
    assert executions["slow step"] == 2
    assert executions["between"] == between_before_restart + 1


@svc.handler()
async def nested(ctx: agentdur.Context) -> str:
    async def outer() -> None:
        await ctx.run_typed("inner", count, agentdur.RunOptions(), "inner")  # not allowed

    try:
        await ctx.run_typed("outer", outer)
    except agentdur.UserError as error:
        return str(error)
    return "no error"


async def test_context_operations_inside_a_step_are_refused(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "n.db") as engine:
        inv = await engine.send("Steps", "nested")
        message = await engine.attach(inv)
        journal = (await engine.invocation(inv)).journal
    assert "inside the body of step 'outer'" in message and "ctx run 'inner'" in message
    assert "inner" not in executions
    assert journal == []  # nothing half-written: neither step is journaled
