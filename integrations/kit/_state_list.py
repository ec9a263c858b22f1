"""A list in the state of the running virtual object: the store behind chat sessions.

Agent SDKs keep conversation history in a session store they call through a small protocol (get,
add, pop, clear). Backed by a state list (:meth:`agentdur.ObjectSharedContext.state_list`), the
history belongs to the object key, survives restarts, and every change is committed atomically with
the journal of the handler that made it: a turn that crashed and is replayed neither loses nor
doubles history. Exclusive handlers of one key run one at a time, so concurrent messages to one
conversation never interleave.

Each operation goes to the state list: adding items journals only those items and a read journals a
reference on the embedded engine, so a turn's journal grows with what the turn adds, not with the
history. Reads work in shared handlers; changes need an exclusive handler.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentdur import ObjectSharedContext, StateList, UserError, current_context

__all__ = ["ObjectStateList"]


class ObjectStateList:
    """JSON items in the state list ``name`` of the object key whose handler is running.

    Args:
        name: the state entry holding the list.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._ctx: ObjectSharedContext | None = None
        self._list: StateList[Any] | None = None

    def key(self) -> str:
        """The object key the list belongs to (the running handler's)."""
        return self._context().key()

    async def items(self, limit: int | None = None) -> list[Any]:
        """The items, oldest first (the latest ``limit`` ones when given); fresh copies each call."""
        if limit is not None and limit <= 0:
            return []
        return await self._state().items(last=limit)

    async def extend(self, new_items: Sequence[Any]) -> None:
        """Append ``new_items`` (journals only them)."""
        self._state().append(*new_items)

    async def pop(self) -> Any | None:
        """Remove and return the newest item (``None`` when empty)."""
        return await self._state().pop()

    async def clear(self) -> None:
        """Remove every item."""
        self._state().clear()

    def _state(self) -> StateList[Any]:
        if self._list is None:
            self._list = self._context().state_list(self.name)
        return self._list

    def _context(self) -> ObjectSharedContext:
        if self._ctx is None:
            ctx = current_context()
            if not isinstance(ctx, ObjectSharedContext):
                raise UserError("a session stored in object state needs a virtual-object handler")
            ctx.key()  # a plain service has no key: fail here, with the engine's message
            self._ctx = ctx
        return self._ctx
