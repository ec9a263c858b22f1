"""Sends that say whether an idempotency key named a new invocation or an earlier one.

Restate answers a ``/send`` whose idempotency key matched an earlier invocation with
``"status": "PreviouslyAccepted"``. :meth:`agentdur.Engine.send` returns only the id, so this module
derives the id of the key's invocation, looks it up and sends, one request per key at a time (this
process owns the engine, so a per-id lock makes the look-up and the send atomic).
"""

from __future__ import annotations

import asyncio

from .._exceptions import NotFoundError
from ..engine import Engine

# The engine derives an idempotent invocation's id from (service, handler, key, idempotency key);
# it does not expose the derivation publicly yet, so the private function is used in this one place.
from ..engine._runtime import new_invocation_id


def idempotent_invocation_id(service: str, handler: str, key: str | None, idempotency_key: str) -> str:
    """The id of the invocation that ``idempotency_key`` names (whether or not it exists)."""
    return new_invocation_id(service, handler, key, idempotency_key)


class IdempotentSender:
    """Sends invocations through one engine, reporting whether each was new."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    async def send(
        self,
        service: str,
        handler: str,
        body: bytes,
        *,
        key: str | None,
        idempotency_key: str | None,
        delay: float | None,
    ) -> tuple[str, bool]:
        """Start (or find) the invocation; returns its id and whether this request created it."""
        if idempotency_key is None:
            inv_id = await self.engine.send(service, handler, body, key=key, delay=delay)
            return inv_id, True
        derived = idempotent_invocation_id(service, handler, key, idempotency_key)
        lock = self._locks.setdefault(derived, asyncio.Lock())
        self._users[derived] = self._users.get(derived, 0) + 1
        try:
            async with lock:
                existed = await self.exists(derived)
                inv_id = await self.engine.send(
                    service, handler, body, key=key, idempotency_key=idempotency_key, delay=delay
                )
        finally:
            self._users[derived] -= 1
            if not self._users[derived]:
                del self._users[derived], self._locks[derived]
        return inv_id, not existed

    async def exists(self, invocation_id: str) -> bool:
        """True when the engine knows ``invocation_id``."""
        try:
            await self.engine.invocation(invocation_id)
        except NotFoundError:
            return False
        return True
