"""The handler context of the embedded engine: each operation becomes a journal entry."""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, Optional, TypeVar, cast

from pydantic import TypeAdapter

from .._context import DurableFuture, ObjectContext, SendHandle, StateList, current_step
from .._exceptions import JournalValueError, TerminalError, UserError
from .._options import RunOptions, check_run_options
from .._schema import schema_text_of
from .._serde import adapter_for, step_result_type
from .._tasks import current_track
from .._values import check_state_name, dump_checked
from . import _lists, _ops, _requests
from . import _records as r
from ._futures import EmbeddedAwakeableFuture, EmbeddedCallFuture, EmbeddedSendHandle
from ._runner import InvocationRunner

T = TypeVar("T")
AWAKEABLE_PREFIX = "prom_1"


def new_awakeable_id() -> str:
    """An unguessable awakeable id: 192 random bits."""
    return AWAKEABLE_PREFIX + secrets.token_urlsafe(24)


class EmbeddedContext(ObjectContext):
    """Every context operation for every handler kind; what is allowed depends on the handler.

    Plain services have no key or state; shared object handlers read state but cannot change it.
    """

    def __init__(self, runner: InvocationRunner, *, restarted: bool = False) -> None:
        self._runner = runner
        self._restarted = restarted  # an earlier attempt ran: what it published may come again
        self.loop = runner.loop  # for sync code in worker threads that needs to reach the handler
        self._inv = runner.inv
        self._spec = runner.inv.spec
        self._resumed_at = runner.next_index  # the first journal index this attempt adds
        self._overlay: dict[str, str | None] = {}
        self._cleared_all = False
        self._lists: _lists.ListCache | None = None

    # ----------------------------------------------------------------- steps

    def run_typed(
        self,
        name: str,
        action: Callable[..., Any],
        options: RunOptions[Any] = RunOptions(),
        /,
        *args: Any,
        **kwargs: Any,
    ) -> DurableFuture[Any]:
        check_run_options(name, options)
        adapter = adapter_for(step_result_type(action, options.type_hint))
        return self._runner.run_step(name, action, options, adapter, args, kwargs)

    def sleep(self, delta: timedelta, name: str | None = None) -> DurableFuture[None]:
        runner = self._runner
        step_name = name or "sleep"
        idx, entry = runner.enter(r.SLEEP, step_name)
        if entry is None:
            wake_at = time.time() + max(0.0, delta.total_seconds())
            runner.record(idx, r.SLEEP, step_name, r.ENTRY_PENDING, wake_at=wake_at)
            entry = r.Entry(r.SLEEP, step_name, r.ENTRY_PENDING, wake_at=wake_at)
        fut = runner.future(idx, entry, None)
        if entry.status == r.ENTRY_PENDING and entry.wake_at is not None:
            runner.runtime.ensure_timer(self._inv.id, idx, entry.wake_at)
        return fut

    def awakeable(
        self, type_hint: Any = Any, description: str | None = None
    ) -> tuple[str, DurableFuture[Any]]:
        """Create an awakeable; ``description`` is shown in the pending-approvals list.

        The JSON schema of ``type_hint`` is recorded with it: a resolution that does not match is
        refused (400) and the awakeable stays pending.
        """
        runner = self._runner
        name = description or "awakeable"
        idx, entry = runner.enter(r.AWAKEABLE, name)
        if entry is None:
            awakeable_id = new_awakeable_id()
            schema = schema_text_of(type_hint)
            runner.record(idx, r.AWAKEABLE, name, r.ENTRY_PENDING, target=awakeable_id, value_schema=schema)
            entry = r.Entry(r.AWAKEABLE, name, r.ENTRY_PENDING, target=awakeable_id)
        assert entry.target is not None
        fut: EmbeddedAwakeableFuture[Any] = EmbeddedAwakeableFuture(
            runner, idx, adapter_for(type_hint), entry.target
        )
        runner.settle(fut, entry)
        return entry.target, fut

    def resolve_awakeable(self, name: str, value: Any) -> None:
        self._complete_awakeable(
            r.RESOLVE_AWAKEABLE,
            name,
            r.ENTRY_COMPLETED,
            self._checked(f"the value for awakeable {name}", value),
            None,
        )

    def reject_awakeable(self, name: str, failure_message: str, failure_code: int = 500) -> None:
        failure = json.dumps(TerminalError(failure_message, failure_code).to_json())
        self._complete_awakeable(r.REJECT_AWAKEABLE, name, r.ENTRY_FAILED, None, failure)

    def _complete_awakeable(
        self, kind: str, awakeable_id: str, status: str, value: str | None, failure: str | None
    ) -> None:
        runner = self._runner
        idx, entry = runner.enter(kind, awakeable_id)
        if entry is None:
            _requests.complete_awakeable_from_handler(
                runner.runtime, runner, idx, kind, awakeable_id, status, value, failure
            )

    # ----------------------------------------------------------------- calls

    def _call(
        self,
        service: str,
        handler: str,
        key: str | None,
        arg: bytes,
        adapter: TypeAdapter[Any] | None,
        idempotency_key: str | None,
    ) -> EmbeddedCallFuture[Any]:
        runner = self._runner
        name = f"{service}/{handler}"
        idx, entry = runner.enter(r.CALL, name)
        if entry is None:
            text = arg.decode() or "null"
            _, entry = _requests.start_call(
                runner.runtime, runner, idx, service, handler, key, text, idempotency_key
            )
        assert entry.target is not None
        fut: EmbeddedCallFuture[Any] = EmbeddedCallFuture(runner, idx, adapter, entry.target)
        runner.settle(fut, entry)
        return fut

    def generic_send(
        self,
        service: str,
        handler: str,
        arg: bytes,
        key: str | None = None,
        send_delay: timedelta | None = None,
        idempotency_key: str | None = None,
    ) -> SendHandle:
        runner = self._runner
        name = f"{service}/{handler}"
        idx, entry = runner.enter(r.SEND, name)
        if entry is None:
            text = bytes(arg).decode() or "null"
            callee_id = _requests.start_send(
                runner.runtime, runner, idx, service, handler, key, text, send_delay, idempotency_key
            )
        else:
            callee_id = json.loads(entry.value or "null")
        return EmbeddedSendHandle(str(callee_id))

    def cancel_invocation(self, invocation_id: str) -> None:
        runner = self._runner
        idx, entry = runner.enter(r.CANCEL, invocation_id)
        if entry is None:
            _requests.cancel_from_handler(runner.runtime, runner, idx, invocation_id)

    # ----------------------------------------------------------------- determinism

    def random(self) -> random.Random:
        """This task's deterministic generator: each task of the handler has its own, seeded by the
        invocation id and the task's path, so tasks interleaving differently cannot change values."""
        track = current_track(self._runner, "ctx.random()")
        if track.random is None:
            seed_text = self._inv.id if not track.path else f"{self._inv.id}\0{track.path}"
            seed = int.from_bytes(hashlib.sha256(seed_text.encode()).digest()[:8], "big")
            track.random = random.Random(seed)
        return track.random

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.random().getrandbits(128), version=4)

    def time(self) -> DurableFuture[float]:
        runner = self._runner
        idx, entry = runner.enter(r.TIME, "time")
        if entry is None:
            value = json.dumps(time.time())
            runner.record(idx, r.TIME, "time", r.ENTRY_COMPLETED, value)
            entry = r.Entry(r.TIME, "time", r.ENTRY_COMPLETED, value)
        return runner.future(idx, entry, adapter_for(float))

    def invocation_id(self) -> str:
        return self._inv.id

    def _publish(self, data: Any) -> None:
        step = current_step()
        # Handler code re-runs on replay, up to the first operation the last attempt did not reach
        # (a step body runs only when its step is new): until then, what it publishes was most
        # likely published before.
        runner = self._runner
        replayed = step is None and (
            runner.replaying or (self._restarted and self._resumed_at == runner.next_index)
        )
        runner.runtime.live.publish(self._inv.id, data, replayed=replayed, step=step)

    # ----------------------------------------------------------------- state

    def key(self) -> str:
        if self._inv.key is None:
            raise UserError(f"{self._spec.service!r} is a service: only virtual objects have a key")
        return self._inv.key

    def get(self, name: str, type_hint: Any = Any) -> DurableFuture[Any]:
        check_state_name(name)
        key = self.key()
        runner = self._runner
        idx, entry = runner.enter(r.GET_STATE, name)
        if entry is None:
            value = self._read_state(key, name)
            runner.record(idx, r.GET_STATE, name, r.ENTRY_COMPLETED, value)
            entry = r.Entry(r.GET_STATE, name, r.ENTRY_COMPLETED, value)
        return runner.future(idx, entry, adapter_for(type_hint))

    def state_keys(self) -> DurableFuture[list[str]]:
        key = self.key()
        runner = self._runner
        idx, entry = runner.enter(r.STATE_KEYS, "state_keys")
        if entry is None:
            value = json.dumps(self._read_keys(key))
            runner.record(idx, r.STATE_KEYS, "state_keys", r.ENTRY_COMPLETED, value)
            entry = r.Entry(r.STATE_KEYS, "state_keys", r.ENTRY_COMPLETED, value)
        return runner.future(idx, entry, adapter_for(list[str]))

    def set(self, name: str, value: Any) -> None:
        check_state_name(name)
        self._write_state(r.SET_STATE, name, self._checked(f"the value of state {name!r}", value))

    def _checked(self, what: str, value: Any) -> str:
        return dump_checked(what, adapter_for(Any), value, self._runner.runtime.max_entry_size)

    def clear(self, name: str) -> None:
        check_state_name(name)
        self._write_state(r.CLEAR_STATE, name, None)

    def clear_all(self) -> None:
        key = self._writable_key("clear_all")
        runner = self._runner
        idx, entry = runner.enter(r.CLEAR_ALL_STATE, "clear_all")
        if entry is None:
            drops = [self._drop_list(name) for name in self._list_cache().all_lists(self._cleared_all)]
            # Only new writes go to the overlay: the file already holds every recorded one, and
            # tasks may replay their recorded writes in another order than they first made them.
            self._overlay.clear()
            self._cleared_all = True
            service = self._spec.service

            def op(conn: Any) -> None:
                _ops.clear_all_state(conn, service, key)
                for drop in drops:
                    drop(conn)

            runner.record(idx, r.CLEAR_ALL_STATE, "clear_all", r.ENTRY_COMPLETED, extra=op)

    def _write_state(self, kind: str, name: str, value: str | None) -> None:
        key = self._writable_key(kind)
        runner = self._runner
        idx, entry = runner.enter(kind, name)
        if entry is None:
            drop = self._drop_list(name) if self._list_cache().is_list(name, self._cleared_all) else None
            self._overlay[name] = value
            service = self._spec.service

            def op(conn: Any) -> None:
                _ops.set_state(conn, service, key, name, value)
                if drop is not None:
                    drop(conn)

            runner.record(idx, kind, name, r.ENTRY_COMPLETED, value, extra=op)

    def _drop_list(self, name: str) -> Callable[[Any], None]:
        """List ``name`` stops being one (cleared or replaced); the write that records it."""
        head = self._list_cache().head(name, self._cleared_all)
        head.version += 1
        head.active = False
        head.rows = []
        service, key, version, next_seq = self._spec.service, self.key(), head.version, head.next_seq
        return lambda conn: _lists.drop_list(conn, service, key, name, version, next_seq)

    def _writable_key(self, operation: str) -> str:
        key = self.key()
        if not self._spec.writes_state:
            raise TerminalError(
                f"shared handler {self._spec.service}/{self._spec.name} cannot change state ({operation}): "
                "state is read-only in shared handlers; use an exclusive handler"
            )
        return key

    def _read_state(self, key: str, name: str) -> str | None:
        """State ``name`` as JSON text: a plain value, or a list's items as an array."""
        if not self._spec.writes_state:  # an exclusive handler may change it meanwhile: one snapshot
            with self._runner.store.snapshot():
                return self._read_state_now(key, name)
        return self._read_state_now(key, name)

    def _read_state_now(self, key: str, name: str) -> str | None:
        plain = self._read_plain(key, name)
        if plain is not None:
            return plain
        if self._spec.writes_state:
            cache = self._list_cache()
            if cache.is_list(name, self._cleared_all):
                return _lists.array_text([text for _, text in cache.head(name, self._cleared_all).rows])
            return None
        rows = _lists.committed_items(self._runner.store, self._spec.service, key, name)
        return None if rows is None else _lists.array_text([text for _, text in rows])

    def _read_plain(self, key: str, name: str) -> str | None:
        if name in self._overlay:
            return self._overlay[name]
        if self._cleared_all:
            return None
        row = self._runner.store.read_one(
            "SELECT value FROM state WHERE service=? AND obj_key=? AND name=?",
            (self._spec.service, key, name),
        )
        return None if row is None else str(row[0])

    def _read_keys(self, key: str) -> list[str]:
        with self._runner.store.snapshot():  # the plain names and the lists' of one moment
            return self._read_keys_now(key)

    def _read_keys_now(self, key: str) -> list[str]:
        names: set[str] = set()
        if not self._cleared_all:
            rows = self._runner.store.read(
                "SELECT name FROM state WHERE service=? AND obj_key=?", (self._spec.service, key)
            )
            names = {str(row[0]) for row in rows}
        for name, value in self._overlay.items():
            if value is None:
                names.discard(name)
            else:
                names.add(name)
        if self._spec.writes_state:
            names.update(self._list_cache().all_lists(self._cleared_all))
        else:
            names.update(_lists.active_names(self._runner.store, self._spec.service, key))
        return sorted(names)

    # ----------------------------------------------------------------- list state

    def state_list(self, name: str, type_hint: Any = Any) -> StateList[Any]:
        check_state_name(name)
        self.key()
        return EmbeddedStateList(self, name, type_hint)

    def _list_cache(self) -> _lists.ListCache:
        if self._lists is None:
            self._lists = _lists.ListCache(self._runner.store, self._spec.service, self.key())
        return self._lists

    def list_items(self, name: str, last: int | None, adapter: TypeAdapter[Any]) -> DurableFuture[Any]:
        """Journal a read of list ``name``: a version reference in an exclusive handler, else a copy."""
        key = self.key()
        runner = self._runner
        idx, entry = runner.enter(r.LIST_ITEMS, name)
        if entry is None:
            texts, version = self._current_items(key, name)
            text = _lists.array_text(_lists.newest(texts, last))
            value = text if version is None else _lists.reference(version, last)
            runner.record(idx, r.LIST_ITEMS, name, r.ENTRY_COMPLETED, value)
        else:
            text = _lists.resolve(runner.store, self._spec.service, key, name, entry.value)
        return runner.future(idx, r.Entry(r.LIST_ITEMS, name, r.ENTRY_COMPLETED, text), adapter)

    def list_length(self, name: str) -> DurableFuture[int]:
        """Journal the length of list ``name``."""
        key = self.key()
        runner = self._runner
        idx, entry = runner.enter(r.LIST_LENGTH, name)
        if entry is None:
            value = str(len(self._current_items(key, name)[0]))
            runner.record(idx, r.LIST_LENGTH, name, r.ENTRY_COMPLETED, value)
            entry = r.Entry(r.LIST_LENGTH, name, r.ENTRY_COMPLETED, value)
        return runner.future(idx, entry, adapter_for(int))

    def _current_items(self, key: str, name: str) -> tuple[list[str], int | None]:
        """The items of list ``name`` now, and the version a reference to them names (``None``:
        journal a copy: a shared handler, or a plain JSON array not yet converted)."""
        if not self._spec.writes_state:
            with self._runner.store.snapshot():  # an exclusive handler may change it meanwhile
                rows = _lists.committed_items(self._runner.store, self._spec.service, key, name)
                plain = None if rows is not None else self._read_plain(key, name)
            if rows is not None:
                return [text for _, text in rows], None
            return _lists.plain_items(name, plain), None
        head = self._list_cache().head(name, self._cleared_all)
        if head.active:
            return [text for _, text in head.rows], head.version
        return _lists.plain_items(name, self._read_plain(key, name)), None

    def _open_list(self, key: str, name: str) -> tuple[_lists.ListHead, list[_lists.Row]]:
        """The head of list ``name`` for a change, and the rows of a plain JSON array the change
        converts (empty when it is a list already)."""
        head = self._list_cache().head(name, self._cleared_all)
        if head.active:
            return head, []
        plain = _lists.plain_items(name, self._read_plain(key, name))
        return head, [(head.next_seq + i, text) for i, text in enumerate(plain)]

    def _list_change(
        self,
        idx: int,
        kind: str,
        name: str,
        value: str,
        head: _lists.ListHead,
        converted: list[_lists.Row],
        change: Callable[[Any, int], None],
        next_seq: int,
    ) -> None:
        """Record a change of list ``name`` at its next version, in one write: its journal entry,
        the conversion of a plain JSON array, ``change(conn, version)`` and the new header."""
        key, service = self.key(), self._spec.service
        converting = not head.active
        if converting:
            self._overlay[name] = None  # the plain entry becomes the list
            head.rows = list(converted)
        head.version += 1
        head.active = True
        head.next_seq = next_seq
        version = head.version

        def op(conn: Any) -> None:
            if converting:
                _ops.set_state(conn, service, key, name, None)
                _lists.insert_items(conn, service, key, name, converted, version)
            change(conn, version)
            _lists.write_header(conn, service, key, name, version, next_seq, True)

        self._runner.record(idx, kind, name, r.ENTRY_COMPLETED, value, extra=op)

    def list_append(self, name: str, values: Sequence[Any], type_hint: Any = Any) -> None:
        """Append to list ``name``, journaling only the new items (each checked against ``type_hint``)."""
        key = self._writable_key("append")
        what, adapter = f"an item appended to state list {name!r}", adapter_for(type_hint)
        limit = self._runner.runtime.max_entry_size
        texts = [dump_checked(what, adapter, value, limit) for value in values]
        value = _lists.array_text(texts)
        if limit is not None and len(value) > limit:
            raise JournalValueError(
                f"the items appended to state list {name!r} are {len(value):,} bytes of JSON, more than "
                f"the maximum journal entry size of {limit:,} bytes; append them in smaller calls"
            )
        idx, entry = self._runner.enter(r.LIST_APPEND, name)
        if entry is not None:
            return
        head, converted = self._open_list(key, name)
        start = head.next_seq + len(converted)
        added = [(start + i, text) for i, text in enumerate(texts)]
        service = self._spec.service

        def change(conn: Any, version: int) -> None:
            _lists.insert_items(conn, service, key, name, added, version)

        self._list_change(idx, r.LIST_APPEND, name, value, head, converted, change, start + len(added))
        head.rows.extend(added)

    def list_pop(self, name: str, adapter: TypeAdapter[Any]) -> DurableFuture[Any]:
        """Remove the newest item of list ``name``; the entry journals that item."""
        key = self._writable_key("pop")
        runner = self._runner
        idx, entry = runner.enter(r.LIST_POP, name)
        if entry is None:
            head, converted = self._open_list(key, name)
            present = head.rows if head.active else converted
            if not present:
                value = "null"
                runner.record(idx, r.LIST_POP, name, r.ENTRY_COMPLETED, value)
            else:
                seq, value = present[-1]
                service = self._spec.service

                def change(conn: Any, version: int) -> None:
                    _lists.remove_item(conn, service, key, name, seq, version)

                next_seq = head.next_seq + len(converted)
                self._list_change(idx, r.LIST_POP, name, value, head, converted, change, next_seq)
                head.rows.pop()
            entry = r.Entry(r.LIST_POP, name, r.ENTRY_COMPLETED, value)
        return runner.future(idx, entry, adapter)

    def list_keep_last(self, name: str, count: int) -> None:
        """Drop the oldest items of list ``name`` beyond ``count``; the entry journals the count."""
        key = self._writable_key("keep_last")
        runner = self._runner
        idx, entry = runner.enter(r.LIST_KEEP_LAST, name)
        if entry is not None:
            return
        head, converted = self._open_list(key, name)
        present = head.rows if head.active else converted
        if len(present) <= count:
            runner.record(idx, r.LIST_KEEP_LAST, name, r.ENTRY_COMPLETED, str(count))
            return
        keep = present[len(present) - count :] if count else []
        below = keep[0][0] if keep else present[-1][0] + 1
        service = self._spec.service

        def change(conn: Any, version: int) -> None:
            _lists.remove_items_below(conn, service, key, name, below, version)

        next_seq = head.next_seq + len(converted)
        self._list_change(idx, r.LIST_KEEP_LAST, name, str(count), head, converted, change, next_seq)
        head.rows = list(keep)


class EmbeddedStateList(StateList[Any]):
    """A state list of the embedded engine (see the module docstring)."""

    def __init__(self, ctx: EmbeddedContext, name: str, type_hint: Any) -> None:
        self.name = name
        self._ctx = ctx
        self._type_hint = type_hint

    def items(self, *, last: int | None = None) -> DurableFuture[list[Any]]:
        if last is not None:
            self._count("last", last)
        return self._ctx.list_items(self.name, last, adapter_for(cast(Any, list)[self._type_hint]))

    def length(self) -> DurableFuture[int]:
        return self._ctx.list_length(self.name)

    def append(self, *values: Any) -> None:
        self._ctx.list_append(self.name, values, self._type_hint)

    def pop(self) -> DurableFuture[Any]:
        return self._ctx.list_pop(self.name, adapter_for(cast(Any, Optional)[self._type_hint]))

    def keep_last(self, count: int) -> None:
        self._count("keep_last", count)
        self._ctx.list_keep_last(self.name, count)

    def clear(self) -> None:
        self._ctx.clear(self.name)
