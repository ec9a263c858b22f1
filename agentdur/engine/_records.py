"""What the embedded engine records: invocation statuses, journal entries, and their public views."""

from __future__ import annotations

import json
import sqlite3
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel

from .._schema import example_of
from .._service import HandlerSpec

# What a journal entry's future resolves to: (entry status, value or failure JSON text).
Outcome = tuple[str, str | None]

# Invocation statuses (the names of Restate's, where the concept is the same).
SCHEDULED = "scheduled"  # a delayed send waiting for its time
PENDING = "pending"  # queued behind another exclusive handler of the same object key
READY = "ready"  # should run; recovery starts it
RUNNING = "running"  # running in memory
SUSPENDED = "suspended"  # released from memory while it waits; a completion wakes it
BACKING_OFF = "backing-off"  # failed with a retryable error, waiting to retry
PAUSED = "paused"  # out of retries or a journal mismatch; needs an operator
COMPLETED = "completed"

InvocationStatus = Literal[
    "scheduled", "pending", "ready", "running", "suspended", "backing-off", "paused", "completed"
]

# How a completed invocation ended (``None`` while it has not completed).
SUCCEEDED = "succeeded"
FAILED = "failed"  # a terminal failure; the ``failed`` filter also matches paused invocations
CANCELLED = "cancelled"
KILLED = "killed"
InvocationOutcome = Literal["succeeded", "failed", "cancelled", "killed"]
OUTCOMES = (SUCCEEDED, FAILED, CANCELLED, KILLED)
KILLED_MESSAGE = "the invocation was killed"
# The longest traceback kept per failure: its end (where it was raised) matters most.
MAX_TRACEBACK = 20_000

# Journal entry kinds.
RUN = "run"
SLEEP = "sleep"
AWAKEABLE = "awakeable"
RESOLVE_AWAKEABLE = "resolve_awakeable"
REJECT_AWAKEABLE = "reject_awakeable"
CALL = "call"
SEND = "send"
CANCEL = "cancel_invocation"
GET_STATE = "get_state"
SET_STATE = "set_state"
CLEAR_STATE = "clear_state"
CLEAR_ALL_STATE = "clear_all_state"
STATE_KEYS = "state_keys"
# List state (agentdur.engine._lists): a read journals a version reference, a change what it changes.
LIST_ITEMS = "list_items"
LIST_LENGTH = "list_length"
LIST_APPEND = "list_append"
LIST_POP = "list_pop"
LIST_KEEP_LAST = "list_keep_last"
TIME = "time"
COMBINATOR = "combinator"

# Entry statuses.
ENTRY_PENDING = "pending"
ENTRY_COMPLETED = "completed"
ENTRY_FAILED = "failed"
ENTRY_RUNNING = "running"  # never stored: a step executing now, as the runner knows it
# Never stored either: a timer or awakeable still pending when its invocation completed (the handler
# stopped waiting for it, e.g. the losing timeout of a select).
ENTRY_ABANDONED = "abandoned"
ABANDONABLE_KINDS = frozenset({SLEEP, AWAKEABLE})


@dataclass(slots=True)
class Entry:
    """One journal entry as the runner replays it."""

    kind: str
    name: str
    status: str
    value: str | None = None
    failure: str | None = None
    target: str | None = None
    wake_at: float | None = None
    task: str = ""  # the path of the handler task that made it (agentdur._tasks)
    seq: int = 0  # its number within that task
    done_order: int | None = None  # when it completed among the invocation's entries (None: at once)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Entry:
        seq = row["seq"]
        return cls(
            row["kind"],
            row["name"],
            row["status"],
            row["value"],
            row["failure"],
            row["target"],
            row["wake_at"],
            row["task"],
            int(row["idx"]) if seq is None else int(seq),  # files from before tasks: one task, seq = idx
            row["done_order"],
        )


class Failure(BaseModel):
    """A terminal failure: its message and HTTP-style code."""

    message: str
    code: int


class ErrorDetail(BaseModel):
    """An error as the engine keeps it: its exception type, message and formatted traceback."""

    type: str
    message: str
    traceback: str | None = None


class StepAttempt(BaseModel):
    """One failed attempt of a step that retried: when it ran and what it raised."""

    started_at: float
    completed_at: float
    error: str

    @classmethod
    def failed(cls, started_at: float, error: BaseException) -> StepAttempt:
        """The attempt that began at ``started_at`` and just raised ``error``."""
        return cls(started_at=started_at, completed_at=time.time(), error=f"{type(error).__name__}: {error}")


def attempts_text(failed: list[StepAttempt]) -> str | None:
    """The stored form of a step's failed attempts (``None`` when its first attempt settled it)."""
    if not failed:
        return None
    return json.dumps([attempt.model_dump() for attempt in failed])


class AttemptView(BaseModel):
    """A failed attempt of a step, as shown to operators."""

    started_at: datetime
    completed_at: datetime
    duration: float
    error: str


class JournalEntry(BaseModel):
    """One step of an invocation, as shown to operators.

    ``started_at`` is when the step began (for ``run`` steps, when its body started executing),
    ``completed_at`` when its result was known; ``duration`` is the seconds between them. A step
    executing right now has status ``running`` and no ``completed_at``. A timer or awakeable the
    handler stopped waiting for (the losing timeout of a ``select``) is ``abandoned`` once the
    invocation completed.
    """

    index: int
    kind: str
    name: str
    status: Literal["pending", "running", "completed", "failed", "abandoned"]
    value: Any = None
    failure: Failure | None = None
    target: str | None = None
    created_at: datetime
    started_at: datetime
    completed_at: datetime | None = None
    duration: float | None = None
    task: str = ""
    """The handler task that made it: ``""`` is the handler itself, ``"0"``, ``"0.1"``, ... the tasks it created."""
    seq: int = 0
    """Its number among that task's operations; replay finds entries by ``(task, seq)``."""
    attempts: int = 1
    """How many times a ``run`` step's body ran (more than 1 when it retried)."""
    failed_attempts: list[AttemptView] = []
    """The attempts that failed before the last one, oldest first, each with its error."""


class InvocationInfo(BaseModel):
    """The status of one invocation, its outcome and its journal."""

    id: str
    service: str
    handler: str
    key: str | None
    status: InvocationStatus
    outcome: InvocationOutcome | None = None
    input: Any = None
    result: Any = None
    failure: Failure | None = None
    last_error: str | None = None
    error: ErrorDetail | None = None
    attempts: int
    created_at: datetime
    modified_at: datetime
    completed_at: datetime | None = None
    journal: list[JournalEntry] = []


class PendingAwakeable(BaseModel):
    """An awakeable nobody resolved yet: an entry of the approvals inbox.

    Attributes:
        value_schema: the JSON schema a resolution must match (``None``: any JSON value).
        example: a value that matches it, e.g. ``{"approved": true, ...}`` for a ``Decision``.
    """

    id: str
    invocation_id: str
    service: str
    handler: str
    key: str | None
    index: int
    description: str
    created_at: datetime
    value_schema: dict[str, Any] | None = None
    example: Any = None


def pending_awakeable_of(row: sqlite3.Row) -> PendingAwakeable:
    """The public view of a pending awakeable row joined with its invocation."""
    schema = None if row["value_schema"] is None else json.loads(row["value_schema"])
    return PendingAwakeable(
        id=row["target"],
        invocation_id=row["invocation_id"],
        service=row["service"],
        handler=row["handler"],
        key=row["obj_key"],
        index=row["idx"],
        description=row["name"],
        created_at=timestamp(row["created_at"]) or datetime.now(UTC),
        value_schema=schema,
        example=None if schema is None else example_of(schema),
    )


def timestamp(value: float | None) -> datetime | None:
    """A stored epoch time as an aware datetime."""
    return None if value is None else datetime.fromtimestamp(value, UTC)


def failure_of(text: str | None) -> Failure | None:
    """The stored failure JSON as a :class:`Failure`."""
    if text is None:
        return None
    data = json.loads(text)
    return Failure(message=str(data.get("message", "")), code=int(data.get("code", 500)))


def error_detail_text(
    error: BaseException, *, type_name: str | None = None, message: str | None = None
) -> str:
    """An error with its traceback as stored JSON text (never the inputs or locals of any frame)."""
    formatted = "".join(traceback.format_exception(error))
    if len(formatted) > MAX_TRACEBACK:
        formatted = "...\n" + formatted[-MAX_TRACEBACK:]
    detail = ErrorDetail(
        type=type_name or type(error).__name__,
        message=str(error) if message is None else message,
        traceback=formatted,
    )
    return detail.model_dump_json()


def error_detail_of(text: str | None) -> ErrorDetail | None:
    """The stored error detail JSON as an :class:`ErrorDetail`."""
    return None if text is None else ErrorDetail.model_validate_json(text)


def outcome_of_failure(failure: str | None) -> str:
    """How an invocation that completed with ``failure`` (``None``: with a result) ended."""
    if failure is None:
        return SUCCEEDED
    data = json.loads(failure)
    if data.get("cancelled"):
        return KILLED if data.get("message") == KILLED_MESSAGE else CANCELLED
    return FAILED


def journal_entry_of(row: sqlite3.Row, *, invocation_completed: bool = False) -> JournalEntry:
    """The public view of a journal row (of an invocation that completed, when ``invocation_completed``)."""
    created = row["created_at"]
    started = created if row["started_at"] is None else row["started_at"]
    completed = row["completed_at"]
    status = row["status"]
    if invocation_completed and status == ENTRY_PENDING and row["kind"] in ABANDONABLE_KINDS:
        status = ENTRY_ABANDONED
    failed = _attempt_views(row["attempts"])
    return JournalEntry(
        index=row["idx"],
        kind=row["kind"],
        name=row["name"],
        status=status,
        value=None if row["value"] is None else json.loads(row["value"]),
        failure=failure_of(row["failure"]),
        target=row["target"],
        created_at=timestamp(created) or datetime.now(UTC),
        started_at=timestamp(started) or datetime.now(UTC),
        completed_at=timestamp(completed),
        duration=None if completed is None else max(0.0, completed - started),
        task=row["task"],
        seq=row["idx"] if row["seq"] is None else row["seq"],
        attempts=len(failed) + 1,
        failed_attempts=failed,
    )


def _attempt_views(text: str | None) -> list[AttemptView]:
    if text is None:
        return []
    return [
        AttemptView(
            started_at=timestamp(item.started_at) or datetime.now(UTC),
            completed_at=timestamp(item.completed_at) or datetime.now(UTC),
            duration=max(0.0, item.completed_at - item.started_at),
            error=item.error,
        )
        for item in (StepAttempt.model_validate(data) for data in json.loads(text))
    ]


def running_entry(index: int, kind: str, name: str, started_at: float) -> JournalEntry:
    """A step executing now, not yet in the journal (it is written when it completes)."""
    started = timestamp(started_at) or datetime.now(UTC)
    return JournalEntry(
        index=index, kind=kind, name=name, status="running", created_at=started, started_at=started
    )


def invocation_info_of(row: sqlite3.Row, journal: list[sqlite3.Row]) -> InvocationInfo:
    """The public view of an invocation row and its journal rows."""
    return InvocationInfo(
        id=row["id"],
        service=row["service"],
        handler=row["handler"],
        key=row["obj_key"],
        status=row["status"],
        outcome=row["outcome"],
        input=None if row["input"] is None else json.loads(row["input"]),
        result=None if row["output"] is None else json.loads(row["output"]),
        failure=failure_of(row["failure"]),
        last_error=row["last_error"],
        error=error_detail_of(row["error_detail"]),
        attempts=row["attempts"],
        created_at=timestamp(row["created_at"]) or datetime.now(UTC),
        modified_at=timestamp(row["modified_at"]) or datetime.now(UTC),
        completed_at=timestamp(row["completed_at"]),
        journal=[journal_entry_of(r, invocation_completed=row["status"] == COMPLETED) for r in journal],
    )


def outcome_of(output: str | None, failure: str | None) -> Outcome:
    """The outcome of a completed invocation as its callers receive it."""
    return (ENTRY_FAILED, failure) if failure is not None else (ENTRY_COMPLETED, output)


@dataclass(slots=True)
class InvocationState:
    """What a runner needs to know about its invocation."""

    id: str
    spec: HandlerSpec
    key: str | None
    input: str
    attempts: int = 0
    completions: int = 0
    cancel_requested: bool = False
    cancel_at_await: int | None = None
    cancel_task: str = ""
    trace_context: str | None = None  # the invocation's trace anchor (agentdur._spans)
