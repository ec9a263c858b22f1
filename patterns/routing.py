"""Routing: send a request to one of several routes, chosen by a model or by a rule.

A route is a local tool (:func:`tool`: one journaled step), a local handler (:func:`local`: a
coroutine that makes its own durable calls, an agent of this app) or a remote service
(:func:`remote`: a durable call, so the caller can suspend while the remote agent works).

The choice is made once and journaled (the ``Choose route`` step): by the model, answering JSON
whose ``route`` is one of the route names (structured output, retried while it does not parse), or
by a rule, a function of the request. A replay after a crash takes the choice from the journal and
never asks the model again. A choice that names no route raises :class:`UnknownRouteError` (400).

Example::

    router = Router(
        tool("billing", "invoices, refunds and payments", look_up_invoice),
        remote("technical", "bugs, errors and outages", support_agent.handle),
        choose_by_model=call_model,
    )

    @service.handler()
    async def handle(ctx: agentdur.Context, question: str) -> str:
        routed = await router.route(ctx, question)
        return f"{routed.route}: {routed.value}"
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from agentdur import Context, RunOptions, UserError
from agentdur._context import HandlerFn

from ._exceptions import UnknownRouteError
from ._model import StructuredModelCall, ask_structured

__all__ = ["Route", "RouteChoice", "Routed", "Router", "UnknownRouteError", "local", "remote", "tool"]

DECISION_STEP = "Choose route"
DEFAULT_INSTRUCTIONS = (
    "Choose the route that should handle the user's request. Answer in JSON with the route's name "
    'in "route" and a short "reason".\nRoutes:\n{routes}'
)


@dataclass(frozen=True)
class Route:
    """One destination of a router (build it with :func:`tool`, :func:`local` or :func:`remote`)."""

    name: str
    description: str
    kind: Literal["tool", "local", "remote"]
    fn: Callable[..., Any]
    key: str | None = None
    options: RunOptions[Any] = field(default_factory=RunOptions)


def tool(
    name: str, description: str, fn: Callable[[Any], Any], options: RunOptions[Any] | None = None
) -> Route:
    """A local tool: ``fn(request)`` (sync or async), run as one journaled step named ``name``."""
    return Route(name, description, "tool", fn, options=options or RunOptions())


def local(name: str, description: str, fn: Callable[[Context, Any], Awaitable[Any]]) -> Route:
    """A local handler: ``fn(ctx, request)``, which makes its own durable calls (steps, calls, ...)."""
    return Route(name, description, "local", fn)


def remote(name: str, description: str, handler: HandlerFn[Any, Any], *, key: str | None = None) -> Route:
    """A remote service: a durable call of ``handler`` (of a virtual object when ``key`` is set)."""
    return Route(name, description, "remote", handler, key=key)


class RouteChoice(BaseModel):
    """What the decision step journals: the route's name and why."""

    route: str
    reason: str = ""


@dataclass(frozen=True)
class Routed:
    """Where the request went and what the route returned."""

    route: str
    value: Any
    reason: str = ""


class Router:
    """Routes requests to one of ``routes`` (see the module docstring).

    Args:
        routes: the destinations; names must be unique.
        choose_by_model: asks a model to choose (prompted with the routes' names and descriptions).
        rule: chooses with code instead: ``rule(request)`` returns a route name.
        instructions: the model's instructions, with ``{routes}``; the request is the prompt.
        describe: turns the request into the text the model reads (default ``str``).
        journal_model_call: False when ``choose_by_model`` journals itself.
    """

    def __init__(
        self,
        *routes: Route,
        choose_by_model: StructuredModelCall | None = None,
        rule: Callable[[Any], str] | None = None,
        instructions: str = DEFAULT_INSTRUCTIONS,
        describe: Callable[[Any], str] = str,
        journal_model_call: bool = True,
    ) -> None:
        if not routes:
            raise UserError("a router needs at least one route")
        names = [r.name for r in routes]
        if len(set(names)) != len(names):
            raise UserError(f"route names must be unique, got {names}")
        if (choose_by_model is None) == (rule is None):
            raise UserError("a router chooses either by model or by rule: pass exactly one")
        self.routes = {r.name: r for r in routes}
        self.choose_by_model = choose_by_model
        self.rule = rule
        self.instructions = instructions
        self.describe = describe
        self.journal_model_call = journal_model_call

    def schema(self) -> dict[str, Any]:
        """The JSON schema the model answers: ``route`` is one of the route names."""
        return {
            "type": "object",
            "properties": {
                "route": {"type": "string", "enum": list(self.routes)},
                "reason": {"type": "string"},
            },
            "required": ["route", "reason"],
            "additionalProperties": False,
        }

    async def decide(self, ctx: Context, request: Any) -> RouteChoice:
        """Choose a route for ``request``, journaled once as the ``Choose route`` step.

        Raises:
            UnknownRouteError: the choice names no route of this router.
        """
        if self.rule is not None:
            choice = RouteChoice(route=await ctx.run_typed(DECISION_STEP, self.rule, RunOptions(), request))
        else:
            assert self.choose_by_model is not None
            routes = "\n".join(f"- {r.name}: {r.description}" for r in self.routes.values())
            choice = await ask_structured(
                ctx,
                DECISION_STEP,
                self.choose_by_model,
                self.describe(request),
                RouteChoice,
                schema=self.schema(),
                instructions=self.instructions.format(routes=routes),
                journal_model_call=self.journal_model_call,
            )
        if choice.route not in self.routes:
            raise UnknownRouteError(
                f"unknown route {choice.route!r}: the routes are {', '.join(map(repr, self.routes))}"
            )
        return choice

    async def route(self, ctx: Context, request: Any) -> Routed:
        """Choose a route and run it with ``request``; returns the route's name and its value."""
        choice = await self.decide(ctx, request)
        return Routed(choice.route, await self.run_route(ctx, choice.route, request), choice.reason)

    async def run_route(self, ctx: Context, name: str, request: Any) -> Any:
        """Run route ``name`` with ``request`` (no decision: for callers that chose themselves)."""
        route = self.routes.get(name)
        if route is None:
            raise UnknownRouteError(f"unknown route {name!r}: the routes are {', '.join(self.routes)}")
        if route.kind == "tool":
            return await ctx.run_typed(route.name, route.fn, route.options, request)
        if route.kind == "local":
            return await route.fn(ctx, request)
        if route.key is not None:
            return await ctx.object_call(route.fn, route.key, request)
        return await ctx.service_call(route.fn, request)
