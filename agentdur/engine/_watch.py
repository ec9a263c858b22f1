"""What the embedded engine watches while it runs: its database file, and who blocks its event loop.

**The file.** An engine keeps writing to the file it opened. If that file is deleted, or replaced by
another one (a restore, a ``mv``), the writes go on succeeding into a file nobody will open again, and
everything is gone at the next start. So the engine remembers the file's identity (device and inode)
and checks it every second and at every health check: once it differs, the engine is unhealthy
(``/health`` answers 503 naming the cause), refuses new writes, and logs an ERROR once. Only a restart
on the right file cures it.

**The loop.** See :mod:`agentdur._loop_watch`; here is how a task holding the loop is named after
the handler (and step) it runs.
"""

from __future__ import annotations

import asyncio
import logging
import os
from types import FrameType

from .._exceptions import StoreWriteError
from .._loop_watch import coroutine_name, handler_on_stack
from ._host import RuntimeHost

log = logging.getLogger("agentdur.engine")

FILE_CHECK_INTERVAL = 1.0


class FileIdentity:
    """The device and inode of the database file when the engine opened it, checked against the
    path's current ones."""

    def __init__(self, path: str) -> None:
        self.path = path
        stat = os.stat(path)
        self.identity = (stat.st_dev, stat.st_ino)
        self.lost: str | None = None

    def check(self) -> str | None:
        """Why the file at the path is no longer the engine's file, or ``None`` while it is."""
        if self.lost is not None:
            return self.lost
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            problem = "was removed"
        except OSError as error:
            problem = f"cannot be checked ({error})"
        else:
            if (stat.st_dev, stat.st_ino) == self.identity:
                return None
            problem = "was replaced by another file"
        self.lost = (
            f"the journal {self.path!r} {problem} while the engine runs: what it writes now would be "
            "lost at the next start, so new writes are refused; restore the file and restart the server"
        )
        log.error("%s", self.lost)
        return self.lost


class FileWatch:
    """Checks :class:`FileIdentity` every :data:`FILE_CHECK_INTERVAL` seconds on the engine's loop and
    declares the store lost when it fails."""

    def __init__(self, runtime: RuntimeHost, identity: FileIdentity) -> None:
        self.runtime = runtime
        self.identity = identity
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self._handle = self.runtime.loop.call_later(FILE_CHECK_INTERVAL, self._tick)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def check(self) -> str | None:
        """Check now; on the first failure, refuse the store's writes from here on."""
        was_lost = self.identity.lost is not None
        problem = self.identity.check()
        if problem is not None and not was_lost:
            self.runtime.store.declare_lost(StoreWriteError(problem))
        return problem

    def _tick(self) -> None:
        if self.check() is None:
            self._handle = self.runtime.loop.call_later(FILE_CHECK_INTERVAL, self._tick)


def describe_blocker(runtime: RuntimeHost, task: asyncio.Task[object] | None, frame: FrameType | None) -> str:
    """Name what holds the loop: a handler, a step of a handler, or (for a task it started) the
    handler whose code is on the stack, else the task's coroutine."""
    for runner in list(runtime.runners.values()):
        spec = runner.inv.spec
        handler = f"handler {spec.service}/{spec.name}"
        if task is not None and runner.task is task:
            return handler
        for idx, step_task in list(runner.step_tasks.items()):
            if step_task is task:
                name = runner.running_steps.get(idx, ("?", 0.0))[0]
                return f"step {name!r} of {handler}"
    return handler_on_stack(runtime.app, frame) or coroutine_name(task)
