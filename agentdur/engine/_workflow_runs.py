"""Workflow runs: one invocation per workflow key, kept for the workflow's retention.

Every function runs on the writer thread inside the writer's transaction (see :mod:`._ops`).
"""

from __future__ import annotations

import sqlite3

from . import _records as r


def existing_run(conn: sqlite3.Connection, inv_id: str, now: float, retention: float) -> str | None:
    """The id of the workflow run ``inv_id`` if it exists and is kept; a run past its retention is
    purged (with its state and promises) so that the key can run again."""
    row = conn.execute(
        "SELECT status, completed_at, service, obj_key FROM invocations WHERE id=?", (inv_id,)
    ).fetchone()
    if row is None:
        return None
    status, completed_at, service, key = row
    if status == r.COMPLETED and completed_at is not None and completed_at + retention <= now:
        purge_run(conn, inv_id, service, key)
        return None
    return inv_id


def purge_run(conn: sqlite3.Connection, inv_id: str, service: str, key: str) -> None:
    """Delete a finished workflow run, its journal, the state and the promises of its key."""
    conn.execute("DELETE FROM journal WHERE invocation_id=?", (inv_id,))
    conn.execute("DELETE FROM invocations WHERE id=? AND status=?", (inv_id, r.COMPLETED))
    conn.execute("DELETE FROM state WHERE service=? AND obj_key=?", (service, key))
    conn.execute("DELETE FROM state_items WHERE service=? AND obj_key=?", (service, key))
    conn.execute("DELETE FROM state_lists WHERE service=? AND obj_key=?", (service, key))
    conn.execute("DELETE FROM promises WHERE service=? AND wf_key=?", (service, key))


def purge_expired(conn: sqlite3.Connection, service: str, handler: str, before: float) -> int:
    """Purge the runs of one workflow that completed before ``before``; returns how many."""
    rows = conn.execute(
        "SELECT id, obj_key FROM invocations WHERE service=? AND handler=? AND status=? AND completed_at<?",
        (service, handler, r.COMPLETED, before),
    ).fetchall()
    for inv_id, key in rows:
        purge_run(conn, inv_id, service, key)
    return len(rows)
