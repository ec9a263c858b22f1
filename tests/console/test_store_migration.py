"""A journal written before step attempts were recorded opens, gains the column, and reads back."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from agentdur.engine import _records as r
from agentdur.engine._store import SCHEMA, Store


def test_an_older_file_gains_the_attempts_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old_schema = SCHEMA.replace("    attempts TEXT,\n", "")
    assert old_schema != SCHEMA
    with sqlite3.connect(path) as conn:
        conn.executescript(old_schema)
        conn.execute(
            "INSERT INTO journal (invocation_id, idx, kind, name, status, value, created_at, started_at,"
            " completed_at) VALUES ('inv_old', 0, 'run', 'step', 'completed', '1', 10.0, 10.0, 12.5)"
        )
    store = Store(path)
    try:
        (row,) = store.read("SELECT * FROM journal")
        entry = r.journal_entry_of(row)
        assert (entry.attempts, entry.failed_attempts, entry.duration) == (1, [], 2.5)
    finally:
        asyncio.run(store.close())
    again = Store(path)  # opening it again changes nothing
    asyncio.run(again.close())
