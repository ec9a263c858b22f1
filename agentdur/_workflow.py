"""Workflows: a run handler that runs once per key, shared handlers beside it, and durable promises.

A workflow is Restate's third service type. ``@wf.main()`` is the run handler: the first submission
for a key starts it, every later one finds the same invocation (``send`` answers
``PreviouslyAccepted``, ``call`` a 409 naming it). Shared handlers (``@wf.handler()``) run alongside
it at any time, read the state the run handler writes, and signal it or wait for its events through
durable promises: named, per workflow key, resolved at most once, kept with the workflow's results
for its retention period (one day by default, as on Restate).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Generator
from datetime import timedelta
from typing import Any, Generic, TypeVar, overload

from ._context import DurableFuture, ObjectContext, ObjectSharedContext
from ._exceptions import UserError
from ._service import Definition, F

T = TypeVar("T")

DEFAULT_WORKFLOW_RETENTION = timedelta(days=1)
PROMISE_ALREADY_COMPLETED = "promise was already completed"
WORKFLOW_ALREADY_INVOKED = "the workflow method was already invoked"
NO_IDEMPOTENCY_KEY = (
    "cannot use the idempotency key with workflow handlers: the workflow key already makes the run idempotent"
)


class DurablePromise(Generic[T], abc.ABC):
    """A named promise of one workflow key: resolved or rejected once, awaited by any of its handlers.

    It may be resolved before anyone waits for it; whoever waits later gets the value at once.
    Every operation is journaled, so a handler that replays sees the same results.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    @abc.abstractmethod
    def value(self) -> DurableFuture[T]:
        """A durable future of the promise's value: waits until it is resolved (survives restarts).

        Awaiting it raises a :class:`~agentdur.TerminalError` when the promise is rejected.
        """

    @abc.abstractmethod
    def resolve(self, value: T) -> DurableFuture[None]:
        """Resolve the promise with ``value``.

        Awaiting the result raises a :class:`~agentdur.TerminalError` with code 409 when the promise
        was already resolved or rejected, and one with code 400 naming the promise when ``value`` is
        not of the promise's type.
        """

    @abc.abstractmethod
    def reject(self, message: str, code: int = 500) -> DurableFuture[None]:
        """Reject the promise: whoever awaits its value gets a TerminalError with ``message``."""

    @abc.abstractmethod
    def peek(self) -> DurableFuture[T | None]:
        """The value if the promise is resolved now, ``None`` if not (raises if it was rejected)."""

    def __await__(self) -> Generator[Any, Any, T]:
        return self.value().__await__()


class WorkflowSharedContext(ObjectSharedContext):
    """The context of a workflow's shared handler: reads its state, uses its promises."""

    @overload
    def promise(self, name: str, type_hint: type[T]) -> DurablePromise[T]: ...

    @overload
    def promise(self, name: str, type_hint: object = Any) -> DurablePromise[Any]: ...

    @abc.abstractmethod
    def promise(self, name: str, type_hint: Any = Any) -> DurablePromise[Any]:
        """The durable promise ``name`` of this workflow key.

        Args:
            name: the promise's name, shared by every handler of the same workflow key.
            type_hint: the type of its value: a resolution that does not validate is refused (400)
                and the value is validated again when it is read.
        """


class WorkflowContext(ObjectContext, WorkflowSharedContext):
    """The context of a workflow's run handler: writes its state, uses its promises."""


class Workflow(Definition):
    """A workflow: a run handler executed once per key, and shared handlers to query and signal it.

    Example::

        signup = agentdur.Workflow("SignupWorkflow")

        @signup.main()
        async def run(ctx: agentdur.WorkflowContext, user: User) -> bool:
            secret = str(ctx.uuid())
            await ctx.run_typed("verify", send_email, user=user, secret=secret)
            return await ctx.promise("email-verified", type_hint=str).value() == secret

        @signup.handler("verifyEmail")
        async def verify_email(ctx: agentdur.WorkflowSharedContext, req: Verify) -> None:
            await ctx.promise("email-verified", type_hint=str).resolve(req.secret)

    Args:
        name: the workflow's name in URLs.
        description: shown in the OpenAPI document.
    """

    _keyed = True
    _workflow = True

    def __init__(self, name: str, *, description: str | None = None) -> None:
        super().__init__(name, description=description)
        self.main_handler: str | None = None
        self.retention = DEFAULT_WORKFLOW_RETENTION

    def main(
        self, name: str | None = None, *, workflow_retention: timedelta | None = None
    ) -> Callable[[F], F]:
        """Register the run handler ``(ctx: WorkflowContext, input) -> output``: once per key.

        Args:
            name: the handler name in URLs; defaults to the function name (``run`` in the tour).
            workflow_retention: how long the result, state and promises of a finished run are kept
                (and a new submission with its key refused); one day by default, as on Restate.
        """
        if workflow_retention is not None and workflow_retention.total_seconds() <= 0:
            raise UserError(f"workflow_retention must be positive, not {workflow_retention}")

        def decorate(fn: F) -> F:
            if self.main_handler is not None:
                raise UserError(f"workflow {self.name!r} already has a main handler ({self.main_handler!r})")
            spec = self._register(fn, name, "workflow")
            self.main_handler = spec.name
            if workflow_retention is not None:
                self.retention = workflow_retention
            return fn

        return decorate

    def handler(self, name: str | None = None) -> Callable[[F], F]:
        """Register a shared handler ``(ctx: WorkflowSharedContext[, input]) -> output``.

        Shared handlers run at any time, alongside the run handler, for any key (also before or
        after the run): they read state and resolve or await promises.
        """

        def decorate(fn: F) -> F:
            self._register(fn, name, "shared")
            return fn

        return decorate
