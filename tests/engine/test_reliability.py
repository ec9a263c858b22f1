"""What a hostile step or handler can do to the embedded engine, and what the engine does about it.

A BaseException out of a step fails the attempt (never the process, never a hang); a step attempt
is bounded by its timeout; a step result that would not load on replay never reaches the journal;
RunOptions and engine input are refused with clear errors; a removed or replaced database file
makes the engine unhealthy; a handler that blocks the loop is named in a warning, once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import agentdur
from agentdur import RunOptions

from .helpers import wait_until

svc = agentdur.Service("Hostile")
RAISED: dict[str, type[BaseException]] = {
    "SystemExit": SystemExit,
    "KeyboardInterrupt": KeyboardInterrupt,
    "CancelledError": asyncio.CancelledError,
    "GeneratorExit": GeneratorExit,
    "StopIteration": StopIteration,
}
RELEASE = threading.Event()  # lets the hung sync step of a test end when the test is over


@svc.handler()
async def raise_in_async_step(ctx: agentdur.Context, kind: str) -> str:
    async def body() -> str:
        raise RAISED[kind]()

    return await ctx.run_typed("async body", body, RunOptions(max_attempts=2))


@svc.handler()
async def raise_in_sync_step(ctx: agentdur.Context, kind: str) -> str:
    def body() -> str:
        raise RAISED[kind]()

    return await ctx.run_typed("sync body", body, RunOptions(max_attempts=2))


@svc.handler()
async def raise_without_step_retries(ctx: agentdur.Context, kind: str) -> str:
    def body() -> str:
        raise RAISED[kind]()

    return await ctx.run_typed("no retries", body)


@svc.handler()
async def handler_exits(ctx: agentdur.Context) -> str:
    raise SystemExit(3)


@svc.handler()
async def hangs_async(ctx: agentdur.Context) -> str:
    async def forever() -> str:
        await asyncio.Event().wait()
        return "never"

    return await ctx.run_typed("hangs", forever, RunOptions(timeout=0.05, max_attempts=2))


@svc.handler()
async def hangs_sync(ctx: agentdur.Context) -> str:
    def stuck() -> str:
        RELEASE.wait()
        return "late"

    return await ctx.run_typed("stuck", stuck, RunOptions(timeout=timedelta(milliseconds=50), max_attempts=1))


@svc.handler()
async def hangs_untimed(ctx: agentdur.Context) -> str:
    def stuck() -> str:
        RELEASE.wait()
        return "released"

    return await ctx.run_typed("stuck", stuck)


@svc.handler()
async def quick_sync(ctx: agentdur.Context) -> str:
    return await ctx.run_typed("quick", lambda: "quick")


@svc.handler()
async def returns(ctx: agentdur.Context, kind: str) -> int:
    values: dict[str, Any] = {"text": "not a number", "nan": float("nan"), "huge": 10**5000, "big": 10**600}

    def wrong() -> int:
        return values[kind]  # type: ignore[no-any-return]

    return await ctx.run_typed("typed", wrong)


@svc.handler()
async def large(ctx: agentdur.Context, size: int) -> int:
    def big() -> str:
        return "x" * size

    return len(await ctx.run_typed("large", big))


@svc.handler()
async def none_options(ctx: agentdur.Context) -> str:
    return await ctx.run_typed("x", lambda: "x", None)  # type: ignore[call-overload,no-any-return]


@svc.handler()
async def blocks(ctx: agentdur.Context) -> str:
    time.sleep(0.4)  # noqa: ASYNC251 - the point of the test: sync code holding the loop
    return "done"


APP = agentdur.App([svc])
FAST = agentdur.InvocationRetryPolicy(max_attempts=2, initial_interval=timedelta(milliseconds=1))


# Every kind from both kinds of step body, but StopIteration from a coroutine: Python turns that
# into a RuntimeError (PEP 479), an ordinary error.
@pytest.mark.parametrize(
    ("handler", "kind"),
    [
        (handler, kind)
        for handler in ("raise_in_async_step", "raise_in_sync_step")
        for kind in sorted(RAISED)
        if (handler, kind) != ("raise_in_async_step", "StopIteration")
    ],
)
async def test_a_base_exception_from_a_step_fails_the_attempt_and_is_retried(
    tmp_path: Path, handler: str, kind: str
) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "b.db") as engine:
        with pytest.raises(
            agentdur.TerminalError, match=rf"failed after 2 attempt\(s\): StepAbortedError.*{kind}"
        ):
            await asyncio.wait_for(engine.call("Hostile", handler, kind), 20)
        info = (await engine.invocations())[0]
        assert info.status == "completed"  # journaled as the step's terminal failure


@pytest.mark.parametrize("kind", sorted(RAISED))
async def test_without_step_retries_the_invocation_retries_then_pauses(tmp_path: Path, kind: str) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "p.db", retry_policy=FAST) as engine:
        with pytest.raises(agentdur.InvocationPausedError, match=f"StepAbortedError.*{kind}"):
            await asyncio.wait_for(engine.call("Hostile", "raise_without_step_retries", kind), 20)
        paused = (await engine.invocations(status="paused"))[0]
        assert paused.attempts == 2


async def test_a_handler_raising_system_exit_pauses_instead_of_ending_the_process(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "h.db", retry_policy=FAST) as engine:
        with pytest.raises(
            agentdur.InvocationPausedError, match="handler Hostile/handler_exits raised SystemExit"
        ):
            await asyncio.wait_for(engine.call("Hostile", "handler_exits"), 20)


async def test_an_async_step_past_its_timeout_is_cancelled_and_retried(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "t.db") as engine:
        with pytest.raises(
            agentdur.TerminalError, match=r"2 attempt\(s\): StepTimeoutError.*within its timeout"
        ):
            await asyncio.wait_for(engine.call("Hostile", "hangs_async"), 20)


async def test_a_sync_step_past_its_timeout_is_abandoned_and_its_thread_counted(tmp_path: Path) -> None:
    RELEASE.clear()
    try:
        async with agentdur.Engine(APP, path=tmp_path / "s.db") as engine:
            with pytest.raises(agentdur.TerminalError, match="StepTimeoutError.*thread keeps running"):
                await asyncio.wait_for(engine.call("Hostile", "hangs_sync"), 20)
            assert [name for name, _ in engine.abandoned_steps] == ["stuck"]
            RELEASE.set()
            await wait_until(lambda: engine.abandoned_steps == [], what="the abandoned thread to end")
    finally:
        RELEASE.set()


async def test_a_sync_step_never_waits_behind_hung_ones(tmp_path: Path) -> None:
    RELEASE.clear()
    hung = 40  # more than any default thread pool of this machine
    try:
        async with agentdur.Engine(APP, path=tmp_path / "q.db") as engine:
            ids = [await engine.send("Hostile", "hangs_untimed") for _ in range(hung)]

            async def all_running() -> bool:
                infos = [await engine.invocation(i) for i in ids]
                return all(info.journal for info in infos)  # each lists its running step

            await wait_until(all_running, what="every hung step to run")
            assert await asyncio.wait_for(engine.call("Hostile", "quick_sync"), 20) == "quick"
            RELEASE.set()
            assert [await engine.attach(i) for i in ids] == ["released"] * hung
    finally:
        RELEASE.set()


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("text", "declared type"),
        ("nan", "non-finite float nan"),
        ("huge", "more than 4300 digits"),
    ],
)
async def test_a_step_result_that_would_not_replay_is_never_journaled(
    tmp_path: Path, kind: str, message: str
) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "v.db", retry_policy=FAST) as engine:
        with pytest.raises(agentdur.InvocationPausedError, match=message):
            await asyncio.wait_for(engine.call("Hostile", "returns", kind), 20)
        paused = (await engine.invocations(status="paused"))[0]
        assert "JournalValueError" in (paused.last_error or "")
        assert (await engine.invocation(paused.id)).journal == []


async def test_a_long_but_readable_integer_is_journaled(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "i.db") as engine:
        assert await engine.call("Hostile", "returns", "big") == 10**600


async def test_an_entry_over_the_maximum_size_fails_with_a_clear_error(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "l.db", retry_policy=FAST, max_entry_size=1000) as engine:
        assert await engine.call("Hostile", "large", 900) == 900
        with pytest.raises(agentdur.InvocationPausedError, match="maximum journal entry size of 1,000 bytes"):
            await asyncio.wait_for(engine.call("Hostile", "large", 2000), 20)


def test_the_default_maximum_entry_size_is_restates_message_size_limit() -> None:
    from agentdur._values import DEFAULT_MAX_ENTRY_SIZE

    assert DEFAULT_MAX_ENTRY_SIZE == 32 * 1024 * 1024


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": "3"}, "max_attempts"),
        ({"max_attempts": True}, "max_attempts"),
        ({"retry_interval_factor": 1e308}, "retry_interval_factor"),
        ({"retry_interval_factor": 0.5}, "retry_interval_factor"),
        ({"retry_interval_factor": float("nan")}, "retry_interval_factor"),
        ({"max_duration": 5}, "max_duration"),
        ({"initial_retry_interval": timedelta(seconds=-1)}, "initial_retry_interval"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": float("inf")}, "timeout"),
        ({"timeout": "1s"}, "timeout"),
    ],
)
def test_run_options_are_validated_at_construction(fields: dict[str, Any], named: str) -> None:
    with pytest.raises(agentdur.InvalidRunOptionsError, match=f"RunOptions.{named}"):
        RunOptions(**fields)


def test_valid_run_options_and_the_model_call_default() -> None:
    assert RunOptions(max_attempts=3, timeout=2).timeout_seconds == 2.0
    assert RunOptions(timeout=timedelta(minutes=1)).timeout_seconds == 60.0
    assert agentdur.MODEL_CALL_OPTIONS.timeout_seconds == 600.0
    assert RunOptions(retry_interval_factor=100, max_attempts=50).delay_after(49) == 10.0
    with pytest.raises(agentdur.InvalidRunOptionsError, match="InvocationRetryPolicy.max_attempts"):
        agentdur.InvocationRetryPolicy(max_attempts=0)


async def test_run_typed_without_run_options_is_refused_by_name(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "o.db", retry_policy=FAST) as engine:
        with pytest.raises(agentdur.InvocationPausedError, match="takes RunOptions"):
            await asyncio.wait_for(engine.call("Hostile", "none_options"), 20)


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        (b"\xff\xfe", "not UTF-8"),
        (object(), "cannot be serialized as JSON"),
        (float("inf"), "non-finite float"),
    ],
)
async def test_unserialisable_input_is_an_agentdur_error(tmp_path: Path, arg: Any, message: str) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "in.db") as engine:
        with pytest.raises(agentdur.InvalidInputError, match=message):
            await engine.call("Hostile", "returns", arg)


@pytest.mark.parametrize("how", ["removed", "replaced"])
async def test_a_removed_or_replaced_database_makes_the_engine_unhealthy(tmp_path: Path, how: str) -> None:
    db = tmp_path / "w.db"
    async with agentdur.Engine(APP, path=db) as engine:
        assert await engine.call("Hostile", "large", 3) == 3
        assert engine.healthy
        if how == "removed":
            db.unlink()
        else:
            shutil.copy(db, tmp_path / "other.db")
            os.replace(tmp_path / "other.db", db)
        assert how in (engine.health() or "")
        assert not engine.healthy
        with pytest.raises(agentdur.StoreWriteError, match=how):
            await engine.send("Hostile", "large", 3)


async def test_the_file_watch_notices_without_a_health_check(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    async with agentdur.Engine(APP, path=db) as engine:
        db.unlink()
        await wait_until(lambda: engine.store.fault is not None, what="the periodic check")
        assert "removed" in str(engine.store.fault)


async def test_a_handler_blocking_the_loop_is_named_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="agentdur.loop")
    async with agentdur.Engine(APP, path=tmp_path / "k.db", blocked_loop_warning=0.1) as engine:
        for _ in range(2):
            assert await engine.call("Hostile", "blocks") == "done"
    warnings = [r.getMessage() for r in caplog.records if r.name == "agentdur.loop"]
    assert len(warnings) == 1, warnings
    assert "handler Hostile/blocks blocked the event loop" in warnings[0]
    assert "test_reliability.py" in warnings[0]
