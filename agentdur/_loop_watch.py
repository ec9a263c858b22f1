"""A watchdog for the event loop: warn once per handler that blocks it longer than a threshold.

Every invocation of a process shares one event loop, so a handler that calls ``time.sleep(2)`` (or
any slow sync code) outside a step stalls all of them. The loop beats a heartbeat; a daemon thread
notices when the beat is late by more than the threshold, finds which task holds the loop (and the
line it is blocked at) and logs a WARNING naming the handler, once per handler.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType

from ._service import App

log = logging.getLogger("agentdur.loop")

DEFAULT_BLOCKED_LOOP_WARNING = 1.0
"""Seconds a handler may hold the event loop before agentdur warns about it."""

Describe = Callable[["asyncio.Task[object] | None", "FrameType | None"], str]


class LoopWatch:
    """Warns (once per handler) when the loop is held longer than ``threshold`` seconds.

    Args:
        loop: the loop to watch (:meth:`start` must be called on it).
        threshold: seconds of blocking that earn a warning.
        describe: names what holds the loop, from its task and the loop thread's current frame.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, threshold: float, describe: Describe) -> None:
        self.loop = loop
        self.threshold = threshold
        self.describe = describe
        self.interval = max(0.02, threshold / 4)
        self.warned: set[str] = set()
        self._beat = time.monotonic()
        self._handle: asyncio.TimerHandle | None = None
        self._stop = threading.Event()
        self._loop_thread = 0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start beating on the loop (call from the loop's thread) and watching from a daemon thread."""
        self._loop_thread = threading.get_ident()
        self._tick()
        self._thread = threading.Thread(target=self._watch, name="agentdur-loop-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _tick(self) -> None:
        self._beat = time.monotonic()
        if not self._stop.is_set():
            self._handle = self.loop.call_later(self.interval, self._tick)

    def _watch(self) -> None:
        reported_beat = -1.0
        while not self._stop.wait(self.interval):
            beat = self._beat
            if beat == reported_beat or time.monotonic() - beat <= self.threshold:
                continue
            reported_beat = beat  # one look per blocking spell
            try:
                task = asyncio.current_task(self.loop)
                frame = sys._current_frames().get(self._loop_thread)
                what = self.describe(task, frame)
            except Exception:  # the loop moved on while we looked: nothing to report
                continue
            if what in self.warned:
                continue
            self.warned.add(what)
            log.warning(
                "%s blocked the event loop for more than %.1fs%s; every invocation of this process "
                "waits meanwhile: move slow sync code into a step (ctx.run_typed runs sync functions in "
                "a thread) or use its async form (this is reported once)",
                what,
                self.threshold,
                _where(frame),
            )


def _where(frame: FrameType | None) -> str:
    """`` at file:line in function`` for the innermost frame of user code, when there is one."""
    while frame is not None:
        code = frame.f_code
        if "asyncio" not in code.co_filename and "/agentdur/" not in code.co_filename:
            return f" (at {code.co_filename}:{frame.f_lineno} in {code.co_name})"
        frame = frame.f_back
    return ""


def frame_codes(frame: FrameType | None) -> list[object]:
    """The code objects of ``frame`` and its callers, innermost first."""
    codes: list[object] = []
    while frame is not None:
        codes.append(frame.f_code)
        frame = frame.f_back
    return codes


def coroutine_name(task: asyncio.Task[object] | None) -> str:
    """The qualified name of the coroutine function a task runs (``"?"`` without one)."""
    if task is None:
        return "code outside any task"
    coro = task.get_coro()
    code = getattr(coro, "cr_code", None)
    return (
        f"task running {getattr(code, 'co_qualname', '?')}" if code is not None else f"task {task.get_name()}"
    )


def handler_on_stack(app: App, frame: FrameType | None) -> str | None:
    """``handler Service/name`` for the innermost handler of ``app`` whose code is on the stack."""
    codes = frame_codes(frame)
    for service in app.services.values():
        for spec in service.handlers.values():
            if getattr(spec.fn, "__code__", None) in codes:
                return f"handler {spec.service}/{spec.name}"
    return None


def app_describer(app: App) -> Describe:
    """Names what holds the loop by the handler of ``app`` on the stack, else by the task."""

    def describe(task: asyncio.Task[object] | None, frame: FrameType | None) -> str:
        return handler_on_stack(app, frame) or coroutine_name(task)

    return describe
