"""Requests a handler makes of other invocations: calls, sends, awakeable completions, cancellation.

Each journals the caller's entry and changes the target in one transaction, so a crash can never
leave one without the other; the target is woken only after that transaction committed.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from typing import Any

from .._exceptions import ConflictError, NotFoundError, TerminalError, terminal_error_to_json
from .._options import as_seconds
from .._workflow import WORKFLOW_ALREADY_INVOKED
from . import _ops
from . import _records as r
from ._host import RuntimeHost
from ._runner import InvocationRunner


def start_call(
    rt: RuntimeHost,
    runner: InvocationRunner,
    idx: int,
    service: str,
    handler: str,
    key: str | None,
    arg: str,
    idempotency_key: str | None,
) -> tuple[str, r.Entry]:
    """Journal a call entry and create the callee in the same transaction."""
    name = f"{service}/{handler}"
    caller_id, now = runner.inv.id, time.time()
    try:
        spec = rt.app.handler(service, handler)
        spec.check_key(key)
    except TerminalError as error:
        failure = json.dumps(terminal_error_to_json(error))
        runner.record(idx, r.CALL, name, r.ENTRY_FAILED, None, failure, target="")
        return "", r.Entry(r.CALL, name, r.ENTRY_FAILED, failure=failure, target="")
    new = rt.new_invocation(spec, key, arg, idempotency_key, None)
    order = next(rt.seq)
    task, seq = runner.take_key(idx)

    def op(conn: Any) -> tuple[bool, bool]:
        callee_id, created = _ops.create_invocation(conn, new, order)
        if not created and new.retention is not None:  # a workflow key that ran: a 409, as on Restate
            refused = json.dumps(terminal_error_to_json(ConflictError(WORKFLOW_ALREADY_INVOKED)))
            _ops.insert_entry(
                conn,
                caller_id,
                idx,
                r.CALL,
                name,
                r.ENTRY_FAILED,
                None,
                refused,
                now,
                target=callee_id,
                task=task,
                seq=seq,
            )
            _ops.bump_completions(conn, caller_id, now)
            return False, True
        _ops.insert_entry(
            conn,
            caller_id,
            idx,
            r.CALL,
            name,
            r.ENTRY_PENDING,
            None,
            None,
            now,
            target=callee_id,
            task=task,
            seq=seq,
        )
        completed = _ops.add_waiter(conn, callee_id, caller_id, idx, now)
        return created, completed

    def after(fut: asyncio.Future[tuple[bool, bool]]) -> None:
        if fut.cancelled() or fut.exception() is not None:
            runner.fail_pending(idx, fut.exception() or asyncio.CancelledError())
            return
        created, completed = fut.result()
        if created:
            rt.schedule_new(new, spec)
        if completed:
            rt.wake_from_db(caller_id, idx)

    rt.store.write(op, on_error=runner.on_write_error).add_done_callback(after)
    return new.id, r.Entry(r.CALL, name, r.ENTRY_PENDING, target=new.id)


def start_send(
    rt: RuntimeHost,
    runner: InvocationRunner,
    idx: int,
    service: str,
    handler: str,
    key: str | None,
    arg: str,
    delay: timedelta | None,
    idempotency_key: str | None,
) -> str:
    """Journal a send entry and create the callee (possibly delayed) in the same transaction."""
    name = f"{service}/{handler}"
    caller_id, now = runner.inv.id, time.time()
    spec = rt.app.handler(service, handler)
    spec.check_key(key)
    new = rt.new_invocation(spec, key, arg, idempotency_key, as_seconds(delay))
    order = next(rt.seq)
    task, seq = runner.take_key(idx)

    def op(conn: Any) -> bool:
        callee_id, created = _ops.create_invocation(conn, new, order)
        _ops.insert_entry(
            conn,
            caller_id,
            idx,
            r.SEND,
            name,
            r.ENTRY_COMPLETED,
            json.dumps(callee_id),
            None,
            now,
            target=callee_id,
            task=task,
            seq=seq,
        )
        return created

    def after(fut: asyncio.Future[bool]) -> None:
        if not fut.cancelled() and fut.exception() is None and fut.result():
            rt.schedule_new(new, spec)

    rt.store.write(op, on_error=runner.on_write_error).add_done_callback(after)
    return new.id


def complete_awakeable_from_handler(
    rt: RuntimeHost,
    runner: InvocationRunner,
    idx: int,
    kind: str,
    awakeable_id: str,
    status: str,
    value: str | None,
    failure: str | None,
) -> None:
    caller_id, now = runner.inv.id, time.time()
    task, seq = runner.take_key(idx)

    def op(conn: Any) -> tuple[str, int] | None:
        _ops.insert_entry(
            conn, caller_id, idx, kind, awakeable_id, r.ENTRY_COMPLETED, None, None, now, task=task, seq=seq
        )
        try:
            return _ops.complete_awakeable(conn, awakeable_id, status, value, failure, now)
        except TerminalError:
            return None  # unknown or already completed: as on Restate, not an error for the caller

    def after(fut: asyncio.Future[tuple[str, int] | None]) -> None:
        if not fut.cancelled() and fut.exception() is None and (target := fut.result()) is not None:
            rt.notify(target[0], target[1], (status, failure if failure is not None else value))

    rt.store.write(op, on_error=runner.on_write_error).add_done_callback(after)


def cancel_from_handler(rt: RuntimeHost, runner: InvocationRunner, idx: int, target: str) -> None:
    caller_id, now = runner.inv.id, time.time()
    task, seq = runner.take_key(idx)

    def op(conn: Any) -> tuple[str, list[str]] | None:
        _ops.insert_entry(
            conn, caller_id, idx, r.CANCEL, target, r.ENTRY_COMPLETED, None, None, now, task=task, seq=seq
        )
        try:
            return _ops.request_cancel(conn, target, now)
        except NotFoundError:
            return None

    def after(fut: asyncio.Future[tuple[str, list[str]] | None]) -> None:
        if not fut.cancelled() and fut.exception() is None and (found := fut.result()) is not None:
            rt.spawn(rt.after_cancel_request(target, *found))

    rt.store.write(op, on_error=runner.on_write_error).add_done_callback(after)
