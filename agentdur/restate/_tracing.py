"""Spans of handlers served on Restate, beside Restate's own tracing (see :mod:`agentdur._spans`).

Restate keeps the invocation's request headers for every attempt, so the trace anchor needs no
journal entry of ours: it is the ingress request's ``traceparent`` (or the one a calling handler
sent), else an anchor derived from the invocation id. An attempt's span is a child of Restate's own
attempt span when Restate's tracing is on (its ``traceparent`` among the attempt headers), else of
the anchor. Calls and sends carry the caller's anchor as their ``traceparent``: the same value on
every attempt, so a replayed call matches its journal entry.

Replayed commands are told apart with restate-sdk's ``restate_context_is_replaying`` variable.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import restate
from restate.server_context import restate_context_is_replaying

from .. import _spans

log = logging.getLogger("agentdur.restate")


def _header(headers: dict[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def anchor_of(request: restate.context.Request) -> str:
    """The invocation's stable trace anchor: its request's ``traceparent``, else one derived from its id."""
    given = _spans.valid_traceparent(_header(dict(request.headers), _spans.TRACEPARENT))
    if given is not None:
        return given
    digest = hashlib.sha256(request.id.encode()).hexdigest()
    return _spans.format_traceparent(int(digest[:32], 16), int(digest[32:48], 16) or 1)


def replaying() -> bool:
    """True when the command just made was found in the journal."""
    return bool(restate_context_is_replaying.get())


class RestateTrace:
    """The spans of one attempt on Restate; every method is a no-op while tracing is off."""

    def __init__(self, ctx: restate.ObjectContext, service: str, handler: str, key: str | None) -> None:
        request = ctx.request()
        self.anchor = anchor_of(request)
        restate_parent = _spans.valid_traceparent(_header(dict(request.attempt_headers), _spans.TRACEPARENT))
        reason = "replay" if replaying() else "new"
        self.invocation_id = request.id
        log.info("invocation %s (%s/%s) attempt started (%s)", request.id, service, handler, reason)
        self.trace = _spans.start_trace(
            service, handler, request.id, key, restate_parent or self.anchor, 1, reason
        )
        self.index = 0  # operations in the order this attempt made them (Restate does not expose its)

    def operation(self, kind: str, name: str) -> int:
        """Trace a command just made: a replayed marker, or a wait that ends with :meth:`done`."""
        index = self.index
        self.index += 1
        replayed = replaying()
        log.debug(
            "invocation %s operation %d %s %r %s",
            self.invocation_id,
            index,
            kind,
            name,
            "replayed" if replayed else "started",
        )
        if self.trace is not None:
            if replayed:
                self.trace.replayed(kind, index, name, "completed")
            elif kind != "run":
                self.trace.open_wait(kind, index, name)
        return index

    def done(self, index: int, outcome: str) -> None:
        """The wait of operation ``index`` ended."""
        if self.trace is not None:
            self.trace.close_wait(index, outcome)

    def step_span(self, index: int, name: str) -> Any:
        """The span of a ``run`` action executing now, or ``None``."""
        return self.trace.start_step(index, name) if self.trace is not None else None

    def end(self, outcome: str, error: BaseException | None) -> None:
        """End the attempt's span; log how it ended."""
        log.info("invocation %s attempt ended: %s", self.invocation_id, outcome)
        if self.trace is not None:
            self.trace.end(outcome, error)
            self.trace = None

    def call_headers(self) -> dict[str, str]:
        """The headers of a call or send: the caller's anchor, the same on every attempt."""
        return {_spans.TRACEPARENT: self.anchor}
