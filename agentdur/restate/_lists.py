"""List state on Restate: one state key per item and a small header, so a change writes what it changes.

List ``name`` keeps its header under ``name`` itself (:data:`HEADER_PREFIX` then ``[first,next]``:
bytes that no JSON value starts with, so no plain value reads as a header) and item ``i`` under
``name`` + ``\\x1f`` + ``i`` for ``first <= i < next`` (state names holding ``\\x1f`` are refused). An
append sets the new items' keys and the header; ``keep_last`` and ``pop`` clear the keys they drop.
restate-server journals every state command with its value, so a read of the whole list still
journals the items read (once per read).

The header must be known before a change can be written: until the handler's first read of a list,
its changes wait in order (the header's read is issued at the first change). Reads (``items``,
``length``, ``get``, ``pop``) wait in the same queue, so each sees the list as the operations issued
before it left it. The queue is written, in order and under the list's lock (two tasks awaiting reads
of one list at once settle it once), at an await of one of its reads, before any other durable await
of the handler, and when the handler returns. Replay issues the same commands in the same order,
since waiting operations run only at those points.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from .._exceptions import TerminalError
from .._values import STATE_NAME_SEPARATOR, json_kind

T = TypeVar("T")

SEPARATOR = STATE_NAME_SEPARATOR
# A list header starts with bytes no JSON text starts with (every plain value is JSON).
HEADER_PREFIX = b"\x1flist"

# Set while the current task settles a list: its own durable awaits must not settle lists again.
SETTLING: contextvars.ContextVar[bool] = contextvars.ContextVar("agentdur_settling_list", default=False)


def item_key(name: str, index: int) -> str:
    """The state key of item ``index`` of list ``name``."""
    return f"{name}{SEPARATOR}{index}"


def header_of(raw: bytes | None) -> tuple[int, int] | None:
    """The ``(first, next)`` of a list header, or ``None`` when ``raw`` is not one."""
    if not raw or not raw.startswith(HEADER_PREFIX):
        return None
    value = json.loads(raw[len(HEADER_PREFIX) :])
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return int(value[0]), int(value[1])
    return None


def header_bytes(first: int, next_index: int) -> bytes:
    """A list header's bytes."""
    return HEADER_PREFIX + json.dumps([first, next_index], separators=(",", ":")).encode()


class ListHost(Protocol):
    """What the lists need of the Restate context."""

    def read_started(self, key: str) -> Awaitable[bytes | None]:
        """Issue a state read of ``key`` now (raw JSON bytes); await the result later."""

    async def read_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """Read several state keys (raw JSON bytes)."""

    def write_raw(self, key: str, value: bytes | None) -> None:
        """Set (``None``: clear) a state key to raw JSON bytes."""

    async def flush_cleared(self) -> None:
        """Write a clear_all still held (and what follows it) before reading items."""

    def model_created(self, name: str) -> None:
        """List ``name`` got its model (state reads of ``name`` issued before may need a snapshot)."""


@dataclass
class ListModel:
    """What one list holds as this invocation's issued commands left it."""

    known: bool = False
    header: tuple[int, int] | None = None  # (first, next) when it is a list
    plain: bytes | None = None  # the plain value when it is not (None: absent)
    base: Awaitable[bytes | None] | None = None  # the read of the stored value, until known
    pending: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # A clear_all was issued after its queued operations: they still read (a pop returns its item)
    # but write nothing, and the clear_all waits for them (see RestateContext.clear_all).
    doomed: bool = False


class Lists:
    """The state lists of one Restate invocation."""

    def __init__(self, host: ListHost) -> None:
        self._host = host
        self.models: dict[str, ListModel] = {}
        self.all_cleared = False  # after clear_all every list starts known and empty

    def model(self, name: str) -> ListModel:
        """The model of list ``name`` (created on first use)."""
        found = self.models.get(name)
        if found is None:
            found = self.models[name] = ListModel(known=self.all_cleared)
            self._host.model_created(name)
        return found

    def write(self, model: ListModel, key: str, raw: bytes | None) -> None:
        """Write a key for ``model`` (nothing when a later clear_all removes it anyway)."""
        if not model.doomed:
            self._host.write_raw(key, raw)

    def change(self, name: str, apply: Callable[[ListModel], None]) -> None:
        """Apply a change now when the list is known and nothing waits or runs before it, else queue it."""
        model = self.model(name)
        if model.known and not model.pending and not model.lock.locked():
            apply(model)
            return

        async def run(current: ListModel) -> None:
            apply(current)

        self.queue(name, run)

    def queue(self, name: str, run: Callable[[ListModel], Awaitable[None]]) -> ListModel:
        """Queue an operation that waits (a pop reads the item it removes, a read its result); the
        stored value's read is issued now if it is not known yet. Returns the list's model."""
        model = self.model(name)
        if not model.known and model.base is None:
            model.base = self._host.read_started(name)
        model.pending.append(lambda: run(model))
        return model

    def read(self, name: str, compute: Callable[[ListModel], Awaitable[T]]) -> Callable[[], Awaitable[T]]:
        """Queue a read of list ``name`` now; the returned coroutine function gives its result (the
        list as the operations issued before the read left it)."""
        cell: list[T] = []
        failed: list[TerminalError] = []

        async def run(current: ListModel) -> None:
            try:
                cell.append(await compute(current))
            except TerminalError as error:  # the read's own failure ("not a list"): raised at its await,
                failed.append(error)  # not at whichever await wrote the queue

        model = self.queue(name, run)

        async def result() -> T:
            await self.settle_model(name, model)
            if failed:
                raise failed[0]
            return cell[0]

        return result

    async def settle(self, name: str) -> ListModel:
        """Learn the stored value of ``name`` if needed and run every queued operation, in order."""
        return await self.settle_model(name, self.model(name))

    async def settle_model(self, name: str, model: ListModel) -> ListModel:
        """:meth:`settle` of a given model of ``name`` (one a clear_all replaced, too)."""
        async with model.lock:
            token = SETTLING.set(True)
            try:
                if not model.known:
                    if model.base is None:
                        model.base = self._host.read_started(name)
                    raw = await model.base
                    model.header = header_of(raw)
                    model.plain = None if model.header is not None else raw
                    model.known = True
                    model.base = None
                while model.pending:
                    await model.pending.pop(0)()
            finally:
                SETTLING.reset(token)
        return model

    async def settle_all(self) -> None:
        """Run every queued operation (before a durable await, or the handler returned)."""
        for name in list(self.models):
            if self.models[name].pending:
                await self.settle(name)

    # ----------------------------------------------------------------- changes (model known)

    def _plain_items(self, name: str, model: ListModel) -> list[bytes]:
        if model.plain is None:
            return []
        value = json.loads(model.plain)
        if not isinstance(value, list):
            raise TerminalError(
                f"state {name!r} holds a JSON {json_kind(value)}, not a list: clear it or use ctx.get"
            )
        return [json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode() for item in value]

    def _as_list(self, name: str, model: ListModel) -> tuple[int, int]:
        """The list's (first, next), converting a plain JSON array into items first."""
        if model.header is not None:
            return model.header
        converted = self._plain_items(name, model)
        for index, raw in enumerate(converted):
            self.write(model, item_key(name, index), raw)
        model.plain = None
        return 0, len(converted)

    def _set_header(self, name: str, model: ListModel, first: int, next_index: int) -> None:
        model.header = (first, next_index)
        self.write(model, name, header_bytes(first, next_index))

    def append(self, name: str, model: ListModel, raws: Sequence[bytes]) -> None:
        """Set the new items' keys and the header."""
        first, next_index = self._as_list(name, model)
        for offset, raw in enumerate(raws):
            self.write(model, item_key(name, next_index + offset), raw)
        self._set_header(name, model, first, next_index + len(raws))

    def keep_last(self, name: str, model: ListModel, count: int) -> None:
        """Clear the keys of the oldest items beyond ``count``."""
        if model.header is None and len(self._plain_items(name, model)) <= count:
            return
        first, next_index = self._as_list(name, model)
        new_first = max(first, next_index - count)
        for index in range(first, new_first):
            self.write(model, item_key(name, index), None)
        self._set_header(name, model, new_first, next_index)

    async def pop(self, name: str, model: ListModel) -> bytes | None:
        """Clear the newest item's key and return its JSON."""
        await self._flush_before_read(model)
        if model.header is None and not self._plain_items(name, model):
            return None
        first, next_index = self._as_list(name, model)
        if next_index <= first:
            self._set_header(name, model, first, next_index)
            return None
        key = item_key(name, next_index - 1)
        # The read is issued before the writes, and the model changed before any await: a change
        # issued while the item is read applies to the list without it.
        read = self._host.read_started(key)
        self.write(model, key, None)
        self._set_header(name, model, first, next_index - 1)
        return await read

    def drop(self, name: str, model: ListModel) -> None:
        """The list stops being one: clear its items' keys (the caller writes ``name`` itself)."""
        if model.header is not None:
            first, next_index = model.header
            for index in range(first, next_index):
                self.write(model, item_key(name, index), None)
        model.header = None

    # ----------------------------------------------------------------- reads (model known)

    async def items_of(self, name: str, model: ListModel, last: int | None) -> bytes:
        """The JSON array of the items (the newest ``last``) as ``model`` holds them now."""
        await self._flush_before_read(model)
        if model.header is None:
            raws = self._plain_items(name, model)
            return _array(raws if last is None else raws[max(0, len(raws) - last) :] if last else [])
        first, next_index = model.header
        start = first if last is None else max(first, next_index - last)
        # read_many issues every read before it awaits: the items as they are now
        stored = await self._host.read_many([item_key(name, i) for i in range(start, next_index)])
        return _array([raw or b"null" for raw in stored])

    async def _flush_before_read(self, model: ListModel) -> None:
        if not model.doomed:  # items written after a held clear_all: written before they are read
            await self._host.flush_cleared()

    def length_of(self, name: str, model: ListModel) -> int:
        """How many items ``model`` holds now."""
        if model.header is None:
            return len(self._plain_items(name, model))
        return model.header[1] - model.header[0]

    async def value_of(self, name: str, model: ListModel) -> bytes | None:
        """What ``ctx.get(name)`` reads: a list's items as a JSON array, else the plain value."""
        return await self.items_of(name, model, None) if model.header is not None else model.plain


def _array(raws: Sequence[bytes]) -> bytes:
    return b"[" + b",".join(raws) + b"]"
