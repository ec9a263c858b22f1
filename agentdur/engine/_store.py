"""The SQLite file behind the embedded engine: schema, one writer with group commit, reads.

Every write goes through one writer thread. Writes submitted while a commit is in progress are
batched into the next transaction (group commit), each inside its own savepoint so that one failing
operation never leaves half of itself behind. A submitter is told its write succeeded only after the
transaction holding it committed: that is when a journal entry is durable.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

R = TypeVar("R")
Synchronous = Literal["FULL", "NORMAL"]
WriteOp = Callable[[sqlite3.Connection], Any]

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
    last_error TEXT,
    idempotency_key TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    wake_at REAL,
    completions INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    cancel_at_await INTEGER,
    cancel_task TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    modified_at REAL NOT NULL,
    completed_at REAL
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS invocations_idempotency
    ON invocations (service, handler, ifnull(obj_key, ''), idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS invocations_unfinished ON invocations (status, seq) WHERE status != 'completed';
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
    completed_at REAL,
    task TEXT NOT NULL DEFAULT '',
    seq INTEGER,
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
"""

# Columns added since the first schema: (table, column, definition). Opening an older file adds them.
ADDED_COLUMNS = [
    ("invocations", "cancel_task", "TEXT NOT NULL DEFAULT ''"),
    ("journal", "task", "TEXT NOT NULL DEFAULT ''"),
    ("journal", "seq", "INTEGER"),
]


def migrate(conn: sqlite3.Connection) -> None:
    """Bring a file written by an earlier version up to the current schema (idempotent)."""
    for table, column, definition in ADDED_COLUMNS:
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")


# A queued write: the operation, the future to resolve after commit (None: nobody waits), and
# whether it is a single statement that needs no savepoint.
_Item = tuple[WriteOp, "asyncio.Future[Any] | None", bool]


class StoreClosedError(RuntimeError):
    """The store was closed or its writer failed; nothing more can be written."""


def connect(path: str | Path, synchronous: Synchronous) -> sqlite3.Connection:
    """A connection configured the way every connection to the file must be."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=OFF")
    return conn


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
        self._reader = connect(self.path, synchronous)
        self._reader.executescript(SCHEMA)
        migrate(self._reader)
        self._reader.execute(
            "INSERT OR IGNORE INTO meta (k, v) VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
        )
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._failed: BaseException | None = None
        self._closed = False
        self.commits = 0
        self.writes = 0

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start the writer thread; futures of writes complete on ``loop``."""
        self._loop = loop
        self._thread = threading.Thread(target=self._write_loop, name="agentdur-writer", daemon=True)
        self._thread.start()

    def write(
        self, op: Callable[[sqlite3.Connection], R], *, single_statement: bool = False
    ) -> asyncio.Future[R]:
        """Submit a write; the future resolves with ``op``'s result once it is committed.

        Args:
            single_statement: ``op`` runs one SQL statement, atomic by itself, so it needs no
                savepoint of its own (the hot path of journal entries).
        """
        if self._failed is not None or self._closed:
            raise StoreClosedError(f"the engine's store is closed ({self._failed or 'closed'})")
        assert self._loop is not None
        future: asyncio.Future[R] = self._loop.create_future()
        self._queue.put((op, future, single_statement))
        return future

    def write_nowait(self, op: WriteOp, *, single_statement: bool = False) -> None:
        """Submit a write nobody waits for; later acknowledged writes commit after it (FIFO)."""
        if self._failed is not None or self._closed:
            raise StoreClosedError(f"the engine's store is closed ({self._failed or 'closed'})")
        self._queue.put((op, None, single_statement))

    def barrier(self) -> asyncio.Future[None]:
        """A future that resolves when everything submitted so far is committed."""
        return self.write(lambda conn: None)

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
        self._closed = True
        self._queue.put(None)
        if self._thread is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._thread.join)
        self._reader.close()

    def _write_loop(self) -> None:
        conn = connect(self.path, self.synchronous)
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                batch = [item]
                stop = False
                while len(batch) < MAX_BATCH:
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None:
                        stop = True
                        break
                    batch.append(nxt)
                self._commit(conn, batch)
                if stop:
                    return
        except BaseException as error:  # a broken file: fail every later write loudly
            self._failed = error
            log.exception("agentdur writer stopped")
        finally:
            conn.close()

    def _commit(self, conn: sqlite3.Connection, batch: list[_Item]) -> None:
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for op, future, single_statement in batch:
                if not single_statement:
                    conn.execute("SAVEPOINT op")
                try:
                    result = op(conn)
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
        except BaseException as error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            failed = [(f, None, error) for _, f, _ in batch if f is not None]
            self._deliver(failed)
            raise
        self.commits += 1
        self.writes += len(batch)
        self._deliver(outcomes)

    def _deliver(self, outcomes: Sequence[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
        if outcomes and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(_resolve_all, outcomes)


def _resolve_all(outcomes: Sequence[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, result, error in outcomes:
        if future.done():
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)
