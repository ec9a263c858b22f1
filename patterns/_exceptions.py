"""The errors the patterns raise, all terminal (journaled, never retried)::

agentdur.TerminalError
├── UnknownRouteError      400: a route name that is not one of the router's routes
├── BranchStopped          409: a racing step that lost and stopped when asked to
├── RaceTimedOut           408: no racing branch succeeded before the race's deadline
├── AllBranchesFailed      500: every racing branch failed
└── ParallelFailed         500: ``run_all`` with failed branches (the first is the message)
"""

from __future__ import annotations

from agentdur import TerminalError

__all__ = ["AllBranchesFailed", "BranchStopped", "ParallelFailed", "RaceTimedOut", "UnknownRouteError"]

HTTP_BAD_REQUEST = 400
HTTP_TIMEOUT = 408
HTTP_CONFLICT = 409


class UnknownRouteError(TerminalError):
    """The model or the rule chose a route the router does not have."""

    default_status = HTTP_BAD_REQUEST


class BranchStopped(TerminalError):
    """A racing local step saw its stop signal (another branch won) and gave up."""

    default_status = HTTP_CONFLICT


class RaceTimedOut(TerminalError):
    """The race's deadline passed before any branch succeeded; every branch was cancelled."""

    default_status = HTTP_TIMEOUT


class AllBranchesFailed(TerminalError):
    """Every branch of a race failed; the message lists their errors in input order."""


class ParallelFailed(TerminalError):
    """Some branches of ``run_all`` failed; the message is the first failure (in input order)."""
