"""The embedded engine's spans: attempts, calls between handlers, waits, suspension; and tracing off."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import agentdur
from agentdur import tracing

from ..engine.helpers import wait_until
from .test_integrations import attribute, parent_of

svc = agentdur.Service("Traced")
failures: dict[str, int] = {}


def flaky(label: str, fail_times: int) -> str:
    failures[label] = failures.get(label, 0) + 1
    if failures[label] <= fail_times:
        raise ConnectionError(f"attempt {failures[label]} failed")
    return "ok"


@svc.handler()
async def retried_in_step(ctx: agentdur.Context, label: str) -> str:
    options: agentdur.RunOptions[str] = agentdur.RunOptions(
        max_attempts=3, initial_retry_interval=timedelta(milliseconds=5)
    )
    return await ctx.run_typed("flaky", flaky, options, label, 2)


@svc.handler()
async def retried_by_invocation(ctx: agentdur.Context, label: str) -> str:
    return await ctx.run_typed("flaky", flaky, agentdur.RunOptions(), label, 2)


@svc.handler()
async def callee(ctx: agentdur.Context, name: str) -> str:
    await ctx.sleep(timedelta(milliseconds=1))
    return f"hello {name}"


@svc.handler()
async def caller(ctx: agentdur.Context, name: str) -> str:
    ctx.service_send(callee, "sent")
    return await ctx.service_call(callee, name)


@svc.handler()
async def waits(ctx: agentdur.Context) -> str:
    await ctx.run_typed("before", lambda: "x")
    await ctx.sleep(timedelta(milliseconds=200))
    return "woke"


APP = agentdur.App([svc])
FAST_RETRIES = agentdur.InvocationRetryPolicy(max_attempts=5, initial_interval=timedelta(milliseconds=5))


def named(spans: list[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


async def test_a_step_retried_in_the_step_is_one_span_with_its_attempts(
    tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "t.db") as engine:
        assert await engine.call("Traced", "retried_in_step", "a") == "ok"
    [step] = named(list(spans.get_finished_spans()), "run flaky")
    assert attribute(step, "agentdur.step.attempts") == 3
    assert attribute(step, "agentdur.step.outcome") == "completed"
    failed = [e for e in step.events if e.name == "agentdur.step.attempt_failed"]
    assert [(e.attributes or {}).get("agentdur.step.attempt") for e in failed] == [1, 2]


async def test_a_step_retried_by_the_invocation_shows_each_attempt(
    tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "t.db", retry_policy=FAST_RETRIES) as engine:
        assert await engine.call("Traced", "retried_by_invocation", "b") == "ok"
    finished = list(spans.get_finished_spans())
    steps = named(finished, "run flaky")
    assert [attribute(s, "agentdur.step.outcome") for s in steps] == ["retrying", "retrying", "completed"]
    executions = named(finished, "invocation Traced/retried_by_invocation")
    assert [attribute(s, "agentdur.invocation.attempt") for s in executions] == [1, 2, 3]
    assert [attribute(s, "agentdur.invocation.outcome") for s in executions] == [
        "attempt_failed",
        "attempt_failed",
        "succeeded",
    ]
    assert [attribute(s, "agentdur.execution.reason") for s in executions] == ["new", "retry", "retry"]
    # every attempt joins the first one's trace, below it
    assert all(parent_of(s, finished) is executions[0] for s in executions[1:])
    assert len({s.context.trace_id for s in finished if s.context is not None}) == 1


async def test_calls_and_sends_carry_the_trace_to_the_callee(
    tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "t.db") as engine:
        assert await engine.call("Traced", "caller", "ann") == "hello ann"
        await wait_until(
            lambda: len(named(list(spans.get_finished_spans()), "invocation Traced/callee")) == 2
        )
    finished = list(spans.get_finished_spans())
    [caller_span] = named(finished, "invocation Traced/caller")
    callees = named(finished, "invocation Traced/callee")
    assert len(callees) == 2
    assert all(parent_of(c, finished) is caller_span for c in callees)
    [call] = named(finished, "call Traced/callee")
    [send] = named(finished, "send Traced/callee")
    assert attribute(call, "agentdur.step.outcome") == "completed"
    assert parent_of(call, finished) is caller_span and parent_of(send, finished) is caller_span
    # the call's span lasts until the callee's result arrived: after a callee's sleep ended
    sleeps = named(finished, "sleep sleep")
    assert call.end_time is not None and min(s.end_time or 0 for s in sleeps) <= call.end_time


async def test_a_suspended_invocation_resumes_in_its_trace_with_its_steps_replayed(
    tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "t.db", suspend_after=0.01) as engine:
        assert await engine.call("Traced", "waits") == "woke"
    finished = list(spans.get_finished_spans())
    executions = named(finished, "invocation Traced/waits")
    assert [attribute(s, "agentdur.invocation.outcome") for s in executions] == ["suspended", "succeeded"]
    assert attribute(executions[1], "agentdur.execution.reason") == "resume"
    before = named(finished, "run before")
    assert [attribute(s, "agentdur.replayed") for s in before] == [False, True]
    sleeps = named(finished, "sleep sleep")
    assert [attribute(s, "agentdur.step.outcome") for s in sleeps] == ["interrupted", "completed"]
    assert [attribute(s, "agentdur.replayed") for s in sleeps] == [False, True]


def test_the_standard_environment_variables_turn_tracing_on() -> None:
    assert tracing.configure_from_env({}) is False
    assert tracing.configure_from_env({"OTEL_TRACES_EXPORTER": "none"}) is False
    assert (
        tracing.configure_from_env({"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "true"}) is False
    )
    assert not tracing.enabled()
    with pytest.raises(agentdur.UserError, match="OTEL_TRACES_EXPORTER: must be console, otlp or none"):
        tracing.configure_from_env({"OTEL_TRACES_EXPORTER": "zipkin"})
    try:
        assert tracing.configure_from_env({"OTEL_TRACES_EXPORTER": "console"}) is True
        assert tracing.enabled()
    finally:
        tracing.reset()
    assert not tracing.enabled()
