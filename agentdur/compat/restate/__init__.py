"""restate-sdk's names on agentdur: ``import agentdur.compat.restate as restate`` runs code written
for restate-sdk unchanged, on the embedded engine or on Restate.

What it offers is agentdur's API under restate-sdk's names (the same objects as in ``agentdur``);
what restate-sdk has and agentdur does not (its client and test harness, custom serdes) is not here, so using it fails at import with an ``AttributeError`` naming
it. docs/engines.md lists both. ``restate.ext.openai`` is the OpenAI Agents integration.
"""

from __future__ import annotations

from collections.abc import Iterable

from agentdur import (
    App,
    Context,
    DurableCallFuture,
    DurableFuture,
    DurablePromise,
    InvocationRetryPolicy,
    ObjectContext,
    ObjectSharedContext,
    RestateDurableCallFuture,
    RestateDurableFuture,
    RestateDurableSleepFuture,
    RunOptions,
    SendHandle,
    Service,
    TerminalError,
    VirtualObject,
    Workflow,
    WorkflowContext,
    WorkflowSharedContext,
    as_completed,
    gather,
    select,
    wait_completed,
)
from agentdur.restate import DeploymentApp


def app(services: Iterable[Service | VirtualObject | Workflow]) -> DeploymentApp:
    """restate-sdk's ``restate.app(services=[...])``: an :class:`~agentdur.App` that is also the ASGI
    app of its Restate deployment (``hypercorn module:app``), and that ``agentdur serve module:app``
    serves on the embedded engine."""
    return DeploymentApp(services)


__all__ = [
    "App",
    "Context",
    "DurableCallFuture",
    "DurableFuture",
    "DurablePromise",
    "InvocationRetryPolicy",
    "ObjectContext",
    "ObjectSharedContext",
    "RestateDurableCallFuture",
    "RestateDurableFuture",
    "RestateDurableSleepFuture",
    "RunOptions",
    "SendHandle",
    "Service",
    "TerminalError",
    "VirtualObject",
    "Workflow",
    "WorkflowContext",
    "WorkflowSharedContext",
    "app",
    "as_completed",
    "gather",
    "select",
    "wait_completed",
]
