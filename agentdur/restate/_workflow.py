"""agentdur workflows on Restate: restate-sdk's Workflow, its promises seen through agentdur's API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import restate
from pydantic import TypeAdapter, ValidationError

from .._context import DurableFuture
from .._exceptions import InvalidInputError
from .._serde import adapter_for, describe_validation_error
from .._service import HandlerSpec
from .._workflow import DurablePromise, Workflow, WorkflowContext
from ._context import RestateContext, RestateFuture
from ._serde import AdapterSerde


def context_for(inner: restate.ObjectContext, spec: HandlerSpec) -> RestateContext:
    """The agentdur context of an invocation: a workflow context for the handlers of workflows."""
    if spec.workflow:
        return RestateWorkflowContext(inner, spec)
    return RestateContext(inner, spec)


def register_workflow_handler(
    target: restate.Workflow, definition: Workflow, spec: HandlerSpec, options: dict[str, Any]
) -> Callable[[Any], Any]:
    """restate-sdk's decorator for one handler of a workflow: ``main`` (with the workflow's
    retention) for the run handler, ``handler`` (shared) for the others."""
    if spec.kind == "workflow":
        return target.main(**options, workflow_retention=definition.retention)
    return target.handler(**options)


class PromiseSerde(AdapterSerde):
    """A promise's value as its reader's type: one that does not validate is a terminal error naming
    the promise at the await (restate-server stores whatever it was resolved with)."""

    def __init__(self, adapter: TypeAdapter[Any], name: str) -> None:
        super().__init__(adapter)
        self.name = name

    def deserialize(self, buf: bytes) -> Any:
        try:
            return super().deserialize(buf)
        except ValidationError as error:
            raise InvalidInputError(
                f"the value of promise {self.name!r} does not match its type: {describe_validation_error(error)}"
            ) from None


class RestateWorkflowContext(RestateContext, WorkflowContext):
    """The context of a workflow's handlers on Restate (run handler and shared ones)."""

    def promise(self, name: str, type_hint: Any = Any) -> DurablePromise[Any]:
        self._command(f"ctx promise {name!r}")
        self.key()
        adapter = adapter_for(type_hint)
        # restate-sdk's WorkflowContext; the SDK passes one context class to every handler kind
        inner = self.inner.promise(name, serde=PromiseSerde(adapter, name))  # type: ignore[attr-defined]
        return RestatePromise(self, name, adapter, inner)


class RestatePromise(DurablePromise[Any]):
    """A durable promise of restate-sdk behind agentdur's API (validation and errors as embedded)."""

    def __init__(
        self, host: RestateWorkflowContext, name: str, adapter: TypeAdapter[Any], inner: Any
    ) -> None:
        super().__init__(name)
        self._host = host
        self._adapter = adapter
        self.inner = inner

    def value(self) -> DurableFuture[Any]:
        self._host._command(f"ctx promise {self.name!r} value")
        return RestateFuture(self._host, self.inner.value())

    def resolve(self, value: Any) -> DurableFuture[None]:
        self._host._command(f"ctx promise {self.name!r} resolve")
        try:
            checked = self._adapter.validate_python(value)
        except ValidationError as error:
            raise InvalidInputError(
                f"cannot resolve promise {self.name!r} with this value: {describe_validation_error(error)}"
            ) from None
        return RestateFuture(self._host, self.inner.resolve(checked))

    def reject(self, message: str, code: int = 500) -> DurableFuture[None]:
        self._host._command(f"ctx promise {self.name!r} reject")
        return RestateFuture(self._host, self.inner.reject(message, code))

    def peek(self) -> DurableFuture[Any]:
        self._host._command(f"ctx promise {self.name!r} peek")
        return RestateFuture(self._host, self.inner.peek())
