"""The contract between the runtime and the invocations it runs, as two small protocols.

:class:`RuntimeHost` is what a runner, its context, the requests it makes of other invocations and the
fault handling need from the runtime; :class:`RunnerView` is what the runtime needs from a runner. The
runner and the modules it uses depend on these protocols, never on the runtime, so the engine's modules
import each other in one direction only (see the package docstring).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Coroutine
from typing import Any, Protocol

from .._exceptions import JournalMismatchError
from .._live import LiveOutput
from .._service import App, HandlerSpec
from . import _ops
from . import _records as r
from ._futures import EmbeddedFuture
from ._store import Store


class RunnerView(Protocol):
    """One invocation in memory, as the runtime drives it."""

    inv: r.InvocationState
    suspending: bool
    closed: bool
    abort_error: JournalMismatchError | None
    task: asyncio.Task[None] | None
    completions_seen: int
    step_tasks: dict[int, asyncio.Task[None]]
    running_steps: dict[int, tuple[str, float]]
    pending: dict[int, EmbeddedFuture[Any]]

    def stop(self) -> None:
        """Cancel the handler and its steps (recovery resumes it)."""

    def drain(self) -> None:
        """Start no new operation; running steps may finish."""

    def deliver(self, idx: int, outcome: r.Outcome) -> None:
        """A completion for entry ``idx`` was committed."""

    def request_cancel(self) -> None:
        """Raise a cancellation at the handler's current or next await."""

    def on_write_error(self, error: BaseException) -> None:
        """A write of this invocation failed."""


class RuntimeHost(Protocol):
    """The runtime, as runners, contexts, requests and fault handling see it."""

    app: App
    loop: asyncio.AbstractEventLoop
    store: Store
    suspend_after: float | None
    max_entry_size: int | None
    closing: bool
    seq: itertools.count[int]
    runners: dict[str, RunnerView]
    attachers: dict[str, list[asyncio.Future[r.Outcome]]]
    live: LiveOutput

    async def finish(
        self, runner: RunnerView, output: str | None, failure: str | None, error: BaseException | None = None
    ) -> None:
        """Record the outcome of a handler that returned or failed terminally."""

    async def retry_later(self, runner: RunnerView, error: Exception) -> None:
        """The handler failed with a retryable error: back off, or pause when out of attempts."""

    async def pause(
        self, runner: RunnerView, reason: str, attempts: int | None = None, error: BaseException | None = None
    ) -> None:
        """Pause the invocation for an operator and answer its external callers."""

    def suspend(self, runner: RunnerView) -> None:
        """Release a runner that only waits from memory; a completion resumes it by replay."""

    def store_failed(self, runner: RunnerView, error: BaseException) -> None:
        """A write of the runner's invocation failed: stop it, pause it once the store can write."""

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run background work that the runtime cancels when it closes."""

    def ensure_timer(self, inv_id: str, idx: int, wake_at: float) -> None:
        """Make sure a pending durable sleep fires."""

    def set_timer(self, key: Any, wake_at: float, callback: Any) -> None:
        """Call ``callback`` at ``wake_at`` (one timer per key; the runtime cancels it when it closes)."""

    def notify(self, inv_id: str, idx: int, outcome: r.Outcome) -> None:
        """A completion for an entry was committed: deliver it or wake the invocation."""

    def wake_from_db(self, inv_id: str, idx: int) -> None:
        """Deliver an entry's completion if the file already holds it."""

    def new_invocation(
        self,
        spec: HandlerSpec,
        key: str | None,
        input_text: str,
        idempotency_key: str | None,
        delay: float | None,
    ) -> _ops.NewInvocation:
        """The row of an invocation about to be created."""

    def schedule_new(self, new: _ops.NewInvocation, spec: HandlerSpec) -> None:
        """Run a just-created invocation, queue it behind its key, or wait for its delay."""

    async def after_cancel_request(self, inv_id: str, status: str, children: list[str]) -> None:
        """Act on a committed cancellation request."""
