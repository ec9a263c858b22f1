"""Retention: completed invocations' journals and idempotency records are removed once they expire.

The knobs and their defaults follow Restate's: ``journal_retention`` (one day) is how long a completed
invocation and its journal are kept; ``idempotency_retention`` (one day) is how long an invocation
started with an idempotency key keeps answering that key with its recorded result, and it caps the
journal retention of such an invocation (its journal goes after the shorter of the two, its record
after the idempotency retention). Object state is never removed: it belongs to the object, not to
an invocation.

Workflow runs are the exception: they keep their workflow's own retention (``_workflows`` sweeps
them, with their key's state and promises), so this sweep leaves them alone; an on-demand purge
removes them the way purging one run does.

A background sweep runs every ``retention_interval``. Each step removes at most ``SWEEP_BATCH``
invocations and frees at most ``VACUUM_PAGES`` pages in one short write, so the writer never stalls;
a step that found a full batch is followed by another at once, after the writes queued meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from .._service import App
from .._workflow import Workflow
from . import _records as r
from ._store import Store
from ._workflow_runs import purge_run

log = logging.getLogger("agentdur.engine")

DAY = 86400.0
DEFAULT_JOURNAL_RETENTION = DAY
DEFAULT_IDEMPOTENCY_RETENTION = DAY
DEFAULT_RETENTION_INTERVAL = 60.0
SWEEP_BATCH = 500
VACUUM_PAGES = 256
# Where the removal of journals of idempotent invocations (kept, without journal, until their
# idempotency retention ends) has got to: their completion time, so each sweep starts past them.
JOURNAL_CURSOR = "retention_journal_cursor"
# Spelled out (not a parameter) so that SQLite uses the partial index on completed invocations.
COMPLETED = f"status='{r.COMPLETED}'"

# Called inside the sweep's transaction with the ids of the invocations it removes, so that rows
# hanging off an invocation go with it.
Cleanup = Callable[[sqlite3.Connection, Sequence[str]], None]
CLEANUPS: list[Cleanup] = []
# (service, handler) of each workflow's run handler: runs live by their workflow's retention.
WorkflowRuns = frozenset[tuple[str, str]]


def workflow_runs(app: App) -> WorkflowRuns:
    """The run handlers of the app's workflows."""
    return frozenset(
        (d.name, d.main_handler)
        for d in app.services.values()
        if isinstance(d, Workflow) and d.main_handler is not None
    )


@dataclass(frozen=True)
class RetentionPolicy:
    """How long completed invocations are kept, in seconds (``None``: forever).

    Attributes:
        journal_retention: a completed invocation and its journal.
        idempotency_retention: an invocation started with an idempotency key (its key answers with
            the recorded result until then); it caps that invocation's journal retention.
        interval: seconds between background sweeps (``None``: no background sweep).
    """

    journal_retention: float | None = DEFAULT_JOURNAL_RETENTION
    idempotency_retention: float | None = DEFAULT_IDEMPOTENCY_RETENTION
    interval: float | None = DEFAULT_RETENTION_INTERVAL

    def __post_init__(self) -> None:
        for name in ("journal_retention", "idempotency_retention", "interval"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be 0 or more seconds (or None), not {value!r}")

    @property
    def idempotent_journal_retention(self) -> float | None:
        """How long the journal of an idempotent invocation is kept: the shorter of both retentions."""
        kept = [v for v in (self.journal_retention, self.idempotency_retention) if v is not None]
        return min(kept) if kept else None


def auto_vacuum_mode(store: Store) -> str:
    """``none``, ``full`` or ``incremental``: how the file gives freed pages back."""
    row = store.read_one("PRAGMA auto_vacuum")
    return {0: "none", 1: "full", 2: "incremental"}.get(int(row[0]) if row else 0, "none")


# ====================================================================== write operations


def remove_invocations(conn: sqlite3.Connection, ids: Sequence[str]) -> int:
    """Delete completed invocations, their journals and what hangs off them; how many went."""
    if not ids:
        return 0
    for cleanup in CLEANUPS:
        cleanup(conn, ids)
    removed = 0
    for inv_id in ids:
        conn.execute("DELETE FROM journal WHERE invocation_id=?", (inv_id,))
        removed += conn.execute(
            "DELETE FROM invocations WHERE id=? AND status=?", (inv_id, r.COMPLETED)
        ).rowcount
    return removed


def purge_before(conn: sqlite3.Connection, before: float, limit: int, runs: WorkflowRuns) -> int:
    """Remove up to ``limit`` completed invocations that completed before ``before`` (epoch); a
    workflow run goes with its key's state and promises, as when its retention ends."""
    ids: list[str] = []
    runs_removed = 0
    for inv_id, service, handler, key in conn.execute(
        f"SELECT id, service, handler, obj_key FROM invocations WHERE {COMPLETED} AND completed_at<?"
        " ORDER BY completed_at LIMIT ?",
        (before, limit),
    ).fetchall():
        if (service, handler) in runs and key is not None:
            purge_run(conn, inv_id, service, key)
            runs_removed += 1
        else:
            ids.append(str(inv_id))
    return runs_removed + remove_invocations(conn, ids)


def sweep(
    conn: sqlite3.Connection,
    policy: RetentionPolicy,
    now: float,
    limit: int,
    runs: WorkflowRuns = frozenset(),
) -> int:
    """One bounded step of retention: expired records and journals; how many rows it touched."""
    not_runs = "".join(" AND NOT (service=? AND handler=?)" for _ in runs)
    run_params = tuple(part for pair in sorted(runs) for part in pair)
    done = 0
    for idempotent, retention in (
        (False, policy.journal_retention),
        (True, policy.idempotency_retention),
    ):
        if retention is None or done >= limit:
            continue
        ids = [
            str(row[0])
            for row in conn.execute(
                f"SELECT id FROM invocations WHERE {COMPLETED} AND completed_at<?"
                f" AND idempotency_key IS {'NOT ' if idempotent else ''}NULL{not_runs}"
                " ORDER BY completed_at LIMIT ?",
                (now - retention, *run_params, limit - done),
            )
        ]
        done += remove_invocations(conn, ids)
    journal_only = policy.idempotent_journal_retention
    if journal_only is not None and journal_only != policy.idempotency_retention and done < limit:
        done += _drop_idempotent_journals(conn, now - journal_only, limit - done)
    return done


def _drop_idempotent_journals(conn: sqlite3.Connection, before: float, limit: int) -> int:
    """Remove the journals (not the records) of idempotent invocations completed before ``before``."""
    row = conn.execute("SELECT v FROM meta WHERE k=?", (JOURNAL_CURSOR,)).fetchone()
    cursor = float(row[0]) if row else 0.0
    found = conn.execute(
        f"SELECT id, completed_at FROM invocations WHERE {COMPLETED} AND completed_at>=? AND completed_at<?"
        " AND idempotency_key IS NOT NULL ORDER BY completed_at LIMIT ?",
        (cursor, before, limit),
    ).fetchall()
    dropped = 0
    for inv_id, _ in found:
        dropped += conn.execute("DELETE FROM journal WHERE invocation_id=?", (inv_id,)).rowcount
    if found:
        # Past the last one done; a batch ending inside a run of equal times stays on that time.
        last = float(found[-1][1])
        conn.execute(
            "INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)",
            (JOURNAL_CURSOR, repr(last if len(found) == limit else before)),
        )
    return dropped


def reclaim(conn: sqlite3.Connection, pages: int) -> int:
    """Give up to ``pages`` free pages back to the file system (incremental auto-vacuum); how many."""
    free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
    count = min(free, pages)
    # One step of the pragma frees one page; Python's execute runs exactly one step.
    for _ in range(count):
        conn.execute("PRAGMA incremental_vacuum(1)")
    return count


# ====================================================================== the engine's side


class Retention:
    """The background sweep of one engine, and the on-demand purge."""

    def __init__(self, store: Store, policy: RetentionPolicy, runs: WorkflowRuns = frozenset()) -> None:
        self.store = store
        self.policy = policy
        self.runs = runs
        self.incremental = auto_vacuum_mode(store) == "incremental"
        self._task: asyncio.Task[None] | None = None
        self.removed = 0
        self.sweeps = 0

    def start(self) -> None:
        """Start the background sweep (nothing to do when the policy has no interval)."""
        if self.policy.interval is None:
            return
        if not self.incremental:
            log.warning(
                "the journal %s was created without incremental auto-vacuum: retention frees pages for"
                " reuse but the file does not shrink (docs/operating.md, Retention, converts it)",
                self.store.path,
            )
        self._task = asyncio.get_running_loop().create_task(self._run(self.policy.interval))

    async def close(self) -> None:
        """Stop the background sweep."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            if self.store.fault is not None:
                continue  # the file cannot be written now; the engine reports it on /health
            try:
                await self.sweep_now()
            except Exception:  # a failed sweep is retried at the next interval
                log.exception("the retention sweep failed")

    async def sweep_now(self) -> int:
        """Sweep until nothing expired is left, in bounded steps; how many rows went."""
        total = 0
        while True:
            done = await self.store.write(
                partial(sweep, policy=self.policy, now=time.time(), limit=SWEEP_BATCH, runs=self.runs)
            )
            total += done
            if done < SWEEP_BATCH:
                break
        self.removed += total
        self.sweeps += 1
        await self._reclaim()
        return total

    async def purge_completed_before(self, before: float) -> int:
        """Remove every invocation completed before ``before`` (epoch seconds), in bounded steps."""
        total = 0
        while True:
            done = await self.store.write(
                partial(purge_before, before=before, limit=SWEEP_BATCH, runs=self.runs)
            )
            total += done
            if done < SWEEP_BATCH:
                break
        await self._reclaim()
        return total

    async def _reclaim(self) -> None:
        if not self.incremental:
            return
        while await self.store.write(partial(reclaim, pages=VACUUM_PAGES)) == VACUUM_PAGES:
            pass
