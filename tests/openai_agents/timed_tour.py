"""The README tour (``examples.openai_agents.tour:app``) with the checks of ``ParallelToolCallsAgent`` timed.

Each of those checks is one ``asyncio.sleep`` of a second in ``examples/openai_agents/parallel_tools.py``;
here that module's ``asyncio`` logs when each sleep started and ended (``tests.effects.intervals``), so
the test can see that the three checks overlapped instead of bounding how long the request took.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from examples.openai_agents import parallel_tools
from examples.openai_agents.tour import app

from ..effects import record_interval

__all__ = ["app"]

_numbers = itertools.count()


class _TimedAsyncio:
    """``asyncio`` for ``parallel_tools``, with a ``sleep`` that logs its interval as ``check N``."""

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    @staticmethod
    async def sleep(seconds: float) -> None:
        name = f"check {next(_numbers)}"
        record_interval(name, "start")
        await asyncio.sleep(seconds)
        record_interval(name, "end")


vars(parallel_tools)["asyncio"] = _TimedAsyncio()  # the example's module-level asyncio, replaced
