"""Running one attempt of a step's body, on either engine: its timeout, its thread, what it may raise.

A step body is user code and may raise anything. What reaches the engine is one of: the result, a
:class:`~agentdur.TerminalError`, an ``Exception`` (retryable), or engine control flow (a
``CancelledError`` the engine caused by cancelling the step's task, or an
:class:`~agentdur.EngineControl`). Every other ``BaseException`` (``SystemExit``,
``KeyboardInterrupt``, ``GeneratorExit``, a ``CancelledError`` the body raised itself, a
``StopIteration`` out of a sync function) becomes a retryable :class:`~agentdur.StepAbortedError`:
it fails the attempt, never the process.

Sync bodies run on :class:`StepThreads`, daemon threads of agentdur's own rather than the event loop's
default executor: a body that hangs can then be abandoned at its timeout (or at shutdown) without the
process waiting for it at exit, and the abandoned ones are counted until they end.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._exceptions import EngineControl, StepAbortedError, StepTimeoutError

log = logging.getLogger("agentdur.steps")

# An idle step thread waits this long for more work before it ends.
IDLE_THREAD_SECONDS = 60.0


@dataclass
class _Job:
    """One sync body handed to a step thread."""

    number: int
    step: str
    call: Callable[[], Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    started: float = 0.0
    abandoned: bool = False


class _Worker:
    """One step thread and the slot it takes its next job from."""

    def __init__(self) -> None:
        self.inbox: queue.SimpleQueue[_Job] = queue.SimpleQueue()


class StepThreads:
    """Daemon threads that run sync step bodies, one per body running; a thread whose body is
    abandoned is counted until it ends.

    A job goes straight to an idle thread (or a new one), never to a shared queue, so no body waits
    behind another one that hangs. Threads are reused and end after :data:`IDLE_THREAD_SECONDS` idle.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._numbers = itertools.count(1)
        self._running: dict[int, _Job] = {}

    def abandoned(self) -> list[tuple[str, float]]:
        """The steps whose bodies were abandoned (timed out, or their task was cancelled) and still
        run: their names and how many seconds they have run."""
        now = time.monotonic()
        with self._lock:
            return [(job.step, now - job.started) for job in self._running.values() if job.abandoned]

    async def run(
        self, step: str, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        """Run ``fn(*args, **kwargs)`` on a step thread, in a copy of the current context.

        Cancelling the awaiting task abandons the body: it runs on, its result is dropped.
        """
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        job = _Job(
            next(self._numbers), step, lambda: context.run(fn, *args, **kwargs), loop, loop.create_future()
        )
        with self._lock:
            self._running[job.number] = job
            worker = self._idle.pop() if self._idle else None
            if worker is not None:
                worker.inbox.put(job)  # under the lock: a worker timing out sees it is taken
        if worker is None:
            threading.Thread(
                target=self._work, args=(_Worker(), job), name="agentdur-step", daemon=True
            ).start()
        try:
            return await job.future
        except asyncio.CancelledError:
            self._abandon(job)
            raise

    def _abandon(self, job: _Job) -> None:
        with self._lock:
            if job.number not in self._running:
                return
            job.abandoned = True
            count = sum(1 for j in self._running.values() if j.abandoned)
        log.warning(
            "the sync body of step %r was abandoned after %.1fs: a thread cannot be stopped, so it runs "
            "on and its result will be dropped (%d abandoned step thread(s) running)",
            job.step,
            time.monotonic() - job.started if job.started else 0.0,
            count,
        )

    def _work(self, worker: _Worker, job: _Job) -> None:
        while True:
            self._run(job)
            with self._lock:
                self._idle.append(worker)
            try:
                job = worker.inbox.get(timeout=IDLE_THREAD_SECONDS)
            except queue.Empty:
                with self._lock:
                    if worker in self._idle:  # nobody handed it a job meanwhile: end
                        self._idle.remove(worker)
                        return
                job = worker.inbox.get()  # handed one just now (put under the lock)

    def _run(self, job: _Job) -> None:
        job.started = time.monotonic()
        outcome = _call_capturing(job.step, job.call)
        with self._lock:
            self._running.pop(job.number, None)
        if job.abandoned:
            log.warning(
                "the abandoned body of step %r ended after %.1fs; its result was dropped",
                job.step,
                time.monotonic() - job.started,
            )
            return
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            job.loop.call_soon_threadsafe(_settle, job.future, outcome)


def _call_capturing(step: str, call: Callable[[], Any]) -> tuple[bool, Any]:
    """``(True, result)`` or ``(False, error)``; a BaseException is never let out of a step thread."""
    try:
        return True, call()
    except StopIteration as error:  # an asyncio future refuses it: it would hang the awaiting task
        return False, _aborted(step, error)
    except Exception as error:
        return False, error
    except BaseException as error:
        return False, _aborted(step, error)


def _aborted(step: str, error: BaseException) -> StepAbortedError:
    aborted = StepAbortedError(step, error)
    aborted.__cause__ = error
    return aborted


def _settle(future: asyncio.Future[Any], outcome: tuple[bool, Any]) -> None:
    if future.done():
        return
    ok, value = outcome
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


STEP_THREADS = StepThreads()
"""The step threads of this process (both engines share them)."""


async def run_body(
    step: str,
    action: Callable[..., Any],
    is_async: bool,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    limit: float | None,
) -> Any:
    """One attempt of step ``step``'s body, bounded by ``limit`` seconds when given.

    Raises:
        StepTimeoutError: the attempt ran past ``limit``.
        StepAbortedError: the body raised a BaseException that is not engine control flow.
        asyncio.CancelledError: the engine cancelled the step's task (it passes through).
        EngineControl: engine control flow (it passes through).
        Exception: what the body raised, as it is.
    """
    own_task = asyncio.current_task()
    try:
        if limit is None:
            if is_async:
                return await action(*args, **kwargs)
            return await STEP_THREADS.run(step, action, args, kwargs)
        deadline = asyncio.timeout(limit)
        try:
            async with deadline:
                if is_async:
                    return await action(*args, **kwargs)
                return await STEP_THREADS.run(step, action, args, kwargs)
        except TimeoutError:
            if deadline.expired():
                raise StepTimeoutError(step, limit, abandoned_thread=not is_async) from None
            raise
    except asyncio.CancelledError as error:
        if engine_cancelled():
            raise
        raise StepAbortedError(step, error) from error
    except (Exception, EngineControl):
        raise
    except BaseException as error:
        if not running_in_task(own_task):  # the coroutine is being closed (garbage collected): let it end
            raise
        raise StepAbortedError(step, error) from error


def engine_cancelled() -> bool:
    """True when the running task was asked to cancel (by the engine, or a timeout): a
    ``CancelledError`` seen now is control flow, not something the code raised of its own."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def running_in_task(task: asyncio.Task[Any] | None) -> bool:
    """True while ``task`` runs; False while its coroutine is closed from outside it (garbage
    collected: its ``GeneratorExit`` then ends it, and is no failure of the code)."""
    try:
        return task is not None and asyncio.current_task() is task
    except RuntimeError:  # no running event loop
        return False
