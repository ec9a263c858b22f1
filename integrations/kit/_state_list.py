"""A list kept in one state entry of the running virtual object: the store behind chat sessions.

Agent SDKs keep conversation history in a session store they call through a small protocol (get,
add, pop, clear). Backed by virtual-object state, the history belongs to the object key, survives
restarts, and every change is a state write committed atomically with the journal of the handler
that made it: a turn that crashed and is replayed neither loses nor doubles history. Exclusive
handlers of one key run one at a time, so concurrent messages to one conversation never interleave.

The list is read once per handler invocation (one journaled state read) and cached; each change
writes the whole list back. Reads work in shared handlers; changes need an exclusive handler.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, cast

from agentdur import ObjectContext, ObjectSharedContext, UserError, current_context

__all__ = ["ObjectStateList"]


class ObjectStateList:
    """JSON items in the state entry ``name`` of the object key whose handler is running.

    Args:
        name: the state entry holding the list.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._ctx: ObjectSharedContext | None = None
        self._items: list[Any] | None = None

    def key(self) -> str:
        """The object key the list belongs to (the running handler's)."""
        return self._context().key()

    async def items(self, limit: int | None = None) -> list[Any]:
        """The items, oldest first (the latest ``limit`` ones when given), as copies."""
        items = await self._load()
        chosen = items if limit is None else items[-limit:] if limit > 0 else []
        return copy.deepcopy(chosen)

    async def extend(self, new_items: Sequence[Any]) -> None:
        """Append ``new_items`` and write the list back."""
        items = await self._load()
        items.extend(copy.deepcopy(list(new_items)))
        self._writable().set(self.name, items)

    async def pop(self) -> Any | None:
        """Remove and return the newest item (``None`` when empty)."""
        items = await self._load()
        if not items:
            return None
        item = items.pop()
        self._writable().set(self.name, items)
        return item

    async def clear(self) -> None:
        """Remove every item."""
        self._items = []
        self._writable().clear(self.name)

    async def _load(self) -> list[Any]:
        if self._items is None:
            stored: list[Any] | None = await self._context().get(self.name, type_hint=list[Any])
            self._items = list(stored or [])
        return self._items

    def _context(self) -> ObjectSharedContext:
        if self._ctx is None:
            ctx = current_context()
            if not isinstance(ctx, ObjectSharedContext):
                raise UserError("a session stored in object state needs a virtual-object handler")
            ctx.key()  # a plain service has no key: fail here, with the engine's message
            self._ctx = ctx
        return self._ctx

    def _writable(self) -> ObjectContext:
        return cast(ObjectContext, self._context())
