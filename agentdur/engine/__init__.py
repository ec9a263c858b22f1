"""The embedded engine: durable execution on a SQLite file, in this process, zero infrastructure."""

from ._engine import Engine
from ._records import ErrorDetail, Failure, InvocationInfo, JournalEntry, PendingAwakeable

__all__ = ["Engine", "ErrorDetail", "Failure", "InvocationInfo", "JournalEntry", "PendingAwakeable"]
