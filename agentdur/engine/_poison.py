"""Poison detection: an invocation that keeps crashing the process is paused, so the server comes up.

A step that kills the process (``os._exit``, a segfault in an extension, the kernel's OOM killer) is
re-run by recovery at every start, and kills it again: without this the server would never answer a
health check. The engine records whether it shut down cleanly (the ``clean_shutdown`` meta row, ``0``
while it runs). Starting after an unclean end, every invocation that was running (or ready, which
the engine starts at once) and not waiting on a durable future counts one crash, unless it made
progress (wrote a journal entry) since the crash before; one that reaches
``poison_after`` consecutive crashes is paused with that reason instead of being resumed (and its
count starts again, for when it is resumed). A clean shutdown starts every count again.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from functools import partial

from . import _ops
from . import _records as r
from ._store import Store

log = logging.getLogger("agentdur.engine")

DEFAULT_POISON_AFTER = 3
CLEAN_SHUTDOWN = "clean_shutdown"


async def pause_poisoned(store: Store, poison_after: int | None) -> list[tuple[str, str]]:
    """Count the crash the previous process (if it crashed) made the invocations running then
    suffer, and pause those that reached ``poison_after`` (``None``: count, never pause).

    Returns:
        The invocations paused now, with the reason recorded.
    """
    paused = await store.write(partial(_count_crashes, poison_after=poison_after, now=time.time()))
    for inv_id, reason in paused:
        log.warning("invocation %s paused: %s", inv_id, reason)
    return paused


async def mark_clean_shutdown(store: Store) -> None:
    """Record that the engine stopped cleanly (its running invocations did not crash it)."""
    await store.write(partial(_set_clean, value="1"))


def _set_clean(conn: sqlite3.Connection, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)", (CLEAN_SHUTDOWN, value))


def _count_crashes(conn: sqlite3.Connection, poison_after: int | None, now: float) -> list[tuple[str, str]]:
    row = conn.execute("SELECT v FROM meta WHERE k=?", (CLEAN_SHUTDOWN,)).fetchone()
    _set_clean(conn, "0")
    if row is None or row[0] == "1":  # a new file, or a clean stop: no crash to count
        conn.execute("UPDATE invocations SET crashes=0 WHERE crashes > 0")
        return []
    paused: list[tuple[str, str]] = []
    # Ready ones count too (the engine starts them at once; the write saying so may not be in yet);
    # one that waits on a durable future (an approval, a timer, a call) runs no code that could
    # crash the process, so it is left alone however often the process died around it.
    running = conn.execute(
        "SELECT i.id, i.crashes, i.crash_mark,"
        " (SELECT count(*) FROM journal j WHERE j.invocation_id = i.id) AS entries"
        " FROM invocations i WHERE i.status IN (?, ?) AND NOT EXISTS"
        " (SELECT 1 FROM journal w WHERE w.invocation_id = i.id AND w.status = ?)",
        (r.RUNNING, r.READY, r.ENTRY_PENDING),
    ).fetchall()
    for inv_id, crashes, mark, entries in running:
        crashes = crashes + 1 if mark == entries else 1  # progress since the last crash starts again
        if poison_after is not None and crashes >= poison_after:
            reason = (
                f"the process crashed {crashes} times in a row while this invocation was running, "
                "without it writing a journal entry in between (a step that kills the process?); "
                "it is paused so the server can start: fix the cause, then resume it"
            )
            _ops.set_status(conn, inv_id, r.PAUSED, now, last_error=reason)
            conn.execute("UPDATE invocations SET crashes=0, crash_mark=NULL WHERE id=?", (inv_id,))
            paused.append((inv_id, reason))
        else:
            conn.execute(
                "UPDATE invocations SET crashes=?, crash_mark=? WHERE id=?", (crashes, entries, inv_id)
            )
    return paused
