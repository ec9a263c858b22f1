"""agentdur: durable AI agents.

Every model call, tool execution, timer, approval and state change of an agent becomes a journaled
step, so an agent resumes where it stopped after a crash, a redeploy or a day-long wait for a human.
The same handler code runs on the embedded engine (SQLite, in process) or on Restate.
"""

from ._combinators import as_completed, gather, select, wait_completed
from ._context import (
    Context,
    DurableCallFuture,
    DurableFuture,
    ObjectContext,
    ObjectSharedContext,
    SendHandle,
    StateList,
    current_context,
)
from ._exceptions import (
    AgentdurError,
    AwakeableValueError,
    ConflictError,
    DatabaseLockedError,
    EngineControl,
    InvalidInputError,
    InvalidRunOptionsError,
    InvocationCancelledError,
    InvocationPausedError,
    JournalMismatchError,
    JournalValueError,
    NotFoundError,
    StateNameError,
    StepAbortedError,
    StepTimeoutError,
    StoreWriteError,
    SuspendInvocation,
    TerminalError,
    UserError,
)
from ._options import MODEL_CALL_OPTIONS, InvocationRetryPolicy, RunOptions
from ._service import App, Service, VirtualObject, app
from ._workflow import DurablePromise, Workflow, WorkflowContext, WorkflowSharedContext
from .client import AsyncClient, Client
from .engine import Engine, ErrorDetail, Failure, InvocationInfo, JournalEntry, PendingAwakeable

__version__ = "0.1.0"

# restate-sdk's names for the same futures, so code written for it ports by changing the import.
RestateDurableFuture = DurableFuture
RestateDurableCallFuture = DurableCallFuture
RestateDurableSleepFuture = DurableFuture[None]

__all__ = [
    "AgentdurError",
    "App",
    "AsyncClient",
    "AwakeableValueError",
    "Client",
    "ConflictError",
    "Context",
    "DatabaseLockedError",
    "DurableCallFuture",
    "DurableFuture",
    "DurablePromise",
    "Engine",
    "EngineControl",
    "ErrorDetail",
    "Failure",
    "InvalidInputError",
    "InvalidRunOptionsError",
    "InvocationCancelledError",
    "InvocationInfo",
    "InvocationPausedError",
    "InvocationRetryPolicy",
    "JournalEntry",
    "JournalMismatchError",
    "JournalValueError",
    "MODEL_CALL_OPTIONS",
    "NotFoundError",
    "ObjectContext",
    "ObjectSharedContext",
    "PendingAwakeable",
    "RestateDurableCallFuture",
    "RestateDurableFuture",
    "RestateDurableSleepFuture",
    "RunOptions",
    "SendHandle",
    "Service",
    "StateList",
    "StateNameError",
    "StepAbortedError",
    "StepTimeoutError",
    "StoreWriteError",
    "SuspendInvocation",
    "TerminalError",
    "UserError",
    "VirtualObject",
    "Workflow",
    "WorkflowContext",
    "WorkflowSharedContext",
    "app",
    "as_completed",
    "current_context",
    "gather",
    "select",
    "wait_completed",
]
