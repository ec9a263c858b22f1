"""Durable calls from sync agent code that a handler runs in a worker thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from agentdur import UserError, current_context

T = TypeVar("T")


def call_from_worker_thread(make: Callable[[], Coroutine[Any, Any, T]], what: str) -> T:
    """Run the coroutine ``make()`` on the handler's event loop and block this worker thread for it.

    For the blocking form of an async durable call (``completion()`` next to ``acompletion()``), used
    by sync code a handler runs with ``asyncio.to_thread``. The coroutine runs in a task that acts for
    the handler task that started the thread, so its journal entries replay deterministically.

    Raises:
        UserError: called on the event loop itself (it would block it) or outside a handler.
    """
    ctx = current_context()
    loop = getattr(ctx, "loop", None)
    if not isinstance(loop, asyncio.AbstractEventLoop):
        raise UserError(f"{what} needs an agentdur handler context with an event loop")
    if getattr(loop, "_thread_id", None) == threading.get_ident():
        raise UserError(
            f"{what} blocks, so it cannot run on the handler's event loop: await its async form there, "
            "or call it from code run with asyncio.to_thread"
        )
    return asyncio.run_coroutine_threadsafe(make(), loop).result()
