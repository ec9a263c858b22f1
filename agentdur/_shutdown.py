"""Bounded shutdowns for served processes: a watchdog after the first signal, an exit at the second.

A graceful shutdown waits for running steps, open requests and the journal; it must still end when
something refuses to (a handler holding the event loop, a library thread). After the first signal a
daemon timer exits the process once the bound has passed; a second signal exits at once. The exit
is ``os._exit``: it skips cleanup on purpose, which the journal tolerates (unfinished steps re-run at
the next start).
"""

from __future__ import annotations

import os
import signal
import threading

# The exit status of a shutdown cut short (a second signal, or past the bound): 128 + SIGTERM.
EXIT_FORCED = 128 + signal.SIGTERM


def exit_now(reason: str) -> None:
    """Say why on stderr and end the process at once, with :data:`EXIT_FORCED`."""
    os.write(2, f"agentdur: {reason}: exiting now\n".encode())
    os._exit(EXIT_FORCED)


def start_watchdog(bound: float) -> threading.Timer:
    """Exit the process if it is still running ``bound`` seconds from now (a daemon timer)."""
    timer = threading.Timer(bound, exit_now, (f"the shutdown took longer than {bound:g}s",))
    timer.daemon = True
    timer.start()
    return timer


def exit_on_next(*signals: signal.Signals) -> None:
    """From now on, ``signals`` end the process at once, from a plain signal handler: it runs even
    while the event loop is blocked. Call it from the main thread."""

    def handle(signum: int, frame: object) -> None:
        exit_now(f"second {signal.Signals(signum).name}")

    for sig in signals:
        signal.signal(sig, handle)
