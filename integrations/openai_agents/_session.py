"""``DurableSession``: the SDK's ``Session`` kept in virtual-object state, keyed by the object key."""

from __future__ import annotations

from typing import cast

from agents.items import TResponseInputItem
from agents.memory.session import SessionABC
from agents.memory.session_settings import SessionSettings

from ..kit import ObjectStateList

__all__ = ["DurableSession"]


class DurableSession(SessionABC):
    """Conversation history in the state of the virtual object whose handler is running.

    Create it inside an exclusive object handler; the object key is the conversation. Every change
    is a state write committed with the journal of the turn that made it, so the history survives
    restarts, a replayed turn neither loses nor repeats items, and concurrent messages to one key are
    answered one at a time (exclusive handlers queue per key). A shared handler can read it.

    Example::

        chat = agentdur.VirtualObject("Chat")

        @chat.handler()
        async def message(ctx: agentdur.ObjectContext, msg: ChatMessage) -> str:
            result = await DurableRunner.run(assistant, msg.message, session=DurableSession())
            return str(result.final_output)

    Args:
        session_id: the SDK's session id (default: the object key).
        state_name: the state entry holding the items (default ``"items"``).
        session_settings: the SDK's session settings (e.g. how many items a run reads).
    """

    def __init__(
        self,
        session_id: str | None = None,
        *,
        state_name: str = "items",
        session_settings: SessionSettings | None = None,
    ) -> None:
        self._items = ObjectStateList(state_name)
        self.session_id = session_id if session_id is not None else self._items.key()
        self.session_settings = session_settings

    async def get_items(self, limit: int | None = None) -> list[TResponseInputItem]:
        """The history, oldest first (the latest ``limit`` items when given)."""
        return cast(list[TResponseInputItem], await self._items.items(limit))

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        """Append items to the history."""
        await self._items.extend(items)

    async def pop_item(self) -> TResponseInputItem | None:
        """Remove and return the newest item."""
        return cast(TResponseInputItem | None, await self._items.pop())

    async def clear_session(self) -> None:
        """Forget the whole history."""
        await self._items.clear()
