"""The spans of one execution of an invocation, for either engine (see :mod:`agentdur.tracing`).

An invocation may run more than once: after a crash, a retry or a suspension. Each execution is one
span; every execution of an invocation is a child of the invocation's *trace anchor*, a
``traceparent`` the engine keeps with the invocation: the caller's span (the ingress request's
``traceparent`` header, or the span of the handler that made the call), else the first execution's
own span. So spans written after a recovery join the trace the invocation started in.

Replay invariant: an operation answered from the journal is not new work. It is emitted as a
zero-length span marked ``agentdur.replayed=true`` and never as the work it stands for.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from . import tracing

if TYPE_CHECKING:
    from opentelemetry.trace import Span

TRACEPARENT = "traceparent"
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
# Operations traced as spans; state reads and writes, time and combinators are not.
TRACED_KINDS = frozenset({"run", "sleep", "awakeable", "call", "send"})
# Operations whose span lasts until their result arrives (a ``run`` only on Restate, where the
# engine does not expose the action's own execution).
WAIT_KINDS = frozenset({"run", "sleep", "awakeable", "call"})

_INGRESS_PARENT: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "agentdur_ingress_traceparent", default=None
)


def valid_traceparent(text: str | None) -> str | None:
    """``text`` when it is a W3C ``traceparent`` of version 00 with non-zero ids, else ``None``."""
    if not text:
        return None
    text = text.strip().lower()
    match = _TRACEPARENT.match(text)
    if match is None or set(match.group(1)) == {"0"} or set(match.group(2)) == {"0"}:
        return None
    return text


def set_ingress_parent(header: str | None) -> contextvars.Token[str | None]:
    """Make ``header`` (an ingress request's ``traceparent``) the parent of invocations created next."""
    return _INGRESS_PARENT.set(valid_traceparent(header))


def reset_ingress_parent(token: contextvars.Token[str | None]) -> None:
    """Undo :func:`set_ingress_parent`."""
    _INGRESS_PARENT.reset(token)


def parent_for_new_invocation() -> str | None:
    """The trace anchor a new invocation is created with: the current span of the calling handler
    (or step), else the ingress request's ``traceparent``, else none."""
    if tracing.enabled():
        from opentelemetry import trace

        current = trace.get_current_span().get_span_context()
        if current.is_valid:
            return format_traceparent(current.trace_id, current.span_id, int(current.trace_flags))
    return _INGRESS_PARENT.get()


def format_traceparent(trace_id: int, span_id: int, flags: int = 1) -> str:
    """A W3C ``traceparent`` header value."""
    return f"00-{trace_id:032x}-{span_id:016x}-{flags:02x}"


def current_traceparent() -> str | None:
    """The ``traceparent`` of the current span (to put on an outgoing request), if tracing is on."""
    return parent_for_new_invocation() if tracing.enabled() else None


class InvocationTrace:
    """The spans of one execution of one invocation.

    Args:
        service, handler, invocation_id, key: what runs.
        anchor: the invocation's trace anchor (``None`` before its first execution).
        attempt: the execution's number among the invocation's retries (1 for the first).
        reason: why it runs (``new``, ``recovery``, ``retry``, ``resume``).
    """

    def __init__(
        self,
        service: str,
        handler: str,
        invocation_id: str,
        key: str | None,
        anchor: str | None,
        attempt: int,
        reason: str,
    ) -> None:
        from opentelemetry import context, trace
        from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

        tracer = tracing.tracer()
        assert tracer is not None
        self._tracer = tracer
        self._waits: dict[int, Span] = {}
        self.invocation_id = invocation_id
        parent_ctx = None
        match = _TRACEPARENT.match(anchor or "")
        if match is not None:
            remote = SpanContext(
                trace_id=int(match.group(1), 16),
                span_id=int(match.group(2), 16),
                is_remote=True,
                trace_flags=TraceFlags(int(match.group(3), 16)),
            )
            parent_ctx = trace.set_span_in_context(NonRecordingSpan(remote))
        attributes: dict[str, Any] = {
            "agentdur.invocation.id": invocation_id,
            "agentdur.service": service,
            "agentdur.handler": handler,
            "agentdur.invocation.attempt": attempt,
            "agentdur.execution.reason": reason,
        }
        if key is not None:
            attributes["agentdur.object.key"] = key
        self.span = tracer.start_span(
            f"invocation {service}/{handler}", context=parent_ctx, kind=SpanKind.SERVER, attributes=attributes
        )
        # Set when this execution starts the invocation's trace: the engine journals it.
        own = self.span.get_span_context()
        self.new_anchor = (
            None
            if anchor is not None
            else format_traceparent(own.trace_id, own.span_id, int(own.trace_flags))
        )
        self._token = context.attach(trace.set_span_in_context(self.span))

    def replayed(self, kind: str, index: int, name: str, status: str) -> None:
        """Entry ``index`` was answered from the journal: a zero-length span marked replayed."""
        if kind not in TRACED_KINDS:
            return
        now = time.time_ns()
        span = self._tracer.start_span(
            f"{kind} {name}", start_time=now, attributes=self._attributes(kind, index, name, replayed=True)
        )
        span.set_attribute("agentdur.step.outcome", status)
        span.end(end_time=now)

    def open_wait(self, kind: str, index: int, name: str) -> None:
        """A sleep, awakeable or call starts waiting (or a send is made) in this execution."""
        if kind not in TRACED_KINDS:
            return
        span = self._tracer.start_span(f"{kind} {name}", attributes=self._attributes(kind, index, name))
        if kind in WAIT_KINDS:
            self._waits[index] = span
        else:
            span.set_attribute("agentdur.step.outcome", "completed")
            span.end()

    def close_wait(self, index: int, outcome: str) -> None:
        """The wait of entry ``index`` completed with ``outcome``."""
        span = self._waits.pop(index, None)
        if span is not None:
            span.set_attribute("agentdur.step.outcome", outcome)
            _error_if(span, outcome == "failed")
            span.end()

    def start_step(self, index: int, name: str) -> Span:
        """The span of a ``run`` step executing now; the caller makes it current in the step's task."""
        return self._tracer.start_span(f"run {name}", attributes=self._attributes("run", index, name))

    def end(self, outcome: str, error: BaseException | None = None) -> None:
        """End the execution: ``succeeded``, ``failed``, ``retrying``, ``paused``, ``suspended``, ..."""
        from opentelemetry import context

        for index in list(self._waits):
            self.close_wait(index, "interrupted")
        self.span.set_attribute("agentdur.invocation.outcome", outcome)
        if error is not None:
            self.span.record_exception(error)
        _error_if(self.span, outcome in ("failed", "paused", "retrying"))
        self.span.end()
        # Ended from another task than the one it started in: nothing to restore there.
        with contextlib.suppress(ValueError):
            context.detach(self._token)

    def _attributes(self, kind: str, index: int, name: str, replayed: bool = False) -> dict[str, Any]:
        return {
            "agentdur.invocation.id": self.invocation_id,
            "agentdur.step.kind": kind,
            "agentdur.step.index": index,
            "agentdur.step.name": name,
            "agentdur.replayed": replayed,
        }


def step_attempt_failed(span: Span, attempt: int, error: BaseException) -> None:
    """Record a failed attempt of a step on its span (the step will be tried again)."""
    span.add_event(
        "agentdur.step.attempt_failed",
        {
            "agentdur.step.attempt": attempt,
            "exception.type": type(error).__name__,
            "exception.message": str(error),
        },
    )


def end_step(span: Span, outcome: str, attempts: int) -> None:
    """End a step's span with its outcome (``completed``, ``failed``, ``retrying``) and attempt count."""
    span.set_attribute("agentdur.step.outcome", outcome)
    span.set_attribute("agentdur.step.attempts", attempts)
    _error_if(span, outcome != "completed")
    span.end()


@contextlib.contextmanager
def use_span(span: Span) -> Iterator[None]:
    """Make ``span`` current in this task for the block, without ending it."""
    from opentelemetry import trace

    with trace.use_span(span, end_on_exit=False, record_exception=False, set_status_on_exception=False):
        yield


def start_trace(
    service: str,
    handler: str,
    invocation_id: str,
    key: str | None,
    anchor: str | None,
    attempt: int,
    reason: str,
) -> InvocationTrace | None:
    """The trace of an execution starting now, or ``None`` while tracing is off."""
    if not tracing.enabled():
        return None
    return InvocationTrace(service, handler, invocation_id, key, anchor, attempt, reason)


def _error_if(span: Span, failed: bool) -> None:
    if failed:
        from opentelemetry.trace import Status, StatusCode

        span.set_status(Status(StatusCode.ERROR))
