"""A side-effect log shared by test apps and tests across processes.

Handlers append one fsynced line per real side effect to the file named by ``AGENTDUR_CONFORMANCE_LOG``;
tests count lines to see what really ran, however many processes and crashes it took.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

LOG_ENV = "AGENTDUR_CONFORMANCE_LOG"


def record(line: str) -> None:
    """Append one line to the side-effect log, durably."""
    path = os.environ.get(LOG_ENV)
    if not path:
        return
    with open(path, "a") as log:
        log.write(line + "\n")
        log.flush()
        os.fsync(log.fileno())


def record_interval(name: str, event: str) -> None:
    """Log that ``name`` started or ended (``event``), with the time: see :func:`intervals`."""
    record(f"interval {event} {time.time()} {name}")


def intervals(lines: Iterable[str]) -> dict[str, tuple[float, float]]:
    """The (start, end) times :func:`record_interval` logged, by name (the last run of each name)."""
    starts: dict[str, float] = {}
    found: dict[str, tuple[float, float]] = {}
    for line in lines:
        kind, event, at, name = (line.split(" ", 3) + ["", "", "", ""])[:4]
        if kind != "interval":
            continue
        if event == "start":
            starts[name] = float(at)
        elif event == "end" and name in starts:
            found[name] = (starts[name], float(at))
    return found


def overlap(spans: Iterable[tuple[float, float]]) -> bool:
    """Whether all the intervals were running at one same moment: every one started before any ended."""
    spans = list(spans)
    return bool(spans) and max(start for start, _ in spans) < min(end for _, end in spans)


def count(prefix: str) -> int:
    """How many logged lines start with ``prefix``."""
    path = os.environ.get(LOG_ENV)
    if not path or not Path(path).exists():
        return 0
    return sum(1 for line in Path(path).read_text().splitlines() if line.startswith(prefix))
