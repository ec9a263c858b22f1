"""Every exception agentdur raises, in one place.

The hierarchy separates three things a caller treats differently::

    Exception
    └── AgentdurError                 base of everything below
        ├── UserError                 misuse of the API, found where it happens
        │   │                         (a handler defined twice, a context used outside a handler)
        │   ├── DatabaseLockedError   the SQLite file is owned by another engine (one owner per file)
        │   └── InvalidRunOptionsError   ``RunOptions`` or a retry policy built with an impossible value
        ├── StoreWriteError           the embedded engine could not write its journal (503);
        │                             nothing of the failed write was recorded
        ├── StepAbortedError          a step body raised a BaseException that is not engine control
        │                             flow (SystemExit, KeyboardInterrupt, GeneratorExit, ...): retryable
        ├── StepTimeoutError          a step attempt ran longer than ``RunOptions.timeout``: retryable
        ├── JournalValueError         a value that cannot be journaled (wrong type, NaN, too large)
        ├── JournalMismatchError      replay met a different step than the journal holds;
        │                             the invocation is paused, never retried in a loop
        ├── InvocationPausedError     told to a caller waiting for an invocation that paused
        │                             (not final: resuming it can still complete it)
        └── TerminalError             a failure that is final: journaled, never retried
            ├── InvalidInputError     400: handler input failed validation
            │   └── AwakeableValueError   400: an awakeable was resolved with a value of the wrong type
            ├── NotFoundError         404: unknown service, handler, invocation or awakeable
            ├── ConflictError         409: already completed, or an idempotency key reused
            └── InvocationCancelledError  409: the invocation was cancelled

    BaseException
    └── EngineControl                 engine control flow; user ``except Exception`` cannot swallow it
        └── SuspendInvocation         the invocation is released from memory while it waits

Any other exception raised by a step or a handler is retryable: the engine retries it with backoff
until the limits of the step's ``RunOptions`` or the invocation retry policy.
"""

from __future__ import annotations

from typing import Any

from ._http import (
    CANCELLED_MESSAGE,
    HTTP_BAD_REQUEST,
    HTTP_CONFLICT,
    HTTP_INTERNAL_ERROR,
    HTTP_NOT_FOUND,
    HTTP_SERVICE_UNAVAILABLE,
    is_cancellation,
)


class AgentdurError(Exception):
    """Base class of every error agentdur raises on purpose."""


class UserError(AgentdurError):
    """The API was used in a way it cannot work: fix the code, retrying will not help."""


class DatabaseLockedError(UserError):
    """Another engine owns the SQLite file: one process (one :class:`~agentdur.Engine`) per database.

    Args:
        db_path: the database file.
        owner: who holds it (pid, host, start time, command line), as far as it is known.
    """

    def __init__(self, db_path: str, owner: str) -> None:
        super().__init__(
            f"the database {db_path!r} is already in use by {owner}; an embedded engine owns its file "
            "alone (stop the other process, or give this one another --db). To run the same app in "
            "several processes, use the Restate backend (agentdur serve --backend restate)"
        )
        self.db_path = db_path
        self.owner = owner


class WaitTimeout(AgentdurError, AssertionError):
    """A condition the testing kit polled for (``agentdur.testing.wait_for``) did not hold in time.

    An ``AssertionError`` too, so a test that waits for something reports it as a failed check.
    """


class StoreWriteError(AgentdurError):
    """The embedded engine could not write its journal (I/O error, disk full, read-only file, busy).

    Whatever the failed write carried was not recorded. While the store cannot write, new writes are
    refused at once with this error and ``/health`` answers 503; invocations whose writes failed are
    stopped and paused as soon as the store can write again (or resumed at the next start).
    """

    status_code = HTTP_SERVICE_UNAVAILABLE


class StepAbortedError(AgentdurError):
    """A step body raised a ``BaseException`` that is not engine control flow.

    ``SystemExit``, ``KeyboardInterrupt``, ``GeneratorExit``, a ``CancelledError`` the engine did not
    cause, a ``StopIteration`` out of a sync function: none of them may stop the process or leave the
    invocation running with nothing journaled. The attempt fails with this (retryable) error instead,
    so the step's ``RunOptions`` and then the invocation retry policy apply, and finally a pause.

    Handler code raising one of them (outside any step) fails its attempt the same way.

    Args:
        step: the step's name (or ``service/handler`` with ``handler=True``).
        error: what the body raised.
        handler: the error came from handler code, not from a step's body.
    """

    def __init__(self, step: str, error: BaseException, *, handler: bool = False) -> None:
        detail = f": {error}" if str(error) else ""
        where = f"handler {step}" if handler else f"step {step!r}"
        super().__init__(
            f"{where} raised {type(error).__name__}{detail}; agentdur code cannot stop the process "
            "or leave its invocation running, so this attempt failed and is retried"
        )
        self.step = step
        self.error_type = type(error).__name__


class StepTimeoutError(AgentdurError, TimeoutError):
    """A step attempt ran longer than its ``RunOptions.timeout`` (retryable, like any step error).

    An async body is cancelled; a sync body cannot be stopped, so its thread is abandoned: it runs on
    to its end, its result is dropped, and the engine counts it until then.
    """

    def __init__(self, step: str, timeout: float, *, abandoned_thread: bool = False) -> None:
        tail = "; its thread keeps running and its result will be dropped" if abandoned_thread else ""
        super().__init__(f"step {step!r} did not finish within its timeout of {timeout:g}s{tail}")
        self.step = step
        self.timeout = timeout


class JournalValueError(AgentdurError, ValueError):
    """A value that cannot be journaled: it does not match its declared type, holds a non-finite float
    or an integer of more than 4300 digits (JSON cannot carry them both ways), or its JSON is larger
    than the maximum journal entry size. As a step result it fails the attempt (retryable): nothing
    of it reaches the journal."""


class InvalidRunOptionsError(UserError, ValueError):
    """``RunOptions`` (or a retry policy) built with a value it cannot work with; the message names
    the field."""


class JournalMismatchError(AgentdurError):
    """Replay found a different operation at a journal index than the one recorded there.

    The handler code changed (or is not deterministic) between the original execution and the
    replay. The invocation is paused so that an operator can fix the code and resume it.
    """

    def __init__(self, index: int, recorded: str, actual: str) -> None:
        super().__init__(
            f"journal mismatch at index {index}: the journal holds {recorded!r} "
            f"but the handler now issued {actual!r}; the invocation is paused"
        )
        self.index = index
        self.recorded = recorded
        self.actual = actual


class InvocationPausedError(AgentdurError):
    """The invocation a caller waits for was paused: it needs an operator, so the wait ends here.

    Raised to external callers (``Engine.call``/``attach``, the HTTP ingress, :class:`agentdur.Client`)
    when the invocation runs out of retries or meets a journal mismatch, and at once when they
    attach to an invocation that is already paused. The invocation itself is not lost: fix the
    cause, ``agentdur resume ID`` (or ``PATCH /invocations/ID/resume``), and attach again.

    Args:
        invocation_id: the paused invocation.
        reason: why it was paused (the last error, or the mismatch).
    """

    def __init__(self, invocation_id: str, reason: str) -> None:
        super().__init__(
            f"invocation {invocation_id} is paused: {reason}; fix the cause, then resume it with "
            f"`agentdur resume {invocation_id}` (PATCH /invocations/{invocation_id}/resume) and attach again"
        )
        self.invocation_id = invocation_id
        self.reason = reason


class TerminalError(AgentdurError):
    """A failure that must not be retried.

    Raised inside a step or a handler, it is journaled and propagated to the caller as is.

    Args:
        message: what went wrong, shown to the caller.
        status_code: an HTTP-style code carried to callers (500 unless a subclass says otherwise).
    """

    default_status = HTTP_INTERNAL_ERROR

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = self.default_status if status_code is None else status_code

    def to_json(self) -> dict[str, Any]:
        """The failure as stored in the journal and returned over HTTP."""
        return {"message": self.message, "code": self.status_code}


class StateNameError(UserError, TerminalError):
    """A state name agentdur cannot store (it holds the character reserved for list items).

    Terminal: the invocation fails at once rather than retrying into the same error.
    """


class InvalidInputError(TerminalError):
    """Handler input that does not validate against the handler's input type."""

    default_status = HTTP_BAD_REQUEST


class AwakeableValueError(InvalidInputError):
    """A value that does not match the type an awakeable expects; the message names the field.

    Resolving an awakeable with such a value is refused (the awakeable stays pending, so the right
    value can still be sent). A handler awaiting an awakeable whose value does not validate (on
    Restate, which checks nothing at resolve time) gets this error at the await.
    """


class NotFoundError(TerminalError):
    """An unknown service, handler, invocation or awakeable."""

    default_status = HTTP_NOT_FOUND


class ConflictError(TerminalError):
    """The target is already completed, or an idempotency key was reused with another input."""

    default_status = HTTP_CONFLICT


class InvocationCancelledError(TerminalError):
    """Raised inside a cancelled invocation at its next await; compensation code may still run steps."""

    default_status = HTTP_CONFLICT

    def __init__(self, message: str = CANCELLED_MESSAGE, status_code: int | None = None) -> None:
        super().__init__(message, status_code)


# The status-to-exception mapping, the same for the journal, HTTP answers and restate-sdk failures.
ERRORS_BY_STATUS: dict[int, type[TerminalError]] = {
    HTTP_BAD_REQUEST: InvalidInputError,
    HTTP_NOT_FOUND: NotFoundError,
    HTTP_CONFLICT: ConflictError,
}


def error_for_status(code: int, message: str, *, cancelled: bool | None = None) -> TerminalError:
    """The most specific TerminalError for a failure's code and message.

    Args:
        code: the failure's status code.
        message: the failure's message.
        cancelled: the journaled cancellation flag, when the failure carries one (the embedded
            engine's journal). Without it (an HTTP answer, a restate-sdk failure) only the exact
            cancellation code and wording count (:func:`agentdur._http.is_cancellation`), never a
            word in the message.
    """
    if cancelled if cancelled is not None else is_cancellation(code, message):
        return InvocationCancelledError(message, code)
    return ERRORS_BY_STATUS.get(code, TerminalError)(message, code)


def terminal_error_from_json(data: dict[str, Any]) -> TerminalError:
    """Rebuild the most specific TerminalError subclass from its journaled form."""
    message = str(data.get("message", ""))
    code = int(data.get("code", HTTP_INTERNAL_ERROR))
    return error_for_status(code, message, cancelled=bool(data.get("cancelled")))


def terminal_error_to_json(error: TerminalError) -> dict[str, Any]:
    """The journaled form of a TerminalError; cancellation is marked so it survives a round trip."""
    data = error.to_json()
    if isinstance(error, InvocationCancelledError):
        data["cancelled"] = True
    return data


class EngineControl(BaseException):
    """Engine control flow travelling through handler code; never catch it."""


class SuspendInvocation(EngineControl):
    """The invocation is being released from memory; it resumes by replay when woken."""
