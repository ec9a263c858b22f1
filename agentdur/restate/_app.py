"""Turn agentdur services and objects into restate-sdk services and objects."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import restate
from restate.handler import TypeHint
from restate.serde import BytesSerde
from starlette.types import ASGIApp

from .._context import set_current_context
from .._exceptions import TerminalError
from .._options import InvocationRetryPolicy
from .._serde import validate_input
from .._service import App, Definition, HandlerSpec, VirtualObject
from .._tasks import adopt_current_task, reset_current_task
from .._workflow import Workflow
from ._errors import to_restate
from ._serde import AdapterSerde
from ._workflow import context_for, register_workflow_handler


def restate_app(app: App, retry_policy: InvocationRetryPolicy | None = None) -> ASGIApp:
    """The ASGI app of a Restate deployment serving every service of ``app``.

    Args:
        app: the agentdur services and objects.
        retry_policy: how Restate retries failed handler attempts before pausing the invocation;
            the embedded engine's default when omitted, so both engines behave the same.
    """
    asgi: ASGIApp = restate.app(restate_services(app, retry_policy))  # restate-sdk leaves it untyped
    return asgi


def restate_services(
    app: App, retry_policy: InvocationRetryPolicy | None = None
) -> list[restate.Service | restate.VirtualObject | restate.Workflow]:
    """The restate-sdk definitions of every service and object of ``app``."""
    policy = _retry_policy(retry_policy or InvocationRetryPolicy())
    return [_definition(d, policy) for d in app.services.values()]


def _retry_policy(policy: InvocationRetryPolicy) -> restate.InvocationRetryPolicy:
    return restate.InvocationRetryPolicy(
        initial_interval=policy.initial_interval,
        exponentiation_factor=policy.factor,
        max_interval=policy.max_interval,
        max_attempts=policy.max_attempts,
        on_max_attempts="pause",
    )


def _definition(
    definition: Definition, policy: restate.InvocationRetryPolicy
) -> restate.Service | restate.VirtualObject | restate.Workflow:
    target: restate.Service | restate.VirtualObject | restate.Workflow
    if isinstance(definition, Workflow):
        target = restate.Workflow(definition.name, description=definition.description)
    elif isinstance(definition, VirtualObject):
        target = restate.VirtualObject(definition.name, description=definition.description)
    else:
        target = restate.Service(definition.name, description=definition.description)
    for spec in definition.handlers.values():
        options: dict[str, Any] = {
            "name": spec.name,
            "input_serde": BytesSerde(),
            "output_serde": AdapterSerde(spec.output_adapter),
            "invocation_retry_policy": policy,
        }
        if isinstance(target, restate.VirtualObject):
            options["kind"] = spec.kind
        if isinstance(target, restate.Workflow) and isinstance(definition, Workflow):
            register_workflow_handler(target, definition, spec, options)(_entry_point(spec))
        else:
            target.handler(**options)(_entry_point(spec))
        handler = target.handlers[spec.name]
        handler.handler_io.input_type = TypeHint(
            annotation=spec.input_type,
            is_void=False,
            generate_json_schema=spec.input_adapter.json_schema,
        )
        handler.handler_io.output_type = TypeHint(
            annotation=spec.output_type,
            is_void=spec.output_type is type(None),
            generate_json_schema=spec.output_adapter.json_schema,
        )
    return target


def _entry_point(spec: HandlerSpec) -> Callable[..., Any]:
    """The function restate-sdk calls: validates input like the embedded engine, converts errors."""

    async def run(ctx: restate.ObjectContext, raw: bytes | None = None) -> Any:
        context = context_for(ctx, spec)
        token = set_current_context(context)
        # restate-sdk runs the handler in its request's task: that task is the handler's root task.
        root = adopt_current_task(context)
        context.task_created(asyncio.current_task())  # type: ignore[arg-type]
        outcome = "attempt_ended"
        seen: BaseException | None = None
        try:
            arg = validate_input(spec.input_adapter, raw)
            result = await (spec.fn(context, arg) if spec.takes_input else spec.fn(context))
            await context.settle_lists()
            outcome = "succeeded"
        except TerminalError as error:
            outcome, seen = "failed", error
            await context.settle_lists()  # what the handler changed before failing stays, as with set
            context.pump.raise_fatal()
            raise to_restate(error) from error
        except BaseExceptionGroup as group:  # a TaskGroup's failure: terminal when all its errors are
            seen = group
            context.pump.raise_fatal()
            terminal = _only_terminal(group)
            if terminal is None:
                raise
            outcome = "failed"
            raise to_restate(terminal) from group
        except BaseException as error:
            # a suspension or a lost connection ends the attempt whatever the handler made of it
            # (a TaskGroup wraps it in an exception group that restate-sdk would not recognize)
            if isinstance(error, Exception):
                seen = error
            context.pump.raise_fatal()
            raise
        finally:
            context.trace.end(outcome, seen)
            await context.pump.close()
            reset_current_task(root)
            _reset(token)
        context.pump.raise_fatal()
        return result

    # Always a (ctx, raw) entry point with an optional body: a handler without input accepts an empty
    # body or JSON null on both engines, and anything else is a 400 from our validation.
    async def entry(ctx: restate.ObjectContext, raw: bytes) -> Any:
        return await run(ctx, raw)

    entry.__annotations__ = {"ctx": Any, "raw": bytes, "return": Any}
    entry.__name__ = spec.name
    return entry


def _only_terminal(group: BaseExceptionGroup[BaseException]) -> TerminalError | None:
    """The first error of a (nested) exception group when every one of them is terminal."""
    leaves: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        error = pending.pop(0)
        if isinstance(error, BaseExceptionGroup):
            pending[:0] = list(error.exceptions)
        else:
            leaves.append(error)
    if leaves and all(isinstance(leaf, TerminalError) for leaf in leaves):
        first = leaves[0]
        return first if isinstance(first, TerminalError) else None
    return None


def _reset(token: Any) -> None:
    from .._context import _CURRENT

    _CURRENT.reset(token)
