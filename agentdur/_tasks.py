"""Deterministic identities for the asyncio tasks a handler runs.

A handler may fan out with ``asyncio.gather``, ``TaskGroup``, ``create_task`` or ``asyncio.wait``; the
tasks then make durable calls in whatever order they happen to complete. Replay must not depend on
that order, so every task a handler creates (directly or through its children) gets an identity that
depends only on the program: its *path*. The handler's own task is ``""``; a task it creates running
coroutine function ``branch`` for the n-th time is ``"branch:n"`` below it (``"branch:0"``,
``"branch:1"``, ``"branch:0/step:0"``, ...). Creation order within one task is program order, so the
path is the same on every replay, whatever the loop did meanwhile. Counting per coroutine function
keeps paths stable when a library creates helper tasks only on some runs (say, one per streamed
event on the first run and none on a replay): those never shift the numbers of other tasks.

How: an event-loop task factory (chained in front of any factory already installed) looks at the
creating task's identity, carried in a context variable, and gives the new task the next child path in a
copy of the context it runs in. A task started outside the factory on the handler's behalf (by a
loop callback, or ``asyncio.run_coroutine_threadsafe`` from sync agent code in a worker thread) acts
as a *delegate* of the task whose context it carries and gets a path below it at its first durable
operation; two such delegates running at once for the same task and function would race, so that is
refused on the first run. Durable operations from a thread, or from a step's body, are refused.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine
from dataclasses import dataclass, field
from random import Random
from typing import Any

from ._exceptions import UserError

__all__ = [
    "TaskTrack",
    "adopt_current_task",
    "current_track",
    "has_pending_callbacks",
    "install_task_factory",
    "path_order",
    "reset_current_task",
    "start_handler_task",
    "untracked",
]


@dataclass(slots=True, eq=False)
class TaskTrack:
    """What a handler's task carries: its path and its own counters.

    Attributes:
        owner: the engine-side object of the invocation (a runner or a Restate context).
        path: ``""`` for the handler's task, ``"branch:0"``, ``"branch:0/step:1"``, ... below it.
        task: the asyncio task this identity belongs to.
        children: how many tracked tasks this task created so far, per coroutine function.
        seq: how many durable operations this task made so far (the embedded engine's replay key).
        awaits: how many durable awaits this task made so far (where a cancellation is delivered).
        random: this task's deterministic random generator, created on first use.
    """

    owner: object
    path: str
    task: asyncio.Task[Any] | None = None
    children: dict[str, int] = field(default_factory=dict)
    seq: int = 0
    awaits: int = 0
    random: Random | None = field(default=None)
    delegates: dict[str, asyncio.Task[Any]] = field(default_factory=dict)

    def child_path(self, function: str) -> str:
        number = self.children.get(function, 0)
        self.children[function] = number + 1
        part = f"{function}:{number}"
        return f"{self.path}/{part}" if self.path else part


_TRACK: contextvars.ContextVar[TaskTrack | None] = contextvars.ContextVar("agentdur_task", default=None)


def path_order(path: str) -> tuple[tuple[str, int], ...]:
    """A sort key for paths: a parent before its children, siblings of one function in creation order."""
    if not path:
        return ()
    parts = (part.rpartition(":") for part in path.split("/"))
    return tuple((function, int(number)) for function, _, number in parts)


def _function_of(coro: Any) -> str:
    """The name of the coroutine function a new task runs (its class name for other awaitables)."""
    code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
    if code is not None:
        return str(getattr(code, "co_qualname", code.co_name)).replace("/", "_").replace(":", "_")
    return type(coro).__qualname__.replace("/", "_").replace(":", "_")


def start_handler_task(
    loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], owner: object, name: str
) -> asyncio.Task[Any]:
    """Start a handler's coroutine as the root task (path ``""``) of ``owner``."""
    install_task_factory(loop)
    track = TaskTrack(owner, "")
    context = contextvars.copy_context()
    context.run(_TRACK.set, track)
    task: asyncio.Task[Any] = asyncio.Task(coro, loop=loop, name=name, context=context)
    track.task = task
    return task


def adopt_current_task(owner: object) -> contextvars.Token[TaskTrack | None]:
    """Make the running task the root (path ``""``) of ``owner``, for an engine that runs the handler
    in a task it did not create (restate-sdk). Reset the returned token when the handler ends."""
    task = asyncio.current_task()
    if task is None:
        raise RuntimeError("adopt_current_task needs a running task")
    install_task_factory(task.get_loop())
    return _TRACK.set(TaskTrack(owner, "", task))


def reset_current_task(token: contextvars.Token[TaskTrack | None]) -> None:
    """Undo :func:`adopt_current_task`."""
    _TRACK.reset(token)


def has_pending_callbacks(loop: asyncio.AbstractEventLoop, owner: object) -> bool:
    """Whether ``loop`` holds a ready callback scheduled from a task of ``owner`` (a task's wake-up,
    or a future's done-callback such as the one completing a ``gather``).

    Between a task finishing and a task awaiting it (or a gather of it) waking, the loop runs such a
    callback: no task of the handler is runnable meanwhile, yet the handler is not blocked. A loop
    without an inspectable ready queue (not asyncio's own) reports False.
    """
    for handle in getattr(loop, "_ready", ()):
        if handle.cancelled():
            continue
        context = getattr(handle, "_context", None)
        track = context.get(_TRACK) if isinstance(context, contextvars.Context) else None
        if track is not None and track.owner is owner:
            return True
    return False


def untracked(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    """Start an engine-internal task (a step's body): it takes no path and makes no durable calls."""
    context = contextvars.copy_context()
    context.run(_TRACK.set, None)
    return asyncio.Task(coro, loop=loop, context=context)


def current_track(owner: object, operation: str) -> TaskTrack:
    """The identity of the task making durable operation ``operation`` for ``owner``.

    Raises:
        UserError: the operation comes from a task the engine did not see a handler task create
            (a thread, a loop callback, a task started while another task factory was installed):
            its place in the journal could not be found again on replay.
    """
    track = _TRACK.get()
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no running loop in this thread
        task = None
    if track is not None and track.owner is owner and task is not None:
        if track.task is task:
            return track
        if track.task is None:  # an eager task runs before its factory returns
            track.task = task
            return track
        return _delegate(track, task, operation)
    raise UserError(
        f"{operation} was called from an asyncio task (or thread) that the handler did not create: "
        "durable operations must come from the handler's own task or from tasks it created with "
        "asyncio.create_task / gather / TaskGroup / asyncio.wait on the handler's event loop, so that "
        "replay can find their place in the journal again"
    )


def _delegate(parent: TaskTrack, task: asyncio.Task[Any], operation: str) -> TaskTrack:
    """Give a task started outside the factory, carrying ``parent``'s context, a path below it."""
    function = "~" + _function_of(task.get_coro())
    running = parent.delegates.get(function)
    if running is not None and not running.done():
        raise UserError(
            f"{operation}: two tasks started outside the handler's tasks (by a loop callback or "
            "asyncio.run_coroutine_threadsafe) make durable calls at once on behalf of the same task; "
            "their order could differ on replay. Start them with asyncio.create_task / gather from the "
            "handler, or one after the other"
        )
    parent.delegates[function] = task
    track = TaskTrack(parent.owner, parent.child_path(function), task)
    _TRACK.set(track)  # this task's own context: its next operations find the new identity
    _announce(track.owner, task)
    return track


def _announce(owner: object, task: asyncio.Task[Any]) -> None:
    """Tell an engine that must know every task of a handler (Restate's single waiter) about one more."""
    created = getattr(owner, "task_created", None)
    if created is not None:
        created(task)


class _Factory:
    """The loop's task factory: tracked tasks create tracked children, everything else passes through."""

    def __init__(self, previous: Any) -> None:
        self.previous = previous

    def __call__(self, loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        parent = _TRACK.get()
        if parent is not None and (parent.task is None or parent.task is asyncio.current_task(loop)):
            child = TaskTrack(parent.owner, parent.child_path(_function_of(coro)))
            context: contextvars.Context = kwargs.pop("context", None) or contextvars.copy_context()
            context.run(_TRACK.set, child)
            task = self._make(loop, coro, context=context, **kwargs)
            if isinstance(task, asyncio.Task) and child.task is None:
                child.task = task
            if isinstance(task, asyncio.Task):
                _announce(child.owner, task)
            return task
        return self._make(loop, coro, **kwargs)

    def _make(self, loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        if self.previous is not None:
            return self.previous(loop, coro, **kwargs)
        return asyncio.Task(coro, loop=loop, **kwargs)


def install_task_factory(loop: asyncio.AbstractEventLoop) -> None:
    """Install the tracking task factory on ``loop`` (once; any earlier factory keeps working)."""
    current = loop.get_task_factory()
    if not isinstance(current, _Factory):
        loop.set_task_factory(_Factory(current))
