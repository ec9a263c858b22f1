"""Service and virtual-object definitions, handlers, and the App that groups them."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import TypeAdapter

from ._exceptions import InvalidInputError, NotFoundError, UserError
from ._serde import adapter_for

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
HandlerKind = Literal["exclusive", "shared", "workflow"]

_SPEC_ATTR = "__agentdur_handler__"


@dataclass(frozen=True)
class HandlerSpec:
    """What the engines need to know about one handler.

    Attributes:
        service: name of the service or virtual object.
        name: handler name as used in URLs.
        kind: ``None`` for a plain service, ``"exclusive"`` or ``"shared"`` for a virtual object,
            ``"workflow"`` (the run handler) or ``"shared"`` for a workflow.
        fn: the user's coroutine function.
        takes_input: whether the function declares an input parameter.
        input_type / output_type: the annotated types (``Any`` when not annotated).
    """

    service: str
    name: str
    kind: HandlerKind | None
    fn: Callable[..., Awaitable[Any]]
    takes_input: bool
    input_type: Any
    output_type: Any
    input_adapter: TypeAdapter[Any] = field(repr=False, compare=False)
    output_adapter: TypeAdapter[Any] = field(repr=False, compare=False)
    workflow: bool = False
    """True for the handlers of a :class:`~agentdur.Workflow`."""

    @property
    def writes_state(self) -> bool:
        """True for the handlers that may change state: exclusive object handlers, workflow run handlers."""
        return self.kind in ("exclusive", "workflow")

    @property
    def keyed(self) -> bool:
        """True for handlers of a virtual object (addressed with a key)."""
        return self.kind is not None

    @property
    def exclusive(self) -> bool:
        """True for exclusive object handlers: one at a time per key, in arrival order."""
        return self.kind == "exclusive"

    def check_key(self, key: str | None) -> None:
        """Refuse a route without a key for an object handler, or with one for a service handler.

        Raises:
            InvalidInputError: the route does not fit the handler.
        """
        if self.keyed and key is None:
            what = (
                "workflow handler: it needs a workflow key"
                if self.workflow
                else "virtual object handler: it needs an object key"
            )
            raise InvalidInputError(f"{self.service}/{self.name} is a {what}")
        if not self.keyed and key is not None:
            raise InvalidInputError(
                f"{self.service}/{self.name} is a service handler: it takes no object key"
            )


def handler_spec(fn: Callable[..., Any]) -> HandlerSpec:
    """The spec attached to a decorated handler function, for ``ctx.service_call(fn, ...)``."""
    spec = getattr(fn, _SPEC_ATTR, None)
    if not isinstance(spec, HandlerSpec):
        raise UserError(
            f"{getattr(fn, '__qualname__', fn)!r} is not an agentdur handler; decorate it with @service.handler()"
        )
    return spec


class Definition:
    """Common part of :class:`Service` and :class:`VirtualObject`."""

    _keyed: bool = False
    _workflow: bool = False

    def __init__(self, name: str, *, description: str | None = None) -> None:
        if not name or "/" in name:
            raise UserError(f"invalid service name {name!r}: it must be non-empty and contain no '/'")
        self.name = name
        self.description = description
        self.handlers: dict[str, HandlerSpec] = {}

    def _register(self, fn: Callable[..., Any], name: str | None, kind: HandlerKind | None) -> HandlerSpec:
        if not inspect.iscoroutinefunction(fn):
            raise UserError(f"handler {fn.__qualname__!r} must be an async function")
        handler_name = name or fn.__name__
        if handler_name in self.handlers:
            raise UserError(f"handler {handler_name!r} is defined twice on {self.name!r}")
        params = list(inspect.signature(fn).parameters.values())
        if not 1 <= len(params) <= 2:
            raise UserError(
                f"handler {handler_name!r} must take (ctx) or (ctx, input); it takes {len(params)} parameters"
            )
        try:
            hints = typing.get_type_hints(fn)
        except Exception as error:
            raise UserError(f"cannot resolve the type hints of handler {handler_name!r}: {error}") from error
        takes_input = len(params) == 2
        input_type = hints.get(params[1].name, Any) if takes_input else type(None)
        output_type = hints.get("return", Any)
        spec = HandlerSpec(
            service=self.name,
            name=handler_name,
            kind=kind,
            fn=fn,
            takes_input=takes_input,
            input_type=input_type,
            output_type=output_type,
            input_adapter=adapter_for(input_type),
            output_adapter=adapter_for(output_type),
            workflow=self._workflow,
        )
        self.handlers[handler_name] = spec
        setattr(fn, _SPEC_ATTR, spec)
        return spec


class Service(Definition):
    """A stateless durable service: each invocation runs independently.

    Example::

        pipeline = agentdur.Service("Pipeline")

        @pipeline.handler()
        async def run(ctx: agentdur.Context, req: Claim) -> Result: ...
    """

    def handler(self, name: str | None = None) -> Callable[[F], F]:
        """Register a coroutine function ``(ctx, input) -> output`` as a handler of this service.

        Args:
            name: the handler name in URLs; defaults to the function name.
        """

        def decorate(fn: F) -> F:
            self._register(fn, name, None)
            return fn

        return decorate


class VirtualObject(Definition):
    """A keyed durable object: state per key, exclusive handlers one at a time per key.

    Exclusive handlers (the default) run in arrival order per key and may change state; shared
    handlers run concurrently with everything and only read state.
    """

    _keyed = True

    def handler(self, name: str | None = None, kind: HandlerKind = "exclusive") -> Callable[[F], F]:
        """Register a coroutine function as a handler of this object.

        Args:
            name: the handler name in URLs; defaults to the function name.
            kind: ``"exclusive"`` (an ``ObjectContext``) or ``"shared"`` (an ``ObjectSharedContext``).
        """
        if kind not in ("exclusive", "shared"):
            raise UserError(f"handler kind must be 'exclusive' or 'shared', not {kind!r}")

        def decorate(fn: F) -> F:
            self._register(fn, name, kind)
            return fn

        return decorate


class App:
    """The set of services and objects that one engine (or one Restate deployment) serves.

    An App is also an ASGI application: the Restate deployment of its services (as
    ``restate.app(services=[...])`` is), so ``hypercorn module:app`` serves it to a restate-server.

    Args:
        services: the :class:`Service`, :class:`VirtualObject` and :class:`~agentdur.Workflow` definitions.
    """

    def __init__(self, services: Iterable[Definition] = ()) -> None:
        self.services: dict[str, Definition] = {}
        for service in services:
            self.add(service)

    def add(self, service: Definition) -> None:
        """Add one more service; names must be unique within the app."""
        if service.name in self.services:
            raise UserError(f"service {service.name!r} is defined twice in the app")
        self.services[service.name] = service

    def handler(self, service: str, handler: str) -> HandlerSpec:
        """Look up a handler, raising :class:`NotFoundError` naming what is unknown."""
        definition = self.services.get(service)
        if definition is None:
            raise self.unknown_service(service)
        spec = definition.handlers.get(handler)
        if spec is None:
            raise self.unknown_handler(service, handler)
        return spec

    def is_keyed(self, service: str) -> bool:
        """True when ``service`` is a virtual object."""
        definition = self.services.get(service)
        if definition is None:
            raise self.unknown_service(service)
        return definition._keyed

    def unknown_service(self, service: str) -> NotFoundError:
        """The 404 for ``service``, listing the services that exist."""
        return NotFoundError(f"unknown service {service!r}; this app has {_listing(self.services)}")

    def unknown_handler(self, service: str, handler: str) -> NotFoundError:
        """The 404 for ``handler`` of an existing ``service``, listing its handlers."""
        handlers = self.services[service].handlers
        return NotFoundError(
            f"unknown handler {handler!r} on service {service!r}; it has {_listing(handlers)}"
        )


def _listing(names: Iterable[str]) -> str:
    ordered = sorted(names)
    return ", ".join(repr(name) for name in ordered) if ordered else "none"


def app(services: Iterable[Definition]) -> App:
    """An :class:`App` of ``services``: restate-sdk's ``restate.app(services=[...])`` under agentdur.

    It serves on either engine (``agentdur serve module:app``). For an App that is also the ASGI
    application of a Restate deployment (served by hypercorn as restate-sdk's is), use
    ``agentdur.compat.restate.app`` or :func:`agentdur.restate.restate_app`: the core imports no backend.
    """
    return App(services)
