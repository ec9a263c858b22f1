"""The write operations of the embedded engine, each run atomically inside the writer's transaction.

Every function here runs on the writer thread, inside a savepoint when it is more than one statement:
it either happens whole or not at all, and it commits together with whatever else was batched with it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from .._exceptions import ConflictError, NotFoundError
from .._schema import ValueCheck
from . import _lists
from . import _records as r
from ._workflow_runs import existing_run


@dataclass(slots=True)
class NewInvocation:
    """The row of an invocation about to be created."""

    id: str
    service: str
    handler: str
    key: str | None
    exclusive: bool
    status: str
    input: str
    idempotency_key: str | None
    wake_at: float | None
    now: float
    retention: float | None = None  # a workflow run: one per workflow key, kept this many seconds
    trace_context: str | None = None


@dataclass(slots=True)
class ParentCompletion:
    """A caller's call entry completed by its callee's outcome."""

    parent_id: str
    index: int
    status: str
    value: str | None
    failure: str | None


# The next number in the order in which an invocation's entries completed (one parameter: its id).
_NEXT_DONE = (
    "(SELECT ifnull(max(done_order), 0) + 1 FROM journal WHERE invocation_id=? AND done_order IS NOT NULL)"
)


def insert_entry(
    conn: sqlite3.Connection,
    inv_id: str,
    idx: int,
    kind: str,
    name: str,
    status: str,
    value: str | None,
    failure: str | None,
    now: float,
    target: str | None = None,
    wake_at: float | None = None,
    started_at: float | None = None,
    *,
    task: str,
    seq: int,
    value_schema: str | None = None,
    attempts: str | None = None,
) -> None:
    """Record one journal entry (the first write of an index wins).

    ``task`` and ``seq`` identify the operation for replay: the path of the handler task that made
    it and its number within that task (see :mod:`agentdur._tasks`). ``started_at`` is when the step
    began, for an entry written only once it completed (a ``run`` step); by default the step starts
    when its entry is written. ``attempts`` lists the attempts of a step that was retried (JSON).
    """
    completed_at = None if status == r.ENTRY_PENDING else now
    ordered = kind == r.RUN and status != r.ENTRY_PENDING  # its completion was awaited
    conn.execute(
        "INSERT OR IGNORE INTO journal (invocation_id, idx, kind, name, status, value, failure, target, wake_at,"
        " created_at, started_at, completed_at, task, seq, value_schema, attempts, done_order)"
        f" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,{_NEXT_DONE if ordered else 'NULL'})",
        (
            inv_id,
            idx,
            kind,
            name,
            status,
            value,
            failure,
            target,
            wake_at,
            now,
            started_at or now,
            completed_at,
            task,
            seq,
            value_schema,
            attempts,
            *((inv_id,) if ordered else ()),
        ),
    )


def set_state(conn: sqlite3.Connection, service: str, key: str, name: str, value: str | None) -> None:
    """Write (or with ``None`` remove) one state entry of an object key."""
    if value is None:
        conn.execute("DELETE FROM state WHERE service=? AND obj_key=? AND name=?", (service, key, name))
    else:
        conn.execute(
            "INSERT INTO state (service, obj_key, name, value) VALUES (?,?,?,?)"
            " ON CONFLICT (service, obj_key, name) DO UPDATE SET value=excluded.value",
            (service, key, name, value),
        )


def clear_all_state(conn: sqlite3.Connection, service: str, key: str) -> None:
    """Remove every state entry of an object key."""
    conn.execute("DELETE FROM state WHERE service=? AND obj_key=?", (service, key))


def bump_completions(conn: sqlite3.Connection, inv_id: str, now: float) -> None:
    """Count a completion delivered to an invocation and wake it if it was suspended."""
    conn.execute(
        "UPDATE invocations SET completions = completions + 1, modified_at=?,"
        " status = CASE WHEN status=? THEN ? ELSE status END WHERE id=?",
        (now, r.SUSPENDED, r.READY, inv_id),
    )


def complete_entry(
    conn: sqlite3.Connection,
    inv_id: str,
    idx: int,
    status: str,
    value: str | None,
    failure: str | None,
    now: float,
) -> bool:
    """Complete a pending entry (timer, awakeable, call); False when it was not pending."""
    cursor = conn.execute(
        f"UPDATE journal SET status=?, value=?, failure=?, completed_at=?, done_order={_NEXT_DONE}"
        " WHERE invocation_id=? AND idx=? AND status=?",
        (status, value, failure, now, inv_id, inv_id, idx, r.ENTRY_PENDING),
    )
    if cursor.rowcount == 0:
        return False
    bump_completions(conn, inv_id, now)
    return True


def complete_awakeable(
    conn: sqlite3.Connection,
    awakeable_id: str,
    status: str,
    value: str | None,
    failure: str | None,
    now: float,
    check: ValueCheck | None = None,
) -> tuple[str, int]:
    """Resolve or reject an awakeable by id; returns the waiting invocation and entry index.

    Args:
        check: checks a resolution's value against the schema recorded with the awakeable.

    Raises:
        NotFoundError: no awakeable has this id.
        ConflictError: the awakeable was already resolved or rejected.
        AwakeableValueError: ``check`` refused the value (the awakeable stays pending).
    """
    row = conn.execute(
        "SELECT invocation_id, idx, status, value_schema FROM journal WHERE target=? AND kind=?",
        (awakeable_id, r.AWAKEABLE),
    ).fetchone()
    if row is None:
        raise NotFoundError(f"unknown awakeable {awakeable_id!r}")
    inv_id, idx, entry_status, value_schema = row
    if entry_status != r.ENTRY_PENDING:
        raise ConflictError(f"awakeable {awakeable_id!r} is already completed")
    if check is not None and status == r.ENTRY_COMPLETED:
        check(value_schema, value)
    complete_entry(conn, inv_id, idx, status, value, failure, now)
    return inv_id, idx


def set_trace_context(conn: sqlite3.Connection, inv_id: str, traceparent: str) -> None:
    """Keep the trace anchor of an invocation's first execution (later ones join its trace)."""
    conn.execute(
        "UPDATE invocations SET trace_context=? WHERE id=? AND trace_context IS NULL", (traceparent, inv_id)
    )


def create_invocation(conn: sqlite3.Connection, inv: NewInvocation, seq: int) -> tuple[str, bool]:
    """Create an invocation, or find the one with the same idempotency key.

    A workflow run (``inv.retention`` set) is found by its id, derived from the workflow key.

    Returns:
        The invocation id and whether it was created now.

    Raises:
        ConflictError: the idempotency key was used before with another input.
    """
    if inv.retention is not None and existing_run(conn, inv.id, inv.now, inv.retention) is not None:
        return inv.id, False
    if inv.idempotency_key is not None:
        found = conn.execute(
            "SELECT id, input FROM invocations WHERE service=? AND handler=? AND ifnull(obj_key,'')=?"
            " AND idempotency_key=?",
            (inv.service, inv.handler, inv.key or "", inv.idempotency_key),
        ).fetchone()
        if found is not None:
            if not _same_json(found[1], inv.input):
                raise ConflictError(
                    f"idempotency key {inv.idempotency_key!r} was already used with a different input"
                )
            return found[0], False
    conn.execute(
        "INSERT INTO invocations (id, seq, service, handler, obj_key, exclusive, status, input, idempotency_key,"
        " wake_at, created_at, modified_at, trace_context) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            inv.id,
            seq,
            inv.service,
            inv.handler,
            inv.key,
            int(inv.exclusive),
            inv.status,
            inv.input,
            inv.idempotency_key,
            inv.wake_at,
            inv.now,
            inv.now,
            inv.trace_context,
        ),
    )
    return inv.id, True


def _same_json(a: str | None, b: str | None) -> bool:
    if a == b:
        return True
    try:
        return bool(json.loads(a or "null") == json.loads(b or "null"))
    except ValueError:
        return False


def add_waiter(
    conn: sqlite3.Connection, callee_id: str, parent_id: str, parent_index: int, now: float
) -> bool:
    """Make ``parent_id``'s entry wait for ``callee_id``; completes it at once if the callee finished."""
    row = conn.execute("SELECT status, output, failure FROM invocations WHERE id=?", (callee_id,)).fetchone()
    if row is not None and row[0] == r.COMPLETED:
        status = r.ENTRY_FAILED if row[2] is not None else r.ENTRY_COMPLETED
        complete_entry(conn, parent_id, parent_index, status, row[1], row[2], now)
        return True
    conn.execute(
        "INSERT OR IGNORE INTO waiters (invocation_id, parent_id, parent_index) VALUES (?,?,?)",
        (callee_id, parent_id, parent_index),
    )
    return False


def finish_invocation(
    conn: sqlite3.Connection,
    inv_id: str,
    output: str | None,
    failure: str | None,
    now: float,
    outcome: str | None = None,
    error_detail: str | None = None,
) -> list[ParentCompletion]:
    """Complete an invocation and the call entries of every caller waiting for it.

    ``outcome`` defaults to what ``failure`` says; ``error_detail`` keeps a failure's traceback.
    """
    conn.execute(
        "UPDATE invocations SET status=?, outcome=?, output=?, failure=?, error_detail=ifnull(?, error_detail),"
        " completed_at=?, modified_at=?, wake_at=NULL WHERE id=?",
        (
            r.COMPLETED,
            outcome or r.outcome_of_failure(failure),
            output,
            failure,
            error_detail,
            now,
            now,
            inv_id,
        ),
    )
    status = r.ENTRY_FAILED if failure is not None else r.ENTRY_COMPLETED
    parents = []
    for parent_id, parent_index in conn.execute(
        "SELECT parent_id, parent_index FROM waiters WHERE invocation_id=?", (inv_id,)
    ).fetchall():
        if complete_entry(conn, parent_id, parent_index, status, output, failure, now):
            parents.append(ParentCompletion(parent_id, parent_index, status, output, failure))
    conn.execute("DELETE FROM waiters WHERE invocation_id=?", (inv_id,))
    return parents


def finish_exclusive(
    conn: sqlite3.Connection,
    *,
    finish: Callable[[sqlite3.Connection], list[ParentCompletion]],
    service: str,
    key: str,
) -> list[ParentCompletion]:
    """``finish`` an exclusive invocation, and delete the list items it removed (no replay can
    read them any more: the key's next exclusive invocation starts after this one)."""
    parents = finish(conn)
    _lists.purge_removed(conn, service, key)
    return parents


def set_status(
    conn: sqlite3.Connection,
    inv_id: str,
    status: str,
    now: float,
    *,
    wake_at: float | None = None,
    last_error: str | None = None,
    attempts: int | None = None,
    error_detail: str | None = None,
) -> None:
    """Move an unfinished invocation to ``status`` (an error replaces the last one kept)."""
    conn.execute(
        "UPDATE invocations SET status=?, wake_at=?, last_error=ifnull(?, last_error),"
        " error_detail=ifnull(?, error_detail), attempts=ifnull(?, attempts), modified_at=?"
        " WHERE id=? AND status != ?",
        (status, wake_at, last_error, error_detail, attempts, now, inv_id, r.COMPLETED),
    )


def requeue(conn: sqlite3.Connection, inv_id: str, status: str, seq: int, now: float) -> None:
    """A delayed send whose time came: it takes its place in line now."""
    conn.execute(
        "UPDATE invocations SET status=?, seq=?, wake_at=NULL, modified_at=? WHERE id=? AND status=?",
        (status, seq, now, inv_id, r.SCHEDULED),
    )


def suspend(conn: sqlite3.Connection, inv_id: str, completions_seen: int, now: float) -> bool:
    """Mark an invocation suspended unless a completion arrived that it has not seen."""
    cursor = conn.execute(
        "UPDATE invocations SET status=?, modified_at=? WHERE id=? AND completions=? AND status IN (?, ?)",
        (r.SUSPENDED, now, inv_id, completions_seen, r.RUNNING, r.READY),
    )
    return cursor.rowcount == 1


def request_cancel(conn: sqlite3.Connection, inv_id: str, now: float) -> tuple[str, list[str]]:
    """Flag an invocation as cancelled; returns its status and the calls it has in flight.

    Raises:
        NotFoundError: unknown invocation.
    """
    row = conn.execute("SELECT status FROM invocations WHERE id=?", (inv_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"unknown invocation {inv_id!r}")
    status = str(row[0])
    if status == r.COMPLETED:
        return status, []
    conn.execute("UPDATE invocations SET cancel_requested=1 WHERE id=?", (inv_id,))
    bump_completions(conn, inv_id, now)
    children = [
        str(c[0])
        for c in conn.execute(
            "SELECT target FROM journal WHERE invocation_id=? AND kind=? AND status=?",
            (inv_id, r.CALL, r.ENTRY_PENDING),
        ).fetchall()
    ]
    new_status = conn.execute("SELECT status FROM invocations WHERE id=?", (inv_id,)).fetchone()
    return str(new_status[0]), children


def record_cancel_delivery(conn: sqlite3.Connection, inv_id: str, await_number: int, task: str) -> None:
    """Remember where a cancellation was raised (task path and its await number), for replay."""
    conn.execute(
        "UPDATE invocations SET cancel_at_await=?, cancel_task=? WHERE id=?", (await_number, task, inv_id)
    )


def purge(conn: sqlite3.Connection, inv_id: str) -> None:
    """Delete a completed invocation and its journal."""
    conn.execute("DELETE FROM journal WHERE invocation_id=?", (inv_id,))
    conn.execute("DELETE FROM invocations WHERE id=? AND status=?", (inv_id, r.COMPLETED))
