"""The write operations of durable promises.

Like :mod:`._ops`, every function runs on the writer thread inside the writer's transaction. A
promise lives in the ``promises`` table once it is resolved or rejected; a handler waiting for it
holds a pending ``get_promise`` journal entry whose target is the promise's address, so completing
the promise completes every such entry in the same transaction.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from .._exceptions import ConflictError
from .._workflow import PROMISE_ALREADY_COMPLETED
from . import _records as r
from ._ops import complete_entry

# Journal entry kinds of promise operations.
GET_PROMISE = "get_promise"
PEEK_PROMISE = "peek_promise"
COMPLETE_PROMISE = "complete_promise"


def promise_target(service: str, key: str, name: str) -> str:
    """The address of a promise, as the target of the journal entries that wait for it."""
    return json.dumps([service, key, name], separators=(",", ":"))


@dataclass(slots=True)
class Waiting:
    """A journal entry completed by a promise: who to wake and with what."""

    invocation_id: str
    index: int
    outcome: r.Outcome


def watch_promise(
    conn: sqlite3.Connection,
    inv_id: str,
    idx: int,
    target: str,
    service: str,
    key: str,
    name: str,
    now: float,
    task: str,
    seq: int,
) -> bool:
    """Journal a wait for a promise; complete it at once when the promise already is. True if so."""
    conn.execute(
        "INSERT OR IGNORE INTO journal (invocation_id, idx, kind, name, status, target, created_at, started_at,"
        " task, seq) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (inv_id, idx, GET_PROMISE, name, r.ENTRY_PENDING, target, now, now, task, seq),
    )
    row = _promise(conn, service, key, name)
    if row is None:
        return False
    return complete_entry(conn, inv_id, idx, row[0], row[1], row[2], now)


def peek_promise(
    conn: sqlite3.Connection, service: str, key: str, name: str
) -> tuple[str, str | None, str | None]:
    """The promise's (entry status, value, failure) now; an unresolved promise peeks as ``null``."""
    row = _promise(conn, service, key, name)
    if row is None:
        return r.ENTRY_COMPLETED, None, None
    return row[0], row[1], row[2]


def complete_promise(
    conn: sqlite3.Connection,
    service: str,
    key: str,
    name: str,
    status: str,
    value: str | None,
    failure: str | None,
    now: float,
) -> list[Waiting]:
    """Resolve or reject a promise and complete every journal entry waiting for it.

    Raises:
        ConflictError: the promise was already resolved or rejected (nothing is changed).
    """
    if _promise(conn, service, key, name) is not None:
        raise ConflictError(PROMISE_ALREADY_COMPLETED)
    conn.execute(
        "INSERT INTO promises (service, wf_key, name, status, value, failure, completed_at)"
        " VALUES (?,?,?,?,?,?,?)",
        (service, key, name, status, value, failure, now),
    )
    woken = []
    target = promise_target(service, key, name)
    for inv_id, idx in conn.execute(
        "SELECT invocation_id, idx FROM journal WHERE target=? AND kind=? AND status=?",
        (target, GET_PROMISE, r.ENTRY_PENDING),
    ).fetchall():
        if complete_entry(conn, inv_id, idx, status, value, failure, now):
            woken.append(Waiting(inv_id, idx, (status, failure if failure is not None else value)))
    return woken


def _promise(
    conn: sqlite3.Connection, service: str, key: str, name: str
) -> tuple[str, str | None, str | None] | None:
    row = conn.execute(
        "SELECT status, value, failure FROM promises WHERE service=? AND wf_key=? AND name=?",
        (service, key, name),
    ).fetchone()
    return None if row is None else (str(row[0]), row[1], row[2])
