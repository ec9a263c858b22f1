"""Resolving ingress paths (Restate's URL scheme) to the handler they address.

``/{Service}/{handler}`` and ``/{Object}/{key}/{handler}`` call a handler, ``.../send`` sends to it,
and ``/restate/invocation/.../{idempotencyKey}/attach|output`` address an invocation through the
idempotency key it was started with. Whether a path segment is an object key or a handler depends on
whether the service is a virtual object, so the path is resolved against the app, not a route table.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from starlette.requests import Request

from .._exceptions import InvalidInputError, NotFoundError
from .._service import App, HandlerSpec

SEND = "send"


@dataclass(frozen=True)
class Target:
    """A handler addressed by an ingress path, with its object key and whether it is a send."""

    spec: HandlerSpec
    key: str | None
    send: bool = False


def path_segments(request: Request) -> list[str]:
    """The percent-decoded segments of the request path, so an object key may contain ``/`` as ``%2F``."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else request.url.path
    path = path.split("?", 1)[0]
    return [unquote(part) for part in path.strip("/").split("/")] if path.strip("/") else []


def no_route(segments: list[str], hint: str = "") -> NotFoundError:
    """A 404 for a path that names no handler."""
    message = f"no handler at /{'/'.join(segments)}"
    return NotFoundError(f"{message}: {hint}" if hint else message)


def _needs_key(spec: HandlerSpec) -> InvalidInputError:
    return InvalidInputError(
        f"{spec.service}/{spec.name} is a virtual object handler: it needs an object key, "
        f"as in /{spec.service}/{{key}}/{spec.name}"
    )


def _takes_no_key(spec: HandlerSpec) -> InvalidInputError:
    return InvalidInputError(
        f"{spec.service}/{spec.name} is a service handler: it takes no object key, call /{spec.service}/{spec.name}"
    )


def resolve_invocation_path(app: App, segments: list[str]) -> Target:
    """The handler that ``/{Service}/{handler}[/send]`` or ``/{Object}/{key}/{handler}[/send]`` names.

    Raises:
        NotFoundError: unknown service or handler, or a path of no such shape.
        InvalidInputError: an object handler without a key, or a service handler with one.
    """
    if not segments or len(segments) > 4 or "" in segments:
        raise no_route(segments, "call /{Service}/{handler} or /{Object}/{key}/{handler}")
    service, rest = segments[0], segments[1:]
    keyed = app.is_keyed(service)  # NotFoundError for an unknown service
    if not rest:
        raise no_route(segments, f"name a handler of {service!r}")
    if keyed:
        return _resolve_object(app, service, rest, segments)
    return _resolve_service(app, service, rest, segments)


def _resolve_service(app: App, service: str, rest: list[str], segments: list[str]) -> Target:
    handlers = app.services[service].handlers
    if len(rest) == 1:
        return Target(app.handler(service, rest[0]), None)
    if len(rest) == 2 and rest[1] == SEND and rest[0] in handlers:
        return Target(handlers[rest[0]], None, send=True)
    if rest[-1] in handlers or (rest[-1] == SEND and rest[-2] in handlers):
        raise _takes_no_key(handlers[rest[-1] if rest[-1] in handlers else rest[-2]])
    raise no_route(segments, f"{service!r} is a service: call /{service}/{{handler}}")


def _resolve_object(app: App, service: str, rest: list[str], segments: list[str]) -> Target:
    handlers = app.services[service].handlers
    if len(rest) == 1:
        if rest[0] in handlers:
            raise _needs_key(handlers[rest[0]])
        raise app.unknown_handler(service, rest[0])
    if len(rest) == 2:
        if rest[1] in handlers:
            return Target(handlers[rest[1]], rest[0])
        if rest[1] == SEND and rest[0] in handlers:
            raise _needs_key(handlers[rest[0]])
        raise app.unknown_handler(service, rest[1])
    if len(rest) == 3 and rest[2] == SEND:
        return Target(app.handler(service, rest[1]), rest[0], send=True)
    raise no_route(segments, f"{service!r} is a virtual object: call /{service}/{{key}}/{{handler}}")


def resolve_idempotent_path(app: App, segments: list[str]) -> tuple[HandlerSpec, str | None, str]:
    """The handler, object key and idempotency key of ``{Service}/{handler}/{idempotencyKey}``
    or ``{Object}/{key}/{handler}/{idempotencyKey}`` (the part of the path between
    ``/restate/invocation/`` and ``/attach``).

    Raises:
        NotFoundError: unknown service or handler.
        InvalidInputError: the path has a key for a service, or none for a virtual object.
    """
    service = segments[0]
    keyed = app.is_keyed(service)
    if len(segments) == 3:
        spec = app.handler(service, segments[1])
        if keyed:
            raise _needs_key(spec)
        return spec, None, segments[2]
    spec = app.handler(service, segments[2])
    if not keyed:
        raise _takes_no_key(spec)
    return spec, segments[1], segments[3]
