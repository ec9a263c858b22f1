"""List state on the embedded engine: items stored as rows, reads journaled as a version reference.

A list ``name`` of an object key has a header row in ``state_lists`` (its version, the next item
sequence number, whether it is a list now) and one row per item in ``state_items``. Every change
bumps the version by one: an appended item records the version that added it, a removed one the
version that removed it. The journal holds only what a change changes (the appended items, a pop's
item, a count), and a read in an exclusive handler holds a *reference*: ``{"v": version}`` (and
``"last"``). Replay reads the rows visible at that version, so it sees exactly what the first run
saw. Removed rows stay until the exclusive invocation that removed them completes (no later replay
can need them then: the key's next exclusive invocation cannot start before). A read in a shared
handler journals a copy, since an exclusive handler may change the list beside it.

The handler's own changes are written without waiting: :class:`ListCache` keeps, for each list the
invocation touched, what it holds now, so reads see those changes before they commit.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import TerminalError
from .._values import json_kind
from . import _records as r
from ._store import Store

# One item row: (sequence number, JSON text).
Row = tuple[int, str]

_VISIBLE_AT = "added_v <= ? AND (removed_v IS NULL OR removed_v > ?)"


# ----------------------------------------------------------------- writes (writer thread)


def write_header(
    conn: sqlite3.Connection, service: str, key: str, name: str, version: int, next_seq: int, active: bool
) -> None:
    """Set a list's header."""
    conn.execute(
        "INSERT INTO state_lists (service, obj_key, name, version, next_seq, active) VALUES (?,?,?,?,?,?)"
        " ON CONFLICT (service, obj_key, name) DO UPDATE SET version=excluded.version,"
        " next_seq=excluded.next_seq, active=excluded.active",
        (service, key, name, version, next_seq, int(active)),
    )


def insert_items(
    conn: sqlite3.Connection, service: str, key: str, name: str, rows: Sequence[Row], version: int
) -> None:
    """Add item rows, added at ``version``."""
    conn.executemany(
        "INSERT OR REPLACE INTO state_items (service, obj_key, name, seq, value, added_v, removed_v)"
        " VALUES (?,?,?,?,?,?,NULL)",
        [(service, key, name, seq, text, version) for seq, text in rows],
    )


def remove_items_below(
    conn: sqlite3.Connection, service: str, key: str, name: str, below_seq: int | None, version: int
) -> None:
    """Mark the present items with a sequence number below ``below_seq`` (all: ``None``) removed."""
    sql = "UPDATE state_items SET removed_v=? WHERE service=? AND obj_key=? AND name=? AND removed_v IS NULL"
    params: tuple[Any, ...] = (version, service, key, name)
    if below_seq is not None:
        sql += " AND seq < ?"
        params += (below_seq,)
    conn.execute(sql, params)


def remove_item(conn: sqlite3.Connection, service: str, key: str, name: str, seq: int, version: int) -> None:
    """Mark one item removed."""
    conn.execute(
        "UPDATE state_items SET removed_v=? WHERE service=? AND obj_key=? AND name=? AND seq=?",
        (version, service, key, name, seq),
    )


def drop_list(
    conn: sqlite3.Connection, service: str, key: str, name: str, version: int, next_seq: int
) -> None:
    """The list stops being one (cleared, or replaced by a plain value) at ``version``."""
    remove_items_below(conn, service, key, name, None, version)
    write_header(conn, service, key, name, version, next_seq, False)


def purge_removed(conn: sqlite3.Connection, service: str, key: str) -> None:
    """Delete the removed items and the headers of former lists of an object key (its exclusive
    invocation completed: no replay can read them any more)."""
    conn.execute(
        "DELETE FROM state_items WHERE service=? AND obj_key=? AND removed_v IS NOT NULL", (service, key)
    )
    conn.execute("DELETE FROM state_lists WHERE service=? AND obj_key=? AND active=0", (service, key))


def delete_all(conn: sqlite3.Connection, service: str, key: str) -> None:
    """Delete every list of an object key (a purged workflow run)."""
    conn.execute("DELETE FROM state_items WHERE service=? AND obj_key=?", (service, key))
    conn.execute("DELETE FROM state_lists WHERE service=? AND obj_key=?", (service, key))


# ----------------------------------------------------------------- reads (any thread)


def array_text(texts: Sequence[str]) -> str:
    """The JSON array of item texts."""
    return "[" + ",".join(texts) + "]"


def committed_items(store: Store, service: str, key: str, name: str) -> list[Row] | None:
    """The present items of a list as committed, or ``None`` when ``name`` is not a list."""
    with store.snapshot():
        return _committed_items(store, service, key, name)


def _committed_items(store: Store, service: str, key: str, name: str) -> list[Row] | None:
    header = store.read_one(
        "SELECT active FROM state_lists WHERE service=? AND obj_key=? AND name=?", (service, key, name)
    )
    if header is None or not header[0]:
        return None
    rows = store.read(
        "SELECT seq, value FROM state_items WHERE service=? AND obj_key=? AND name=? AND removed_v IS NULL"
        " ORDER BY seq",
        (service, key, name),
    )
    return [(int(row[0]), str(row[1])) for row in rows]


def items_at(store: Store, service: str, key: str, name: str, version: int, last: int | None) -> str:
    """The JSON array of a list's items as they were at ``version`` (the newest ``last`` of them)."""
    where = f"service=? AND obj_key=? AND name=? AND {_VISIBLE_AT}"
    params: tuple[Any, ...] = (service, key, name, version, version)
    if last is None:
        rows = store.read(f"SELECT value FROM state_items WHERE {where} ORDER BY seq", params)
        return array_text([str(row[0]) for row in rows])
    rows = store.read(
        f"SELECT value FROM state_items WHERE {where} ORDER BY seq DESC LIMIT ?", (*params, last)
    )
    return array_text([str(row[0]) for row in reversed(rows)])


def active_names(store: Store, service: str, key: str) -> set[str]:
    """The names of an object key's lists, as committed."""
    rows = store.read(
        "SELECT name FROM state_lists WHERE service=? AND obj_key=? AND active=1", (service, key)
    )
    return {str(row[0]) for row in rows}


def committed_state(store: Store, service: str, key: str) -> dict[str, str]:
    """Every committed state entry of an object key as JSON text by name, lists as their array."""
    with store.snapshot():
        return _committed_state(store, service, key)


def _committed_state(store: Store, service: str, key: str) -> dict[str, str]:
    values = {
        str(row[0]): str(row[1])
        for row in store.read("SELECT name, value FROM state WHERE service=? AND obj_key=?", (service, key))
    }
    for name in active_names(store, service, key):
        rows = committed_items(store, service, key, name)
        if rows is not None:
            values[name] = array_text([text for _, text in rows])
    return values


# ----------------------------------------------------------------- the handler's view


@dataclass(slots=True)
class ListHead:
    """What a list the running invocation touched holds now, its changes not yet committed included."""

    version: int
    next_seq: int
    active: bool
    rows: list[Row] = field(default_factory=list)  # the present items, when ``active``


class ListCache:
    """The lists an exclusive invocation touched, as its own changes left them."""

    def __init__(self, store: Store, service: str, key: str) -> None:
        self._store = store
        self._service = service
        self._key = key
        self.heads: dict[str, ListHead] = {}
        self._stored: set[str] | None = None  # the committed lists when first asked

    def stored_names(self) -> set[str]:
        """The lists of the key as committed when the invocation first asked (only this invocation
        changes them after that, through ``heads``)."""
        if self._stored is None:
            self._stored = active_names(self._store, self._service, self._key)
        return self._stored

    def head(self, name: str, cleared_all: bool) -> ListHead:
        """The head of list ``name``, loaded from the file the first time."""
        found = self.heads.get(name)
        if found is not None:
            return found
        # Read even after a clear_all: a header this invocation dropped earlier keeps its version
        # and sequence numbers, which new changes must continue (its removed rows are still there).
        row = self._store.read_one(
            "SELECT version, next_seq, active FROM state_lists WHERE service=? AND obj_key=? AND name=?",
            (self._service, self._key, name),
        )
        head = ListHead(0, 0, False) if row is None else ListHead(int(row[0]), int(row[1]), bool(row[2]))
        head.active = head.active and not cleared_all  # cleared by this invocation, maybe uncommitted
        if head.active:
            head.rows = committed_items(self._store, self._service, self._key, name) or []
        self.heads[name] = head
        return head

    def is_list(self, name: str, cleared_all: bool) -> bool:
        """Whether ``name`` is a list now."""
        found = self.heads.get(name)
        if found is not None:
            return found.active
        return not cleared_all and name in self.stored_names()

    def all_lists(self, cleared_all: bool) -> list[str]:
        """The names of every list now."""
        names = set() if cleared_all else set(self.stored_names())
        for name, head in self.heads.items():
            (names.add if head.active else names.discard)(name)
        return sorted(names)


def plain_items(name: str, text: str | None) -> list[str]:
    """The items of a plain state value read as a list: a JSON array, or nothing when unset.

    Raises:
        TerminalError: the value is not a JSON array.
    """
    if text is None:
        return []
    value = json.loads(text)
    if not isinstance(value, list):
        raise TerminalError(
            f"state {name!r} holds a JSON {json_kind(value)}, not a list: clear it or use ctx.get"
        )
    return [json.dumps(item, separators=(",", ":"), ensure_ascii=False) for item in value]


def reference(version: int, last: int | None) -> str:
    """The journal value of a read in an exclusive handler."""
    ref: dict[str, int] = {"v": version}
    if last is not None:
        ref["last"] = last
    return json.dumps(ref, separators=(",", ":"))


def resolve(store: Store, service: str, key: str, name: str, value: str | None) -> str:
    """The items a recorded read returned: its copy, or the rows at its reference."""
    if value is None or not value.startswith("{"):
        return value or "[]"
    ref = json.loads(value)
    return items_at(store, service, key, name, int(ref["v"]), ref.get("last"))


def newest(texts: list[str], last: int | None) -> list[str]:
    """The newest ``last`` of ``texts`` (all of them when ``None``)."""
    if last is None:
        return texts
    return texts[max(0, len(texts) - last) :] if last else []


LIST_READS = frozenset({r.LIST_ITEMS, r.LIST_LENGTH})
Op = Callable[[sqlite3.Connection], None]
