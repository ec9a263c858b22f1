"""A side-effect log shared by test apps and tests across processes.

Handlers append one fsynced line per real side effect to the file named by ``AGENTDUR_CONFORMANCE_LOG``;
tests count lines to see what really ran, however many processes and crashes it took.
"""

from __future__ import annotations

import os
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


def count(prefix: str) -> int:
    """How many logged lines start with ``prefix``."""
    path = os.environ.get(LOG_ENV)
    if not path or not Path(path).exists():
        return 0
    return sum(1 for line in Path(path).read_text().splitlines() if line.startswith(prefix))
