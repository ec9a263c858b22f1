"""The SQLite file behind the embedded engine: schema, one writer with group commit, reads.

Every write goes through one writer thread. Writes submitted while a commit is in progress are
batched into the next transaction (group commit), each inside its own savepoint so that one failing
operation never leaves half of itself behind. A submitter is told its write succeeded only after the
transaction holding it committed: that is when a journal entry is durable.

When the file refuses a write (I/O error, disk full, read-only, still busy after the retries), the
transaction and every write queued behind it fail with :class:`StoreWriteError` and the store is
*failed*: new writes are refused at once until a test write succeeds again. Nothing submitted after a
failed write ever commits while it is missing, so no journal gets a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

from .._exceptions import StoreWriteError
from ._records import KILLED_MESSAGE

R = TypeVar("R")
Synchronous = Literal["FULL", "NORMAL"]
WriteOp = Callable[[sqlite3.Connection], Any]
OnError = Callable[[BaseException], None]

log = logging.getLogger("agentdur.engine")

SCHEMA_VERSION = "1"
MAX_BATCH = 2000

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS invocations (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    service TEXT NOT NULL,
    handler TEXT NOT NULL,
    obj_key TEXT,
    exclusive INTEGER NOT NULL,
    status TEXT NOT NULL,
    input TEXT,
    output TEXT,
    failure TEXT,
    outcome TEXT,
    last_error TEXT,
    error_detail TEXT,
    idempotency_key TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    wake_at REAL,
    completions INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    cancel_at_await INTEGER,
    cancel_task TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    modified_at REAL NOT NULL,
    completed_at REAL,
    trace_context TEXT,
    crashes INTEGER NOT NULL DEFAULT 0,
    crash_mark INTEGER
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS invocations_idempotency
    ON invocations (service, handler, ifnull(obj_key, ''), idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS invocations_unfinished ON invocations (status, seq) WHERE status != 'completed';
CREATE INDEX IF NOT EXISTS invocations_completed ON invocations (completed_at) WHERE status = 'completed';
CREATE TABLE IF NOT EXISTS journal (
    invocation_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    value TEXT,
    failure TEXT,
    target TEXT,
    wake_at REAL,
    created_at REAL NOT NULL,
    started_at REAL,
    completed_at REAL,
    task TEXT NOT NULL DEFAULT '',
    seq INTEGER,
    value_schema TEXT,
    attempts TEXT,
    done_order INTEGER,
    PRIMARY KEY (invocation_id, idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS journal_target ON journal (target) WHERE target IS NOT NULL;
CREATE INDEX IF NOT EXISTS journal_pending_timers ON journal (wake_at)
    WHERE kind = 'sleep' AND status = 'pending';
CREATE TABLE IF NOT EXISTS waiters (
    invocation_id TEXT NOT NULL,
    parent_id TEXT NOT NULL,
    parent_index INTEGER NOT NULL,
    PRIMARY KEY (invocation_id, parent_id, parent_index)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state (
    service TEXT NOT NULL,
    obj_key TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (service, obj_key, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state_lists (
    service TEXT NOT NULL,
    obj_key TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    next_seq INTEGER NOT NULL,
    active INTEGER NOT NULL,
    PRIMARY KEY (service, obj_key, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state_items (
    service TEXT NOT NULL,
    obj_key TEXT NOT NULL,
    name TEXT NOT NULL,
    seq INTEGER NOT NULL,
    value TEXT NOT NULL,
    added_v INTEGER NOT NULL,
    removed_v INTEGER,
    PRIMARY KEY (service, obj_key, name, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS state_items_removed ON state_items (service, obj_key) WHERE removed_v IS NOT NULL;
CREATE TABLE IF NOT EXISTS promises (
    service TEXT NOT NULL,
    wf_key TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    value TEXT,
    failure TEXT,
    completed_at REAL NOT NULL,
    PRIMARY KEY (service, wf_key, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS usage (
    invocation_id TEXT NOT NULL,
    service TEXT NOT NULL,
    obj_key TEXT,
    step TEXT NOT NULL,
    provider TEXT,
    model TEXT,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL,
    cost_usd REAL,
    replayed INTEGER NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_at ON usage (at);
"""

# Columns added since the first schema: (table, column, definition). Opening an older file adds them.
ADDED_COLUMNS = [
    ("invocations", "cancel_task", "TEXT NOT NULL DEFAULT ''"),
    ("journal", "task", "TEXT NOT NULL DEFAULT ''"),
    ("journal", "seq", "INTEGER"),
    ("invocations", "outcome", "TEXT"),
    ("invocations", "error_detail", "TEXT"),
    ("journal", "started_at", "REAL"),
    ("journal", "value_schema", "TEXT"),  # the JSON schema a pending awakeable's value must match
    ("journal", "attempts", "TEXT"),  # a retried step's attempts: JSON [{started_at, completed_at, error}]
    ("invocations", "trace_context", "TEXT"),  # the W3C traceparent its spans join (agentdur._spans)
    # crashes of the process in a row while the invocation ran, and its journal size at the last one
    ("invocations", "crashes", "INTEGER NOT NULL DEFAULT 0"),
    ("invocations", "crash_mark", "INTEGER"),
    # the order in which the invocation's entries completed (agentdur.engine._replay_order)
    ("journal", "done_order", "INTEGER"),
]


def migrate(conn: sqlite3.Connection) -> None:
    """Bring a file written by an earlier version up to the current schema (idempotent)."""
    had_outcome = "outcome" in {row[1] for row in conn.execute("PRAGMA table_info(invocations)")}
    for table, column, definition in ADDED_COLUMNS:
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
    if not had_outcome:
        _derive_outcomes(conn)
    conn.execute(
        "CREATE INDEX IF NOT EXISTS journal_done ON journal (invocation_id, done_order)"
        " WHERE done_order IS NOT NULL"
    )


def _derive_outcomes(conn: sqlite3.Connection) -> None:
    """The outcome of invocations completed before it was stored, from their output and failure."""
    conn.execute(
        "UPDATE invocations SET outcome = CASE"
        " WHEN failure IS NULL THEN 'succeeded'"
        " WHEN json_extract(failure, '$.cancelled') AND json_extract(failure, '$.message') = ?"
        " THEN 'killed'"
        " WHEN json_extract(failure, '$.cancelled') THEN 'cancelled'"
        " ELSE 'failed' END"
        " WHERE status = 'completed'",
        (KILLED_MESSAGE,),
    )


# A queued write: the operation, the future to resolve after commit (None: nobody waits), whether
# it is a single statement that needs no savepoint, and whom to tell when the store fails it.
_Item = tuple[WriteOp, "asyncio.Future[Any] | None", bool, "OnError | None"]
# A committed write's result for its future: (future, result, the op's own error).
_Outcome = tuple["asyncio.Future[Any]", Any, "BaseException | None"]

# SQLite itself waits this long for another connection's write lock before answering "busy"...
BUSY_TIMEOUT = 5.0
# ...then the writer retries the whole transaction after each of these pauses before giving up.
RETRY_DELAYS: tuple[float, ...] = (0.05, 0.1, 0.2, 0.4, 0.8)
# While the store cannot write, it tries a test write after these pauses (doubling up to the last).
PROBE_FIRST = 0.05
PROBE_MAX = 2.0
_TRANSIENT = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


class StoreClosedError(RuntimeError):
    """The store was closed; nothing more can be written."""


def connect(
    path: str | Path, synchronous: Synchronous, timeout: float = 30.0, *, opening: bool = False
) -> sqlite3.Connection:
    """A connection configured the way every connection to the file must be.

    Args:
        opening: the store's first connection, which creates a new file with incremental auto-vacuum.
    """
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=timeout)
    if opening:
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")  # takes effect on a new file only (before WAL)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=OFF")
    return conn


def is_transient(error: sqlite3.Error) -> bool:
    """True for "busy" and "locked": another connection holds the file for now."""
    return (getattr(error, "sqlite_errorcode", 0) & 0xFF) in _TRANSIENT


class Store:
    """The engine's SQLite file.

    Args:
        path: the database file; created with its schema when missing.
        synchronous: ``"FULL"`` (default; a commit survives power loss) or ``"NORMAL"`` (in WAL mode a
            commit survives a process crash but the last transactions may be lost on power loss).
    """

    def __init__(self, path: str | Path, synchronous: Synchronous = "FULL") -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be 'FULL' or 'NORMAL', not {synchronous!r}")
        self.path = Path(path)
        self.synchronous = synchronous
        self._reader = connect(self.path, synchronous, opening=True)
        self._reader.executescript(SCHEMA)
        migrate(self._reader)
        self._reader.execute(
            "INSERT OR IGNORE INTO meta (k, v) VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
        )
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        # Held while a write is queued and while a fault is declared: a write is either queued before
        # the fault (and failed with the writes it follows) or refused, never committed after it.
        self._submit = threading.Lock()
        self._fault: StoreWriteError | None = None
        self._lost: StoreWriteError | None = None  # the file was removed or replaced: never cleared
        self._closed = False
        self.on_recovered: Callable[[], None] | None = None
        self._snapshot_lock = threading.RLock()
        self._snapshot_depth = 0
        self.commits = 0
        self.writes = 0
        self.busy_retries = 0
        self.faults = 0

    @property
    def fault(self) -> StoreWriteError | None:
        """Why the store cannot write right now, or ``None`` while it can."""
        return self._lost or self._fault

    def declare_lost(self, error: StoreWriteError) -> None:
        """The file is no longer the one opened (removed or replaced): refuse every write from now on."""
        with self._submit:
            self._lost = error

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start the writer thread; futures of writes complete on ``loop``."""
        self._loop = loop
        self._thread = threading.Thread(target=self._write_loop, name="agentdur-writer", daemon=True)
        self._thread.start()

    def write(
        self,
        op: Callable[[sqlite3.Connection], R],
        *,
        single_statement: bool = False,
        on_error: OnError | None = None,
    ) -> asyncio.Future[R]:
        """Submit a write; the future resolves with ``op``'s result once it is committed.

        The future fails with :class:`StoreWriteError` when the store cannot write (at once while
        it is known not to), and ``on_error`` is then called first with the error.

        Args:
            single_statement: ``op`` runs one SQL statement, atomic by itself, so it needs no
                savepoint of its own (the hot path of journal entries).
            on_error: told when the store fails this write, before the future is.
        """
        assert self._loop is not None
        future: asyncio.Future[R] = self._loop.create_future()
        refused = self._put((op, future, single_statement, on_error))
        if refused is not None:
            future.set_exception(refused)
        return future

    def write_nowait(
        self, op: WriteOp, *, single_statement: bool = False, on_error: OnError | None = None
    ) -> None:
        """Submit a write nobody waits for; later acknowledged writes commit after it (FIFO).

        Args:
            on_error: called on the event loop with a :class:`StoreWriteError` when the store fails
                this write (without it, the failure is only logged).
        """
        self._put((op, None, single_statement, on_error))

    def _put(self, item: _Item) -> StoreWriteError | None:
        """Queue a write, or refuse it (returning the error) while the store cannot write."""
        with self._submit:
            if self._closed:
                raise StoreClosedError("the engine's store is closed")
            fault = self._lost or self._fault
            if fault is None:
                self._queue.put(item)
                return None
        refused = StoreWriteError(str(fault))
        on_error = item[3]
        if on_error is not None:
            assert self._loop is not None
            self._loop.call_soon(on_error, refused)
        elif item[1] is None:
            log.error("a journal write was refused: %s", refused)
        return refused

    async def barrier(self) -> None:
        """Return once everything submitted so far is committed, or failed: while the store cannot
        write, what is committed is all there will be, so readers go on with it."""
        if self._fault is None:
            with contextlib.suppress(StoreWriteError):
                await self.write(_nothing)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads made inside (by this thread) see one committed state of the file: one read
        transaction, for a value that takes several queries (a list's header and its rows)."""
        with self._snapshot_lock:
            self._snapshot_depth += 1
            if self._snapshot_depth == 1:
                self._reader.execute("BEGIN")
            try:
                yield
            finally:
                self._snapshot_depth -= 1
                if self._snapshot_depth == 0:
                    self._reader.execute("COMMIT")

    def read(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """Run a read-only query on committed data."""
        cursor = self._reader.execute(sql, params)
        cursor.row_factory = sqlite3.Row
        return cursor.fetchall()

    def read_one(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        """The first row of a read-only query, or ``None``."""
        rows = self.read(sql, params)
        return rows[0] if rows else None

    async def close(self) -> None:
        """Commit what is queued, stop the writer and close the file."""
        if self._closed:
            return
        with self._submit:
            self._closed = True
        self._queue.put(None)
        if self._thread is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._thread.join)
        self._reader.close()

    # ================================================================= the writer thread

    def _write_loop(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while True:
                if self._fault is not None:
                    conn = self._wait_until_writable()
                    if conn is None:
                        return
                batch, stop = self._next_batch()
                if batch:
                    conn = self._commit_or_fault(conn, batch)
                if stop:
                    return
        except BaseException as error:  # a bug in the writer itself: refuse every later write loudly
            log.exception("agentdur writer stopped")
            self._declare_fault(error, [])
        finally:
            if conn is not None:
                conn.close()

    def _next_batch(self) -> tuple[list[_Item], bool]:
        """The next writes to commit together (blocks for the first); and whether to stop after."""
        item = self._queue.get()
        if item is None:
            return [], True
        batch = [item]
        while len(batch) < MAX_BATCH:
            try:
                nxt = self._queue.get_nowait()
            except queue.Empty:
                break
            if nxt is None:
                return batch, True
            batch.append(nxt)
        return batch, False

    def _commit_or_fault(
        self, conn: sqlite3.Connection | None, batch: list[_Item]
    ) -> sqlite3.Connection | None:
        """Commit a batch, retrying while the file is busy; on failure, declare the store failed."""
        try:
            if conn is None:
                conn = connect(self.path, self.synchronous, BUSY_TIMEOUT)
            retries = 0
            while True:
                try:
                    outcomes = self._transaction(conn, batch)
                    break
                except sqlite3.OperationalError as error:
                    if retries >= len(RETRY_DELAYS) or not is_transient(error):
                        raise
                    delay = RETRY_DELAYS[retries]
                    retries += 1
                    self.busy_retries += 1
                    log.warning("the journal is busy (%s); retrying in %.2fs", error, delay)
                    time.sleep(delay)
        except sqlite3.Error as error:
            self._declare_fault(error, batch)
            if conn is not None:
                conn.close()
            return None
        self.commits += 1
        self.writes += len(batch)
        self._deliver(outcomes)
        return conn

    def _transaction(self, conn: sqlite3.Connection, batch: list[_Item]) -> list[_Outcome]:
        """Run a batch in one transaction; an op's own error is its outcome, the database's aborts all."""
        outcomes: list[_Outcome] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for op, future, single_statement, _ in batch:
                if not single_statement:
                    conn.execute("SAVEPOINT op")
                try:
                    result = op(conn)
                except sqlite3.Error:
                    raise  # the file refused the write: nothing of this batch may commit
                except Exception as error:
                    if not single_statement:
                        conn.execute("ROLLBACK TO op")
                        conn.execute("RELEASE op")
                    if future is None:
                        log.error("a journal write failed and was rolled back: %r", error)
                    else:
                        outcomes.append((future, None, error))
                    continue
                if not single_statement:
                    conn.execute("RELEASE op")
                if future is not None:
                    outcomes.append((future, result, None))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise
        return outcomes

    def _declare_fault(self, error: BaseException, batch: list[_Item]) -> None:
        """Refuse new writes and fail the batch and every write queued behind it (none may commit
        after a failed one: that would leave a gap in a journal)."""
        fault = self._fault_of(error)
        with self._submit:
            self._fault = fault
            failed = list(batch)
            stop = False
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                else:
                    failed.append(item)
            if stop:  # close() is waiting: the writer still has to see its request
                self._queue.put(None)
        self.faults += 1
        log.error("%s; %d queued write(s) failed, new writes are refused until it can", fault, len(failed))
        self._fail(failed, fault)

    def _wait_until_writable(self) -> sqlite3.Connection | None:
        """While failed: fail what arrives, probe with backoff; a connection once writable again
        (``None``: the store is closing)."""
        delay = PROBE_FIRST
        while True:
            try:
                item = self._queue.get(timeout=delay)
            except queue.Empty:
                conn = self._probe()
                if conn is not None:
                    return conn
                delay = min(delay * 2, PROBE_MAX)
                continue
            if item is None:
                return None
            assert self._fault is not None
            self._fail([item], self._fault)

    def _probe(self) -> sqlite3.Connection | None:
        """A test write of each kind of row the engine writes, undone, then a committed one."""
        conn: sqlite3.Connection | None = None
        try:
            conn = connect(self.path, self.synchronous, BUSY_TIMEOUT)
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("SAVEPOINT probe")
            conn.execute(
                "INSERT INTO invocations (id, seq, service, handler, exclusive, status, created_at, modified_at)"
                " VALUES ('agentdur-probe', -1, '', '', 0, 'probe', 0, 0)"
            )
            conn.execute(
                "INSERT INTO journal (invocation_id, idx, kind, name, status, created_at)"
                " VALUES ('agentdur-probe', -1, 'probe', '', 'probe', 0)"
            )
            conn.execute("ROLLBACK TO probe")
            conn.execute("RELEASE probe")
            conn.execute("INSERT OR REPLACE INTO meta (k, v) VALUES ('writable_at', ?)", (str(time.time()),))
            conn.execute("COMMIT")
        except sqlite3.Error as error:
            self._fault = self._fault_of(error)
            if conn is not None:
                conn.close()
            return None
        with self._submit:
            self._fault = None
        log.warning("agentdur can write its journal %s again", self.path)
        if self.on_recovered is not None and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.on_recovered)
        return conn

    def _fault_of(self, error: BaseException) -> StoreWriteError:
        return StoreWriteError(
            f"the journal {str(self.path)!r} cannot be written: {type(error).__name__}: {error}"
        )

    def _deliver(self, outcomes: Sequence[_Outcome]) -> None:
        if outcomes and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(_resolve_all, outcomes)

    def _fail(self, items: Sequence[_Item], fault: StoreWriteError) -> None:
        if items and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(_fail_all, items, str(fault))


def _nothing(conn: sqlite3.Connection) -> None:
    """The write of a barrier: it only waits for the writes before it."""


def _resolve_all(outcomes: Sequence[_Outcome]) -> None:
    for future, result, error in outcomes:
        if future.done():
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)


def _fail_all(items: Sequence[_Item], message: str) -> None:
    """Tell the owners of failed writes first (they stop their invocations), then fail the futures."""
    for _, future, _, on_error in items:
        if on_error is not None:
            on_error(StoreWriteError(message))
        elif future is None:
            log.error("a journal write was lost: %s", message)
    for _, future, _, _ in items:
        if future is not None and not future.done():
            future.set_exception(StoreWriteError(message))
