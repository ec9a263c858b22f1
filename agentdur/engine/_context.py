"""The handler context of the embedded engine: each operation becomes a journal entry."""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import TypeAdapter

from .._context import DurableFuture, ObjectContext, SendHandle, current_step
from .._exceptions import TerminalError, UserError
from .._options import RunOptions, check_run_options
from .._schema import schema_text_of
from .._serde import adapter_for, step_result_type
from .._tasks import current_track
from .._values import dump_checked
from . import _ops, _requests
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
        self._write_state(r.SET_STATE, name, self._checked(f"the value of state {name!r}", value))

    def _checked(self, what: str, value: Any) -> str:
        return dump_checked(what, adapter_for(Any), value, self._runner.runtime.max_entry_size)

    def clear(self, name: str) -> None:
        self._write_state(r.CLEAR_STATE, name, None)

    def clear_all(self) -> None:
        key = self._writable_key("clear_all")
        runner = self._runner
        idx, entry = runner.enter(r.CLEAR_ALL_STATE, "clear_all")
        if entry is None:
            # Only new writes go to the overlay: the file already holds every recorded one, and
            # tasks may replay their recorded writes in another order than they first made them.
            self._overlay.clear()
            self._cleared_all = True
            service = self._spec.service
            runner.record(
                idx,
                r.CLEAR_ALL_STATE,
                "clear_all",
                r.ENTRY_COMPLETED,
                extra=lambda conn: _ops.clear_all_state(conn, service, key),
            )

    def _write_state(self, kind: str, name: str, value: str | None) -> None:
        key = self._writable_key(kind)
        runner = self._runner
        idx, entry = runner.enter(kind, name)
        if entry is None:
            self._overlay[name] = value
            service = self._spec.service
            runner.record(
                idx,
                kind,
                name,
                r.ENTRY_COMPLETED,
                value,
                extra=lambda conn: _ops.set_state(conn, service, key, name, value),
            )

    def _writable_key(self, operation: str) -> str:
        key = self.key()
        if not self._spec.writes_state:
            raise TerminalError(
                f"shared handler {self._spec.service}/{self._spec.name} cannot change state ({operation}): "
                "state is read-only in shared handlers; use an exclusive handler"
            )
        return key

    def _read_state(self, key: str, name: str) -> str | None:
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
        return sorted(names)
